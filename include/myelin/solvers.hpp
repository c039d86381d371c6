// Decoder solvers (spec §5). A solver maps activities A (m × N, rates in Hz) and targets
// Y (m × d) to decoders D (N × d, so that A·D ≈ Y). The builder forms A and Y; solvers only
// do linear algebra. Float32 Gram matrices + Cholesky keep the build fast.
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <optional>
#include <string>

#include "myelin/rng.hpp"

namespace myelin {

/// What a solve reports (exposed as sim.data(conn).solver_info).
struct SolverInfo {
  double rmses = 0.0;   ///< RMS residual over eval points and outputs
  double time_s = 0.0;  ///< wall time of the solve
  std::string method;   ///< e.g. "cholesky-primal", "cholesky-dual", "svd"
};

class Solver {
 public:
  virtual ~Solver() = default;
  virtual std::string repr() const = 0;
  /// Returns decoders (N × d). rng is the connection's build stream (noise solvers).
  /// Throws BuildError (naming `who`) when the problem is degenerate (e.g. all-zero A).
  virtual Eigen::MatrixXd solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& rng,
                                SolverInfo& info, const std::string& who) const = 0;
  /// Fast path used by the builder, with activities in float32. The default converts A to
  /// double and calls solve(); LstsqL2 solves directly in float32.
  virtual Eigen::MatrixXd solve_f(const Eigen::MatrixXf& A, const Eigen::MatrixXd& Y, Rng& rng,
                                  SolverInfo& info, const std::string& who) const;
  /// True: the connection uses full neuron-to-neuron weights (spec §5, weights=True).
  bool weights = false;
  /// Compositional solvers solve decoders then multiply by the post encoders; all solvers
  /// here are compositional.
  virtual bool compositional() const { return true; }
  /// NoSolver does not need activities.
  virtual bool needs_activities() const { return true; }
};

using SolverPtr = std::shared_ptr<const Solver>;

/// Ridge regression with sigma = reg·max(A), lambda = m·sigma² (spec §5; the default).
class LstsqL2 : public Solver {
 public:
  explicit LstsqL2(double reg = 0.1, bool weights = false);
  std::string repr() const override;
  Eigen::MatrixXd solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& rng,
                        SolverInfo& info, const std::string& who) const override;
  Eigen::MatrixXd solve_f(const Eigen::MatrixXf& A, const Eigen::MatrixXd& Y, Rng& rng,
                          SolverInfo& info, const std::string& who) const override;
  double reg;
};

/// Per-neuron regularisation scaled by the fraction of active eval points (spec §5).
class LstsqL2nz : public Solver {
 public:
  explicit LstsqL2nz(double reg = 0.1, bool weights = false);
  std::string repr() const override;
  Eigen::MatrixXd solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& rng,
                        SolverInfo& info, const std::string& who) const override;
  double reg;
};

/// Plain least squares through an SVD with relative cut-off rcond.
class Lstsq : public Solver {
 public:
  explicit Lstsq(double rcond = 0.01, bool weights = false);
  std::string repr() const override;
  Eigen::MatrixXd solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& rng,
                        SolverInfo& info, const std::string& who) const override;
  double rcond;
};

/// A ← A + N(0, (noise·max A)²), then unregularised least squares.
class LstsqNoise : public Solver {
 public:
  explicit LstsqNoise(double noise = 0.1, bool weights = false);
  std::string repr() const override;
  Eigen::MatrixXd solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& rng,
                        SolverInfo& info, const std::string& who) const override;
  double noise;
};

/// A ← A + A ⊙ N(0, noise²), then unregularised least squares.
class LstsqMultNoise : public Solver {
 public:
  explicit LstsqMultNoise(double noise = 0.1, bool weights = false);
  std::string repr() const override;
  Eigen::MatrixXd solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& rng,
                        SolverInfo& info, const std::string& who) const override;
  double noise;
};

/// Uses given decoders (N × d), or zeros when none are given.
class NoSolver : public Solver {
 public:
  explicit NoSolver(std::optional<Eigen::MatrixXd> values = std::nullopt, bool weights = false);
  std::string repr() const override;
  Eigen::MatrixXd solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& rng,
                        SolverInfo& info, const std::string& who) const override;
  bool needs_activities() const override { return false; }
  std::optional<Eigen::MatrixXd> values;
};

/// Solves the regularised normal equations (G + lambda_i) X = R with G = AᵀA in float32
/// and a Cholesky factorisation (or the dual form when m < N). Shared by the L2 solvers.
/// lambda has N entries (per-neuron) or 1 (uniform).
Eigen::MatrixXd solve_ridge_cholesky(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y,
                                     const Eigen::VectorXd& lambda, SolverInfo& info,
                                     const std::string& who);

/// Single-precision ridge solve with a uniform lambda for the build's fast path: float32
/// SYRK + Cholesky (primal, or dual when m < N) and one float32 refinement step. Falls back
/// to solve_ridge_cholesky when the float factorisation fails.
Eigen::MatrixXd solve_ridge_float32(const Eigen::MatrixXf& A, const Eigen::MatrixXd& Y,
                                    double lambda, SolverInfo& info, const std::string& who);

}  // namespace myelin
