// Connection transforms (spec §6) and the deep-SNN layer transforms (deep-snn §1.1).
#include <cmath>
#include <sstream>

#include "myelin/errors.hpp"
#include "myelin/transforms.hpp"

namespace myelin {

namespace {

std::string shape_str(std::initializer_list<std::size_t> dims) {
  std::string s = "(";
  bool first = true;
  for (std::size_t d : dims) {
    s += (first ? "" : ", ") + std::to_string(d);
    first = false;
  }
  return s + ")";
}

/// Output length and leading padding of one spatial axis (TensorFlow's conventions).
struct Axis {
  std::size_t out = 0, pad_before = 0;
};
Axis axis(std::size_t in, std::size_t k, std::size_t s, const std::string& padding) {
  Axis a;
  if (padding == "same") {
    a.out = (in + s - 1) / s;
    const std::size_t need = (a.out - 1) * s + k;
    a.pad_before = need > in ? (need - in) / 2 : 0;
  } else {
    a.out = in >= k ? (in - k) / s + 1 : 0;
  }
  return a;
}

}  // namespace

// ---------------------------------------------------------------- GlorotUniform

Eigen::MatrixXd GlorotUniform::sample(std::size_t n, std::size_t d, Rng& rng) const {
  const double fi = fan_in.value_or(double(n)), fo = fan_out.value_or(double(d));
  if (!(fi + fo > 0.0)) throw ValidationError("GlorotUniform: fan_in + fan_out must be positive");
  const double limit = std::sqrt(6.0 / (fi + fo));
  Eigen::MatrixXd m(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
  // Row-major draw order, so a sample reads like numpy's (n, d) array.
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) m(i, j) = rng.uniform(-limit, limit);
  return m;
}

std::string GlorotUniform::repr() const {
  if (!fan_in && !fan_out) return "GlorotUniform()";
  std::ostringstream os;
  os << "GlorotUniform(fan_in=" << fan_in.value_or(0) << ", fan_out=" << fan_out.value_or(0) << ")";
  return os.str();
}

// ---------------------------------------------------------------- Convolution

Convolution::Convolution(std::size_t n_filters_, std::array<std::size_t, 3> input_shape_,
                         std::array<std::size_t, 2> kernel_size_,
                         std::array<std::size_t, 2> strides_, std::string padding_,
                         bool channels_last_)
    : n_filters(n_filters_),
      input_shape(input_shape_),
      kernel_size(kernel_size_),
      strides(strides_),
      padding(std::move(padding_)),
      channels_last(channels_last_) {}

std::array<std::size_t, 3> Convolution::output_shape() const {
  const Axis y = axis(input_shape[0], kernel_size[0], strides[0], padding);
  const Axis x = axis(input_shape[1], kernel_size[1], strides[1], padding);
  return {y.out, x.out, n_filters};
}

std::size_t Convolution::size_in() const {
  return input_shape[0] * input_shape[1] * input_shape[2];
}

std::size_t Convolution::size_out() const {
  const auto o = output_shape();
  return o[0] * o[1] * o[2];
}

void Convolution::validate(const std::string& who) const {
  const std::string me = who + ": " + repr();
  if (n_filters == 0) throw ValidationError(me + ": n_filters must be positive");
  for (std::size_t d : input_shape)
    if (d == 0) throw ValidationError(me + ": input_shape has a zero dimension");
  for (std::size_t d : kernel_size)
    if (d == 0) throw ValidationError(me + ": kernel_size has a zero dimension");
  for (std::size_t d : strides)
    if (d == 0) throw ValidationError(me + ": strides must be positive");
  if (padding != "valid" && padding != "same")
    throw ValidationError(me + ": padding must be \"valid\" or \"same\", got \"" + padding + "\"");
  if (!channels_last)
    throw ValidationError(me +
                          ": channels_last = false is not supported (use channels-last "
                          "(H, W, C) data, as Keras does by default)");
  if (padding == "valid" && (kernel_size[0] > input_shape[0] || kernel_size[1] > input_shape[1]))
    throw ValidationError(me + ": kernel " + shape_str({kernel_size[0], kernel_size[1]}) +
                          " is larger than the input " +
                          shape_str({input_shape[0], input_shape[1]}) + " with \"valid\" padding");
  const std::size_t nk = kernel_size[0] * kernel_size[1] * input_shape[2] * n_filters;
  if (!kernel.empty() && kernel.size() != nk)
    throw ValidationError(me + ": explicit kernel has " + std::to_string(kernel.size()) +
                          " values, expected " + std::to_string(nk) + " = (kh, kw, C, n_filters) " +
                          shape_str({kernel_size[0], kernel_size[1], input_shape[2], n_filters}));
  for (std::size_t i = 0; i < kernel.size(); ++i)
    if (!std::isfinite(kernel[i]))
      throw ValidationError(me + ": kernel value " + std::to_string(i) + " is not finite");
  if (!bias.empty() && bias.size() != n_filters)
    throw ValidationError(me + ": bias has " + std::to_string(bias.size()) + " values, expected " +
                          std::to_string(n_filters) + " (one per filter)");
}

std::string Convolution::repr() const {
  std::ostringstream os;
  os << "Convolution(n_filters=" << n_filters
     << ", input_shape=" << shape_str({input_shape[0], input_shape[1], input_shape[2]})
     << ", kernel_size=" << shape_str({kernel_size[0], kernel_size[1]})
     << ", strides=" << shape_str({strides[0], strides[1]}) << ", padding=\"" << padding << "\")";
  return os.str();
}

// ---------------------------------------------------------------- AveragePooling

AveragePooling::AveragePooling(std::array<std::size_t, 3> input_shape_,
                               std::array<std::size_t, 2> pool_size_,
                               std::optional<std::array<std::size_t, 2>> strides_,
                               std::string padding_)
    : input_shape(input_shape_),
      pool_size(pool_size_),
      strides(strides_.value_or(pool_size_)),
      padding(std::move(padding_)) {}

std::array<std::size_t, 3> AveragePooling::output_shape() const {
  const Axis y = axis(input_shape[0], pool_size[0], strides[0], padding);
  const Axis x = axis(input_shape[1], pool_size[1], strides[1], padding);
  return {y.out, x.out, input_shape[2]};
}

std::size_t AveragePooling::size_in() const {
  return input_shape[0] * input_shape[1] * input_shape[2];
}

std::size_t AveragePooling::size_out() const {
  const auto o = output_shape();
  return o[0] * o[1] * o[2];
}

void AveragePooling::validate(const std::string& who) const {
  const std::string me = who + ": " + repr();
  for (std::size_t d : input_shape)
    if (d == 0) throw ValidationError(me + ": input_shape has a zero dimension");
  for (std::size_t d : pool_size)
    if (d == 0) throw ValidationError(me + ": pool_size has a zero dimension");
  for (std::size_t d : strides)
    if (d == 0) throw ValidationError(me + ": strides must be positive");
  if (padding != "valid" && padding != "same")
    throw ValidationError(me + ": padding must be \"valid\" or \"same\", got \"" + padding + "\"");
  if (padding == "valid" && (pool_size[0] > input_shape[0] || pool_size[1] > input_shape[1]))
    throw ValidationError(me + ": pool window is larger than the input with \"valid\" padding");
}

std::string AveragePooling::repr() const {
  std::ostringstream os;
  os << "AveragePooling(input_shape=" << shape_str({input_shape[0], input_shape[1], input_shape[2]})
     << ", pool_size=" << shape_str({pool_size[0], pool_size[1]})
     << ", strides=" << shape_str({strides[0], strides[1]}) << ", padding=\"" << padding << "\")";
  return os.str();
}

// ---------------------------------------------------------------- Transform: layers

Transform::Transform(const Convolution& c)
    : kind_(Kind::Convolution), conv_(std::make_shared<Convolution>(c)) {
  if (c.use_bias) with_bias(c.bias);
}

Transform::Transform(const AveragePooling& p)
    : kind_(Kind::Pooling), pool_(std::make_shared<AveragePooling>(p)) {}

Transform::Transform(const Dense& d)
    : kind_(Kind::Dist),
      dist_(d.init ? d.init : std::make_shared<GlorotUniform>()),
      units_(d.units) {
  if (d.units == 0) throw ValidationError("Dense: units must be positive, got 0");
  if (d.use_bias) with_bias();
}

Transform& Transform::with_bias(std::vector<double> values) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      throw ValidationError("Transform bias: value " + std::to_string(i) + " is not finite");
  has_bias_ = true;
  bias_ = std::move(values);
  return *this;
}

