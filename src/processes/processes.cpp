// Processes (spec §9): WhiteSignal, WhiteNoise, FilteredNoise, BrownNoise, PresentInput,
// Piecewise, FunctionProcess, and the standalone Process::run / run_steps / apply helpers.
// Steps never keep a reference to the Rng given to make_step: WhiteSignal draws its whole
// period there, and run-time random steps own a child stream seeded by one draw from it (so
// the caller's Rng may be a temporary, and processes sharing one Rng get distinct streams).
#include <Eigen/Dense>
#include <unsupported/Eigen/FFT>

#include "myelin/processes.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <string>
#include <utility>

#include "core/format.hpp"
#include "myelin/errors.hpp"

namespace myelin {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;

using detail::fmt;

std::string dist_repr(const DistPtr& d) {
  return d ? d->repr() : "Gaussian(mean=0, std=1)";
}

void check_dt(double dt, const Process& p) {
  if (!(dt > 0.0) || !std::isfinite(dt)) {
    throw ValidationError(p.repr() + ": dt must be > 0 and finite, got dt=" + fmt(dt));
  }
}

void check_size_in(const Process& p, std::size_t size_in, std::size_t expected) {
  if (size_in != expected) {
    throw ValidationError(p.repr() + ": size_in must be " + std::to_string(expected) + ", got " +
                          std::to_string(size_in));
  }
}

void check_size_out(const Process& p, std::size_t size_out, std::size_t expected) {
  if (size_out != expected) {
    throw ValidationError(p.repr() + ": size_out must be " + std::to_string(expected) + ", got " +
                          std::to_string(size_out));
  }
}

void check_size_out_positive(const Process& p, std::size_t size_out) {
  if (size_out < 1) {
    throw ValidationError(p.repr() + ": size_out must be >= 1, got " + std::to_string(size_out));
  }
}

/// Draws one step of white noise (Gaussian(0, 1) directly when dist is null).
void draw_noise(const DistPtr& dist, double scale, std::span<double> out, Rng& rng) {
  if (!dist) {
    for (double& v : out) v = scale * rng.normal();
    return;
  }
  const MatrixXd s = dist->sample(1, out.size(), rng);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = scale * s(0, static_cast<Index>(i));
}

/// Double-precision multi-channel linear filter with the stepping rules of spec §7.
class FilterState {
 public:
  FilterState(const DiscreteFilter& f, std::size_t channels) : n_(channels) {
    switch (f.kind) {
      case DiscreteFilter::Kind::Identity:
        d_ = f.D;
        return;
      case DiscreteFilter::Kind::Lowpass:
        k_ = 1;
        A_ = {f.a};
        B_ = {f.b};
        C_ = {1.0};
        d_ = 0.0;
        break;
      case DiscreteFilter::Kind::General:
        k_ = f.order();
        d_ = f.D;
        for (std::size_t i = 0; i < k_; ++i) {
          for (std::size_t j = 0; j < k_; ++j) A_.push_back(f.A(Index(i), Index(j)));
          B_.push_back(f.B(Index(i)));
          C_.push_back(f.C(Index(i)));
        }
        break;
    }
    x_.assign(k_ * n_, 0.0);
    tmp_.assign(k_ * n_, 0.0);
  }

  /// u and y (size channels) may alias.
  void step(const double* u, double* y) {
    if (k_ == 0) {
      for (std::size_t c = 0; c < n_; ++c) y[c] = d_ * u[c];
      return;
    }
    for (std::size_t i = 0; i < k_; ++i) {
      double* t = tmp_.data() + i * n_;
      for (std::size_t c = 0; c < n_; ++c) t[c] = B_[i] * u[c];
      for (std::size_t j = 0; j < k_; ++j) {
        const double a = A_[i * k_ + j];
        if (a == 0.0) continue;
        const double* x = x_.data() + j * n_;
        for (std::size_t c = 0; c < n_; ++c) t[c] += a * x[c];
      }
    }
    if (d_ == 0.0) x_.swap(tmp_);
    for (std::size_t c = 0; c < n_; ++c) y[c] = d_ * u[c];
    for (std::size_t i = 0; i < k_; ++i) {
      const double* x = x_.data() + i * n_;
      for (std::size_t c = 0; c < n_; ++c) y[c] += C_[i] * x[c];
    }
    if (d_ != 0.0) x_.swap(tmp_);
  }

