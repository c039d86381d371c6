// Distributions (spec §3): scalar distributions, hypersphere samplers and the quasi-random
// ScatteredHypersphere used by default for encoders and eval points.
#include <Eigen/Dense>

#include "myelin/distributions.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <span>
#include <vector>

#include "core/format.hpp"
#include "myelin/errors.hpp"

namespace myelin {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;

using detail::fmt;

using detail::shape_str;

/// "[[1, 2], [3, 4]]" for small matrices, "array(shape=(r, c))" otherwise.
std::string array_repr(const MatrixXd& m) {
  if (m.size() > 16) return "array(shape=" + shape_str(m.rows(), m.cols()) + ")";
  std::string s = "[";
  for (Index i = 0; i < m.rows(); ++i) {
    if (i > 0) s += ", ";
    if (m.cols() == 1) {
      s += fmt(m(i, 0));
      continue;
    }
    s += "[";
    for (Index j = 0; j < m.cols(); ++j) {
      if (j > 0) s += ", ";
      s += fmt(m(i, j));
    }
    s += "]";
  }
  return s + "]";
}

void require_dims(std::size_t d, const char* who) {
  if (d < 1) {
    throw ValidationError(std::string(who) + ": dimensionality d must be >= 1, got " +
                          std::to_string(d));
  }
}

/// Randomly permutes the rows of m in place.
void shuffle_rows(MatrixXd& m, Rng& rng) {
  std::vector<Index> perm(static_cast<std::size_t>(m.rows()));
  std::iota(perm.begin(), perm.end(), Index{0});
  rng.shuffle(std::span<Index>(perm));
  MatrixXd out(m.rows(), m.cols());
  for (Index i = 0; i < m.rows(); ++i) out.row(i) = m.row(perm[static_cast<std::size_t>(i)]);
  m = std::move(out);
}

// ---- regularised incomplete beta and its inverse --------------------------------------

/// Continued fraction for I_x(a, b) (modified Lentz).
double betacf(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEps = 1e-16;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0;
  double d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 1000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < kEps) break;
  }
  return h;
}

double log_beta(double a, double b) {
  return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
}

/// Regularised incomplete beta function I_x(a, b), a, b > 0. lbeta = log B(a, b). If
/// front is given, it receives x^a (1-x)^b / B(a, b) (so the density is front / (x (1-x))).
double betainc(double a, double b, double x, double lbeta, double* front = nullptr) {
  if (x <= 0.0 || x >= 1.0) {
    if (front) *front = 0.0;
    return x <= 0.0 ? 0.0 : 1.0;
  }
  const double bt = std::exp(a * std::log(x) + b * std::log1p(-x) - lbeta);
  if (front) *front = bt;
  if (x < (a + 1.0) / (a + b + 2.0)) return bt * betacf(a, b, x) / a;
  return 1.0 - bt * betacf(b, a, 1.0 - x) / b;
}

/// Inverse of I_x(a, b) in x: Halley iteration from the Numerical Recipes starting guess,
/// safeguarded by a bisection bracket. lbeta = log B(a, b).
double betaincinv(double a, double b, double p, double lbeta) {
  if (p <= 0.0) return 0.0;
  if (p >= 1.0) return 1.0;
  const double a1 = a - 1.0, b1 = b - 1.0;
  double x = 0.0;
  if (a >= 1.0 && b >= 1.0) {
    const double pp = p < 0.5 ? p : 1.0 - p;
    const double t = std::sqrt(-2.0 * std::log(pp));
    double z = (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481)) - t;
    if (p < 0.5) z = -z;
    const double al = (z * z - 3.0) / 6.0;
    const double h = 2.0 / (1.0 / (2.0 * a - 1.0) + 1.0 / (2.0 * b - 1.0));
    const double w = (z * std::sqrt(al + h) / h) - (1.0 / (2.0 * b - 1.0) - 1.0 / (2.0 * a - 1.0)) *
                                                       (al + 5.0 / 6.0 - 2.0 / (3.0 * h));
    x = a / (a + b * std::exp(2.0 * w));
  } else {
    const double lna = std::log(a / (a + b)), lnb = std::log(b / (a + b));
    const double t = std::exp(a * lna) / a, u = std::exp(b * lnb) / b;
    const double w = t + u;
    x = p < t / w ? std::pow(a * w * p, 1.0 / a) : 1.0 - std::pow(b * w * (1.0 - p), 1.0 / b);
  }
  double lo = 0.0, hi = 1.0;
  for (int it = 0; it < 100; ++it) {
    if (!(x > lo && x < hi)) x = 0.5 * (lo + hi);
    double front = 0.0;
    const double err = betainc(a, b, x, lbeta, &front) - p;
    if (err == 0.0) return x;
    if (err < 0.0) {
      lo = x;
    } else {
      hi = x;
    }
    const double pdf = front / (x * (1.0 - x));
    double xn;
    if (pdf > 0.0 && std::isfinite(pdf)) {
      const double u = err / pdf;
      const double step = u / (1.0 - 0.5 * std::min(1.0, u * (a1 / x - b1 / (1.0 - x))));
      xn = x - step;
    } else {
      xn = 0.5 * (lo + hi);
    }
    if (!(xn > lo && xn < hi)) xn = 0.5 * (lo + hi);
    const double dx = std::fabs(xn - x);
    x = xn;
    if (dx <= 1e-13 * x || hi - lo <= 1e-15 * x) break;
  }
  return x;
}

