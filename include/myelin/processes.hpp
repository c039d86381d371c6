// Processes (spec §9): stateful signal generators used as node outputs, ensemble noise, or
// standalone. Each process makes a step function given sizes, dt and a random stream.
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
#include <vector>

#include "myelin/distributions.hpp"
#include "myelin/rng.hpp"
#include "myelin/synapses.hpp"

namespace myelin {

/// A running instance of a process: step(t, x, out) is called once per step with
/// t = n·dt (n = 1, 2, ...). x is empty when size_in = 0.
class ProcessStep {
 public:
  virtual ~ProcessStep() = default;
  virtual void step(double t, std::span<const double> x, std::span<double> out) = 0;
};

class Process {
 public:
  virtual ~Process() = default;
  virtual std::string repr() const = 0;
  /// Default output size when the user does not give one (e.g. PresentInput: item size).
  virtual std::optional<std::size_t> default_size_out() const { return std::nullopt; }
  virtual std::size_t default_size_in() const { return 0; }
  /// Creates the step function. Throws ValidationError for impossible settings (e.g.
  /// WhiteSignal with high > 1/(2dt)). rng is this process's stream.
  virtual std::unique_ptr<ProcessStep> make_step(std::size_t size_in, std::size_t size_out,
                                                 double dt, Rng& rng) const = 0;
  /// A fixed seed for this process's stream (otherwise derived from the simulator seed).
  std::optional<std::uint64_t> seed;

  /// Standalone use: run for T seconds (round(T/dt) steps) and return (steps × size_out).
  Eigen::MatrixXd run(double T, double dt = 0.001, std::optional<std::size_t> size_out = {},
                      std::uint64_t rng_seed = 0) const;
  Eigen::MatrixXd run_steps(std::size_t n_steps, double dt = 0.001,
                            std::optional<std::size_t> size_out = {},
                            std::uint64_t rng_seed = 0) const;
  /// Feed x (steps × size_in) through the process.
  Eigen::MatrixXd apply(const Eigen::MatrixXd& x, double dt = 0.001,
                        std::uint64_t rng_seed = 0) const;
  /// dt·[1 .. round(T/dt)].
  static Eigen::VectorXd trange(double T, double dt = 0.001);
};

using ProcessPtr = std::shared_ptr<const Process>;

/// Band-limited periodic white noise (spec §9).
class WhiteSignal : public Process {
 public:
  struct Options {
    double period = 1.0;
    double high = 5.0;
    double rms = 0.5;
    std::optional<double> y0;
  };
  WhiteSignal(double period, double high, double rms = 0.5, std::optional<double> y0 = {});
  WhiteSignal(const Options& o) : WhiteSignal(o.period, o.high, o.rms, o.y0) {}  // NOLINT
  std::string repr() const override;
  std::unique_ptr<ProcessStep> make_step(std::size_t size_in, std::size_t size_out, double dt,
                                         Rng& rng) const override;
  double period, high, rms;
  std::optional<double> y0;
};

/// Fresh samples each step, scaled by 1/sqrt(dt) when scale = true.
class WhiteNoise : public Process {
 public:
  explicit WhiteNoise(DistPtr dist = nullptr, bool scale = true);  // null = Gaussian(0, 1)
  std::string repr() const override;
  std::unique_ptr<ProcessStep> make_step(std::size_t size_in, std::size_t size_out, double dt,
                                         Rng& rng) const override;
  DistPtr dist;
  bool scale;
};

/// WhiteNoise passed through a synapse (default Lowpass(0.005)).
class FilteredNoise : public Process {
 public:
  explicit FilteredNoise(SynapsePtr synapse = nullptr, DistPtr dist = nullptr, bool scale = true);
  std::string repr() const override;
  std::unique_ptr<ProcessStep> make_step(std::size_t size_in, std::size_t size_out, double dt,
                                         Rng& rng) const override;
  SynapsePtr synapse;
  DistPtr dist;
  bool scale;
};

/// Integrated white noise (variance grows by dt per step for Gaussian(0, 1)).
class BrownNoise : public Process {
 public:
  explicit BrownNoise(DistPtr dist = nullptr);
  std::string repr() const override;
  std::unique_ptr<ProcessStep> make_step(std::size_t size_in, std::size_t size_out, double dt,
                                         Rng& rng) const override;
  DistPtr dist;
};

/// Presents each row of `inputs` for presentation_time seconds, cycling (spec §9).
class PresentInput : public Process {
 public:
  PresentInput(Eigen::MatrixXd inputs, double presentation_time);
  std::string repr() const override;
  std::optional<std::size_t> default_size_out() const override;
  std::unique_ptr<ProcessStep> make_step(std::size_t size_in, std::size_t size_out, double dt,
                                         Rng& rng) const override;
  Eigen::MatrixXd inputs;
  double presentation_time;
};

/// Piecewise function of time (spec §9). Values are vectors (all the same size) or
/// functions of t returning such vectors. interpolation: "zero" (default), "linear",
/// "nearest" (others are rejected with a ValidationError).
class Piecewise : public Process {
 public:
  using Value = std::function<std::vector<double>(double)>;
  explicit Piecewise(std::map<double, std::vector<double>> data,
                     std::string interpolation = "zero");
  explicit Piecewise(std::map<double, Value> data, std::size_t size_out,
                     std::string interpolation = "zero");
  /// Braced data, e.g. Piecewise({{0.5, {1.0}}}): without this overload a single-key list is
  /// ambiguous with the copy constructor.
  explicit Piecewise(std::initializer_list<std::pair<const double, std::vector<double>>> data,
                     std::string interpolation = "zero")
      : Piecewise(std::map<double, std::vector<double>>(data), std::move(interpolation)) {}
  std::string repr() const override;
  std::optional<std::size_t> default_size_out() const override;
  std::unique_ptr<ProcessStep> make_step(std::size_t size_in, std::size_t size_out, double dt,
                                         Rng& rng) const override;
  std::map<double, Value> data;
  std::size_t size;
  std::string interpolation;
};

/// A user process from plain functions: make(size_in, size_out, dt, rng) returns a step
/// callable (t, x, out). Lets users write custom dynamics without subclassing.
class FunctionProcess : public Process {
 public:
  using StepFn = std::function<void(double, std::span<const double>, std::span<double>)>;
  using MakeFn = std::function<StepFn(std::size_t, std::size_t, double, Rng&)>;
  FunctionProcess(MakeFn make, std::optional<std::size_t> size_out = {}, std::size_t size_in = 0,
                  std::string label = "FunctionProcess");
  std::string repr() const override { return label; }
  std::optional<std::size_t> default_size_out() const override { return size_out; }
  std::size_t default_size_in() const override { return size_in; }
  std::unique_ptr<ProcessStep> make_step(std::size_t size_in, std::size_t size_out, double dt,
                                         Rng& rng) const override;
  MakeFn make;
  std::optional<std::size_t> size_out;
  std::size_t size_in;
  std::string label;
};

}  // namespace myelin