std::vector<double> Transform::bias_values(std::size_t size_out, const std::string& who) const {
  if (!has_bias_) return {};
  const std::size_t n = kind_ == Kind::Convolution ? conv_->n_filters : size_out;
  if (bias_.empty()) return std::vector<double>(n, 0.0);
  if (bias_.size() != n)
    throw ValidationError(who + ": bias has " + std::to_string(bias_.size()) +
                          " values, expected " + std::to_string(n) +
                          (kind_ == Kind::Convolution ? " (one per filter)" : " (one per output)"));
  return bias_;
}

std::optional<std::size_t> Transform::output_size(std::size_t size_in) const {
  switch (kind_) {
    case Kind::None:
    case Kind::Scalar:
    case Kind::Diagonal:
      return size_in;
    case Kind::Dense:
      return std::size_t(matrix_.rows());
    case Kind::Dist:
      return units_;
    case Kind::Convolution:
      return conv_->size_out();
    case Kind::Pooling:
      return pool_->size_out();
  }
  return std::nullopt;
}

std::vector<double> Transform::conv_kernel(Rng& rng, const std::string& who) const {
  if (kind_ != Kind::Convolution) throw ValidationError(who + ": transform is not a Convolution");
  const Convolution& c = *conv_;
  c.validate(who);
  if (!c.kernel.empty()) return c.kernel;
  const std::size_t rows = c.kernel_size[0] * c.kernel_size[1] * c.input_shape[2];
  const std::size_t taps = c.kernel_size[0] * c.kernel_size[1];
  DistPtr init = c.init ? c.init
                        : std::make_shared<GlorotUniform>(double(taps * c.input_shape[2]),
                                                          double(taps * c.n_filters));
  const Eigen::MatrixXd m = init->sample(rows, c.n_filters, rng);  // C order = (kh, kw, C, F)
  std::vector<double> k(rows * c.n_filters);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t f = 0; f < c.n_filters; ++f)
      k[r * c.n_filters + f] = m(Eigen::Index(r), Eigen::Index(f));
  return k;
}