/// Inverse CDF of the polar angle (as a fraction of pi) of a point on the sphere in
/// `dims` dimensions: density proportional to sin^(dims-1)(pi t), t in [0, 1].
/// lbeta = log B(dims / 2, 1 / 2).
double spherical_coords_ppf(double dims, double y, double lbeta) {
  if (dims == 1.0) return y;  // uniform (the azimuth)
  const double y_reflect = y < 0.5 ? y : 1.0 - y;
  const double z_sq = betaincinv(dims / 2.0, 0.5, 2.0 * y_reflect, lbeta);
  const double x = std::asin(std::sqrt(std::clamp(z_sq, 0.0, 1.0))) / std::numbers::pi;
  return y < 0.5 ? x : 1.0 - x;
}

/// Maps points in the unit cube [0,1)^k to the unit sphere in k+1 dimensions.
MatrixXd spherical_transform(const MatrixXd& samples) {
  const Index n = samples.rows(), k = samples.cols();
  MatrixXd mapped = MatrixXd::Ones(n, k + 1);
  std::vector<double> lbeta(static_cast<std::size_t>(k));
  for (Index j = 0; j < k; ++j)
    lbeta[std::size_t(j)] = log_beta(static_cast<double>(k - j) / 2.0, 0.5);
  for (Index i = 0; i < n; ++i) {
    double prod = 1.0;
    for (Index j = 0; j < k; ++j) {
      const double t =
          spherical_coords_ppf(static_cast<double>(k - j), samples(i, j), lbeta[std::size_t(j)]);
      const double mult = (j == k - 1) ? 2.0 : 1.0;
      const double angle = mult * std::numbers::pi * t;
      mapped(i, j) = prod * std::cos(angle);
      prod *= std::sin(angle);
    }
    mapped(i, k) = prod;
  }
  return mapped;
}

}  // namespace

// ---- Uniform ---------------------------------------------------------------------------

Uniform::Uniform(double low_, double high_, bool integer_)
    : low(low_), high(high_), integer(integer_) {
  if (!std::isfinite(low) || !std::isfinite(high)) {
    throw ValidationError("Uniform: low and high must be finite, got low=" + fmt(low) +
                          ", high=" + fmt(high));
  }
  if (integer && std::ceil(low) >= high) {
    throw ValidationError("Uniform(integer=True): no integer in [low, high), got low=" + fmt(low) +
                          ", high=" + fmt(high));
  }
}

Eigen::MatrixXd Uniform::sample(std::size_t n, std::size_t d, Rng& rng) const {
  MatrixXd out(static_cast<Index>(n), static_cast<Index>(d));
  if (integer) {
    const double lo = std::ceil(low);
    const auto count = static_cast<std::uint64_t>(std::ceil(high) - lo);
    for (Index i = 0; i < out.rows(); ++i)
      for (Index j = 0; j < out.cols(); ++j) out(i, j) = lo + static_cast<double>(rng.below(count));
  } else {
    for (Index i = 0; i < out.rows(); ++i)
      for (Index j = 0; j < out.cols(); ++j) out(i, j) = rng.uniform(low, high);
  }
  return out;
}

std::string Uniform::repr() const {
  return "Uniform(low=" + fmt(low) + ", high=" + fmt(high) + (integer ? ", integer=True)" : ")");
}

// ---- Gaussian --------------------------------------------------------------------------

Gaussian::Gaussian(double mean_, double std_) : mean(mean_), std(std_) {
  if (!(std > 0.0) || !std::isfinite(std)) {
    throw ValidationError("Gaussian: std must be > 0 and finite, got std=" + fmt(std));
  }
  if (!std::isfinite(mean))
    throw ValidationError("Gaussian: mean must be finite, got " + fmt(mean));
}

