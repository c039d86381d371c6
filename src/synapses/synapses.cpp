// Synapses (spec §7): transfer functions, their state-space discretisation, offline filtering
// and the float32 multi-channel FilterBank used by the simulator.
//
// Conventions (spec §7, "input advanced by one step"):
//   order 0:          y[n] = D u[n]
//   D == 0:           x[n] = A x[n-1] + B u[n];  y[n] = C x[n]
//   general (D != 0): y[n] = C x[n] + D u[n];    x[n+1] = A x[n] + B u[n]
#include <Eigen/Dense>
#include <Eigen/SparseCore>
#include <unsupported/Eigen/MatrixFunctions>

#include "myelin/synapses.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "core/format.hpp"
#include "myelin/errors.hpp"

namespace myelin {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::RowVectorXd;
using Eigen::VectorXd;

using detail::fmt;

std::string list_repr(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) s += ", ";
    s += fmt(v[i]);
  }
  return s + "]";
}

void check_dt(double dt, const std::string& who) {
  if (!(dt > 0.0) || !std::isfinite(dt)) {
    throw ValidationError(who + ": dt must be > 0 and finite, got dt=" + fmt(dt));
  }
}

void check_tau(double tau, const char* who, const char* name = "tau") {
  if (!(tau >= 0.0) || !std::isfinite(tau)) {
    throw ValidationError(std::string(who) + ": " + name + " must be >= 0 and finite, got " + name +
                          "=" + fmt(tau));
  }
}

bool known_method(const std::string& m) {
  return m == "zoh" || m == "bilinear" || m == "tustin" || m == "euler" || m == "forward_diff" ||
         m == "backward_diff" || m == "gbt";
}

/// Checks coefficients and method; returns the trimmed numerator (leading zeros removed).
std::vector<double> validated_num(const std::vector<double>& num, const std::vector<double>& den,
                                  const std::string& method, double alpha, const std::string& who) {
  if (num.empty()) throw ValidationError(who + ": num must not be empty");
  if (den.empty()) throw ValidationError(who + ": den must not be empty");
  for (double v : num) {
    if (!std::isfinite(v)) throw ValidationError(who + ": num must be finite, got " + fmt(v));
  }
  for (double v : den) {
    if (!std::isfinite(v)) throw ValidationError(who + ": den must be finite, got " + fmt(v));
  }
  if (den[0] == 0.0) {
    throw ValidationError(
        who + ": the leading denominator coefficient must be nonzero, got den=" + list_repr(den));
  }
  if (!known_method(method)) {
    throw ValidationError(who + ": unknown discretisation method '" + method +
                          "' (expected zoh, bilinear, tustin, euler, forward_diff, "
                          "backward_diff or gbt)");
  }
  if (method == "gbt" && !(alpha >= 0.0 && alpha <= 1.0)) {
    throw ValidationError(who + ": gbt alpha must be in [0, 1], got alpha=" + fmt(alpha));
  }
  std::vector<double> n = num;
  while (n.size() > 1 && n.front() == 0.0) n.erase(n.begin());
  if (n.size() > den.size()) {
    throw ValidationError(who + ": improper transfer function (numerator order " +
                          std::to_string(n.size() - 1) + " > denominator order " +
                          std::to_string(den.size() - 1) + ")");
  }
  return n;
}

struct StateSpace {
  MatrixXd A;
  VectorXd B, C;
  double D = 0.0;
};

/// Controllable canonical form of num/den (as scipy.signal.tf2ss).
StateSpace tf2ss(std::vector<double> num, const std::vector<double>& den) {
  const double d0 = den[0];
  const Index k = static_cast<Index>(den.size()) - 1;
  std::vector<double> dn(den.size());
  for (std::size_t i = 0; i < den.size(); ++i) dn[i] = den[i] / d0;
  for (double& v : num) v /= d0;
  num.insert(num.begin(), den.size() - num.size(), 0.0);  // pad to length k + 1
  StateSpace ss;
  ss.D = num[0];
  ss.A = MatrixXd::Zero(k, k);
  ss.B = VectorXd::Zero(k);
  ss.C = VectorXd::Zero(k);
  if (k == 0) return ss;
  for (Index j = 0; j < k; ++j) {
    ss.A(0, j) = -dn[static_cast<std::size_t>(j + 1)];
    ss.C(j) = num[static_cast<std::size_t>(j + 1)] - ss.D * dn[static_cast<std::size_t>(j + 1)];
  }
  for (Index i = 1; i < k; ++i) ss.A(i, i - 1) = 1.0;
  ss.B(0) = 1.0;
  return ss;
}

