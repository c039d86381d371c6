// Decoder solvers (spec §5). The L2 solvers share solve_ridge_cholesky: a float32 Gram
// matrix and Cholesky factorisation followed by mixed-precision iterative refinement (the
// residuals are formed in double), which gives double-precision-quality decoders at
// roughly the cost of one single-precision SYRK.
#include <Eigen/Dense>

#include "myelin/solvers.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/format.hpp"
#include "myelin/errors.hpp"

namespace myelin {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::MatrixXf;
using Eigen::VectorXd;

using detail::fmt;

std::string weights_suffix(bool weights) {
  return weights ? ", weights=True" : "";
}

using detail::shape_str;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Root mean square over all entries (0 for an empty matrix).
double rms(const MatrixXd& r) {
  return r.size() == 0 ? 0.0 : std::sqrt(r.squaredNorm() / static_cast<double>(r.size()));
}

struct ActivityStats {
  double max = 0.0;      ///< max over all entries
  double max_abs = 0.0;  ///< max |entry|
};

/// Shape, finiteness and degeneracy checks shared by all solvers that use activities.
ActivityStats check_system(const MatrixXd& A, const MatrixXd& Y, const std::string& who) {
  if (A.rows() != Y.rows()) {
    throw BuildError(who + ": activities have " + std::to_string(A.rows()) +
                     " eval points (rows) but targets have " + std::to_string(Y.rows()));
  }
  if (A.rows() == 0) throw BuildError(who + ": no eval points to solve for decoders");
  if (A.cols() == 0) throw BuildError(who + ": the pre population has no neurons");
  ActivityStats s;
  s.max = -std::numeric_limits<double>::infinity();
  bool finite = true;
  const double* a = A.data();
  const Index n = A.size();
  for (Index i = 0; i < n; ++i) {
    const double v = a[i];
    finite = finite && std::isfinite(v);
    s.max = std::max(s.max, v);
    s.max_abs = std::max(s.max_abs, std::fabs(v));
  }
  if (!finite) {
    throw BuildError(who + ": eval-point activities contain non-finite values (NaN or inf)");
  }
  for (Index j = 0; j < Y.cols(); ++j) {
    for (Index i = 0; i < Y.rows(); ++i) {
      if (!std::isfinite(Y(i, j))) {
        throw BuildError(who + ": target values are not finite (" + fmt(Y(i, j)) +
                         " at eval point " + std::to_string(i) + ", output dimension " +
                         std::to_string(j) + "); check the connection function");
      }
    }
  }
  if (s.max_abs == 0.0) {
    throw BuildError(who +
                     ": all eval-point activities are zero; the pre neurons never fire at the "
                     "eval points (check intercepts, max_rates, gain/bias and eval_points)");
  }
  return s;
}

/// Final fallback: ridge regression as the least-squares problem [A; sqrt(Λ)] D = [Y; 0],
/// solved with a rank-revealing complete orthogonal decomposition.
MatrixXd solve_ridge_cod(const MatrixXd& A, const MatrixXd& Y, const VectorXd& lam) {
  const Index m = A.rows(), N = A.cols(), d = Y.cols();
  MatrixXd Aa(m + N, N);
  Aa.topRows(m) = A;
  Aa.bottomRows(N).setZero();
  for (Index i = 0; i < N; ++i) Aa(m + i, i) = std::sqrt(lam(lam.size() == 1 ? 0 : i));
  MatrixXd Ya = MatrixXd::Zero(m + N, d);
  Ya.topRows(m) = Y;
  return Aa.completeOrthogonalDecomposition().solve(Ya);
}

/// Double-precision primal ridge solve (fallback when the float32 path fails).
bool solve_ridge_double(const MatrixXd& A, const MatrixXd& Y, const VectorXd& lam, MatrixXd& D) {
  const Index N = A.cols();
  MatrixXd G = MatrixXd::Zero(N, N);
  G.selfadjointView<Eigen::Lower>().rankUpdate(A.transpose());
  for (Index i = 0; i < N; ++i) G(i, i) += lam(lam.size() == 1 ? 0 : i);
  Eigen::LLT<Eigen::Ref<MatrixXd>, Eigen::Lower> llt(G);
  if (llt.info() != Eigen::Success) return false;
  D = llt.solve(A.transpose() * Y);
  return D.allFinite();
}

/// Solves (A W Aᵀ + c I) Z = Y (dual) or (AᵀA + Λ) D = AᵀY (primal) with a float32
/// Cholesky factor and double-precision iterative refinement. Returns false when the
/// float factorisation fails or the refinement does not converge.
bool solve_ridge_float(const MatrixXd& A, const MatrixXd& Y, const VectorXd& lam, bool dual,
                       MatrixXd& D, double& rmse) {
  const Index m = A.rows(), N = A.cols();
  const bool uniform = lam.size() == 1;
  constexpr int kMaxRefine = 6;
  constexpr double kTol = 1e-7;

  if (!dual) {
    MatrixXf G = MatrixXf::Zero(N, N);
    {
      const MatrixXf Af = A.cast<float>();
      G.selfadjointView<Eigen::Lower>().rankUpdate(Af.transpose());
    }
    for (Index i = 0; i < N; ++i) G(i, i) += static_cast<float>(lam(uniform ? 0 : i));
    Eigen::LLT<Eigen::Ref<MatrixXf>, Eigen::Lower> llt(G);
    if (llt.info() != Eigen::Success) return false;
    const MatrixXd B = A.transpose() * Y;
    D = llt.solve(B.cast<float>()).cast<double>();
    double prev = std::numeric_limits<double>::infinity();
    bool converged = false;
    for (int it = 0;; ++it) {
      MatrixXd R = Y;
      R.noalias() -= A * D;
      rmse = rms(R);
      if (converged) return D.allFinite();
      if (it >= kMaxRefine || !D.allFinite()) return false;
      MatrixXd g = -(uniform ? (lam(0) * D).eval() : (lam.asDiagonal() * D).eval());
      g.noalias() += A.transpose() * R;
      const MatrixXd delta = llt.solve(g.cast<float>()).cast<double>();
      D += delta;
      const double dn = delta.norm(), xn = D.norm();
      if (!std::isfinite(dn) || !std::isfinite(xn)) return false;
      if (dn <= kTol * xn || xn == 0.0) converged = true;
      if (it > 0 && dn > 0.5 * prev && !converged) return false;  // not contracting
      prev = dn;
    }
  }

  // Dual: K = A W Aᵀ + c I, D = W Aᵀ Z. Uniform lambda: W = I, c = lambda;
  // per-neuron lambda (all > 0): W = Λ⁻¹, c = 1.
  VectorXd w;  // empty for W = I
  double c = uniform ? lam(0) : 1.0;
  if (!uniform) w = lam.cwiseInverse();
  MatrixXf K = MatrixXf::Zero(m, m);
  {
    MatrixXf Bf = A.cast<float>();
    if (!uniform) Bf = Bf * w.cwiseSqrt().cast<float>().asDiagonal();
    K.selfadjointView<Eigen::Lower>().rankUpdate(Bf);
  }
  for (Index i = 0; i < m; ++i) K(i, i) += static_cast<float>(c);
  Eigen::LLT<Eigen::Ref<MatrixXf>, Eigen::Lower> llt(K);
  if (llt.info() != Eigen::Success) return false;
  MatrixXd Z = llt.solve(Y.cast<float>()).cast<double>();
  double prev = std::numeric_limits<double>::infinity();
  bool converged = false;
  for (int it = 0;; ++it) {
    D.noalias() = A.transpose() * Z;
    if (!uniform) D = w.asDiagonal() * D;
    MatrixXd R = Y;
    R.noalias() -= A * D;
    rmse = rms(R);
    if (converged) return D.allFinite();
    if (it >= kMaxRefine || !D.allFinite()) return false;
    const MatrixXd r = R - c * Z;  // Y - K Z
    const MatrixXd delta = llt.solve(r.cast<float>()).cast<double>();
    Z += delta;
    const double dn = delta.norm(), xn = Z.norm();
    if (!std::isfinite(dn) || !std::isfinite(xn)) return false;
    if (dn <= kTol * xn || xn == 0.0) converged = true;
    if (it > 0 && dn > 0.5 * prev && !converged) return false;
    prev = dn;
  }
}

/// Unregularised least squares through a truncated SVD with relative cut-off rcond.
MatrixXd lstsq_svd(const MatrixXd& A, const MatrixXd& Y, double rcond, std::string& method) {
  const Index m = A.rows(), N = A.cols();
  const Index k = std::min(m, N);
  if (k > 400 && rcond >= 1e-6) {
    // Large problem: eigen-decomposition of the smaller Gram matrix is equivalent to the
    // truncated SVD (eigenvalues = squared singular values) and much faster; with a cut-off
    // of rcond >= 1e-6 the kept part is conditioned well enough for double precision.
    method = "svd-gram";
    const bool dual = m < N;
    MatrixXd G = MatrixXd::Zero(k, k);
    if (dual) {
      G.selfadjointView<Eigen::Lower>().rankUpdate(A);
    } else {
      G.selfadjointView<Eigen::Lower>().rankUpdate(A.transpose());
    }
    G.triangularView<Eigen::StrictlyUpper>() = G.transpose();
    Eigen::SelfAdjointEigenSolver<MatrixXd> es(G);
    const VectorXd& ev = es.eigenvalues();
    const double cut = rcond * rcond * std::max(ev.maxCoeff(), 0.0);
    VectorXd inv(k);
    for (Index i = 0; i < k; ++i) inv(i) = (ev(i) > cut && ev(i) > 0.0) ? 1.0 / ev(i) : 0.0;
    const MatrixXd& V = es.eigenvectors();
    if (dual) {
      // D = Aᵀ (AAᵀ)⁺ Y
      const MatrixXd Z = V * (inv.asDiagonal() * (V.transpose() * Y));
      return A.transpose() * Z;
    }
    const MatrixXd B = A.transpose() * Y;
    return V * (inv.asDiagonal() * (V.transpose() * B));
  }
  method = "svd";
  Eigen::BDCSVD<MatrixXd> svd(A, Eigen::ComputeThinU | Eigen::ComputeThinV);
  svd.setThreshold(rcond);
  return svd.solve(Y);
}

void check_nonneg(double v, const char* who, const char* name) {
  if (!(v >= 0.0) || !std::isfinite(v)) {
    throw ValidationError(std::string(who) + ": " + name + " must be finite and >= 0, got " +
                          fmt(v));
  }
}

}  // namespace