Eigen::MatrixXd Gaussian::sample(std::size_t n, std::size_t d, Rng& rng) const {
  MatrixXd out(static_cast<Index>(n), static_cast<Index>(d));
  for (Index i = 0; i < out.rows(); ++i)
    for (Index j = 0; j < out.cols(); ++j) out(i, j) = rng.normal(mean, std);
  return out;
}

std::string Gaussian::repr() const {
  return "Gaussian(mean=" + fmt(mean) + ", std=" + fmt(std) + ")";
}

// ---- Exponential -----------------------------------------------------------------------

Exponential::Exponential(double scale_, double shift_, double high_)
    : scale(scale_), shift(shift_), high(high_) {
  if (!(scale > 0.0) || !std::isfinite(scale)) {
    throw ValidationError("Exponential: scale must be > 0 and finite, got scale=" + fmt(scale));
  }
  if (!std::isfinite(shift))
    throw ValidationError("Exponential: shift must be finite, got " + fmt(shift));
  if (std::isnan(high) || high < shift) {
    throw ValidationError("Exponential: high must be >= shift, got high=" + fmt(high) +
                          ", shift=" + fmt(shift));
  }
}

Eigen::MatrixXd Exponential::sample(std::size_t n, std::size_t d, Rng& rng) const {
  MatrixXd out(static_cast<Index>(n), static_cast<Index>(d));
  const double cap = high - shift;
  for (Index i = 0; i < out.rows(); ++i)
    for (Index j = 0; j < out.cols(); ++j) {
      const double e = -scale * std::log1p(-rng.uniform());  // 1 - u in (0, 1]
      out(i, j) = shift + std::min(e, cap);
    }
  return out;
}

std::string Exponential::repr() const {
  std::string s = "Exponential(scale=" + fmt(scale);
  if (shift != 0.0) s += ", shift=" + fmt(shift);
  if (std::isfinite(high)) s += ", high=" + fmt(high);
  return s + ")";
}

// ---- Choice ----------------------------------------------------------------------------

namespace {
std::vector<double> normalised_cumulative(Index k, const std::vector<double>& weights) {
  if (k == 0) throw ValidationError("Choice: options must not be empty");
  std::vector<double> w = weights;
  if (w.empty()) w.assign(static_cast<std::size_t>(k), 1.0);
  if (static_cast<Index>(w.size()) != k) {
    throw ValidationError("Choice: weights must have one entry per option (" + std::to_string(k) +
                          "), got " + std::to_string(w.size()));
  }
  double total = 0.0;
  for (double v : w) {
    if (!(v >= 0.0) || !std::isfinite(v)) {
      throw ValidationError("Choice: weights must be finite and >= 0, got " + fmt(v));
    }
    total += v;
  }
  if (!(total > 0.0)) throw ValidationError("Choice: weights must not all be zero");
  std::vector<double> cum(w.size());
  double acc = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    acc += w[i];
    cum[i] = acc / total;
  }
  cum.back() = 1.0;
  return cum;
}
}  // namespace

Choice::Choice(std::vector<double> options_, std::vector<double> weights)
    : options(Eigen::Map<const Eigen::VectorXd>(options_.data(), Index(options_.size()))),
      cumulative(normalised_cumulative(Index(options_.size()), weights)) {}

Choice::Choice(Eigen::MatrixXd options_, std::vector<double> weights)
    : options(std::move(options_)), cumulative(normalised_cumulative(options.rows(), weights)) {}

Eigen::MatrixXd Choice::sample(std::size_t n, std::size_t d, Rng& rng) const {
  if (static_cast<Index>(d) != options.cols()) {
    throw ValidationError("Choice: options are of dimensionality " +
                          std::to_string(options.cols()) +
                          ", cannot sample with d = " + std::to_string(d));
  }
  MatrixXd out(static_cast<Index>(n), options.cols());
  for (Index i = 0; i < out.rows(); ++i) {
    const double u = rng.uniform();
    auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
    Index k = static_cast<Index>(it - cumulative.begin());
    if (k >= options.rows()) k = options.rows() - 1;
    out.row(i) = options.row(k);
  }
  return out;
}