 private:
  std::size_t n_ = 0, k_ = 0;
  std::vector<double> A_, B_, C_, x_, tmp_;
  double d_ = 1.0;
};

std::size_t largest_prime_factor(std::size_t n) {
  std::size_t largest = 1;
  for (std::size_t f = 2; f * f <= n; ++f) {
    while (n % f == 0) {
      largest = f;
      n /= f;
    }
  }
  return n > 1 ? std::max(largest, n) : largest;
}

// ---- step functions ---------------------------------------------------------------------

class WhiteSignalStep : public ProcessStep {
 public:
  WhiteSignalStep(std::vector<double> signal, std::size_t n, std::size_t d, double dt)
      : signal_(std::move(signal)), n_(static_cast<long long>(n)), d_(d), dt_(dt) {}
  void step(double t, std::span<const double>, std::span<double> out) override {
    long long i = std::llround(t / dt_) % n_;
    if (i < 0) i += n_;
    const double* row = signal_.data() + static_cast<std::size_t>(i) * d_;
    std::copy(row, row + d_, out.begin());
  }

 private:
  std::vector<double> signal_;  // n × d, row-major: one period
  long long n_;
  std::size_t d_;
  double dt_;
};

class NoiseStep : public ProcessStep {
 public:
  NoiseStep(DistPtr dist, double scale, Rng& rng)
      : dist_(std::move(dist)), scale_(scale), rng_(rng()) {}
  void step(double, std::span<const double>, std::span<double> out) override {
    draw_noise(dist_, scale_, out, rng_);
  }

 private:
  DistPtr dist_;
  double scale_;
  Rng rng_;  // the step owns its stream, seeded from the one given to make_step
};

class FilteredNoiseStep : public ProcessStep {
 public:
  FilteredNoiseStep(DistPtr dist, double scale, Rng& rng, const DiscreteFilter& f,
                    std::size_t size_out)
      : dist_(std::move(dist)), scale_(scale), rng_(rng()), filter_(f, size_out) {}
  void step(double, std::span<const double>, std::span<double> out) override {
    draw_noise(dist_, scale_, out, rng_);
    filter_.step(out.data(), out.data());
  }

 private:
  DistPtr dist_;
  double scale_;
  Rng rng_;  // the step owns its stream, seeded from the one given to make_step
  FilterState filter_;
};

class PresentInputStep : public ProcessStep {
 public:
  PresentInputStep(MatrixXd inputs, double presentation_time, double dt)
      : inputs_(std::move(inputs)), pt_(presentation_time), dt_(dt) {}
  void step(double t, std::span<const double>, std::span<double> out) override {
    const auto n = static_cast<long long>(inputs_.rows());
    long long i = static_cast<long long>(std::floor((t - dt_) / pt_ + 1e-7)) % n;
    if (i < 0) i += n;
    for (Index j = 0; j < inputs_.cols(); ++j) out[static_cast<std::size_t>(j)] = inputs_(i, j);
  }

 private:
  MatrixXd inputs_;
  double pt_, dt_;
};

class PiecewiseStep : public ProcessStep {
 public:
  enum class Mode { Zero, Linear, Nearest };
  PiecewiseStep(const std::map<double, Piecewise::Value>& data, Mode mode, double dt,
                std::string who)
      : mode_(mode), dt_(dt), who_(std::move(who)) {
    for (const auto& [key, f] : data) {
      times_.push_back(key);
      values_.push_back(f);
    }
  }