// ---- solve_ridge_cholesky --------------------------------------------------------------

Eigen::MatrixXd solve_ridge_cholesky(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y,
                                     const Eigen::VectorXd& lambda, SolverInfo& info,
                                     const std::string& who) {
  const auto t0 = std::chrono::steady_clock::now();
  const Index m = A.rows(), N = A.cols();
  if (A.rows() != Y.rows()) {
    throw BuildError(who + ": activities have " + std::to_string(A.rows()) +
                     " eval points (rows) but targets have " + std::to_string(Y.rows()));
  }
  if (lambda.size() != 1 && lambda.size() != N) {
    throw BuildError(who + ": regularisation needs 1 or " + std::to_string(N) +
                     " lambda values, got " + std::to_string(lambda.size()));
  }
  for (Index i = 0; i < lambda.size(); ++i) {
    if (!(lambda(i) >= 0.0) || !std::isfinite(lambda(i))) {
      throw BuildError(who + ": regularisation lambda must be finite and >= 0, got " +
                       fmt(lambda(i)));
    }
  }
  MatrixXd D;
  if (m == 0 || N == 0 || Y.cols() == 0) {
    D = MatrixXd::Zero(N, Y.cols());
    info.rmses = 0.0;
    info.method = "cholesky-primal";
    info.time_s = seconds_since(t0);
    return D;
  }
  // Per-neuron lambdas that are all equal are treated as uniform (cheaper dual form).
  VectorXd lam = lambda;
  if (lam.size() > 1 && (lam.array() == lam(0)).all()) lam = VectorXd::Constant(1, lam(0));
  const bool dual = m < N && (lam.size() == 1 || (lam.array() > 0.0).all());

  double rmse = 0.0;
  if (solve_ridge_float(A, Y, lam, dual, D, rmse)) {
    info.method = dual ? "cholesky-dual" : "cholesky-primal";
    info.rmses = rmse;
  } else if (solve_ridge_double(A, Y, lam, D)) {
    info.method = "cholesky-primal-f64";
    info.rmses = rms(A * D - Y);
  } else {
    D = solve_ridge_cod(A, Y, lam);
    info.method = "cod";
    info.rmses = rms(A * D - Y);
  }
  info.time_s = seconds_since(t0);
  return D;
}

