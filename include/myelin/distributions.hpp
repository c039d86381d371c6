// Distributions (spec §3, §12 "Distributions"): things that can be sampled into an
// (n × d) matrix at build time, used for encoders, eval points, intercepts, max rates,
// transforms and noise.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "myelin/rng.hpp"

namespace myelin {

/// Base of all distributions. Subclasses are small immutable value types.
class Distribution {
 public:
  virtual ~Distribution() = default;
  /// n samples of dimension d, one per row. Throws ValidationError on impossible requests.
  virtual Eigen::MatrixXd sample(std::size_t n, std::size_t d, Rng& rng) const = 0;
  /// n scalar samples (d = 1).
  Eigen::VectorXd sample(std::size_t n, Rng& rng) const { return sample(n, 1, rng).col(0); }
  /// Human-readable form, e.g. "Uniform(low=-1, high=0.9)".
  virtual std::string repr() const = 0;
};

using DistPtr = std::shared_ptr<const Distribution>;

/// Uniform on [low, high) (integer = true draws integers in [low, high)).
class Uniform : public Distribution {
 public:
  using Distribution::sample;  // keep the scalar overload sample(n, rng) visible
  Uniform(double low, double high, bool integer = false);
  Eigen::MatrixXd sample(std::size_t n, std::size_t d, Rng& rng) const override;
  std::string repr() const override;
  double low, high;
  bool integer;
};

/// Normal with mean and std (std > 0).
class Gaussian : public Distribution {
 public:
  using Distribution::sample;  // keep the scalar overload sample(n, rng) visible
  Gaussian(double mean, double std);
  Eigen::MatrixXd sample(std::size_t n, std::size_t d, Rng& rng) const override;
  std::string repr() const override;
  double mean, std;
};

/// Exponential with given scale, shifted, optionally capped at high.
class Exponential : public Distribution {
 public:
  using Distribution::sample;  // keep the scalar overload sample(n, rng) visible
  explicit Exponential(double scale, double shift = 0.0,
                       double high = std::numeric_limits<double>::infinity());
  Eigen::MatrixXd sample(std::size_t n, std::size_t d, Rng& rng) const override;
  std::string repr() const override;
  double scale, shift, high;
};

/// Choice among options (rows; a vector of scalars means 1-D options), optional weights.
class Choice : public Distribution {
 public:
  using Distribution::sample;  // keep the scalar overload sample(n, rng) visible
  explicit Choice(std::vector<double> options, std::vector<double> weights = {});
  explicit Choice(Eigen::MatrixXd options, std::vector<double> weights = {});
  Eigen::MatrixXd sample(std::size_t n, std::size_t d, Rng& rng) const override;
  std::string repr() const override;
  Eigen::MatrixXd options;
  std::vector<double> cumulative;  // normalised cumulative weights
};

/// Fixed samples (rows), returned as given (n and d must match).
class Samples : public Distribution {
 public:
  using Distribution::sample;  // keep the scalar overload sample(n, rng) visible
  explicit Samples(Eigen::MatrixXd samples);
  Eigen::MatrixXd sample(std::size_t n, std::size_t d, Rng& rng) const override;
  std::string repr() const override;
  Eigen::MatrixXd samples;
};

/// Uniform on the unit sphere surface (surface = true) or in the unit ball, by normalising
/// Gaussian vectors (ball radius = U^(1/d)), optionally with a minimum magnitude.
class UniformHypersphere : public Distribution {
 public:
  using Distribution::sample;  // keep the scalar overload sample(n, rng) visible
  explicit UniformHypersphere(bool surface = false, double min_magnitude = 0.0);
  Eigen::MatrixXd sample(std::size_t n, std::size_t d, Rng& rng) const override;
  std::string repr() const override;
  bool surface;
  double min_magnitude;
};

/// Quasi-random (R_d golden-ratio sequence with random offset and shuffle) in [0, 1)^d.
class QuasirandomSequence : public Distribution {
 public:
  using Distribution::sample;  // keep the scalar overload sample(n, rng) visible
  QuasirandomSequence() = default;
  Eigen::MatrixXd sample(std::size_t n, std::size_t d, Rng& rng) const override;
  std::string repr() const override;
};

/// Low-discrepancy points on the sphere / in the ball (Nengo's default for encoders and eval
/// points, spec §3): quasi-random cube points mapped through the spherical transform, then a
/// random rotation.
class ScatteredHypersphere : public Distribution {
 public:
  using Distribution::sample;  // keep the scalar overload sample(n, rng) visible
  explicit ScatteredHypersphere(bool surface = false, double min_magnitude = 0.0);
  Eigen::MatrixXd sample(std::size_t n, std::size_t d, Rng& rng) const override;
  std::string repr() const override;
  bool surface;
  double min_magnitude;
};

/// A random orthogonal d × d matrix (Haar measure), used by ScatteredHypersphere.
Eigen::MatrixXd random_orthogonal(std::size_t d, Rng& rng);

/// Either a distribution to sample or explicit values. Ensemble and Connection parameters
/// that Nengo lets be "a distribution or an array" take this type.
class DistOrArray {
 public:
  DistOrArray() = default;
  template <class D, class = std::enable_if_t<std::is_base_of_v<Distribution, D>>>
  DistOrArray(const D& dist) : value_(DistPtr(std::make_shared<D>(dist))) {}       // NOLINT
  DistOrArray(DistPtr dist) : value_(std::move(dist)) {}                           // NOLINT
  DistOrArray(Eigen::MatrixXd values) : value_(std::move(values)) {}               // NOLINT
  DistOrArray(const Eigen::VectorXd& values) : value_(Eigen::MatrixXd(values)) {}  // NOLINT
  DistOrArray(const std::vector<double>& values)                                   // NOLINT
      : value_(Eigen::MatrixXd(
            Eigen::Map<const Eigen::VectorXd>(values.data(), Eigen::Index(values.size())))) {}
  DistOrArray(std::initializer_list<double> values) : DistOrArray(std::vector<double>(values)) {}

  bool empty() const { return std::holds_alternative<std::monostate>(value_); }
  bool is_dist() const { return std::holds_alternative<DistPtr>(value_); }
  const DistPtr& dist() const { return std::get<DistPtr>(value_); }
  const Eigen::MatrixXd& array() const { return std::get<Eigen::MatrixXd>(value_); }
  /// Draw (n × d) values: samples the distribution, or checks and returns the array (a
  /// vector of length n is accepted for d = 1). `what` names the parameter for errors.
  Eigen::MatrixXd sample(std::size_t n, std::size_t d, Rng& rng, const std::string& what) const;
  std::string repr() const;

 private:
  std::variant<std::monostate, DistPtr, Eigen::MatrixXd> value_;
};

}  // namespace myelin