/// Discretises a continuous state-space system (as scipy.signal.cont2discrete).
StateSpace cont2discrete(const StateSpace& c, double dt, const std::string& method, double alpha) {
  const Index k = c.A.rows();
  if (k == 0) return c;
  StateSpace d;
  if (method == "zoh") {
    MatrixXd m = MatrixXd::Zero(k + 1, k + 1);
    m.topLeftCorner(k, k) = c.A * dt;
    m.topRightCorner(k, 1) = c.B * dt;
    const MatrixXd e = m.exp();
    d.A = e.topLeftCorner(k, k);
    d.B = e.topRightCorner(k, 1);
    d.C = c.C;
    d.D = c.D;
    return d;
  }
  double a = alpha;
  if (method == "bilinear" || method == "tustin") a = 0.5;
  if (method == "euler" || method == "forward_diff") a = 0.0;
  if (method == "backward_diff") a = 1.0;
  const MatrixXd eye = MatrixXd::Identity(k, k);
  const MatrixXd ima = eye - a * dt * c.A;
  const Eigen::PartialPivLU<MatrixXd> lu(ima);
  d.A = lu.solve(eye + (1.0 - a) * dt * c.A);
  d.B = lu.solve(dt * c.B);
  d.C = ima.transpose().partialPivLu().solve(c.C);
  d.D = c.D + a * c.C.dot(d.B);
  return d;
}

DiscreteFilter identity_filter(double gain = 1.0) {
  DiscreteFilter f;
  f.kind = DiscreteFilter::Kind::Identity;
  f.a = 0.0;
  f.b = gain;
  f.A = MatrixXd(0, 0);
  f.B = VectorXd(0);
  f.C = VectorXd(0);
  f.D = gain;
  return f;
}

DiscreteFilter lowpass_filter(double a, double b) {
  DiscreteFilter f;
  f.kind = DiscreteFilter::Kind::Lowpass;
  f.a = a;
  f.b = b;
  f.A = MatrixXd::Constant(1, 1, a);  // state = output
  f.B = VectorXd::Constant(1, b);
  f.C = VectorXd::Constant(1, 1.0);
  f.D = 0.0;
  return f;
}

/// Packs a discrete state-space system, choosing the cheapest kind.
DiscreteFilter from_ss(const StateSpace& ss) {
  if (ss.A.rows() == 0) {
    if (ss.D == 1.0) return identity_filter();
    DiscreteFilter f = identity_filter(ss.D);
    f.kind = DiscreteFilter::Kind::General;
    return f;
  }
  if (ss.A.rows() == 1 && ss.D == 0.0) return lowpass_filter(ss.A(0, 0), ss.C(0) * ss.B(0));
  DiscreteFilter f;
  f.kind = DiscreteFilter::Kind::General;
  f.A = ss.A;
  f.B = ss.B;
  f.C = ss.C;
  f.D = ss.D;
  return f;
}

/// Double-precision multi-channel stepper for the offline helpers.
class Runner {
 public:
  Runner(const DiscreteFilter& f, Index channels) : d_(f.D) {
    if (f.kind == DiscreteFilter::Kind::Lowpass) {
      A_ = MatrixXd::Constant(1, 1, f.a);
      B_ = VectorXd::Constant(1, f.b);
      C_ = RowVectorXd::Constant(1, 1.0);
      d_ = 0.0;
    } else if (f.kind == DiscreteFilter::Kind::General) {
      A_ = f.A;
      B_ = f.B;
      C_ = f.C.transpose();
    } else {
      A_ = MatrixXd(0, 0);
    }
    As_ = A_.sparseView();
    X_ = MatrixXd::Zero(A_.rows(), channels);
  }