// ---- float32 fast path ----------------------------------------------------------------

Eigen::MatrixXd Solver::solve_f(const Eigen::MatrixXf& A, const Eigen::MatrixXd& Y, Rng& rng,
                                SolverInfo& info, const std::string& who) const {
  return solve(A.cast<double>(), Y, rng, info, who);
}

Eigen::MatrixXd solve_ridge_float32(const Eigen::MatrixXf& A, const Eigen::MatrixXd& Y,
                                    double lambda, SolverInfo& info, const std::string& who) {
  const auto t0 = std::chrono::steady_clock::now();
  const Index m = A.rows(), N = A.cols();
  const MatrixXf Yf = Y.cast<float>();
  const float lam = static_cast<float>(lambda);
  MatrixXf D;
  if (m >= N) {
    // Primal: (AᵀA + λI) D = AᵀY. The regularised Gram matrix is well conditioned enough
    // for float32; one refinement step recovers what rounding loses.
    MatrixXf G = MatrixXf::Zero(N, N);
    G.selfadjointView<Eigen::Lower>().rankUpdate(A.transpose());
    G.diagonal().array() += lam;
    Eigen::LLT<Eigen::Ref<MatrixXf>, Eigen::Lower> llt(G);
    if (llt.info() != Eigen::Success) {
      return solve_ridge_cholesky(A.cast<double>(), Y, VectorXd::Constant(1, lambda), info, who);
    }
    MatrixXf B = A.transpose() * Yf;
    D = llt.solve(B);
    MatrixXf R = Yf;
    R.noalias() -= A * D;
    MatrixXf g = -lam * D;
    g.noalias() += A.transpose() * R;
    D += llt.solve(g);
    info.method = "cholesky-primal-f32";
  } else {
    // Dual: (AAᵀ + λI) Z = Y, D = AᵀZ.
    MatrixXf K = MatrixXf::Zero(m, m);
    K.selfadjointView<Eigen::Lower>().rankUpdate(A);
    K.diagonal().array() += lam;
    Eigen::LLT<Eigen::Ref<MatrixXf>, Eigen::Lower> llt(K);
    if (llt.info() != Eigen::Success) {
      return solve_ridge_cholesky(A.cast<double>(), Y, VectorXd::Constant(1, lambda), info, who);
    }
    MatrixXf Z = llt.solve(Yf);
    MatrixXf R = Yf;
    R.noalias() -= A * (A.transpose() * Z) + lam * Z;
    Z += llt.solve(R);
    D = A.transpose() * Z;
    info.method = "cholesky-dual-f32";
  }
  if (!D.allFinite()) {
    return solve_ridge_cholesky(A.cast<double>(), Y, VectorXd::Constant(1, lambda), info, who);
  }
  MatrixXf E = Yf;
  E.noalias() -= A * D;
  info.rmses = E.size() ? std::sqrt(static_cast<double>(E.squaredNorm()) / double(E.size())) : 0.0;
  info.time_s = seconds_since(t0);
  return D.cast<double>();
}

