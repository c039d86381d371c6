// Connection transforms (spec §6): none, scalar, diagonal (vector), dense matrix, or a
// distribution sampled at build time. Deep-SNN layers are transforms too (DESIGN.md, "layers
// are transforms on connections"): Convolution, AveragePooling and Dense (a Keras-style dense
// layer: Glorot-uniform kernel plus a bias), all channels-last like Keras and NengoDL.
#pragma once

#include <Eigen/Dense>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "myelin/distributions.hpp"
#include "myelin/rng.hpp"

namespace myelin {

/// Keras' `glorot_uniform`: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)). Without explicit
/// fans, a request for an (n × d) sample uses fan_in + fan_out = n + d (a dense kernel).
class GlorotUniform : public Distribution {
 public:
  using Distribution::sample;
  GlorotUniform() = default;
  GlorotUniform(double fan_in, double fan_out) : fan_in(fan_in), fan_out(fan_out) {}
  Eigen::MatrixXd sample(std::size_t n, std::size_t d, Rng& rng) const override;
  std::string repr() const override;
  std::optional<double> fan_in, fan_out;
};

/// A 2-D convolution on channels-last images (Keras `Conv2D`, Nengo `Convolution`): input
/// (H, W, C) flattened in C order, output (OH, OW, n_filters). padding "valid" (no padding,
/// OH = (H - kh) / sh + 1) or "same" (OH = ceil(H / sh), zero padding split as TensorFlow
/// does, the extra row/column at the bottom/right).
struct Convolution {
  Convolution(std::size_t n_filters, std::array<std::size_t, 3> input_shape,
              std::array<std::size_t, 2> kernel_size = {3, 3},
              std::array<std::size_t, 2> strides = {1, 1}, std::string padding = "valid",
              bool channels_last = true);
  std::size_t n_filters;
  std::array<std::size_t, 3> input_shape;  ///< (H, W, C)
  std::array<std::size_t, 2> kernel_size;  ///< (kh, kw)
  std::array<std::size_t, 2> strides;      ///< (sh, sw)
  std::string padding;                     ///< "valid" or "same"
  bool channels_last;                      ///< only true is supported
  /// Kernel initialiser; default (null) is Keras' Glorot uniform over the receptive field:
  /// fan_in = kh·kw·C, fan_out = kh·kw·n_filters. Sampled as a (kh·kw·C × n_filters) matrix.
  DistPtr init;
  /// Explicit kernel of shape (kh, kw, C, n_filters) in C order; overrides init when given.
  std::vector<double> kernel;
  bool use_bias = true;      ///< Keras' use_bias: one trainable bias per filter
  std::vector<double> bias;  ///< explicit bias (n_filters values); default zeros

  std::array<std::size_t, 3> output_shape() const;  ///< (OH, OW, n_filters)
  std::size_t size_in() const;
  std::size_t size_out() const;
  /// Throws ValidationError (naming `who`) on zero sizes, a kernel larger than a "valid"
  /// input, an unknown padding, channels_last = false, or a wrong explicit kernel/bias size.
  void validate(const std::string& who) const;
  std::string repr() const;
};

/// Average pooling over channels-last images (Keras `AveragePooling2D`): fixed (not
/// trainable). Windows of pool_size with the given strides (default: pool_size); "valid" or
/// "same" padding (padded positions are not counted in the average, as in TensorFlow).
struct AveragePooling {
  AveragePooling(std::array<std::size_t, 3> input_shape,
                 std::array<std::size_t, 2> pool_size = {2, 2},
                 std::optional<std::array<std::size_t, 2>> strides = std::nullopt,
                 std::string padding = "valid");
  std::array<std::size_t, 3> input_shape;
  std::array<std::size_t, 2> pool_size;
  std::array<std::size_t, 2> strides;
  std::string padding;

  std::array<std::size_t, 3> output_shape() const;
  std::size_t size_in() const;
  std::size_t size_out() const;
  void validate(const std::string& who) const;
  std::string repr() const;
};

/// A Keras-style dense layer: `units` outputs, kernel from `init` (default Glorot uniform),
/// plus a bias (zeros) when use_bias. As a transform it is a (units × size_in) matrix sampled
/// at build time.
struct Dense {
  explicit Dense(std::size_t units, bool use_bias = true) : units(units), use_bias(use_bias) {}
  std::size_t units;
  bool use_bias = true;
  DistPtr init;  ///< default GlorotUniform()
};

class Transform {
 public:
  enum class Kind { None, Scalar, Diagonal, Dense, Dist, Convolution, Pooling };

