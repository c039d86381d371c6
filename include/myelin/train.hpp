// Deep spiking networks: train on rates, run on spikes (NengoDL's recipe, deep-snn §1).
//
// The Trainer builds a Network into the model IR, compiles it into a graph of differentiable
// ops (conv / dense / pooling transforms, neuron layers with their rate twins, synapse
// filters over time) and trains it with minibatch gradient descent. The same graph then runs
// with the real spiking neurons, event-driven, for inference.
//
//   myelin::Trainer tr(net, {.minibatch_size = 200});
//   tr.compile(myelin::RMSprop(0.001), {{out_p, myelin::Loss::SparseCategoricalCrossentropy}});
//   tr.fit({{inp, train_x}}, {{out_p, train_y}}, 10);
//   auto r = tr.evaluate({{inp, test_x}}, {{out_p_filt, test_y}},
//                        {.spiking = true, .n_steps = 30});
//   std::printf("accuracy %.4f\n", r.accuracy);
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "myelin/network.hpp"

namespace myelin {

/// A read-only view of per-item sequence data: n items × steps × size floats in C order
/// (NengoDL's (batch, n_steps, size) arrays). steps == 1 means "held constant over time"
/// whatever the number of steps run, so an (n × size) image matrix needs no tiling.
struct DataView {
  const float* data = nullptr;
  std::size_t n = 0, steps = 1, size = 0;
  DataView() = default;
  DataView(const float* data, std::size_t n, std::size_t steps, std::size_t size)
      : data(data), n(n), steps(steps), size(size) {}
  /// One row per item, held constant (e.g. images, or class labels as a column).
  DataView(
      const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>& m)  // NOLINT
      : data(m.data()), n(std::size_t(m.rows())), steps(1), size(std::size_t(m.cols())) {}
  /// One value per item (e.g. class labels as floats), held constant.
  DataView(const std::vector<float>& v)  // NOLINT
      : data(v.data()), n(v.size()), steps(1), size(1) {}
};

/// Owned sequence data (what predict returns): n × steps × size, C order.
struct SeqData {
  std::size_t n = 0, steps = 0, size = 0;
  std::vector<float> values;
  float at(std::size_t i, std::size_t t, std::size_t k) const {
    return values[(i * steps + t) * size + k];
  }
};

using NodeFeeds = std::vector<std::pair<Node, DataView>>;
using ProbeFeeds = std::vector<std::pair<Probe, DataView>>;

enum class Loss {
  /// Softmax cross-entropy from logits; targets are class indices (size 1 per step), like
  /// Keras' SparseCategoricalCrossentropy(from_logits=True). Mean over items and steps.
  SparseCategoricalCrossentropy,
  /// Mean squared error; targets have the probe's size. Mean over items, steps, elements.
  MeanSquaredError
};

/// Optimizer hyper-parameters (Keras semantics, deep-snn §1.6). Use SGD(), RMSprop(), Adam().
struct OptimizerSpec {
  enum class Kind { SGD, RMSprop, Adam } kind = Kind::RMSprop;
  double learning_rate = 0.001;
  double momentum = 0.0;                ///< SGD
  bool nesterov = false;                ///< SGD
  double rho = 0.9;                     ///< RMSprop
  double beta_1 = 0.9, beta_2 = 0.999;  ///< Adam
  double epsilon = 1e-7;
};
/// v ← m·v − lr·g; w ← w + v (nesterov: w ← w + m·v − lr·g). momentum 0: w ← w − lr·g.
OptimizerSpec SGD(double learning_rate = 0.01, double momentum = 0.0, bool nesterov = false);
/// a ← ρ·a + (1 − ρ)·g²; w ← w − lr·g / √(a + ε)  (ε inside the square root, spec §1.6).
OptimizerSpec RMSprop(double learning_rate = 0.001, double rho = 0.9, double epsilon = 1e-7);
/// m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; w ← w − lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)·m/(√v + ε).
OptimizerSpec Adam(double learning_rate = 0.001, double beta_1 = 0.9, double beta_2 = 0.999,
                   double epsilon = 1e-7);

/// An optimizer's state for one flat parameter vector (exposed for tests and custom loops).
class OptimizerState {
 public:
  OptimizerState(const OptimizerSpec& spec, std::size_t size);
  /// One update of w with gradient g (same size as the state).
  void step(std::span<float> w, std::span<const float> g);
  std::size_t iterations() const { return t_; }