  void step(double t, std::span<const double>, std::span<double> out) override {
    std::fill(out.begin(), out.end(), 0.0);
    const std::size_t m = times_.size();
    if (mode_ == Mode::Zero) {
      // last key <= t + dt/2; zeros before the first key
      const auto it = std::upper_bound(times_.begin(), times_.end(), t + 0.5 * dt_);
      if (it == times_.begin()) return;
      add(static_cast<std::size_t>(it - times_.begin()) - 1, t, 1.0, out);
      return;
    }
    // linear / nearest: zero outside [first key, last key]
    if (t < times_.front() || t > times_.back()) return;
    auto hi = static_cast<std::size_t>(std::lower_bound(times_.begin(), times_.end(), t) -
                                       times_.begin());  // times_[hi] >= t
    if (times_[hi] == t || m == 1) {
      add(hi, t, 1.0, out);
      return;
    }
    const std::size_t lo = hi - 1;
    const double w = (t - times_[lo]) / (times_[hi] - times_[lo]);
    if (mode_ == Mode::Nearest) {
      add(w <= 0.5 ? lo : hi, t, 1.0, out);  // ties go to the earlier key (as scipy)
      return;
    }
    add(lo, t, 1.0 - w, out);
    add(hi, t, w, out);
  }

 private:
  void add(std::size_t i, double t, double weight, std::span<double> out) const {
    const std::vector<double> v = values_[i](t);
    if (v.size() != out.size()) {
      throw SimulationError(who_ + ": the value at time " + fmt(times_[i]) + " has size " +
                            std::to_string(v.size()) + " at t=" + fmt(t) + ", expected " +
                            std::to_string(out.size()));
    }
    for (std::size_t j = 0; j < v.size(); ++j) out[j] += weight * v[j];
  }

  std::vector<double> times_;
  std::vector<Piecewise::Value> values_;
  Mode mode_;
  double dt_;
  std::string who_;
};

class FunctionStep : public ProcessStep {
 public:
  explicit FunctionStep(Rng& parent) : rng(parent()) {}
  void step(double t, std::span<const double> x, std::span<double> out) override { fn(t, x, out); }
  Rng rng;  // owned here so that step callables may keep a reference to it
  FunctionProcess::StepFn fn;
};

/// Standalone run: t = dt, 2 dt, ...; x (steps × size_in) or zeros as input.
Eigen::MatrixXd run_process(const Process& p, std::size_t n_steps, double dt, std::size_t size_in,
                            std::size_t size_out, std::uint64_t rng_seed,
                            const Eigen::MatrixXd* x) {
  check_dt(dt, p);
  Rng rng(p.seed ? *p.seed : rng_seed);
  auto step = p.make_step(size_in, size_out, dt, rng);
  MatrixXd out(static_cast<Index>(n_steps), static_cast<Index>(size_out));
  std::vector<double> in(size_in, 0.0), y(size_out, 0.0);
  for (std::size_t i = 0; i < n_steps; ++i) {
    if (x) {
      for (std::size_t j = 0; j < size_in; ++j) in[j] = (*x)(Index(i), Index(j));
    }
    const double t = static_cast<double>(i + 1) * dt;
    step->step(t, std::span<const double>(in), std::span<double>(y));
    for (std::size_t j = 0; j < size_out; ++j) out(Index(i), Index(j)) = y[j];
  }
  return out;
}

std::size_t steps_for(double T, double dt, const Process& p) {
  check_dt(dt, p);
  if (!(T >= 0.0) || !std::isfinite(T)) {
    throw ValidationError(p.repr() + ": run time T must be >= 0 and finite, got T=" + fmt(T));
  }
  return static_cast<std::size_t>(std::llround(T / dt));
}

}  // namespace

// ---- Process -----------------------------------------------------------------------------

Eigen::MatrixXd Process::run(double T, double dt, std::optional<std::size_t> size_out,
                             std::uint64_t rng_seed) const {
  return run_steps(steps_for(T, dt, *this), dt, size_out, rng_seed);
}

Eigen::MatrixXd Process::run_steps(std::size_t n_steps, double dt,
                                   std::optional<std::size_t> size_out,
                                   std::uint64_t rng_seed) const {
  const std::size_t so = size_out ? *size_out : default_size_out().value_or(1);
  return run_process(*this, n_steps, dt, default_size_in(), so, rng_seed, nullptr);
}

