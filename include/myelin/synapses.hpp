// Synapses (spec §7): linear filters applied to connection outputs and probed signals.
// A Synapse describes the continuous (or discrete) transfer function; discretize(dt) turns
// it into a state-space filter; FilterBank runs that filter over many channels at once.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace myelin {

/// A discretised single-input single-output filter: y[n] = C x[n] + D u[n] in the
/// "input advanced one step" form of spec §7.
struct DiscreteFilter {
  enum class Kind { Identity, Lowpass, General };
  Kind kind = Kind::Identity;
  double a = 0.0;  ///< Lowpass: y[n] = a y[n-1] + b u[n]
  double b = 1.0;
  Eigen::MatrixXd A;  ///< General form (state order k)
  Eigen::VectorXd B, C;
  double D = 1.0;
  std::size_t order() const { return static_cast<std::size_t>(A.rows()); }
};

class Synapse {
 public:
  virtual ~Synapse() = default;
  virtual std::string repr() const = 0;
  /// Discretise for step dt (zero-order hold unless the type says otherwise).
  virtual DiscreteFilter discretize(double dt) const = 0;
  /// Offline filtering helper: filters each column of x (rows = time steps) with zero
  /// initial state, or from the steady state that gives output y0 when given.
  Eigen::MatrixXd filt(const Eigen::MatrixXd& x, double dt,
                       std::optional<Eigen::RowVectorXd> y0 = std::nullopt) const;
  /// Forward-backward filtering (zero phase).
  Eigen::MatrixXd filtfilt(const Eigen::MatrixXd& x, double dt) const;
};

using SynapsePtr = std::shared_ptr<const Synapse>;

/// General rational transfer function num(s)/den(s) (analog = true) or num(z)/den(z).
/// method: "zoh" (default), "bilinear"/"tustin", "euler", "backward_diff", "gbt" (alpha).
class LinearFilter : public Synapse {
 public:
  LinearFilter(std::vector<double> num, std::vector<double> den, bool analog = true,
               std::string method = "zoh", double alpha = 0.5);
  std::string repr() const override;
  DiscreteFilter discretize(double dt) const override;
  std::vector<double> num, den;
  bool analog;
  std::string method;
  double alpha;
};

/// 1 / (tau s + 1). tau = 0 is a pass-through that still costs one step in a connection.
class Lowpass : public LinearFilter {
 public:
  explicit Lowpass(double tau);
  std::string repr() const override;
  DiscreteFilter discretize(double dt) const override;
  double tau;
};

/// 1 / (tau s + 1)^2.
class Alpha : public LinearFilter {
 public:
  explicit Alpha(double tau);
  std::string repr() const override;
  double tau;
};

/// FIR filter with round(t/dt)+1 linearly decreasing taps normalised to sum 1.
class Triangle : public Synapse {
 public:
  explicit Triangle(double t);
  std::string repr() const override;
  DiscreteFilter discretize(double dt) const override;
  double t;
};

/// Explicit "no synapse" marker (Nengo's synapse=None).
struct NoSynapse {};
inline constexpr NoSynapse None{};

/// What a `synapse=` argument accepts: a number (Lowpass(tau)), None, or any Synapse.
class SynapseParam {
 public:
  SynapseParam(double tau) : syn_(std::make_shared<Lowpass>(tau)) {}  // NOLINT
  SynapseParam(int tau) : SynapseParam(static_cast<double>(tau)) {}   // NOLINT
  SynapseParam(NoSynapse) {}                                          // NOLINT
  SynapseParam(SynapsePtr syn) : syn_(std::move(syn)) {}              // NOLINT
  template <class S, class = std::enable_if_t<std::is_base_of_v<Synapse, S>>>
  SynapseParam(const S& syn) : syn_(std::make_shared<S>(syn)) {}  // NOLINT
  bool is_none() const { return !syn_; }
  const SynapsePtr& get() const { return syn_; }
  std::string repr() const { return syn_ ? syn_->repr() : "None"; }

 private:
  SynapsePtr syn_;
};

/// Runs one discretised filter over `channels` independent channels (float32 state).
/// step(u, y): advances with input u[n] (size channels) and writes y[n].
class FilterBank {
 public:
  FilterBank() = default;
  FilterBank(const DiscreteFilter& f, std::size_t channels);
  void step(const float* u, float* y);
  void reset();
  std::size_t channels() const { return channels_; }
  const DiscreteFilter& filter() const { return f_; }

 private:
  DiscreteFilter f_;
  std::size_t channels_ = 0;
  std::vector<float> state_;  // order × channels, channel-contiguous per state row
  std::vector<float> tmp_;
  float a_ = 0.f, b_ = 1.f;
  // General kind: the nonzero entries of A (row-major order, so sparse realisations such as
  // Triangle's shift register cost O(order) per channel) and float copies of B, C, D.
  struct Entry {
    std::size_t row, col;
    float value;
  };
  std::vector<Entry> a_nz_;
  std::vector<float> b_vec_, c_vec_;
  float d_ = 1.f;
};

}  // namespace myelin