  /// Sets the state to the steady state whose output is y0 (per channel).
  void set_steady_state(const RowVectorXd& y0, const std::string& who) {
    const Index k = A_.rows();
    if (k == 0 || y0.isZero(0.0)) return;
    const MatrixXd ima = MatrixXd::Identity(k, k) - A_;
    const Eigen::FullPivLU<MatrixXd> lu(ima);
    if (!lu.isInvertible()) {
      throw ValidationError(who +
                            ": cannot solve for a steady state with y0 != 0 (the filter "
                            "has a pole at z = 1); use y0 = 0");
    }
    const VectorXd iab = lu.solve(B_);
    const double q = C_.dot(iab.transpose()) + d_;
    if (std::abs(q) < 1e-8) {
      throw ValidationError(who +
                            ": cannot solve for a steady state when the DC gain is zero; "
                            "use y0 = 0");
    }
    X_ = iab * (y0 / q);
  }

  void step(const RowVectorXd& u, RowVectorXd& y) {
    if (A_.rows() == 0) {
      y = d_ * u;
    } else if (d_ == 0.0) {
      X_ = (As_ * X_ + B_ * u).eval();
      y = C_ * X_;
    } else {
      y = C_ * X_ + d_ * u;
      X_ = (As_ * X_ + B_ * u).eval();
    }
  }

 private:
  MatrixXd A_;
  Eigen::SparseMatrix<double> As_;  // A without its zeros (Triangle is a shift register)
  VectorXd B_;
  RowVectorXd C_;
  double d_;
  MatrixXd X_;
};

}  // namespace

// ---- Synapse -----------------------------------------------------------------------------

Eigen::MatrixXd Synapse::filt(const Eigen::MatrixXd& x, double dt,
                              std::optional<Eigen::RowVectorXd> y0) const {
  check_dt(dt, repr() + ".filt");
  Runner runner(discretize(dt), x.cols());
  if (y0) {
    if (y0->size() != x.cols()) {
      throw ValidationError(repr() + ".filt: y0 has size " + std::to_string(y0->size()) +
                            " but the signal has " + std::to_string(x.cols()) + " columns");
    }
    runner.set_steady_state(*y0, repr() + ".filt");
  }
  MatrixXd out(x.rows(), x.cols());
  RowVectorXd y(x.cols());
  for (Index i = 0; i < x.rows(); ++i) {
    runner.step(x.row(i), y);
    out.row(i) = y;
  }
  return out;
}

Eigen::MatrixXd Synapse::filtfilt(const Eigen::MatrixXd& x, double dt) const {
  // As Nengo's filt(filtfilt=True): forward pass, then the reversed output through the same
  // filter, continuing its state.
  check_dt(dt, repr() + ".filtfilt");
  Runner runner(discretize(dt), x.cols());
  MatrixXd out(x.rows(), x.cols());
  RowVectorXd y(x.cols());
  for (Index i = 0; i < x.rows(); ++i) {
    runner.step(x.row(i), y);
    out.row(i) = y;
  }
  for (Index i = x.rows() - 1; i >= 0; --i) {
    runner.step(out.row(i), y);
    out.row(i) = y;
  }
  return out;
}

// ---- LinearFilter ------------------------------------------------------------------------

LinearFilter::LinearFilter(std::vector<double> num_, std::vector<double> den_, bool analog_,
                           std::string method_, double alpha_)
    : num(std::move(num_)),
      den(std::move(den_)),
      analog(analog_),
      method(std::move(method_)),
      alpha(alpha_) {
  validated_num(num, den, method, alpha, "LinearFilter");
}

std::string LinearFilter::repr() const {
  std::string s = "LinearFilter(num=" + list_repr(num) + ", den=" + list_repr(den) +
                  ", analog=" + (analog ? "True" : "False");
  if (method != "zoh") s += ", method='" + method + "'";
  if (method == "gbt") s += ", alpha=" + fmt(alpha);
  return s + ")";
}