Eigen::MatrixXd Process::apply(const Eigen::MatrixXd& x, double dt, std::uint64_t rng_seed) const {
  const auto size_in = static_cast<std::size_t>(x.cols());
  const std::size_t so = default_size_out().value_or(size_in);
  return run_process(*this, static_cast<std::size_t>(x.rows()), dt, size_in, so, rng_seed, &x);
}

Eigen::VectorXd Process::trange(double T, double dt) {
  if (!(dt > 0.0) || !std::isfinite(dt)) {
    throw ValidationError("trange: dt must be > 0 and finite, got dt=" + fmt(dt));
  }
  if (!(T >= 0.0) || !std::isfinite(T)) {
    throw ValidationError("trange: T must be >= 0 and finite, got T=" + fmt(T));
  }
  const auto n = static_cast<Index>(std::llround(T / dt));
  Eigen::VectorXd t(n);
  for (Index i = 0; i < n; ++i) t(i) = static_cast<double>(i + 1) * dt;
  return t;
}

// ---- WhiteSignal -------------------------------------------------------------------------

WhiteSignal::WhiteSignal(double period_, double high_, double rms_, std::optional<double> y0_)
    : period(period_), high(high_), rms(rms_), y0(y0_) {
  if (!(period > 0.0) || !std::isfinite(period)) {
    throw ValidationError("WhiteSignal: period must be > 0 and finite, got period=" + fmt(period));
  }
  if (!(rms > 0.0) || !std::isfinite(rms)) {
    throw ValidationError("WhiteSignal: rms must be > 0 and finite, got rms=" + fmt(rms));
  }
  if (!(high >= 1.0 / period) || !std::isfinite(high)) {
    throw ValidationError("WhiteSignal: high must be >= 1/period (" + fmt(1.0 / period) +
                          ") to produce a non-zero signal, got high=" + fmt(high) +
                          ", period=" + fmt(period));
  }
  if (y0 && !std::isfinite(*y0)) {
    throw ValidationError("WhiteSignal: y0 must be finite, got y0=" + fmt(*y0));
  }
}

std::string WhiteSignal::repr() const {
  std::string s = "WhiteSignal(period=" + fmt(period) + ", high=" + fmt(high) + ", rms=" + fmt(rms);
  if (y0) s += ", y0=" + fmt(*y0);
  return s + ")";
}