// ---- LstsqL2 ---------------------------------------------------------------------------

LstsqL2::LstsqL2(double reg_, bool weights_) : reg(reg_) {
  check_nonneg(reg, "LstsqL2", "reg");
  weights = weights_;
}

std::string LstsqL2::repr() const {
  return "LstsqL2(reg=" + fmt(reg) + weights_suffix(weights) + ")";
}

Eigen::MatrixXd LstsqL2::solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& /*rng*/,
                               SolverInfo& info, const std::string& who) const {
  const auto t0 = std::chrono::steady_clock::now();
  const ActivityStats s = check_system(A, Y, who);
  const double sigma = reg * s.max;
  const double lambda = static_cast<double>(A.rows()) * sigma * sigma;
  MatrixXd D = solve_ridge_cholesky(A, Y, VectorXd::Constant(1, lambda), info, who);
  info.time_s = seconds_since(t0);
  return D;
}

Eigen::MatrixXd LstsqL2::solve_f(const Eigen::MatrixXf& A, const Eigen::MatrixXd& Y, Rng& rng,
                                 SolverInfo& info, const std::string& who) const {
  // Same checks as the double path (shapes, finiteness, all-zero activities).
  if (A.rows() != Y.rows() || A.rows() == 0 || A.cols() == 0 || !A.allFinite() || !Y.allFinite() ||
      A.cwiseAbs().maxCoeff() == 0.0f) {
    return solve(A.cast<double>(), Y, rng, info, who);  // raises the precise BuildError
  }
  const double sigma = reg * static_cast<double>(A.maxCoeff());
  const double lambda = static_cast<double>(A.rows()) * sigma * sigma;
  if (!(lambda > 0.0)) return solve(A.cast<double>(), Y, rng, info, who);
  return solve_ridge_float32(A, Y, lambda, info, who);
}