DiscreteFilter LinearFilter::discretize(double dt) const {
  check_dt(dt, repr());
  // Alpha with a tiny tau: exp(-dt/tau) < 1e-14, so the filter is a pass-through (Nengo).
  if (const auto* alpha_syn = dynamic_cast<const Alpha*>(this)) {
    if (alpha_syn->tau <= 0.03 * dt) return identity_filter();
  }
  const std::vector<double> n = validated_num(num, den, method, alpha, repr());
  StateSpace ss = tf2ss(n, den);
  if (analog) ss = cont2discrete(ss, dt, method, alpha);
  return from_ss(ss);
}

// ---- Lowpass -----------------------------------------------------------------------------

// The base is built from placeholder coefficients (tau = 0 would give a zero leading
// denominator coefficient, which LinearFilter rejects); the real ones are set after checking.
Lowpass::Lowpass(double tau_) : LinearFilter({1.0}, {1.0, 1.0}), tau(tau_) {
  check_tau(tau, "Lowpass");
  den = {tau, 1.0};
}

std::string Lowpass::repr() const {
  return "Lowpass(tau=" + fmt(tau) + ")";
}

DiscreteFilter Lowpass::discretize(double dt) const {
  check_dt(dt, repr());
  check_tau(tau, "Lowpass");
  // If tau <= 0.03 dt then exp(-dt/tau) < 1e-14: a pass-through (still one step in a
  // connection, by the end-of-step update rule).
  if (tau <= 0.03 * dt) return identity_filter();
  if (analog && method == "zoh" && num == std::vector<double>{1.0} &&
      den == std::vector<double>{tau, 1.0}) {
    const double a = std::exp(-dt / tau);
    return lowpass_filter(a, 1.0 - a);
  }
  return LinearFilter::discretize(dt);
}

// ---- Alpha -------------------------------------------------------------------------------

Alpha::Alpha(double tau_) : LinearFilter({1.0}, {1.0, 2.0, 1.0}), tau(tau_) {
  check_tau(tau, "Alpha");
  den = {tau * tau, 2.0 * tau, 1.0};
}

std::string Alpha::repr() const {
  return "Alpha(tau=" + fmt(tau) + ")";
}

// ---- Triangle ----------------------------------------------------------------------------

Triangle::Triangle(double t_) : t(t_) {
  check_tau(t, "Triangle", "t");
}

std::string Triangle::repr() const {
  return "Triangle(t=" + fmt(t) + ")";
}

DiscreteFilter Triangle::discretize(double dt) const {
  check_dt(dt, repr());
  check_tau(t, "Triangle", "t");
  const double taps_d = std::round(t / dt) + 1.0;
  if (taps_d > 2001.0) {  // the dense DiscreteFilter::A would be order^2 doubles
    throw ValidationError(repr() + ": too many taps (" + fmt(taps_d) + ") for dt=" + fmt(dt));
  }
  const auto n_taps = static_cast<Index>(taps_d);
  if (n_taps == 1) return identity_filter();
  // Taps n, n-1, ..., 1 normalised to sum 1; realised as a shift register of the last
  // n_taps - 1 inputs: y = D u[n] + sum_i C_i u[n-i].
  const double total = static_cast<double>(n_taps) * static_cast<double>(n_taps + 1) / 2.0;
  const Index k = n_taps - 1;
  DiscreteFilter f;
  f.kind = DiscreteFilter::Kind::General;
  f.D = static_cast<double>(n_taps) / total;
  f.A = MatrixXd::Zero(k, k);
  for (Index i = 1; i < k; ++i) f.A(i, i - 1) = 1.0;
  f.B = VectorXd::Zero(k);
  f.B(0) = 1.0;
  f.C.resize(k);
  for (Index i = 0; i < k; ++i) f.C(i) = static_cast<double>(n_taps - 1 - i) / total;
  return f;
}

// ---- FilterBank --------------------------------------------------------------------------