std::unique_ptr<ProcessStep> WhiteSignal::make_step(std::size_t size_in, std::size_t size_out,
                                                    double dt, Rng& rng) const {
  check_dt(dt, *this);
  check_size_in(*this, size_in, 0);
  check_size_out_positive(*this, size_out);
  const double nyquist = 0.5 / dt;
  if (high > nyquist) {
    throw ValidationError(repr() + ": high=" + fmt(high) +
                          " exceeds the Nyquist frequency 1/(2 dt)=" + fmt(nyquist) +
                          " for dt=" + fmt(dt));
  }
  const double k_d = std::ceil(period / dt / 2.0);
  if (k_d > 1e8) {
    throw ValidationError(repr() + ": period/dt too large (" + fmt(2.0 * k_d) +
                          " samples) for dt=" + fmt(dt));
  }
  const auto K = static_cast<std::size_t>(k_d);
  const std::size_t N = 2 * K;
  const std::size_t d = size_out;

  // K + 1 complex coefficients per dimension: imaginary parts first, then real parts, each
  // drawn in (coefficient, dimension) row-major order (as Nengo's two rng.normal calls).
  const double sigma = rms * std::sqrt(0.5);
  std::vector<std::complex<double>> coef((K + 1) * d);
  for (auto& c : coef) c.imag(rng.normal(0.0, sigma));
  for (auto& c : coef) c.real(rng.normal(0.0, sigma));

  // Zero DC, make Nyquist real, zero everything above `high`.
  std::vector<bool> zeroed(K + 1, false);
  std::size_t n_zeroed = 0;
  for (std::size_t k = 0; k <= K; ++k) {
    const double freq = static_cast<double>(k) / (static_cast<double>(N) * dt);
    if (freq > high) {
      zeroed[k] = true;
      ++n_zeroed;
    }
  }
  const double power_correction =
      std::sqrt(1.0 - static_cast<double>(n_zeroed) / static_cast<double>(K));
  double gain = std::sqrt(static_cast<double>(N));
  if (power_correction > 0.0) gain /= power_correction;

  // Inverse real FFT of length N with 1/N normalisation. Kiss FFT (behind Eigen::FFT) costs
  // about N * (largest prime factor of N); when that factor is large and few coefficients
  // survive the band limit, summing the kept terms directly is much cheaper (same result).
  const std::size_t n_kept = K + 1 - n_zeroed;
  const bool direct = static_cast<double>(n_kept) <
                      static_cast<double>(largest_prime_factor(N)) + std::log2(double(N));
  std::vector<double> cos_table, sin_table;
  if (direct) {
    cos_table.resize(N);
    sin_table.resize(N);
    for (std::size_t m = 0; m < N; ++m) {
      const double phase = 2.0 * std::numbers::pi * static_cast<double>(m) / double(N);
      cos_table[m] = std::cos(phase);
      sin_table[m] = std::sin(phase);
    }
  }

  std::vector<double> signal(N * d);
  Eigen::FFT<double> fft;  // default flags: inverse scaled by 1/N
  std::vector<std::complex<double>> spectrum(K + 1);
  std::vector<double> column(N);
  for (std::size_t j = 0; j < d; ++j) {
    for (std::size_t k = 0; k <= K; ++k) {
      std::complex<double> c = coef[k * d + j];
      if (k == 0 || zeroed[k]) c = 0.0;
      if (k == K) c.imag(0.0);
      spectrum[k] = gain * c;
    }
    if (direct) {
      // x[m] = (1/N) [c_0 + 2 Re sum_{0<k<K} c_k e^{2 pi i k m / N} + Re(c_K) (-1)^m]
      std::fill(column.begin(), column.end(), 0.0);
      for (std::size_t k = 0; k <= K; ++k) {
        const std::complex<double> c = spectrum[k];
        if (c == 0.0) continue;
        const double w = (k == 0 || k == K) ? 1.0 : 2.0;
        const double cr = w * c.real(), ci = w * c.imag();
        std::size_t idx = 0;  // k m mod N
        for (std::size_t m = 0; m < N; ++m) {
          column[m] += cr * cos_table[idx] - ci * sin_table[idx];
          idx += k;
          if (idx >= N) idx -= N;
        }
      }
      for (double& v : column) v /= double(N);
    } else {
      fft.inv(column.data(), spectrum.data(), static_cast<Index>(N));  // real inverse FFT
    }

    std::size_t offset = 1;  // so that the first step (index 1) reads sample 0 + offset - 1
    if (y0) {
      // Start where the signal is closest to y0 (first step reads that sample).
      std::size_t best = 0;
      for (std::size_t m = 1; m < N; ++m) {
        if (std::abs(column[m] - *y0) < std::abs(column[best] - *y0)) best = m;
      }
      offset = best;
    }
    // np.roll(x, 1 - offset): new[m] = x[(m + offset - 1) mod N]
    for (std::size_t m = 0; m < N; ++m) signal[m * d + j] = column[(m + offset + N - 1) % N];
  }
  return std::make_unique<WhiteSignalStep>(std::move(signal), N, d, dt);
}

// ---- WhiteNoise / FilteredNoise / BrownNoise ---------------------------------------------

WhiteNoise::WhiteNoise(DistPtr dist_, bool scale_) : dist(std::move(dist_)), scale(scale_) {}

std::string WhiteNoise::repr() const {
  return "WhiteNoise(dist=" + dist_repr(dist) + ", scale=" + (scale ? "True" : "False") + ")";
}

std::unique_ptr<ProcessStep> WhiteNoise::make_step(std::size_t size_in, std::size_t size_out,
                                                   double dt, Rng& rng) const {
  check_dt(dt, *this);
  check_size_in(*this, size_in, 0);
  check_size_out_positive(*this, size_out);
  return std::make_unique<NoiseStep>(dist, scale ? 1.0 / std::sqrt(dt) : 1.0, rng);
}