// ---- LstsqL2nz -------------------------------------------------------------------------

LstsqL2nz::LstsqL2nz(double reg_, bool weights_) : reg(reg_) {
  check_nonneg(reg, "LstsqL2nz", "reg");
  weights = weights_;
}

std::string LstsqL2nz::repr() const {
  return "LstsqL2nz(reg=" + fmt(reg) + weights_suffix(weights) + ")";
}

Eigen::MatrixXd LstsqL2nz::solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& /*rng*/,
                                 SolverInfo& info, const std::string& who) const {
  const auto t0 = std::chrono::steady_clock::now();
  const ActivityStats s = check_system(A, Y, who);
  const Index m = A.rows(), N = A.cols();
  const double md = static_cast<double>(m);
  VectorXd sigma(N);
  for (Index i = 0; i < N; ++i) {
    const double active = static_cast<double>((A.col(i).array() > 0.0).count()) / md;
    sigma(i) = reg * s.max_abs * std::sqrt(active);
  }
  const double smax = sigma.maxCoeff();
  for (Index i = 0; i < N; ++i)
    if (sigma(i) == 0.0) sigma(i) = smax;
  const VectorXd lambda = md * sigma.array().square().matrix();
  MatrixXd D = solve_ridge_cholesky(A, Y, lambda, info, who);
  info.time_s = seconds_since(t0);
  return D;
}

// ---- Lstsq -----------------------------------------------------------------------------

Lstsq::Lstsq(double rcond_, bool weights_) : rcond(rcond_) {
  check_nonneg(rcond, "Lstsq", "rcond");
  weights = weights_;
}

std::string Lstsq::repr() const {
  return "Lstsq(rcond=" + fmt(rcond) + weights_suffix(weights) + ")";
}