std::string Choice::repr() const {
  std::string s = "Choice(options=" + array_repr(options);
  // Recover the weights from the cumulative form for display, if non-uniform.
  bool uniform = true;
  const double k = static_cast<double>(cumulative.size());
  for (std::size_t i = 0; i < cumulative.size(); ++i) {
    const double p = cumulative[i] - (i > 0 ? cumulative[i - 1] : 0.0);
    if (std::fabs(p - 1.0 / k) > 1e-12) uniform = false;
  }
  if (!uniform) {
    s += ", weights=[";
    for (std::size_t i = 0; i < cumulative.size(); ++i) {
      if (i > 0) s += ", ";
      s += fmt(cumulative[i] - (i > 0 ? cumulative[i - 1] : 0.0));
    }
    s += "]";
  }
  return s + ")";
}

// ---- Samples ---------------------------------------------------------------------------

Samples::Samples(Eigen::MatrixXd samples_) : samples(std::move(samples_)) {}

Eigen::MatrixXd Samples::sample(std::size_t n, std::size_t d, Rng& /*rng*/) const {
  const auto rn = static_cast<Index>(n), rd = static_cast<Index>(d);
  if (samples.rows() == rn && samples.cols() == rd) return samples;
  if (rd == 1 && samples.rows() == 1 && samples.cols() == rn) return samples.transpose();
  throw ValidationError("Samples: expected shape " + shape_str(rn, rd) + ", got " +
                        shape_str(samples.rows(), samples.cols()));
}

std::string Samples::repr() const {
  return "Samples(samples=" + array_repr(samples) + ")";
}

// ---- UniformHypersphere ----------------------------------------------------------------

namespace {
void check_min_magnitude(double m, const char* who) {
  if (!(m >= 0.0 && m <= 1.0)) {
    throw ValidationError(std::string(who) + ": min_magnitude must be in [0, 1], got " + fmt(m));
  }
}

std::string sphere_repr(const char* name, bool surface, double min_magnitude) {
  std::string s = std::string(name) + "(";
  if (surface) {
    s += "surface=True";
  } else if (min_magnitude != 0.0) {
    s += "min_magnitude=" + fmt(min_magnitude);
  }
  return s + ")";
}
}  // namespace

UniformHypersphere::UniformHypersphere(bool surface_, double min_magnitude_)
    : surface(surface_), min_magnitude(min_magnitude_) {
  check_min_magnitude(min_magnitude, "UniformHypersphere");
}

Eigen::MatrixXd UniformHypersphere::sample(std::size_t n, std::size_t d, Rng& rng) const {
  require_dims(d, "UniformHypersphere");
  MatrixXd out(static_cast<Index>(n), static_cast<Index>(d));
  for (Index i = 0; i < out.rows(); ++i) {
    double norm = 0.0;
    do {
      for (Index j = 0; j < out.cols(); ++j) out(i, j) = rng.normal();
      norm = out.row(i).norm();
    } while (!(norm > 0.0));
    out.row(i) /= norm;
  }
  if (surface) return out;
  const double dd = static_cast<double>(d);
  const double lo = std::pow(min_magnitude, dd);
  for (Index i = 0; i < out.rows(); ++i) out.row(i) *= std::pow(rng.uniform(lo, 1.0), 1.0 / dd);
  return out;
}

std::string UniformHypersphere::repr() const {
  return sphere_repr("UniformHypersphere", surface, min_magnitude);
}

// ---- QuasirandomSequence ---------------------------------------------------------------

Eigen::MatrixXd QuasirandomSequence::sample(std::size_t n, std::size_t d, Rng& rng) const {
  require_dims(d, "QuasirandomSequence");
  const auto rn = static_cast<Index>(n), rd = static_cast<Index>(d);
  MatrixXd out(rn, rd);
  if (rn == 0) return out;
  if (rd == 1) {
    // Even grid with a random offset.
    const double s = rng.uniform();
    for (Index k = 0; k < rn; ++k)
      out(k, 0) = (static_cast<double>(k) + s) / static_cast<double>(rn);
  } else {
    // phi_d: the positive root of x^(d+1) = x + 1 (Newton from 2).
    const double dp1 = static_cast<double>(d) + 1.0;
    double phi = 2.0;
    for (int it = 0; it < 100; ++it) {
      const double f = std::pow(phi, dp1) - phi - 1.0;
      const double df = dp1 * std::pow(phi, dp1 - 1.0) - 1.0;
      const double next = phi - f / df;
      if (std::fabs(next - phi) < 1e-15) {
        phi = next;
        break;
      }
      phi = next;
    }
    Eigen::VectorXd alpha(rd), offset(rd);
    for (Index j = 0; j < rd; ++j) alpha(j) = std::pow(1.0 / phi, static_cast<double>(j + 1));
    for (Index j = 0; j < rd; ++j) offset(j) = rng.uniform();
    for (Index k = 0; k < rn; ++k) {
      for (Index j = 0; j < rd; ++j) {
        const double z = offset(j) + static_cast<double>(k + 1) * alpha(j);
        out(k, j) = z - std::floor(z);
      }
    }
  }
  shuffle_rows(out, rng);
  return out;
}