FilteredNoise::FilteredNoise(SynapsePtr synapse_, DistPtr dist_, bool scale_)
    : synapse(synapse_ ? std::move(synapse_) : std::make_shared<Lowpass>(0.005)),
      dist(std::move(dist_)),
      scale(scale_) {}

std::string FilteredNoise::repr() const {
  return "FilteredNoise(synapse=" + synapse->repr() + ", dist=" + dist_repr(dist) +
         ", scale=" + (scale ? "True" : "False") + ")";
}

std::unique_ptr<ProcessStep> FilteredNoise::make_step(std::size_t size_in, std::size_t size_out,
                                                      double dt, Rng& rng) const {
  check_dt(dt, *this);
  check_size_in(*this, size_in, 0);
  check_size_out_positive(*this, size_out);
  return std::make_unique<FilteredNoiseStep>(dist, scale ? 1.0 / std::sqrt(dt) : 1.0, rng,
                                             synapse->discretize(dt), size_out);
}

BrownNoise::BrownNoise(DistPtr dist_) : dist(std::move(dist_)) {}

std::string BrownNoise::repr() const {
  return "BrownNoise(dist=" + dist_repr(dist) + ")";
}

std::unique_ptr<ProcessStep> BrownNoise::make_step(std::size_t size_in, std::size_t size_out,
                                                   double dt, Rng& rng) const {
  check_dt(dt, *this);
  check_size_in(*this, size_in, 0);
  check_size_out_positive(*this, size_out);
  // Scaled white noise through the integrator 1/s (ZOH: x[n] = x[n-1] + dt u[n]), so the
  // variance grows by dt per step for Gaussian(0, 1).
  const LinearFilter integrator({1.0}, {1.0, 0.0});
  return std::make_unique<FilteredNoiseStep>(dist, 1.0 / std::sqrt(dt), rng,
                                             integrator.discretize(dt), size_out);
}

// ---- PresentInput ------------------------------------------------------------------------

PresentInput::PresentInput(Eigen::MatrixXd inputs_, double presentation_time_)
    : inputs(std::move(inputs_)), presentation_time(presentation_time_) {
  if (inputs.rows() < 1 || inputs.cols() < 1) {
    throw ValidationError(
        "PresentInput: inputs must have at least one row and one column, got "
        "shape (" +
        std::to_string(inputs.rows()) + ", " + std::to_string(inputs.cols()) + ")");
  }
  if (!(presentation_time > 0.0) || !std::isfinite(presentation_time)) {
    throw ValidationError("PresentInput: presentation_time must be > 0 and finite, got " +
                          fmt(presentation_time));
  }
}

std::string PresentInput::repr() const {
  return "PresentInput(inputs=array(shape=(" + std::to_string(inputs.rows()) + ", " +
         std::to_string(inputs.cols()) + ")), presentation_time=" + fmt(presentation_time) + ")";
}

std::optional<std::size_t> PresentInput::default_size_out() const {
  return static_cast<std::size_t>(inputs.cols());
}

std::unique_ptr<ProcessStep> PresentInput::make_step(std::size_t size_in, std::size_t size_out,
                                                     double dt, Rng&) const {
  check_dt(dt, *this);
  check_size_in(*this, size_in, 0);
  check_size_out(*this, size_out, static_cast<std::size_t>(inputs.cols()));
  return std::make_unique<PresentInputStep>(inputs, presentation_time, dt);
}

// ---- Piecewise ---------------------------------------------------------------------------