Eigen::MatrixXd Lstsq::solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& /*rng*/,
                             SolverInfo& info, const std::string& who) const {
  const auto t0 = std::chrono::steady_clock::now();
  check_system(A, Y, who);
  MatrixXd D = lstsq_svd(A, Y, rcond, info.method);
  info.rmses = rms(A * D - Y);
  info.time_s = seconds_since(t0);
  return D;
}

// ---- LstsqNoise / LstsqMultNoise -------------------------------------------------------

LstsqNoise::LstsqNoise(double noise_, bool weights_) : noise(noise_) {
  check_nonneg(noise, "LstsqNoise", "noise");
  weights = weights_;
}

std::string LstsqNoise::repr() const {
  return "LstsqNoise(noise=" + fmt(noise) + weights_suffix(weights) + ")";
}

Eigen::MatrixXd LstsqNoise::solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& rng,
                                  SolverInfo& info, const std::string& who) const {
  const auto t0 = std::chrono::steady_clock::now();
  const ActivityStats s = check_system(A, Y, who);
  const double sigma = noise * s.max_abs;
  MatrixXd An = A;
  double* a = An.data();
  for (Index i = 0; i < An.size(); ++i) a[i] += sigma * rng.normal();
  MatrixXd D = solve_ridge_cholesky(An, Y, VectorXd::Zero(1), info, who);
  info.rmses = rms(A * D - Y);  // residual with the noise-free activities
  info.time_s = seconds_since(t0);
  return D;
}

LstsqMultNoise::LstsqMultNoise(double noise_, bool weights_) : noise(noise_) {
  check_nonneg(noise, "LstsqMultNoise", "noise");
  weights = weights_;
}

std::string LstsqMultNoise::repr() const {
  return "LstsqMultNoise(noise=" + fmt(noise) + weights_suffix(weights) + ")";
}

Eigen::MatrixXd LstsqMultNoise::solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& rng,
                                      SolverInfo& info, const std::string& who) const {
  const auto t0 = std::chrono::steady_clock::now();
  check_system(A, Y, who);
  MatrixXd An = A;
  double* a = An.data();
  for (Index i = 0; i < An.size(); ++i) a[i] += a[i] * noise * rng.normal();
  MatrixXd D = solve_ridge_cholesky(An, Y, VectorXd::Zero(1), info, who);
  info.rmses = rms(A * D - Y);
  info.time_s = seconds_since(t0);
  return D;
}

// ---- NoSolver --------------------------------------------------------------------------

NoSolver::NoSolver(std::optional<Eigen::MatrixXd> values_, bool weights_)
    : values(std::move(values_)) {
  weights = weights_;
  if (values && !values->allFinite()) {
    throw ValidationError("NoSolver: values must be finite");
  }
}

std::string NoSolver::repr() const {
  std::string s = "NoSolver(";
  if (values) s += "values=array(shape=" + shape_str(values->rows(), values->cols()) + ")";
  if (weights) s += values ? ", weights=True" : "weights=True";
  return s + ")";
}

Eigen::MatrixXd NoSolver::solve(const Eigen::MatrixXd& A, const Eigen::MatrixXd& Y, Rng& /*rng*/,
                                SolverInfo& info, const std::string& who) const {
  const auto t0 = std::chrono::steady_clock::now();
  MatrixXd D;
  if (values) {
    if (values->rows() != A.cols() || values->cols() != Y.cols()) {
      throw BuildError(who + ": NoSolver values have shape " +
                       shape_str(values->rows(), values->cols()) + ", expected " +
                       shape_str(A.cols(), Y.cols()) + " (pre neurons, function dimensions)");
    }
    D = *values;
  } else {
    D = MatrixXd::Zero(A.cols(), Y.cols());
  }
  info.method = "none";
  info.rmses = (A.rows() > 0 && A.rows() == Y.rows()) ? rms(A * D - Y) : 0.0;
  info.time_s = seconds_since(t0);
  return D;
}

}  // namespace myelin