Transform::Transform(std::initializer_list<std::initializer_list<double>> rows)
    : kind_(Kind::Dense) {
  const Eigen::Index r = Eigen::Index(rows.size());
  const Eigen::Index c = r ? Eigen::Index(rows.begin()->size()) : 0;
  matrix_.resize(r, c);
  Eigen::Index i = 0;
  for (const auto& row : rows) {
    if (Eigen::Index(row.size()) != c)
      throw ValidationError("Transform: rows have different lengths (" + std::to_string(c) +
                            " and " + std::to_string(row.size()) + ")");
    Eigen::Index j = 0;
    for (double v : row) matrix_(i, j++) = v;
    ++i;
  }
}

void Transform::validate(std::size_t size_out, std::size_t size_mid, const std::string& who) const {
  auto shape = [](Eigen::Index a, Eigen::Index b) {
    return "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
  };
  switch (kind_) {
    case Kind::None:
      return;
    case Kind::Scalar:
      if (!std::isfinite(scalar_)) throw ValidationError(who + ": transform is not finite");
      if (size_out != size_mid)
        throw ValidationError(
            who + ": a scalar transform needs equal input and output sizes, got " +
            std::to_string(size_mid) + " -> " + std::to_string(size_out) +
            "; give a matrix of shape " + shape(Eigen::Index(size_out), Eigen::Index(size_mid)));
      return;
    case Kind::Diagonal:
      if (!matrix_.allFinite()) throw ValidationError(who + ": transform has non-finite values");
      if (std::size_t(matrix_.rows()) != size_mid || size_out != size_mid)
        throw ValidationError(who + ": a vector (diagonal) transform of length " +
                              std::to_string(matrix_.rows()) + " needs input and output size " +
                              std::to_string(matrix_.rows()) + ", got " + std::to_string(size_mid) +
                              " -> " + std::to_string(size_out));
      return;
    case Kind::Dense:
      if (!matrix_.allFinite()) throw ValidationError(who + ": transform has non-finite values");
      if (std::size_t(matrix_.rows()) != size_out || std::size_t(matrix_.cols()) != size_mid)
        throw ValidationError(who + ": transform shape " + shape(matrix_.rows(), matrix_.cols()) +
                              " does not match (size_out, size_mid) = " +
                              shape(Eigen::Index(size_out), Eigen::Index(size_mid)));
      return;
    case Kind::Dist:
      if (!dist_) throw ValidationError(who + ": null transform distribution");
      if (units_ && *units_ != size_out)
        throw ValidationError(who + ": Dense(" + std::to_string(*units_) +
                              ") needs a post object of size " + std::to_string(*units_) +
                              ", got " + std::to_string(size_out));
      return;
    case Kind::Convolution:
    case Kind::Pooling: {
      const std::size_t in = conv_ ? conv_->size_in() : pool_->size_in();
      const std::size_t out = conv_ ? conv_->size_out() : pool_->size_out();
      if (conv_)
        conv_->validate(who);
      else
        pool_->validate(who);
      if (size_mid != in || size_out != out)
        throw ValidationError(who + ": " + repr() + " maps " + std::to_string(in) + " -> " +
                              std::to_string(out) + " values, but the connection is " +
                              std::to_string(size_mid) + " -> " + std::to_string(size_out));
      return;
    }
  }
}

