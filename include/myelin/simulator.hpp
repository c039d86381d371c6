// Simulator: builds a Network into the model IR and runs it on the CPU executor with the
// time-step semantics of spec §1.2. Probe data come back as (samples × size) matrices.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "myelin/network.hpp"

namespace myelin {

namespace ir {
struct Model;
}
namespace cpu {
class Executor;
}

struct SimulatorOptions {
  double dt = 0.001;
  std::optional<std::uint64_t> seed;  ///< default: network seed + 1 (or random)
  bool progress_bar = true;           ///< shown only when stderr is a terminal
  int threads = 0;                    ///< 0 = all available cores
};

/// Build results of an ensemble (Nengo's sim.data[ens]).
struct EnsembleInfo {
  Eigen::MatrixXd encoders, scaled_encoders, eval_points;
  Eigen::VectorXd gain, bias, max_rates, intercepts;
  double radius = 1.0;
  NeuronTypePtr neuron_type;
};

/// Build results of a connection (Nengo's sim.data[conn]).
struct ConnectionInfo {
  Eigen::MatrixXd weights;      ///< (size_out × pre neurons) decoded, or the transform
  Eigen::MatrixXd eval_points;  ///< decoded connections
  Eigen::MatrixXd transform;
  SolverInfo solver_info;
};

class Simulator {
 public:
  explicit Simulator(const Network& net, SimulatorOptions opts = {});
  ~Simulator();
  Simulator(Simulator&&) noexcept;
  Simulator& operator=(Simulator&&) noexcept;

  /// Runs round(seconds / dt) steps (negative: ValidationError; zero steps: no-op).
  void run(double seconds);
  void run_steps(std::size_t steps);
  void step();
  /// Restores every signal to its built initial value, clears probe data and re-creates
  /// the run-time random streams from `seed` (or the simulator seed). No rebuild.
  void reset(std::optional<std::uint64_t> seed = std::nullopt);
  /// Empties the recorded probe data without touching the state.
  void clear_probes();

  /// dt·[1 .. n_steps], filtered like probes with the same sample_every.
  Eigen::VectorXd trange(std::optional<double> sample_every = std::nullopt) const;
  /// Probe data (samples × size).
  Eigen::MatrixXd data(const Probe& probe) const;
  EnsembleInfo data(const Ensemble& ens) const;
  ConnectionInfo data(const Connection& conn) const;
  /// Writes every probe (named by label, or "probe_<k>"), or only those in `only`, plus
  /// "trange", to a numpy-readable .npz file.
  void save_npz(const std::string& path, const std::vector<Probe>& only = {}) const;

  std::size_t n_steps() const;
  double time() const;
  double dt() const;
  std::uint64_t seed() const;
  double build_seconds() const;
  const ir::Model& model() const;

 private:
  std::unique_ptr<ir::Model> model_;
  std::unique_ptr<cpu::Executor> exec_;
  std::vector<std::string> probe_names_;
  bool progress_bar_ = true;
};

}  // namespace myelin