 private:
  OptimizerSpec spec_;
  std::vector<float> m_, v_;
  std::size_t t_ = 0;
};

struct TrainerOptions {
  std::size_t minibatch_size = 200;
  /// 0: LIF trains as LIFRate (NengoDL's default); σ > 0: as SoftLIFRate(σ).
  double lif_smoothing = 0.0;
  int threads = 0;                    ///< 0 = all cores
  std::optional<std::uint64_t> seed;  ///< shuffling; default: the model seed
  double dt = 0.001;
  /// Keep neuron and synapse state between minibatches / calls (NengoDL's stateful).
  /// false: every minibatch starts from the initial state (random LIF voltages, spec §4.2).
  bool stateful = false;
  bool progress_bar = true;  ///< only drawn when stderr is a terminal
};

/// How evaluate / predict run the network.
struct RunOptions {
  /// false: rate twins (what training sees); true: the real spiking neurons, event-driven.
  bool spiking = false;
  /// Steps to run (ValidationError if 0); default: the data's steps (1 for held-constant
  /// inputs).
  std::optional<std::size_t> n_steps;
};

struct ProbeResult {
  std::string probe;
  double loss = 0.0;      ///< NaN if no loss was compiled for this probe
  double accuracy = 0.0;  ///< argmax at the last step vs class labels; NaN for non-label targets
};

struct EvalResult {
  double loss = 0.0;      ///< sum of the compiled losses (NaN if none applies)
  double accuracy = 0.0;  ///< accuracy of the first probe with class-label targets
  std::vector<ProbeResult> probes;
  std::size_t n = 0;  ///< items evaluated
  double seconds = 0.0;
};

struct History {
  std::vector<double> loss;           ///< mean training loss per epoch
  std::vector<double> accuracy;       ///< training accuracy per epoch (last step; NaN if none)
  std::vector<double> epoch_seconds;  ///< wall time per epoch
};

struct FitOptions {
  bool shuffle = true;
  /// Called after each epoch with (epoch index, history so far).
  std::function<void(std::size_t, const History&)> on_epoch;
};

struct ParamInfo {
  std::string name;  ///< e.g. "conn3.kernel", "conn3.bias", "ens0.bias"
  std::vector<std::size_t> shape;
  bool trainable = true;
};

/// Result of Trainer::gradients: the loss and d loss / d parameter, by parameter name.
struct Gradients {
  double loss = 0.0;
  std::map<std::string, std::vector<float>> grads;
};

class Trainer {
 public:
  /// Builds the network (ValidationError / BuildError naming the offending object; the
  /// network must contain only what the trainer can differentiate, see docs).
  explicit Trainer(const Network& net, TrainerOptions opts = {});
  ~Trainer();
  Trainer(Trainer&&) noexcept;
  Trainer& operator=(Trainer&&) noexcept;

  /// Optimizer and one loss per probe.
  void compile(const OptimizerSpec& optimizer, std::vector<std::pair<Probe, Loss>> losses);

  /// Trains for `epochs` over the data (minibatches of minibatch_size; an incomplete last
  /// minibatch is dropped, as NengoDL does). Inputs by node, targets by probe. Rate neurons.
  History fit(const NodeFeeds& inputs, const ProbeFeeds& targets, std::size_t epochs,
              const FitOptions& fit_opts = {});
  /// Loss (if compiled for the probe) and last-step accuracy (class-label targets) over all
  /// items (the last minibatch may be smaller).
  EvalResult evaluate(const NodeFeeds& inputs, const ProbeFeeds& targets,
                      const RunOptions& run = {});
  /// Outputs of the probes for every item and step.
  std::vector<SeqData> predict(const NodeFeeds& inputs, const std::vector<Probe>& probes,
                               const RunOptions& run = {});
  /// Loss and gradients over all given items as one batch (rate neurons); no update.
  Gradients gradients(const NodeFeeds& inputs, const ProbeFeeds& targets);

  /// Parameters as named arrays in a .npz file (numpy-readable).
  void save_params(const std::string& path) const;
  /// Loads a file written by save_params: every parameter must be present with its shape
  /// (IoError naming the file and the entry otherwise).
  void load_params(const std::string& path);
  std::vector<ParamInfo> parameters() const;
  std::vector<float> get_param(const std::string& name) const;
  void set_param(const std::string& name, const std::vector<float>& values);
  /// Forgets the neuron / synapse state kept by stateful runs.
  void reset_state();

  const TrainerOptions& options() const { return opts_; }
  double build_seconds() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  TrainerOptions opts_;
};

}  // namespace myelin