  Transform() = default;  ///< no transform (identity, Nengo's default)
  Transform(double s) : kind_(Kind::Scalar), scalar_(s) {}  // NOLINT
  Transform(int s) : Transform(static_cast<double>(s)) {}   // NOLINT
  /// Any Eigen matrix expression: a dense (size_out × size_mid) matrix. A compile-time
  /// column vector (Eigen::VectorXd) is a diagonal, as a 1-D array is in Nengo.
  template <class Derived>
  Transform(const Eigen::MatrixBase<Derived>& m)  // NOLINT
      : kind_(Derived::ColsAtCompileTime == 1 ? Kind::Diagonal : Kind::Dense),
        matrix_(m.template cast<double>()) {}
  Transform(const std::vector<double>& diag)  // NOLINT
      : Transform(Eigen::VectorXd(
            Eigen::Map<const Eigen::VectorXd>(diag.data(), Eigen::Index(diag.size())))) {}
  /// Rows of a dense matrix: Transform({{1, 0}, {0, 1}}).
  Transform(std::initializer_list<std::initializer_list<double>> rows);
  Transform(DistPtr d) : kind_(Kind::Dist), dist_(std::move(d)) {}  // NOLINT
  template <class D, class = std::enable_if_t<std::is_base_of_v<Distribution, D>>>
  Transform(const D& d) : Transform(DistPtr(std::make_shared<D>(d))) {}  // NOLINT
  /// Deep-SNN layers.
  Transform(const Convolution& c);     // NOLINT
  Transform(const AveragePooling& p);  // NOLINT
  Transform(const Dense& d);           // NOLINT

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::None; }
  /// Convolution / pooling: kept structured by the builder (never a dense matrix).
  bool is_structured() const { return kind_ == Kind::Convolution || kind_ == Kind::Pooling; }
  double scalar() const { return scalar_; }
  const Convolution* convolution() const { return conv_.get(); }
  const AveragePooling* pooling() const { return pool_.get(); }

  /// Adds a bias to the transform's output: u = T x + b. Empty values = zeros (Keras'
  /// default). For a Convolution there is one bias per filter, otherwise one per output.
  Transform& with_bias(std::vector<double> values = {});
  bool has_bias() const { return has_bias_; }
  /// The bias for an output of size_out (zeros unless given); ValidationError on a size
  /// mismatch. Empty if the transform has no bias.
  std::vector<double> bias_values(std::size_t size_out, const std::string& who) const;

  /// The output size this transform produces from an input of size_in, if it determines it
  /// (None/Scalar/Diagonal: size_in; a matrix: its rows; Dense: units; conv/pool: their output
  /// size; a bare distribution: unknown).
  std::optional<std::size_t> output_size(std::size_t size_in) const;

  /// The dense (size_out × size_mid) matrix; throws ValidationError naming `who` and the
  /// shapes when they do not fit. Distributions are sampled with rng. Structured transforms
  /// (convolution, pooling) have no dense form here: use conv_kernel() / the builder.
  Eigen::MatrixXd materialize(std::size_t size_out, std::size_t size_mid, Rng& rng,
                              const std::string& who) const;
  /// Convolution kernel, shape (kh, kw, C, n_filters) in C order: the explicit one or a sample
  /// of init (default Glorot uniform).
  std::vector<double> conv_kernel(Rng& rng, const std::string& who) const;
  /// Checks shapes without sampling (at connect time).
  void validate(std::size_t size_out, std::size_t size_mid, const std::string& who) const;
  std::string repr() const;

 private:
  Kind kind_ = Kind::None;
  double scalar_ = 1.0;
  Eigen::MatrixXd matrix_;
  DistPtr dist_;
  std::shared_ptr<const Convolution> conv_;
  std::shared_ptr<const AveragePooling> pool_;
  std::optional<std::size_t> units_;  ///< Dense(units)
  bool has_bias_ = false;
  std::vector<double> bias_;
};

}  // namespace myelin
