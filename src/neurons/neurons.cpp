// NeuronType defaults (numeric gain/bias inversion) and the non-LIF neuron types (spec §4.3,
// §4.4, §4.6, §4.7) plus Direct. The LIF family lives in lif.cpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "myelin/errors.hpp"
#include "myelin/neurons.hpp"
#include "neuron_util.hpp"

namespace myelin {

using neurons_detail::fmt;
using neurons_detail::neuron_error;

// ---------------------------------------------------------------------------------------------
// NeuronType defaults

void NeuronType::rates_f(std::span<const float> J, std::span<float> out) const {
  std::vector<double> Jd(J.begin(), J.end()), od(J.size());
  rates(Jd, od);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(od[i]);
}

void NeuronType::init_state(std::size_t n, float* const* state, Rng&) const {
  const std::size_t k = state_names().size();
  for (std::size_t s = 0; s < k; ++s) std::fill(state[s], state[s] + n, 0.0f);
}

namespace {

/// Common input checks of gain_bias: positive finite max_rate, finite intercept < 1.
void check_rate_intercept(const std::string& kind, std::size_t i, double r, double c) {
  if (!(r > 0.0) || !std::isfinite(r)) {
    neuron_error(kind, i, "max_rate " + fmt(r) + " Hz must be positive and finite");
  }
  if (!std::isfinite(c)) neuron_error(kind, i, "intercept " + fmt(c) + " is not finite");
  if (c >= 1.0) neuron_error(kind, i, "intercept " + fmt(c) + " >= 1 gives a non-positive gain");
}

void check_gain(const std::string& kind, std::size_t i, double r, double c, double g) {
  if (!(g > 0.0) || !std::isfinite(g)) {
    neuron_error(kind, i,
                 "max_rate " + fmt(r) + " Hz and intercept " + fmt(c) + " give gain " + fmt(g));
  }
}

double rate_at(const NeuronType& t, double J) {
  double r = 0.0;
  t.rates(std::span<const double>(&J, 1), std::span<double>(&r, 1));
  return r;
}

constexpr int kGridSteps = 101;  // odd so that J = 0 is a grid point
constexpr int kBisectIters = 64;

struct Grid {
  std::vector<double> J, rate;
  std::size_t threshold = 0;  // last index with rate <= 0 (its successor has rate > 0)
};

/// Scans J over [-Jr, Jr] (Jr = 10, 20, ... up to 10240) until the grid contains a silent point
/// followed by firing points reaching `target_rate`. Throws BuildError when impossible.
Grid scan_currents(const NeuronType& t, double target_rate) {
  Grid g;
  g.J.resize(kGridSteps);
  g.rate.resize(kGridSteps);
  double Jr = 10.0;
  bool found_threshold = false;
  for (int attempt = 0; attempt < 11; ++attempt, Jr *= 2.0) {
    for (int k = 0; k < kGridSteps; ++k) g.J[k] = -Jr + 2.0 * Jr * k / (kGridSteps - 1);
    t.rates(g.J, g.rate);
    std::ptrdiff_t th = -1;
    for (int k = 0; k < kGridSteps; ++k) {
      if (g.rate[k] <= 0.0) th = k;
    }
    if (th < 0 || th == kGridSteps - 1) continue;
    found_threshold = true;
    g.threshold = static_cast<std::size_t>(th);
    if (g.rate.back() >= target_rate) return g;
  }
  if (!found_threshold) {
    throw BuildError(t.kind() + ": could not find a firing threshold for the numeric gain/bias " +
                     "inversion (rates are never zero or never positive for |J| <= 10240)");
  }
  throw BuildError(t.kind() + ": no input current |J| <= 10240 reaches max_rate " +
                   fmt(target_rate) + " Hz");
}

/// Bisection tolerance: fine enough for smooth rate curves (1e-10 relative in J), coarse enough
/// that stepping off the bracket by one width clears floating-point noise in gain·x + bias.
/// Rate curves of simulated types are discontinuous (Izhikevich: integer spike counts, a jump
/// at threshold, plateaus locked to dt), so the ends are chosen on the safe side of the jump.
bool bracket_open(double lo, double hi) {
  return hi - lo > 1e-10 * std::max(1.0, std::abs(hi));
}

/// Threshold current: bisection between the last silent and first firing grid points. Returns a
/// current one bracket width below the last silent one found, so rate(J_th) == 0 robustly while
/// rate(J_th + 1e-9 |J|) > 0.
double threshold_current(const NeuronType& t, const Grid& g) {
  double lo = g.J[g.threshold];
  double hi = g.J[g.threshold + 1];
  for (int it = 0; it < kBisectIters && bracket_open(lo, hi); ++it) {
    const double mid = 0.5 * (lo + hi);
    if (rate_at(t, mid) > 0.0) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return lo - (hi - lo);
}

}  // namespace

void NeuronType::gain_bias(std::span<const double> max_rates, std::span<const double> intercepts,
                           std::span<double> gain, std::span<double> bias) const {
  const std::string k = kind();
  const std::size_t n = max_rates.size();
  double target = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    check_rate_intercept(k, i, max_rates[i], intercepts[i]);
    target = std::max(target, max_rates[i]);
  }
  if (n == 0) return;
  const Grid g = scan_currents(*this, target);
  const double j_th = threshold_current(*this, g);