Eigen::MatrixXd Transform::materialize(std::size_t size_out, std::size_t size_mid, Rng& rng,
                                       const std::string& who) const {
  validate(size_out, size_mid, who);
  const auto ro = Eigen::Index(size_out), rm = Eigen::Index(size_mid);
  switch (kind_) {
    case Kind::None:
      return Eigen::MatrixXd::Identity(ro, rm);
    case Kind::Scalar:
      return Eigen::MatrixXd::Identity(ro, rm) * scalar_;
    case Kind::Diagonal:
      return matrix_.col(0).asDiagonal();
    case Kind::Dense:
      return matrix_;
    case Kind::Dist:
      return dist_->sample(size_out, size_mid, rng);
    case Kind::Convolution:
    case Kind::Pooling:
      throw ValidationError(who + ": " + repr() +
                            " is a structured layer transform and has no dense matrix here");
  }
  return {};
}

std::string Transform::repr() const {
  std::ostringstream os;
  switch (kind_) {
    case Kind::None:
      return "None";
    case Kind::Scalar:
      os << scalar_;
      return os.str();
    case Kind::Diagonal:
      os << "diag(" << matrix_.rows() << ")";
      return os.str();
    case Kind::Dense:
      os << "Dense(" << matrix_.rows() << "x" << matrix_.cols() << ")";
      return os.str();
    case Kind::Dist:
      if (units_) return "Dense(" + std::to_string(*units_) + ")";
      return dist_ ? dist_->repr() : "None";
    case Kind::Convolution:
      return conv_->repr();
    case Kind::Pooling:
      return pool_->repr();
  }
  return "?";
}

}  // namespace myelin