std::string QuasirandomSequence::repr() const {
  return "QuasirandomSequence()";
}

// ---- ScatteredHypersphere --------------------------------------------------------------

ScatteredHypersphere::ScatteredHypersphere(bool surface_, double min_magnitude_)
    : surface(surface_), min_magnitude(min_magnitude_) {
  check_min_magnitude(min_magnitude, "ScatteredHypersphere");
}

Eigen::MatrixXd ScatteredHypersphere::sample(std::size_t n, std::size_t d, Rng& rng) const {
  require_dims(d, "ScatteredHypersphere");
  const QuasirandomSequence base;
  const auto rn = static_cast<Index>(n);
  if (d == 1 && surface) {
    MatrixXd u = base.sample(n, 1, rng);
    for (Index i = 0; i < rn; ++i) u(i, 0) = u(i, 0) < 0.5 ? -1.0 : 1.0;
    return u;
  }
  if (d == 1) {
    const std::size_t npos = n / 2;
    MatrixXd pos = base.sample(npos, 1, rng);
    MatrixXd neg = base.sample(n - npos, 1, rng);
    MatrixXd out(rn, 1);
    const double mm = min_magnitude;
    for (Index i = 0; i < pos.rows(); ++i) out(i, 0) = mm + (1.0 - mm) * pos(i, 0);
    for (Index i = 0; i < neg.rows(); ++i) out(pos.rows() + i, 0) = -(mm + (1.0 - mm) * neg(i, 0));
    shuffle_rows(out, rng);
    return out;
  }

  MatrixXd mapped;
  if (surface) {
    mapped = spherical_transform(base.sample(n, d - 1, rng));
  } else {
    MatrixXd cube = base.sample(n, d, rng);
    const auto rd = static_cast<Index>(d);
    mapped = spherical_transform(cube.leftCols(rd - 1));
    const double dd = static_cast<double>(d);
    const double min_d = std::pow(min_magnitude, dd);
    for (Index i = 0; i < rn; ++i) {
      const double r = std::pow(min_d + (1.0 - min_d) * cube(i, rd - 1), 1.0 / dd);
      mapped.row(i) *= r;
    }
  }
  const MatrixXd rotation = random_orthogonal(d, rng);
  return mapped * rotation.transpose();
}

std::string ScatteredHypersphere::repr() const {
  return sphere_repr("ScatteredHypersphere", surface, min_magnitude);
}

// ---- random_orthogonal -----------------------------------------------------------------

Eigen::MatrixXd random_orthogonal(std::size_t d, Rng& rng) {
  const auto rd = static_cast<Index>(d);
  MatrixXd g(rd, rd);
  for (Index i = 0; i < rd; ++i)
    for (Index j = 0; j < rd; ++j) g(i, j) = rng.normal();
  if (rd == 0) return g;
  Eigen::HouseholderQR<MatrixXd> qr(g);
  MatrixXd q = qr.householderQ() * MatrixXd::Identity(rd, rd);
  const MatrixXd& r = qr.matrixQR();
  for (Index j = 0; j < rd; ++j) {
    if (r(j, j) < 0.0) q.col(j) = -q.col(j);
  }
  return q;
}

// ---- DistOrArray -----------------------------------------------------------------------

Eigen::MatrixXd DistOrArray::sample(std::size_t n, std::size_t d, Rng& rng,
                                    const std::string& what) const {
  if (empty()) throw ValidationError(what + ": no distribution or array given");
  if (is_dist()) {
    if (!dist()) throw ValidationError(what + ": distribution is null");
    return dist()->sample(n, d, rng);
  }
  const MatrixXd& a = array();
  const auto rn = static_cast<Index>(n), rd = static_cast<Index>(d);
  if (a.rows() == rn && a.cols() == rd) return a;
  if (rd == 1 && a.rows() == 1 && a.cols() == rn) return a.transpose();
  throw ValidationError(what + ": expected shape " + shape_str(rn, rd) + ", got " +
                        shape_str(a.rows(), a.cols()));
}

std::string DistOrArray::repr() const {
  if (empty()) return "None";
  if (is_dist()) return dist() ? dist()->repr() : "None";
  return "array(" + array_repr(array()) + ")";
}

}  // namespace myelin