  // Per neuron: the smallest J (to bisection precision) with rate(J) >= max_rate, bracketed by
  // consecutive grid points; all neurons are bisected together, one rates() call per iteration.
  std::vector<double> lo(n), hi(n), mid(n), r(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t kk = g.threshold + 1;
    while (g.rate[kk] < max_rates[i]) ++kk;  // terminates: rate.back() >= target
    hi[i] = g.J[kk];
    lo[i] = g.J[kk - 1];
  }
  for (int it = 0; it < kBisectIters; ++it) {
    bool open = false;
    for (std::size_t i = 0; i < n; ++i) {
      open = open || bracket_open(lo[i], hi[i]);
      mid[i] = 0.5 * (lo[i] + hi[i]);
    }
    if (!open) break;
    rates(mid, r);
    for (std::size_t i = 0; i < n; ++i) {
      if (r[i] >= max_rates[i]) {
        hi[i] = mid[i];
      } else {
        lo[i] = mid[i];
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    // One bracket width above the smallest J found with rate >= max_rate (see bracket_open).
    const double j_max = hi[i] + (hi[i] - lo[i]);
    const double gi = (j_max - j_th) / (1.0 - intercepts[i]);
    check_gain(k, i, max_rates[i], intercepts[i], gi);
    gain[i] = gi;
    bias[i] = j_th - gi * intercepts[i];
  }
}

void NeuronType::max_rates_intercepts(std::span<const double> gain, std::span<const double> bias,
                                      std::span<double> max_rates,
                                      std::span<double> intercepts) const {
  const std::size_t n = gain.size();
  if (n == 0) return;
  const Grid g = scan_currents(*this, 0.0);
  const double j_th = threshold_current(*this, g);
  std::vector<double> J(n);
  for (std::size_t i = 0; i < n; ++i) {
    intercepts[i] = (j_th - bias[i]) / gain[i];
    J[i] = gain[i] + bias[i];
  }
  rates(J, max_rates);
}

void NeuronType::rate_derivative(std::span<const double> J, std::span<double> out) const {
  if (spiking()) {
    rate_twin()->rate_derivative(J, out);
    return;
  }
  // Rate type without a closed form: central finite differences of rates().
  const std::size_t n = J.size();
  std::vector<double> jp(n), jm(n), rp(n), rm(n), h(n);
  for (std::size_t i = 0; i < n; ++i) {
    h[i] = 1e-6 * std::max(1.0, std::abs(J[i]));
    jp[i] = J[i] + h[i];
    jm[i] = J[i] - h[i];
  }
  rates(jp, rp);
  rates(jm, rm);
  for (std::size_t i = 0; i < n; ++i) out[i] = (rp[i] - rm[i]) / (2.0 * h[i]);
}

// ---------------------------------------------------------------------------------------------
// RectifiedLinear / SpikingRectifiedLinear

RectifiedLinear::RectifiedLinear(double amplitude_) : amplitude(amplitude_) {
  neurons_detail::require_positive("RectifiedLinear", "amplitude", amplitude);
}

std::string RectifiedLinear::repr() const {
  return "RectifiedLinear(amplitude=" + fmt(amplitude) + ")";
}

std::size_t RectifiedLinear::step(const NeuronStepArgs& a) const {
  const float amp = static_cast<float>(amplitude);
  for (std::size_t i = 0; i < a.n; ++i) a.out[i] = amp * std::max(a.J[i], 0.0f);
  return 0;
}

void RectifiedLinear::rates(std::span<const double> J, std::span<double> out) const {
  for (std::size_t i = 0; i < J.size(); ++i) out[i] = amplitude * std::max(J[i], 0.0);
}

// As in Nengo, amplitude is not part of gain/bias (max_rate is the rate before amplitude).
void RectifiedLinear::gain_bias(std::span<const double> max_rates,
                                std::span<const double> intercepts, std::span<double> gain,
                                std::span<double> bias) const {
  const std::string k = kind();
  for (std::size_t i = 0; i < max_rates.size(); ++i) {
    check_rate_intercept(k, i, max_rates[i], intercepts[i]);
    const double g = max_rates[i] / (1.0 - intercepts[i]);
    check_gain(k, i, max_rates[i], intercepts[i], g);
    gain[i] = g;
    bias[i] = -intercepts[i] * g;
  }
}

void RectifiedLinear::max_rates_intercepts(std::span<const double> gain,
                                           std::span<const double> bias,
                                           std::span<double> max_rates,
                                           std::span<double> intercepts) const {
  for (std::size_t i = 0; i < gain.size(); ++i) {
    intercepts[i] = -bias[i] / gain[i];
    max_rates[i] = gain[i] * (1.0 - intercepts[i]);
  }
}

NeuronTypePtr RectifiedLinear::rate_twin(double) const {
  return std::make_shared<RectifiedLinear>(*this);
}

void RectifiedLinear::rate_derivative(std::span<const double> J, std::span<double> out) const {
  for (std::size_t i = 0; i < J.size(); ++i) out[i] = J[i] > 0.0 ? amplitude : 0.0;
}

SpikingRectifiedLinear::SpikingRectifiedLinear(double amplitude_) : RectifiedLinear(amplitude_) {}

std::string SpikingRectifiedLinear::repr() const {
  return "SpikingRectifiedLinear(amplitude=" + fmt(amplitude) + ")";
}

void SpikingRectifiedLinear::init_state(std::size_t n, float* const* state, Rng& rng) const {
  for (std::size_t i = 0; i < n; ++i) state[0][i] = static_cast<float>(rng.uniform());
}

namespace {

/// v += dt r; k = floor(v); out = (amplitude/dt) k; v -= k (spec §4.3, §4.7). `r` may alias out.
void integrate_and_fire(std::size_t n, float dt, float amp_dt, const float* r, float* v,
                        float* out) {
  for (std::size_t i = 0; i < n; ++i) {
    const float vi = v[i] + dt * r[i];
    const float k = std::floor(vi);
    v[i] = vi - k;
    out[i] = amp_dt * k;
  }
}

/// Appends the indices with out != 0 to fired (if given); returns the number written.
std::size_t collect_fired(std::size_t n, const float* out, std::int32_t* fired) {
  if (fired == nullptr) return 0;
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    fired[count] = static_cast<std::int32_t>(i);
    count += out[i] != 0.0f;
  }
  return count;
}

}  // namespace

std::size_t SpikingRectifiedLinear::step(const NeuronStepArgs& a) const {
  float* v = a.state[0];
  const float dt = a.dt;
  for (std::size_t i = 0; i < a.n; ++i) a.out[i] = std::max(a.J[i], 0.0f);
  integrate_and_fire(a.n, dt, static_cast<float>(amplitude / a.dt), a.out, v, a.out);
  return collect_fired(a.n, a.out, a.fired);
}

NeuronTypePtr SpikingRectifiedLinear::rate_twin(double) const {
  return std::make_shared<RectifiedLinear>(amplitude);
}

void SpikingRectifiedLinear::rate_derivative(std::span<const double> J,
                                             std::span<double> out) const {
  RectifiedLinear::rate_derivative(J, out);
}

// ---------------------------------------------------------------------------------------------
// Sigmoid

Sigmoid::Sigmoid(double tau_ref_) : tau_ref(tau_ref_) {
  neurons_detail::require_positive("Sigmoid", "tau_ref", tau_ref);
}

std::string Sigmoid::repr() const {
  return "Sigmoid(tau_ref=" + fmt(tau_ref) + ")";
}

std::size_t Sigmoid::step(const NeuronStepArgs& a) const {
  const float scale = static_cast<float>(1.0 / tau_ref);
  for (std::size_t i = 0; i < a.n; ++i) a.out[i] = scale / (1.0f + std::exp(-a.J[i]));
  return 0;
}

void Sigmoid::rates(std::span<const double> J, std::span<double> out) const {
  for (std::size_t i = 0; i < J.size(); ++i) out[i] = (1.0 / tau_ref) / (1.0 + std::exp(-J[i]));
}

void Sigmoid::gain_bias(std::span<const double> max_rates, std::span<const double> intercepts,
                        std::span<double> gain, std::span<double> bias) const {
  const std::string k = kind();
  for (std::size_t i = 0; i < max_rates.size(); ++i) {
    const double r = max_rates[i];
    const double c = intercepts[i];
    check_rate_intercept(k, i, r, c);
    if (r * tau_ref >= 1.0) {
      neuron_error(k, i, "max_rate " + fmt(r) + " Hz >= 1/tau_ref = " + fmt(1.0 / tau_ref) + " Hz");
    }
    if (r * tau_ref * 2.0 <= 1.0) {
      neuron_error(k, i,
                   "max_rate " + fmt(r) + " Hz <= 1/(2 tau_ref) = " + fmt(0.5 / tau_ref) +
                       " Hz gives a non-positive gain (the intercept is the half-rate point)");
    }
    const double m = -std::log(1.0 / (tau_ref * r) - 1.0);
    const double g = m / (1.0 - c);
    check_gain(k, i, r, c, g);
    gain[i] = g;
    bias[i] = m - g;
  }
}

void Sigmoid::max_rates_intercepts(std::span<const double> gain, std::span<const double> bias,
                                   std::span<double> max_rates,
                                   std::span<double> intercepts) const {
  for (std::size_t i = 0; i < gain.size(); ++i) {
    intercepts[i] = -bias[i] / gain[i];
    max_rates[i] = (1.0 / tau_ref) / (1.0 + std::exp(-(gain[i] + bias[i])));
  }
}

NeuronTypePtr Sigmoid::rate_twin(double) const {
  return std::make_shared<Sigmoid>(*this);
}

void Sigmoid::rate_derivative(std::span<const double> J, std::span<double> out) const {
  for (std::size_t i = 0; i < J.size(); ++i) {
    const double s = 1.0 / (1.0 + std::exp(-J[i]));
    out[i] = (1.0 / tau_ref) * s * (1.0 - s);
  }
}

// ---------------------------------------------------------------------------------------------
// Tanh

Tanh::Tanh(double tau_ref_) : tau_ref(tau_ref_) {
  neurons_detail::require_positive("Tanh", "tau_ref", tau_ref);
}

std::string Tanh::repr() const {
  return "Tanh(tau_ref=" + fmt(tau_ref) + ")";
}

std::size_t Tanh::step(const NeuronStepArgs& a) const {
  const float scale = static_cast<float>(1.0 / tau_ref);
  for (std::size_t i = 0; i < a.n; ++i) a.out[i] = scale * std::tanh(a.J[i]);
  return 0;
}

void Tanh::rates(std::span<const double> J, std::span<double> out) const {
  for (std::size_t i = 0; i < J.size(); ++i) out[i] = (1.0 / tau_ref) * std::tanh(J[i]);
}

void Tanh::gain_bias(std::span<const double> max_rates, std::span<const double> intercepts,
                     std::span<double> gain, std::span<double> bias) const {
  const std::string k = kind();
  for (std::size_t i = 0; i < max_rates.size(); ++i) {
    const double r = max_rates[i];
    const double c = intercepts[i];
    check_rate_intercept(k, i, r, c);
    if (r * tau_ref >= 1.0) {
      neuron_error(k, i, "max_rate " + fmt(r) + " Hz >= 1/tau_ref = " + fmt(1.0 / tau_ref) + " Hz");
    }
    const double g = std::atanh(r * tau_ref) / (1.0 - c);
    check_gain(k, i, r, c, g);
    gain[i] = g;
    bias[i] = -g * c;
  }
}

void Tanh::max_rates_intercepts(std::span<const double> gain, std::span<const double> bias,
                                std::span<double> max_rates, std::span<double> intercepts) const {
  for (std::size_t i = 0; i < gain.size(); ++i) {
    intercepts[i] = -bias[i] / gain[i];
    max_rates[i] = (1.0 / tau_ref) * std::tanh(gain[i] + bias[i]);
  }
}

NeuronTypePtr Tanh::rate_twin(double) const {
  return std::make_shared<Tanh>(*this);
}

void Tanh::rate_derivative(std::span<const double> J, std::span<double> out) const {
  for (std::size_t i = 0; i < J.size(); ++i) {
    const double t = std::tanh(J[i]);
    out[i] = (1.0 / tau_ref) * (1.0 - t * t);
  }
}

// ---------------------------------------------------------------------------------------------
// Izhikevich

Izhikevich::Izhikevich(double tau_recovery_, double coupling_, double reset_voltage_,
                       double reset_recovery_)
    : tau_recovery(tau_recovery_),
      coupling(coupling_),
      reset_voltage(reset_voltage_),
      reset_recovery(reset_recovery_) {
  neurons_detail::require_positive("Izhikevich", "tau_recovery", tau_recovery);
  neurons_detail::require_nonnegative("Izhikevich", "coupling", coupling);
  neurons_detail::require_finite("Izhikevich", "reset_voltage", reset_voltage);
  neurons_detail::require_finite("Izhikevich", "reset_recovery", reset_recovery);
}

std::string Izhikevich::repr() const {
  return "Izhikevich(tau_recovery=" + fmt(tau_recovery) + ", coupling=" + fmt(coupling) +
         ", reset_voltage=" + fmt(reset_voltage) + ", reset_recovery=" + fmt(reset_recovery) + ")";
}

void Izhikevich::init_state(std::size_t n, float* const* state, Rng& rng) const {
  for (std::size_t i = 0; i < n; ++i) state[0][i] = static_cast<float>(rng.uniform());
  std::fill(state[1], state[1] + n, 0.0f);
}

namespace {

/// One Izhikevich step (spec §4.6) for one neuron; returns whether it spiked.
template <class T>
inline bool izh_update(T J, T dt, T a, T b, T c, T d, T& v, T& u) {
  J = std::max(J, T(-30));
  v += dt * T(1000) * (T(0.04) * v * v + T(5) * v + T(140) - u + J);
  const bool spiked = v >= T(30);
  if (spiked) v = c;
  u += dt * T(1000) * a * (b * v - u);
  if (spiked) u += d;
  return spiked;
}

}  // namespace

std::size_t Izhikevich::step(const NeuronStepArgs& args) const {
  float* v = args.state[0];
  float* u = args.state[1];
  const float dt = args.dt;
  const float a = static_cast<float>(tau_recovery);
  const float b = static_cast<float>(coupling);
  const float c = static_cast<float>(reset_voltage);
  const float d = static_cast<float>(reset_recovery);
  const float spike = 1.0f / dt;
  for (std::size_t i = 0; i < args.n; ++i) {
    const bool s = izh_update<float>(args.J[i], dt, a, b, c, d, v[i], u[i]);
    args.out[i] = s ? spike : 0.0f;
  }
  return collect_fired(args.n, args.out, args.fired);
}

// Nengo's settled_firingrate: from zero state, 1 ms settle (absorbs the start-up spike), then
// count spikes over 1 s with dt = 1 ms.
void Izhikevich::rates(std::span<const double> J, std::span<double> out) const {
  constexpr double dt = 0.001;
  constexpr int settle_steps = 1;
  constexpr int sim_steps = 1000;
  for (std::size_t i = 0; i < J.size(); ++i) {
    double v = 0.0, u = 0.0;
    for (int s = 0; s < settle_steps; ++s) {
      izh_update<double>(J[i], dt, tau_recovery, coupling, reset_voltage, reset_recovery, v, u);
    }
    int count = 0;
    for (int s = 0; s < sim_steps; ++s) {
      count +=
          izh_update<double>(J[i], dt, tau_recovery, coupling, reset_voltage, reset_recovery, v, u);
    }
    out[i] = count / (sim_steps * dt);
  }
}

NeuronTypePtr Izhikevich::rate_twin(double) const {
  throw BuildError(repr() + " has no rate twin (no differentiable rate approximation)");
}

// ---------------------------------------------------------------------------------------------
// Rate-to-spike wrappers

namespace {

/// Copy of the rate type `t` with its output scaled by `a` (used for wrapper rate twins).
NeuronTypePtr scaled_rate_type(const NeuronTypePtr& t, double a, const std::string& who) {
  if (a == 1.0) return t;
  const std::string k = t->kind();
  auto scale = [&](auto* typed) -> NeuronTypePtr {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(typed)>>;
    auto copy = std::make_shared<T>(*typed);
    copy->amplitude *= a;
    return copy;
  };
  if (k == "LIFRate") return scale(static_cast<const LIFRate*>(t.get()));
  if (k == "SoftLIFRate") return scale(static_cast<const SoftLIFRate*>(t.get()));
  if (k == "AdaptiveLIFRate") return scale(static_cast<const AdaptiveLIFRate*>(t.get()));
  if (k == "RectifiedLinear") return scale(static_cast<const RectifiedLinear*>(t.get()));
  throw BuildError(who + ": no rate twin for amplitude " + fmt(a) + " != 1 with base " + t->repr() +
                   " (it has no amplitude parameter)");
}

void validate_wrapper(const char* kind, const NeuronTypePtr& base, double amplitude) {
  if (!base) throw ValidationError(std::string(kind) + ": base neuron type is null");
  if (base->spiking() || base->is_direct()) {
    throw ValidationError(std::string(kind) + ": base neuron type " + base->repr() +
                          " must be a rate (non-spiking) type");
  }
  neurons_detail::require_positive(kind, "amplitude", amplitude);
}

/// Steps the base rate type into args.out (the rate r), using the base's state arrays.
void step_base(const NeuronType& base, const NeuronStepArgs& args) {
  NeuronStepArgs sub = args;
  sub.fired = nullptr;
  base.step(sub);
}

Rng& require_rng(const NeuronStepArgs& args, const std::string& kind) {
  if (args.rng == nullptr) {
    throw SimulationError(kind + ": step needs a run-time random stream (NeuronStepArgs::rng is " +
                          "null)");
  }
  return *args.rng;
}

/// Poisson(lambda) sample: multiplication method for small lambda, PTRS (Hörmann 1993, as in
/// NumPy) otherwise.
std::int64_t poisson_sample(Rng& rng, double lam) {
  if (!(lam > 0.0)) return 0;
  if (lam < 10.0) {
    const double limit = std::exp(-lam);
    std::int64_t k = 0;
    double p = rng.uniform();
    while (p > limit) {
      ++k;
      p *= rng.uniform();
    }
    return k;
  }
  const double slam = std::sqrt(lam);
  const double loglam = std::log(lam);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    const double U = rng.uniform() - 0.5;
    const double V = rng.uniform();
    const double us = 0.5 - std::abs(U);
    const auto k = static_cast<std::int64_t>(std::floor((2.0 * a / us + b) * U + lam + 0.43));
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (std::log(V) + std::log(invalpha) - std::log(a / (us * us) + b) <=
        -lam + static_cast<double>(k) * loglam - std::lgamma(static_cast<double>(k) + 1.0)) {
      return k;
    }
  }
}

}  // namespace

RegularSpiking::RegularSpiking(NeuronTypePtr base_, double amplitude_)
    : base(std::move(base_)), amplitude(amplitude_) {
  validate_wrapper("RegularSpiking", base, amplitude);
}

std::string RegularSpiking::repr() const {
  return kind() + "(" + base->repr() + ", amplitude=" + fmt(amplitude) + ")";
}

std::vector<std::string> RegularSpiking::state_names() const {
  auto names = base->state_names();
  names.emplace_back("voltage");
  return names;
}

void RegularSpiking::init_state(std::size_t n, float* const* state, Rng& rng) const {
  base->init_state(n, state, rng);
  float* v = state[base->state_names().size()];
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(rng.uniform());
}

std::size_t RegularSpiking::step(const NeuronStepArgs& args) const {
  step_base(*base, args);
  float* v = args.state[base->state_names().size()];
  integrate_and_fire(args.n, args.dt, static_cast<float>(amplitude / args.dt), args.out, v,
                     args.out);
  return collect_fired(args.n, args.out, args.fired);
}

void RegularSpiking::rates(std::span<const double> J, std::span<double> out) const {
  base->rates(J, out);
  for (double& r : out) r *= amplitude;
}

void RegularSpiking::gain_bias(std::span<const double> max_rates,
                               std::span<const double> intercepts, std::span<double> gain,
                               std::span<double> bias) const {
  base->gain_bias(max_rates, intercepts, gain, bias);
}

void RegularSpiking::max_rates_intercepts(std::span<const double> gain,
                                          std::span<const double> bias, std::span<double> max_rates,
                                          std::span<double> intercepts) const {
  base->max_rates_intercepts(gain, bias, max_rates, intercepts);
}

// The rate twin is the base rate type (its own twin), with the wrapper's amplitude folded into
// the base's amplitude when it is not 1 (the mean spike output is amplitude * base rate).
NeuronTypePtr RegularSpiking::rate_twin(double lif_smoothing) const {
  return scaled_rate_type(base->rate_twin(lif_smoothing), amplitude, kind());
}

StochasticSpiking::StochasticSpiking(NeuronTypePtr base_, double amplitude_)
    : RegularSpiking(std::move(base_), amplitude_) {}

std::string StochasticSpiking::repr() const {
  return kind() + "(" + base->repr() + ", amplitude=" + fmt(amplitude) + ")";
}

std::vector<std::string> StochasticSpiking::state_names() const {
  return base->state_names();
}

void StochasticSpiking::init_state(std::size_t n, float* const* state, Rng& rng) const {
  base->init_state(n, state, rng);
}

std::size_t StochasticSpiking::step(const NeuronStepArgs& args) const {
  Rng& rng = require_rng(args, kind());
  step_base(*base, args);
  const double dt = args.dt;
  const double amp_dt = amplitude / dt;
  for (std::size_t i = 0; i < args.n; ++i) {
    const double r = args.out[i];
    const double e = dt * std::abs(r);
    double count = std::floor(e);
    if (rng.uniform() < e - count) count += 1.0;
    args.out[i] = static_cast<float>(std::copysign(amp_dt * count, r));
  }
  return collect_fired(args.n, args.out, args.fired);
}

PoissonSpiking::PoissonSpiking(NeuronTypePtr base_, double amplitude_)
    : StochasticSpiking(std::move(base_), amplitude_) {}

std::string PoissonSpiking::repr() const {
  return kind() + "(" + base->repr() + ", amplitude=" + fmt(amplitude) + ")";
}

std::size_t PoissonSpiking::step(const NeuronStepArgs& args) const {
  Rng& rng = require_rng(args, kind());
  step_base(*base, args);
  const double dt = args.dt;
  const double amp_dt = amplitude / dt;
  for (std::size_t i = 0; i < args.n; ++i) {
    const double r = args.out[i];
    const auto count = static_cast<double>(poisson_sample(rng, dt * std::abs(r)));
    args.out[i] = static_cast<float>(std::copysign(amp_dt * count, r));
  }
  return collect_fired(args.n, args.out, args.fired);
}

// ---------------------------------------------------------------------------------------------
// Direct

std::size_t Direct::step(const NeuronStepArgs&) const {
  throw BuildError("Direct ensembles have no neurons: Direct::step must never be called");
}

void Direct::rates(std::span<const double>, std::span<double>) const {
  throw BuildError("Direct ensembles have no neurons: Direct has no firing rates");
}

NeuronTypePtr Direct::rate_twin(double) const {
  return std::make_shared<Direct>();
}

}  // namespace myelin
