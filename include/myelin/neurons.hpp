// Neuron types (spec §4). A NeuronType describes the model and its parameters and provides
// vectorised kernels over contiguous float32 arrays (structure of arrays) for the simulator,
// plus double-precision steady-state rates for the builder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "myelin/rng.hpp"

namespace myelin {

class NeuronType;
using NeuronTypePtr = std::shared_ptr<const NeuronType>;

/// Per-step context handed to NeuronType::step.
struct NeuronStepArgs {
  float dt = 0.001f;
  std::size_t n = 0;              ///< number of neurons
  const float* J = nullptr;       ///< input currents [n]
  float* out = nullptr;           ///< output activities [n] (spikes: amplitude/dt)
  float* const* state = nullptr;  ///< state arrays, in state_names() order, each [n]
  std::int32_t* fired = nullptr;  ///< spiking types: indices with out != 0 appended here
  Rng* rng = nullptr;             ///< run-time stream (stochastic types only)
};

class NeuronType {
 public:
  virtual ~NeuronType() = default;
  /// Nengo-style name with parameters, e.g. "LIF(tau_rc=0.02, tau_ref=0.002, amplitude=1)".
  virtual std::string repr() const = 0;
  /// Short kind name: "LIF", "LIFRate", ...
  virtual std::string kind() const = 0;
  /// Spiking types output amplitude/dt on spike steps and fill NeuronStepArgs::fired.
  virtual bool spiking() const = 0;
  /// True for the Direct pseudo-type (no neurons; ensembles pass their input through).
  virtual bool is_direct() const { return false; }
  /// Names of the per-neuron float state arrays (e.g. {"voltage", "refractory_time"}).
  virtual std::vector<std::string> state_names() const { return {}; }
  /// Initial state for n neurons; `state[k]` has n entries for state_names()[k]. Uses rng
  /// for random initial values (LIF voltage ~ U(0, 1), spec §4.2).
  virtual void init_state(std::size_t n, float* const* state, Rng& rng) const;
  /// One simulator step for all neurons. Returns the number of indices written to
  /// args.fired (spiking types); rate types return 0 and leave fired alone.
  virtual std::size_t step(const NeuronStepArgs& args) const = 0;
  /// Steady-state output for constant input current J (used to solve decoders).
  virtual void rates(std::span<const double> J, std::span<double> out) const = 0;
  /// rates() in float32 for the builder's activity matrices (fast path; the default converts
  /// to double and calls rates()). Relative accuracy ~1e-6.
  virtual void rates_f(std::span<const float> J, std::span<float> out) const;
  /// gain/bias from max_rates and intercepts (spec §4). Throws BuildError naming the neuron
  /// index and value when impossible (e.g. LIF intercept >= 1, max_rate >= 1/tau_ref).
  /// The default implementation inverts rates() numerically.
  virtual void gain_bias(std::span<const double> max_rates, std::span<const double> intercepts,
                         std::span<double> gain, std::span<double> bias) const;
  /// Inverse of gain_bias (used when the user gives gain and bias).
  virtual void max_rates_intercepts(std::span<const double> gain, std::span<const double> bias,
                                    std::span<double> max_rates,
                                    std::span<double> intercepts) const;
  /// The differentiable rate type used to train this type (LIF -> LIFRate, or SoftLIFRate
  /// when smoothing sigma > 0; SpikingRectifiedLinear -> RectifiedLinear; rate types: self).
  virtual NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const = 0;
  /// d rate / dJ for rate types (training); spiking types throw.
  virtual void rate_derivative(std::span<const double> J, std::span<double> out) const;
};

struct LIFParams {
  double tau_rc = 0.02;
  double tau_ref = 0.002;
  double min_voltage = 0.0;
  double amplitude = 1.0;
};

/// Rate LIF (spec §4.1).
class LIFRate : public NeuronType {
 public:
  explicit LIFRate(double tau_rc = 0.02, double tau_ref = 0.002, double amplitude = 1.0);
  std::string repr() const override;
  std::string kind() const override { return "LIFRate"; }
  bool spiking() const override { return false; }
  std::size_t step(const NeuronStepArgs& args) const override;
  void rates(std::span<const double> J, std::span<double> out) const override;
  void rates_f(std::span<const float> J, std::span<float> out) const override;
  void gain_bias(std::span<const double> max_rates, std::span<const double> intercepts,
                 std::span<double> gain, std::span<double> bias) const override;
  void max_rates_intercepts(std::span<const double> gain, std::span<const double> bias,
                            std::span<double> max_rates,
                            std::span<double> intercepts) const override;
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
  void rate_derivative(std::span<const double> J, std::span<double> out) const override;
  double tau_rc, tau_ref, amplitude;
};

/// Spiking LIF with sub-step spike timing (spec §4.2).
class LIF : public LIFRate {
 public:
  explicit LIF(double tau_rc = 0.02, double tau_ref = 0.002, double min_voltage = 0.0,
               double amplitude = 1.0);
  /// Convenience: LIF::with_amplitude(0.01).
  static LIF with_amplitude(double amplitude) { return LIF(0.02, 0.002, 0.0, amplitude); }
  std::string repr() const override;
  std::string kind() const override { return "LIF"; }
  bool spiking() const override { return true; }
  std::vector<std::string> state_names() const override { return {"voltage", "refractory_time"}; }
  void init_state(std::size_t n, float* const* state, Rng& rng) const override;
  std::size_t step(const NeuronStepArgs& args) const override;
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
  void rate_derivative(std::span<const double> J, std::span<double> out) const override;
  double min_voltage;
};

/// NengoDL's SoftLIFRate (spec §4.8).
class SoftLIFRate : public LIFRate {
 public:
  explicit SoftLIFRate(double sigma = 1.0, double tau_rc = 0.02, double tau_ref = 0.002,
                       double amplitude = 1.0);
  std::string repr() const override;
  std::string kind() const override { return "SoftLIFRate"; }
  std::size_t step(const NeuronStepArgs& args) const override;
  void rates(std::span<const double> J, std::span<double> out) const override;
  void rates_f(std::span<const float> J, std::span<float> out) const override {
    NeuronType::rates_f(J, out);  // not LIFRate's: the soft curve differs
  }
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
  void rate_derivative(std::span<const double> J, std::span<double> out) const override;
  double sigma;
};

/// amplitude * max(J, 0) (spec §4.3).
class RectifiedLinear : public NeuronType {
 public:
  explicit RectifiedLinear(double amplitude = 1.0);
  std::string repr() const override;
  std::string kind() const override { return "RectifiedLinear"; }
  bool spiking() const override { return false; }
  std::size_t step(const NeuronStepArgs& args) const override;
  void rates(std::span<const double> J, std::span<double> out) const override;
  void gain_bias(std::span<const double> max_rates, std::span<const double> intercepts,
                 std::span<double> gain, std::span<double> bias) const override;
  void max_rates_intercepts(std::span<const double> gain, std::span<const double> bias,
                            std::span<double> max_rates,
                            std::span<double> intercepts) const override;
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
  void rate_derivative(std::span<const double> J, std::span<double> out) const override;
  double amplitude;
};

/// Integrate-and-fire version of RectifiedLinear (spec §4.3).
class SpikingRectifiedLinear : public RectifiedLinear {
 public:
  explicit SpikingRectifiedLinear(double amplitude = 1.0);
  std::string repr() const override;
  std::string kind() const override { return "SpikingRectifiedLinear"; }
  bool spiking() const override { return true; }
  std::vector<std::string> state_names() const override { return {"voltage"}; }
  void init_state(std::size_t n, float* const* state, Rng& rng) const override;
  std::size_t step(const NeuronStepArgs& args) const override;
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
  void rate_derivative(std::span<const double> J, std::span<double> out) const override;
};

/// (1/tau_ref) / (1 + exp(-J)) (spec §4.4).
class Sigmoid : public NeuronType {
 public:
  explicit Sigmoid(double tau_ref = 0.0025);
  std::string repr() const override;
  std::string kind() const override { return "Sigmoid"; }
  bool spiking() const override { return false; }
  std::size_t step(const NeuronStepArgs& args) const override;
  void rates(std::span<const double> J, std::span<double> out) const override;
  void gain_bias(std::span<const double> max_rates, std::span<const double> intercepts,
                 std::span<double> gain, std::span<double> bias) const override;
  void max_rates_intercepts(std::span<const double> gain, std::span<const double> bias,
                            std::span<double> max_rates,
                            std::span<double> intercepts) const override;
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
  void rate_derivative(std::span<const double> J, std::span<double> out) const override;
  double tau_ref;
};

/// (1/tau_ref) * tanh(J) (spec §4.4).
class Tanh : public NeuronType {
 public:
  explicit Tanh(double tau_ref = 0.0025);
  std::string repr() const override;
  std::string kind() const override { return "Tanh"; }
  bool spiking() const override { return false; }
  std::size_t step(const NeuronStepArgs& args) const override;
  void rates(std::span<const double> J, std::span<double> out) const override;
  void gain_bias(std::span<const double> max_rates, std::span<const double> intercepts,
                 std::span<double> gain, std::span<double> bias) const override;
  void max_rates_intercepts(std::span<const double> gain, std::span<const double> bias,
                            std::span<double> max_rates,
                            std::span<double> intercepts) const override;
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
  void rate_derivative(std::span<const double> J, std::span<double> out) const override;
  double tau_ref;
};

/// LIFRate with adaptation (spec §4.5). State: {"adaptation"}.
class AdaptiveLIFRate : public LIFRate {
 public:
  explicit AdaptiveLIFRate(double tau_n = 1.0, double inc_n = 0.01, double tau_rc = 0.02,
                           double tau_ref = 0.002, double amplitude = 1.0);
  std::string repr() const override;
  std::string kind() const override { return "AdaptiveLIFRate"; }
  std::vector<std::string> state_names() const override { return {"adaptation"}; }
  void init_state(std::size_t n, float* const* state, Rng& rng) const override;
  std::size_t step(const NeuronStepArgs& args) const override;
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
  double tau_n, inc_n;
};

/// LIF with adaptation (spec §4.5). State: {"voltage", "refractory_time", "adaptation"}.
class AdaptiveLIF : public LIF {
 public:
  explicit AdaptiveLIF(double tau_n = 1.0, double inc_n = 0.01, double tau_rc = 0.02,
                       double tau_ref = 0.002, double min_voltage = 0.0, double amplitude = 1.0);
  std::string repr() const override;
  std::string kind() const override { return "AdaptiveLIF"; }
  std::vector<std::string> state_names() const override {
    return {"voltage", "refractory_time", "adaptation"};
  }
  void init_state(std::size_t n, float* const* state, Rng& rng) const override;
  std::size_t step(const NeuronStepArgs& args) const override;
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
  double tau_n, inc_n;
};

/// Izhikevich (spec §4.6). State: {"voltage", "recovery"}.
class Izhikevich : public NeuronType {
 public:
  explicit Izhikevich(double tau_recovery = 0.02, double coupling = 0.2,
                      double reset_voltage = -65.0, double reset_recovery = 8.0);
  static Izhikevich intrinsically_bursting() { return Izhikevich(0.02, 0.2, -55.0, 4.0); }
  static Izhikevich chattering() { return Izhikevich(0.02, 0.2, -50.0, 2.0); }
  static Izhikevich fast_spiking() { return Izhikevich(0.1, 0.2, -65.0, 8.0); }
  static Izhikevich low_threshold_spiking() { return Izhikevich(0.02, 0.25, -65.0, 8.0); }
  static Izhikevich resonator() { return Izhikevich(0.1, 0.26, -65.0, 8.0); }
  std::string repr() const override;
  std::string kind() const override { return "Izhikevich"; }
  bool spiking() const override { return true; }
  std::vector<std::string> state_names() const override { return {"voltage", "recovery"}; }
  void init_state(std::size_t n, float* const* state, Rng& rng) const override;
  std::size_t step(const NeuronStepArgs& args) const override;
  void rates(std::span<const double> J, std::span<double> out) const override;
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
  double tau_recovery, coupling, reset_voltage, reset_recovery;
};

/// Rate-to-spike wrappers (spec §4.7): base is a rate type; rates/gain/bias delegate to it.
class RegularSpiking : public NeuronType {
 public:
  explicit RegularSpiking(NeuronTypePtr base, double amplitude = 1.0);
  std::string repr() const override;
  std::string kind() const override { return "RegularSpiking"; }
  bool spiking() const override { return true; }
  std::vector<std::string> state_names() const override;  // base's state + "voltage"
  void init_state(std::size_t n, float* const* state, Rng& rng) const override;
  std::size_t step(const NeuronStepArgs& args) const override;
  void rates(std::span<const double> J, std::span<double> out) const override;
  void gain_bias(std::span<const double> max_rates, std::span<const double> intercepts,
                 std::span<double> gain, std::span<double> bias) const override;
  void max_rates_intercepts(std::span<const double> gain, std::span<const double> bias,
                            std::span<double> max_rates,
                            std::span<double> intercepts) const override;
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
  NeuronTypePtr base;
  double amplitude;
};

class StochasticSpiking : public RegularSpiking {
 public:
  explicit StochasticSpiking(NeuronTypePtr base, double amplitude = 1.0);
  std::string repr() const override;
  std::string kind() const override { return "StochasticSpiking"; }
  std::vector<std::string> state_names() const override;  // base's state only
  void init_state(std::size_t n, float* const* state, Rng& rng) const override;
  std::size_t step(const NeuronStepArgs& args) const override;
};

class PoissonSpiking : public StochasticSpiking {
 public:
  explicit PoissonSpiking(NeuronTypePtr base, double amplitude = 1.0);
  std::string repr() const override;
  std::string kind() const override { return "PoissonSpiking"; }
  std::size_t step(const NeuronStepArgs& args) const override;
};

/// Direct mode: no neurons; the ensemble represents its input exactly (spec §3).
class Direct : public NeuronType {
 public:
  std::string repr() const override { return "Direct()"; }
  std::string kind() const override { return "Direct"; }
  bool spiking() const override { return false; }
  bool is_direct() const override { return true; }
  std::size_t step(const NeuronStepArgs& args) const override;  // throws: never stepped
  void rates(std::span<const double> J, std::span<double> out) const override;  // throws
  NeuronTypePtr rate_twin(double lif_smoothing = 0.0) const override;
};

/// Wraps any concrete neuron type value into a shared pointer: neuron(LIF()) etc.
template <class T>
NeuronTypePtr neuron(const T& type) {
  return std::make_shared<T>(type);
}

}  // namespace myelin