FilterBank::FilterBank(const DiscreteFilter& f, std::size_t channels) : f_(f), channels_(channels) {
  switch (f_.kind) {
    case DiscreteFilter::Kind::Identity:
      d_ = static_cast<float>(f_.D);
      break;
    case DiscreteFilter::Kind::Lowpass:
      a_ = static_cast<float>(f_.a);
      b_ = static_cast<float>(f_.b);
      state_.assign(channels_, 0.f);
      break;
    case DiscreteFilter::Kind::General: {
      const std::size_t k = f_.order();
      if (static_cast<std::size_t>(f_.A.cols()) != k ||
          static_cast<std::size_t>(f_.B.size()) != k ||
          static_cast<std::size_t>(f_.C.size()) != k) {
        throw ValidationError("FilterBank: inconsistent state-space sizes (A " +
                              std::to_string(f_.A.rows()) + "x" + std::to_string(f_.A.cols()) +
                              ", B " + std::to_string(f_.B.size()) + ", C " +
                              std::to_string(f_.C.size()) + ")");
      }
      for (std::size_t i = 0; i < k; ++i) {
        for (std::size_t j = 0; j < k; ++j) {
          const double v = f_.A(static_cast<Index>(i), static_cast<Index>(j));
          if (v != 0.0) a_nz_.push_back({i, j, static_cast<float>(v)});
        }
        b_vec_.push_back(static_cast<float>(f_.B(static_cast<Index>(i))));
        c_vec_.push_back(static_cast<float>(f_.C(static_cast<Index>(i))));
      }
      d_ = static_cast<float>(f_.D);
      state_.assign(k * channels_, 0.f);
      tmp_.assign(k * channels_, 0.f);
      break;
    }
  }
}

void FilterBank::reset() {
  std::fill(state_.begin(), state_.end(), 0.f);
}

void FilterBank::step(const float* u, float* y) {
  using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
  using ConstArrayMap = Eigen::Map<const Eigen::ArrayXf>;
  const auto n = static_cast<Index>(channels_);
  if (n == 0) return;
  const ConstArrayMap uu(u, n);
  ArrayMap yy(y, n);
  switch (f_.kind) {
    case DiscreteFilter::Kind::Identity:
      if (d_ == 1.f) {
        if (u != y) std::copy(u, u + channels_, y);
      } else {
        yy = d_ * uu;
      }
      return;
    case DiscreteFilter::Kind::Lowpass: {
      // Plain loop: most banks are a connection's few dimensions, where Eigen's expression
      // set-up costs more than the arithmetic.
      float* st = state_.data();
      for (std::size_t i = 0; i < channels_; ++i) {
        st[i] = a_ * st[i] + b_ * u[i];
        y[i] = st[i];
      }
      return;
    }
    case DiscreteFilter::Kind::General:
      break;
  }
  const std::size_t k = b_vec_.size();
  if (k == 0) {
    yy = d_ * uu;
    return;
  }
  // next state: tmp = A x + B u (u is read before y is written, so u may alias y)
  for (std::size_t i = 0; i < k; ++i) {
    ArrayMap row(tmp_.data() + i * channels_, n);
    if (b_vec_[i] != 0.f) {
      row = b_vec_[i] * uu;
    } else {
      row.setZero();
    }
  }
  for (const Entry& e : a_nz_) {
    ArrayMap row(tmp_.data() + e.row * channels_, n);
    row += e.value * ConstArrayMap(state_.data() + e.col * channels_, n);
  }
  const bool no_d = f_.D == 0.0;
  if (no_d) {
    state_.swap(tmp_);  // x[n] = A x[n-1] + B u[n]; y[n] = C x[n]
    yy.setZero();
  } else {
    yy = d_ * uu;  // y[n] = C x[n] + D u[n]; x[n+1] = A x[n] + B u[n]
  }
  for (std::size_t i = 0; i < k; ++i) {
    if (c_vec_[i] != 0.f) yy += c_vec_[i] * ConstArrayMap(state_.data() + i * channels_, n);
  }
  if (!no_d) state_.swap(tmp_);
}

}  // namespace myelin