namespace {

void check_interpolation(const std::string& interpolation) {
  if (interpolation != "zero" && interpolation != "linear" && interpolation != "nearest") {
    throw ValidationError("Piecewise: unknown interpolation '" + interpolation +
                          "' (expected zero, linear or nearest)");
  }
}

void check_keys(const std::map<double, Piecewise::Value>& data) {
  if (data.empty()) throw ValidationError("Piecewise: data must not be empty");
  for (const auto& [key, f] : data) {
    if (!std::isfinite(key))
      throw ValidationError("Piecewise: time keys must be finite, got " + fmt(key));
    if (!f) throw ValidationError("Piecewise: the value at time " + fmt(key) + " is empty");
  }
}

std::map<double, Piecewise::Value> wrap_constants(
    const std::map<double, std::vector<double>>& data) {
  std::map<double, Piecewise::Value> out;
  for (const auto& [key, v] : data) {
    out.emplace(key, [v](double) { return v; });
  }
  return out;
}

}  // namespace

Piecewise::Piecewise(std::map<double, std::vector<double>> data_, std::string interpolation_)
    : data(wrap_constants(data_)), size(0), interpolation(std::move(interpolation_)) {
  check_interpolation(interpolation);
  check_keys(data);
  size = data_.begin()->second.size();
  if (size < 1) {
    throw ValidationError("Piecewise: values must have size >= 1, got an empty value at time " +
                          fmt(data_.begin()->first));
  }
  for (const auto& [key, v] : data_) {
    if (v.size() != size) {
      throw ValidationError("Piecewise: all values must have the same size; the value at time " +
                            fmt(key) + " has size " + std::to_string(v.size()) + ", expected " +
                            std::to_string(size));
    }
  }
}

Piecewise::Piecewise(std::map<double, Value> data_, std::size_t size_out,
                     std::string interpolation_)
    : data(std::move(data_)), size(size_out), interpolation(std::move(interpolation_)) {
  check_interpolation(interpolation);
  check_keys(data);
  if (size < 1) throw ValidationError("Piecewise: size_out must be >= 1, got 0");
  // As Nengo: callables are checked by evaluating them at t = 0.
  for (const auto& [key, f] : data) {
    const std::size_t n = f(0.0).size();
    if (n != size) {
      throw ValidationError("Piecewise: the function at time " + fmt(key) + " returns size " +
                            std::to_string(n) + ", expected size_out=" + std::to_string(size));
    }
  }
}

std::string Piecewise::repr() const {
  std::string s = "Piecewise(times=[";
  bool first = true;
  for (const auto& [key, f] : data) {
    if (!first) s += ", ";
    first = false;
    s += fmt(key);
  }
  return s + "], size_out=" + std::to_string(size) + ", interpolation='" + interpolation + "')";
}

std::optional<std::size_t> Piecewise::default_size_out() const {
  return size;
}

std::unique_ptr<ProcessStep> Piecewise::make_step(std::size_t size_in, std::size_t size_out,
                                                  double dt, Rng&) const {
  check_dt(dt, *this);
  check_size_in(*this, size_in, 0);
  check_size_out(*this, size_out, size);
  check_interpolation(interpolation);
  check_keys(data);
  const auto mode = interpolation == "zero"     ? PiecewiseStep::Mode::Zero
                    : interpolation == "linear" ? PiecewiseStep::Mode::Linear
                                                : PiecewiseStep::Mode::Nearest;
  return std::make_unique<PiecewiseStep>(data, mode, dt, repr());
}

// ---- FunctionProcess ---------------------------------------------------------------------

FunctionProcess::FunctionProcess(MakeFn make_, std::optional<std::size_t> size_out_,
                                 std::size_t size_in_, std::string label_)
    : make(std::move(make_)), size_out(size_out_), size_in(size_in_), label(std::move(label_)) {
  if (!make) throw ValidationError(label + ": make function must not be empty");
}

std::unique_ptr<ProcessStep> FunctionProcess::make_step(std::size_t size_in_, std::size_t size_out_,
                                                        double dt, Rng& rng) const {
  check_dt(dt, *this);
  check_size_in(*this, size_in_, size_in);
  if (size_out) check_size_out(*this, size_out_, *size_out);
  auto step = std::make_unique<FunctionStep>(rng);
  step->fn = make(size_in_, size_out_, dt, step->rng);
  if (!step->fn) throw ValidationError(label + ": make returned an empty step function");
  return step;
}

}  // namespace myelin
