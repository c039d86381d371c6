// LIF family (spec §4.1, §4.2, §4.5, §4.8): LIFRate, LIF, SoftLIFRate, AdaptiveLIFRate,
// AdaptiveLIF. The spiking LIF kernel is the simulator's hot loop: it is written branch-free so
// that the compiler vectorises it, with the rare exact work (sub-step spike time via log1p) done
// in a second pass over the neurons that fired.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>

#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "lif_kernel.hpp"
#include "lif_math.hpp"
#include "myelin/errors.hpp"
#include "myelin/neurons.hpp"
#include "neuron_util.hpp"

namespace myelin {

using neurons_detail::fmt;
using neurons_detail::neuron_error;

namespace kernels {

LifConsts lif_consts(float dt, double tau_rc, double tau_ref, double min_voltage,
                     double amplitude) {
  LifConsts c{};
  c.dt = dt;
  c.inv_tau = static_cast<float>(1.0 / tau_rc);
  c.tau_rc = static_cast<float>(tau_rc);
  c.tau_ref = static_cast<float>(tau_ref);
  c.full = static_cast<float>(-std::expm1(-double(dt) / tau_rc));
  c.ymin = static_cast<float>(-double(c.full) / (2.0 - double(c.full)));
  c.atanh1 = static_cast<float>(2.0 * tau_rc);
  c.atanh3 = static_cast<float>(2.0 * tau_rc / 3.0);
  c.atanh5 = static_cast<float>(2.0 * tau_rc / 5.0);
  c.ref_base = c.tau_ref + c.dt;
  c.spike_out = static_cast<float>(amplitude / dt);
  c.min_voltage = static_cast<float>(min_voltage);
  c.short_poly = double(dt) / tau_rc <= kShortPolyMax;
  return c;
}

}  // namespace kernels

namespace {

/// Steady-state LIF rate without amplitude: 1 / (tau_ref + tau_rc ln(1 + 1/(J - 1))), 0 for J <= 1.
double lif_rate_unit(double J, double tau_rc, double tau_ref) {
  const double j = J - 1.0;
  if (!(j > 0.0)) return 0.0;
  return 1.0 / (tau_ref + tau_rc * std::log1p(1.0 / j));
}

void validate_lif(const char* kind, double tau_rc, double tau_ref, double amplitude) {
  neurons_detail::require_positive(kind, "tau_rc", tau_rc);
  neurons_detail::require_nonnegative(kind, "tau_ref", tau_ref);
  neurons_detail::require_positive(kind, "amplitude", amplitude);
}

// ---------------------------------------------------------------------------------------------
// Spiking LIF kernel.

using kernels::LifConsts;
using lif_math::log1p_small;
using lif_math::log_pos;
using lif_math::neg_expm1_small;
using lif_math::splat;

// The kernel is written once, generic over the lane type T: float (tails, other compilers) or a
// GCC/Clang vector of one native register of floats (16 with AVX-512, 8 with AVX, else 4).
// Explicit vectors do not depend on the auto-vectoriser, which gives up on this loop under
// -ftrapping-math without AVX-512 masking, and at -O2 (GCC 12's very cheap cost model).
#if defined(__GNUC__)
#define MYELIN_LIF_VECTOR 1
#if defined(__AVX512F__)
constexpr std::size_t kLanes = 16;
#elif defined(__AVX__)
constexpr std::size_t kLanes = 8;
#else
constexpr std::size_t kLanes = 4;
#endif
using VecF = float __attribute__((vector_size(kLanes * sizeof(float))));
#endif

template <class T>
inline T load(const float* p) {
  T x;
  std::memcpy(&x, p, sizeof(T));
  return x;
}

template <class T>
inline void store(float* p, const T& x) {
  std::memcpy(p, &x, sizeof(T));
}

// Branch-free min/max/select that work for scalars (bool condition) and vectors (mask).
template <class T>
inline T vmin(T a, T b) {
  return a < b ? a : b;
}
template <class T>
inline T vmax(T a, T b) {
  return a > b ? a : b;
}

/// One LIF step (spec §4.2) for the lanes at J, v, ref, out (T = float: one neuron; T = VecF:
/// kLanes neurons). ρ <- ρ - dt; δ = clip(dt - ρ, 0, dt); v <- v + (J - v)(-expm1(-δ/τ)); spike if
/// v > 1, with spike time t_s = dt + τ log1p((1 - v)/(J - 1)) from the step start;
/// v <- max(v, min_voltage); spikers: v <- 0, ρ <- tau_ref + t_s. The expm1 factor is the
/// precomputed constant unless the neuron is (leaving) refractory, and the spike-time argument
/// lies in [expm1(-δ/τ), 0]; with dt/τ <= 0.5 both are short polynomials, evaluated for every
/// lane and blended with selects.
template <class T>
using MaskOf = decltype(T{} > T{});

using kernels::kShortPolyMax;  // lif_core_short's polynomials are float-accurate up to here

/// lif_core for dt/τ <= 1/16, with the same results to float rounding at about half the work:
/// -expm1(-x) for x <= 1/16 by Taylor terms to x⁵ (relative truncation error < 1e-9), and the
/// spike time's log1p(a), a = (1 - v)/(J - 1) in [-full, 0], as 2 atanh(y) with
/// y = a/(2 + a) = (1 - v)/(2(J - 1) + 1 - v) (one division instead of two), |y| <= 0.032 so
/// terms to y⁵ suffice (relative truncation error < 2e-10).
template <class T>
inline MaskOf<T> lif_core_short(const LifConsts& c, T j, T& v, T& ref) {
  const T zero = splat<T>(0.0f);
  const T dt = splat<T>(c.dt);
  const T rho = ref - c.dt;
  // x = δ/τ; the polynomial is only used where ρ > 0, where dt − ρ < dt needs no upper clamp.
  const T x = vmax((dt - rho) * c.inv_tau, zero);
  const T p = 1.0f + x * (-0.5f + x * (1.0f / 6.0f + x * (-1.0f / 24.0f + x * (1.0f / 120.0f))));
  const T f = rho <= 0.0f ? splat<T>(c.full) : x * p;
  const T vi = v + (j - v) * f;
  const T jm1 = j - 1.0f;
  const T num = 1.0f - vi;
  const T den = 2.0f * (jm1 > 0.0f ? jm1 : splat<T>(1.0f)) + num;
  // y in [y_min, 0] <=> a in [-full, 0] (keeps t_s in [0, dt]); a non-positive denominator only
  // arises from hand-set states (v > 1 while refractory) and maps to y_min, as a = -inf would.
  const T ymin = splat<T>(c.ymin);
  const T y = den > 0.0f ? vmin(vmax(num / den, ymin), zero) : ymin;
  // τ·log1p(a) = τ·2·atanh(y) = y·(2τ + y²·(2τ/3 + y²·2τ/5)).
  const T y2 = y * y;
  const T tl = y * (c.atanh1 + y2 * (c.atanh3 + y2 * c.atanh5));
  const auto spiked = vi > 1.0f;
  v = spiked ? zero : vmax(vi, splat<T>(c.min_voltage));
  ref = spiked ? c.ref_base + tl : rho;
  return spiked;
}

/// The LIF update on values: j (input current), v and ref (updated in place); returns the
/// spike mask. Shared by the array kernel below and the fused encode + step kernel.
template <class T>
inline MaskOf<T> lif_core(const LifConsts& c, T j, T& v, T& ref) {
  const T zero = splat<T>(0.0f);
  const T dt = splat<T>(c.dt);
  const T rho = ref - c.dt;
  const T delta = vmin(vmax(dt - rho, zero), dt);
  const T full = splat<T>(c.full);
  const T f = rho <= 0.0f ? full : neg_expm1_small<T>(delta * c.inv_tau);
  const T vi = v + (j - v) * f;
  const T jm1 = j - 1.0f;
  const T den = jm1 > 0.0f ? jm1 : splat<T>(1.0f);
  // Clamping the argument to [-full, 0] keeps t_s in [0, dt] (it can only leave that range by
  // rounding, or for hand-set states such as v > 1 during the refractory period).
  const T arg = vmin(vmax((1.0f - vi) / den, -full), zero);
  const T ts = c.dt + c.tau_rc * log1p_small<T>(arg);
  const auto spiked = vi > 1.0f;
  v = spiked ? zero : vmax(vi, splat<T>(c.min_voltage));
  ref = spiked ? c.tau_ref + ts : rho;
  return spiked;
}

/// lif_core or, for dt/τ <= kShortPolyMax, lif_core_short.
template <class T, bool kShort>
inline MaskOf<T> lif_update(const LifConsts& c, T j, T& v, T& ref) {
  if constexpr (kShort) {
    return lif_core_short<T>(c, j, v, ref);
  } else {
    return lif_core<T>(c, j, v, ref);
  }
}

template <class T, bool kAdapt, bool kShort>
inline void lif_lanes(const LifConsts& c, const float* J, const float* adapt, float* v, float* ref,
                      float* out) {
  T j = load<T>(J);
  if constexpr (kAdapt) j -= load<T>(adapt);
  T vv = load<T>(v), rr = load<T>(ref);
  const auto spiked = lif_update<T, kShort>(c, j, vv, rr);
  store<T>(out, spiked ? splat<T>(c.spike_out) : splat<T>(0.0f));
  store<T>(v, vv);
  store<T>(ref, rr);
}

/// Same step in double precision with std::expm1/log1p, for dt/τ > 0.5 (unusual parameters).
template <bool kAdapt>
void lif_exact(std::size_t n, const LifConsts& c, const float* J, const float* adapt, float* v,
               float* ref, float* out) {
  const double dt = c.dt;
  for (std::size_t i = 0; i < n; ++i) {
    double j = J[i];
    if constexpr (kAdapt) j -= adapt[i];
    const double rho = static_cast<double>(ref[i]) - dt;
    const double delta = std::clamp(dt - rho, 0.0, dt);
    const double vi = v[i] + (j - v[i]) * -std::expm1(-delta / c.tau_rc);
    if (vi > 1.0) {
      double ts = dt;
      if (j > 1.0) {
        const double arg = (1.0 - vi) / (j - 1.0);
        ts = arg > -1.0 ? dt + c.tau_rc * std::log1p(arg) : 0.0;
      }
      out[i] = c.spike_out;
      v[i] = 0.0f;
      ref[i] = static_cast<float>(c.tau_ref + std::clamp(ts, 0.0, dt));
    } else {
      out[i] = 0.0f;
      v[i] = std::max(static_cast<float>(vi), c.min_voltage);
      ref[i] = static_cast<float>(rho);
    }
  }
}

/// Pass 1 over all neurons: kLanes-wide blocks, then the tail one lane at a time.
template <bool kAdapt, bool kShort>
void lif_integrate(std::size_t n, const LifConsts& c, const float* J, const float* adapt, float* v,
                   float* ref, float* out) {
  std::size_t i = 0;
#if defined(MYELIN_LIF_VECTOR)
  for (; i + kLanes <= n; i += kLanes) {
    lif_lanes<VecF, kAdapt, kShort>(c, J + i, kAdapt ? adapt + i : nullptr, v + i, ref + i,
                                    out + i);
  }
#endif
  for (; i < n; ++i) {
    lif_lanes<float, kAdapt, kShort>(c, J + i, kAdapt ? adapt + i : nullptr, v + i, ref + i,
                                     out + i);
  }
}

using kernels::lif_consts;

/// Full LIF step; adapt may be null (plain LIF). Returns the number of fired indices written.
template <bool kAdapt>
std::size_t lif_step(const NeuronStepArgs& a, double tau_rc, double tau_ref, double min_voltage,
                     double amplitude, const float* adapt) {
  const LifConsts c = lif_consts(a.dt, tau_rc, tau_ref, min_voltage, amplitude);
  if (a.dt / tau_rc <= kShortPolyMax) {
    lif_integrate<kAdapt, true>(a.n, c, a.J, adapt, a.state[0], a.state[1], a.out);
  } else if (a.dt / tau_rc <= 0.5) {
    lif_integrate<kAdapt, false>(a.n, c, a.J, adapt, a.state[0], a.state[1], a.out);
  } else {
    lif_exact<kAdapt>(a.n, c, a.J, adapt, a.state[0], a.state[1], a.out);
  }
  return a.fired != nullptr ? kernels::compact_nonzero(a.n, a.out, a.fired) : 0;
}

/// Adaptation update n <- n + (dt/tau_n)(inc_n out - n) (spec §4.5).
void adapt_update(std::size_t n, float dt, double tau_n, double inc_n, const float* __restrict out,
                  float* __restrict adapt) {
  const float k = static_cast<float>(dt / tau_n);
  const float inc = static_cast<float>(inc_n);
  for (std::size_t i = 0; i < n; ++i) adapt[i] += k * (inc * out[i] - adapt[i]);
}

/// Rate LIF on float arrays; J_i - adapt_i when adapt is given.
void lif_rate_step(std::size_t n, const float* J, const float* adapt, float* out, double tau_rc,
                   double tau_ref, double amplitude) {
  const float t_rc = static_cast<float>(tau_rc);
  const float t_ref = static_cast<float>(tau_ref);
  const float amp = static_cast<float>(amplitude);
  for (std::size_t i = 0; i < n; ++i) {
    const float j = (adapt != nullptr ? J[i] - adapt[i] : J[i]) - 1.0f;
    out[i] = j > 0.0f ? amp / (t_ref + t_rc * std::log1p(1.0f / j)) : 0.0f;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// LIFRate

LIFRate::LIFRate(double tau_rc_, double tau_ref_, double amplitude_)
    : tau_rc(tau_rc_), tau_ref(tau_ref_), amplitude(amplitude_) {
  validate_lif("LIFRate", tau_rc, tau_ref, amplitude);
}

std::string LIFRate::repr() const {
  return "LIFRate(tau_rc=" + fmt(tau_rc) + ", tau_ref=" + fmt(tau_ref) +
         ", amplitude=" + fmt(amplitude) + ")";
}

std::size_t LIFRate::step(const NeuronStepArgs& a) const {
  lif_rate_step(a.n, a.J, nullptr, a.out, tau_rc, tau_ref, amplitude);
  return 0;
}

void LIFRate::rates(std::span<const double> J, std::span<double> out) const {
  for (std::size_t i = 0; i < J.size(); ++i) {
    out[i] = amplitude * lif_rate_unit(J[i], tau_rc, tau_ref);
  }
}

void LIFRate::rates_f(std::span<const float> J, std::span<float> out) const {
  // rate = amplitude / (tau_ref + tau_rc·log(1 + 1/j)), j = J − 1 > 0 (spec §4.1).
  const float t_rc = static_cast<float>(tau_rc), t_ref = static_cast<float>(tau_ref);
  const float amp = static_cast<float>(amplitude);
  const std::size_t n = J.size();
  const float* __restrict j_in = J.data();
  float* __restrict o = out.data();
  for (std::size_t i = 0; i < n; ++i) {
    const float j = j_in[i] - 1.0f;
    const float jj = j > 0.0f ? j : 1.0f;  // keep the log's argument finite
    const float r = amp / (t_ref + t_rc * log_pos(1.0f + 1.0f / jj));
    o[i] = j > 0.0f ? r : 0.0f;
  }
}

// Amplitude is ignored here, as in Nengo: max_rate is the firing rate in Hz.
void LIFRate::gain_bias(std::span<const double> max_rates, std::span<const double> intercepts,
                        std::span<double> gain, std::span<double> bias) const {
  const std::string k = kind();
  for (std::size_t i = 0; i < max_rates.size(); ++i) {
    const double r = max_rates[i];
    const double c = intercepts[i];
    if (!(r > 0.0) || !std::isfinite(r)) {
      neuron_error(k, i, "max_rate " + fmt(r) + " Hz must be positive and finite");
    }
    if (!std::isfinite(c)) neuron_error(k, i, "intercept " + fmt(c) + " is not finite");
    if (tau_ref > 0.0 && r * tau_ref >= 1.0) {
      neuron_error(k, i, "max_rate " + fmt(r) + " Hz >= 1/tau_ref = " + fmt(1.0 / tau_ref) + " Hz");
    }
    if (c >= 1.0) {
      neuron_error(k, i, "intercept " + fmt(c) + " >= 1 gives a non-positive gain");
    }
    // J_max = 1 / (1 - exp((tau_ref - 1/r)/tau_rc)) = -1 / expm1(...)
    const double j_max = -1.0 / std::expm1((tau_ref - 1.0 / r) / tau_rc);
    const double g = (1.0 - j_max) / (c - 1.0);
    if (!(g > 0.0) || !std::isfinite(g)) {
      neuron_error(k, i,
                   "max_rate " + fmt(r) + " Hz and intercept " + fmt(c) + " give gain " + fmt(g));
    }
    gain[i] = g;
    bias[i] = 1.0 - g * c;
  }
}

void LIFRate::max_rates_intercepts(std::span<const double> gain, std::span<const double> bias,
                                   std::span<double> max_rates,
                                   std::span<double> intercepts) const {
  for (std::size_t i = 0; i < gain.size(); ++i) {
    intercepts[i] = (1.0 - bias[i]) / gain[i];
    max_rates[i] = lif_rate_unit(gain[i] + bias[i], tau_rc, tau_ref);
  }
}

NeuronTypePtr LIFRate::rate_twin(double) const {
  return std::make_shared<LIFRate>(*this);
}

void LIFRate::rate_derivative(std::span<const double> J, std::span<double> out) const {
  for (std::size_t i = 0; i < J.size(); ++i) {
    const double j = J[i] - 1.0;
    if (!(j > 0.0)) {
      out[i] = 0.0;
      continue;
    }
    const double d = tau_ref + tau_rc * std::log1p(1.0 / j);
    out[i] = amplitude * tau_rc / (d * d * j * (j + 1.0));
  }
}

// ---------------------------------------------------------------------------------------------
// LIF

LIF::LIF(double tau_rc_, double tau_ref_, double min_voltage_, double amplitude_)
    : LIFRate(tau_rc_, tau_ref_, amplitude_), min_voltage(min_voltage_) {
  neurons_detail::require(
      "LIF", "min_voltage", min_voltage, [](double v) { return v <= 0.0; }, "<= 0 (or -inf)");
}

std::string LIF::repr() const {
  return "LIF(tau_rc=" + fmt(tau_rc) + ", tau_ref=" + fmt(tau_ref) +
         ", min_voltage=" + fmt(min_voltage) + ", amplitude=" + fmt(amplitude) + ")";
}

void LIF::init_state(std::size_t n, float* const* state, Rng& rng) const {
  for (std::size_t i = 0; i < n; ++i) state[0][i] = static_cast<float>(rng.uniform());
  std::fill(state[1], state[1] + n, 0.0f);
}

std::size_t LIF::step(const NeuronStepArgs& a) const {
  return lif_step<false>(a, tau_rc, tau_ref, min_voltage, amplitude, nullptr);
}

// ---------------------------------------------------------------------------------------------
// Fused encode + LIF step (the simulator's hot path, src/neurons/lif_kernel.hpp).

namespace kernels {

/// Compaction of the indices with out != 0 into `fired` (pass 2 of the generic LIF step). Most
/// neurons are silent in any given step, so this works on blocks of 16 lanes and skips silent
/// blocks quickly. With AVX-512 a block is one compare plus one in-register compress; its full
/// 16-lane store is safe because count <= i, so it writes at most up to index i + 15 < n. With AVX
/// a block is two movemasks.
std::size_t compact_nonzero(std::size_t n, const float* __restrict out,
                            std::int32_t* __restrict fired) {
  std::size_t count = 0;
  std::size_t i = 0;
#if defined(__AVX512F__)
  const __m512 zero = _mm512_setzero_ps();
  const __m512i step = _mm512_set1_epi32(16);
  __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (; i + 16 <= n; i += 16, idx = _mm512_add_epi32(idx, step)) {
    const __mmask16 m = _mm512_cmp_ps_mask(_mm512_loadu_ps(out + i), zero, _CMP_NEQ_UQ);
    if (m == 0) continue;
    _mm512_storeu_si512(fired + count, _mm512_maskz_compress_epi32(m, idx));
    count += static_cast<std::size_t>(__builtin_popcount(m));
  }
#elif defined(__AVX__)
  const __m256 zero = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    const auto lo = static_cast<unsigned>(
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(out + i), zero, _CMP_NEQ_UQ)));
    const auto hi = static_cast<unsigned>(
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(out + i + 8), zero, _CMP_NEQ_UQ)));
    unsigned m = lo | (hi << 8);
    while (m != 0) {
      fired[count++] = static_cast<std::int32_t>(i + static_cast<unsigned>(__builtin_ctz(m)));
      m &= m - 1;
    }
  }
#endif
  for (; i < n; ++i) {
    fired[count] = static_cast<std::int32_t>(i);
    count += out[i] != 0.0f;
  }
  return count;
}

bool lif_fusable(const NeuronType& type, double dt) {
  if (typeid(type) != typeid(LIF)) return false;  // AdaptiveLIF etc. take the generic path
  return dt / static_cast<const LIF&>(type).tau_rc <= 0.5;
}

namespace {
using V16 = float __attribute__((vector_size(64)));

// J for one 16-neuron block: bias + Σ_k tile[k]·x_k (+ extra). kD > 0: the dimension count is
// a compile-time constant (unrolled, two accumulators to halve the FMA dependency chain);
// kD == 0: any d.
template <std::size_t kD>
inline V16 encode_block(std::size_t d, const float* bias, const float* tile, const float* x,
                        const float* extra) {
  V16 acc = load<V16>(bias);
  if constexpr (kD == 0) {
    for (std::size_t k = 0; k < d; ++k) acc += load<V16>(tile + k * kLifTile) * x[k];
  } else {
    V16 acc2 = splat<V16>(0.0f);
    for (std::size_t k = 0; k + 1 < kD; k += 2) {
      acc += load<V16>(tile + k * kLifTile) * x[k];
      acc2 += load<V16>(tile + (k + 1) * kLifTile) * x[k + 1];
    }
    if constexpr (kD % 2 == 1) acc += load<V16>(tile + (kD - 1) * kLifTile) * x[kD - 1];
    acc += acc2;
  }
  if (extra != nullptr) acc += load<V16>(extra);
  return acc;
}

template <bool kShort, std::size_t kD>
std::size_t fused_step(const LifConsts& consts, const LifFusedArgs& args) {
  // Local copies: the stores to v, ref and fired could otherwise alias the constants and the
  // argument pointers, and the compiler would reload (and recompute) them in every block.
  const LifConsts c = consts;
  const LifFusedArgs a = args;
  const std::size_t blocks = lif_padded(a.n) / kLifTile;
  std::size_t count = 0;
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t i = b * kLifTile;
    const V16 j = encode_block<kD>(a.d, a.bias + i, a.enc_tile + i * a.d, a.x,
                                   a.extra != nullptr ? a.extra + i : nullptr);
    if (a.J != nullptr) store<V16>(a.J + i, j);
    V16 v = load<V16>(a.v + i), ref = load<V16>(a.ref + i);
    const auto spiked = lif_update<V16, kShort>(c, j, v, ref);
    store<V16>(a.v + i, v);
    store<V16>(a.ref + i, ref);
#if defined(__AVX512F__)
    const __m512i mi = std::bit_cast<__m512i>(spiked);
    const __mmask16 m = _mm512_test_epi32_mask(mi, mi);
    // No branch on m: it is known only at the end of the block's long dependency chain, and a
    // mispredicted skip would discard the overlapped work of the following blocks.
    // count <= i, so the full 16-lane store ends at or before index i + 15 < n.
    const __m512i idx =
        _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(i)),
                         _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    _mm512_storeu_si512(a.fired + count, _mm512_maskz_compress_epi32(m, idx));
    count += static_cast<std::size_t>(__builtin_popcount(m));
#else
    for (std::size_t l = 0; l < kLifTile; ++l) {
      a.fired[count] = static_cast<std::int32_t>(i + l);
      count += spiked[l] != 0;
    }
#endif
  }
  return count;
}
}  // namespace

LifConsts lif_consts(const LIF& type, float dt) {
  return lif_consts(dt, type.tau_rc, type.tau_ref, type.min_voltage, type.amplitude);
}

std::size_t lif_fused_step(const LifConsts& c, const LifFusedArgs& a) {
  if (!c.short_poly) return fused_step<false, 0>(c, a);
  switch (a.d) {
    case 1:
      return fused_step<true, 1>(c, a);
    case 2:
      return fused_step<true, 2>(c, a);
    case 3:
      return fused_step<true, 3>(c, a);
    case 4:
      return fused_step<true, 4>(c, a);
    case 6:
      return fused_step<true, 6>(c, a);
    case 8:
      return fused_step<true, 8>(c, a);
    case 16:
      return fused_step<true, 16>(c, a);
    default:
      return fused_step<true, 0>(c, a);
  }
}

}  // namespace kernels

NeuronTypePtr LIF::rate_twin(double lif_smoothing) const {
  if (lif_smoothing > 0.0) {
    return std::make_shared<SoftLIFRate>(lif_smoothing, tau_rc, tau_ref, amplitude);
  }
  return std::make_shared<LIFRate>(tau_rc, tau_ref, amplitude);
}

void LIF::rate_derivative(std::span<const double> J, std::span<double> out) const {
  LIFRate::rate_derivative(J, out);
}

// ---------------------------------------------------------------------------------------------
// SoftLIFRate

namespace {

struct SoftTerms {
  double z;          // sigma * softplus(j / sigma)
  double q;          // ln(1 + 1/z), with the asymptote for very negative j
  double sig_ratio;  // logistic(j/sigma) / (z (z + 1)), computed stably
};

SoftTerms soft_terms(double J, double sigma) {
  const double j = J - 1.0;
  const double js = j / sigma;
  SoftTerms t{};
  if (js > 30.0) {
    t.z = j;
    t.q = std::log1p(1.0 / j);
    t.sig_ratio = 1.0 / (j * (j + 1.0));  // logistic(js) == 1 in double precision here
  } else if (js <= -20.0) {
    // z ~= sigma e^js; q -> ln(1/z) = -js - ln(sigma); logistic(js)/(z(z+1)) -> 1/sigma.
    const double e = std::exp(js);
    t.z = sigma * e;
    t.q = -js - std::log(sigma);
    t.sig_ratio = 1.0 / (sigma * (1.0 + e) * (1.0 + sigma * e));
  } else {
    t.z = sigma * std::log1p(std::exp(js));
    t.q = std::log1p(1.0 / t.z);
    const double logistic = 1.0 / (1.0 + std::exp(-js));
    t.sig_ratio = logistic / (t.z * (t.z + 1.0));
  }
  return t;
}

}  // namespace

SoftLIFRate::SoftLIFRate(double sigma_, double tau_rc_, double tau_ref_, double amplitude_)
    : LIFRate(tau_rc_, tau_ref_, amplitude_), sigma(sigma_) {
  neurons_detail::require_positive("SoftLIFRate", "sigma", sigma);
}

std::string SoftLIFRate::repr() const {
  return "SoftLIFRate(sigma=" + fmt(sigma) + ", tau_rc=" + fmt(tau_rc) +
         ", tau_ref=" + fmt(tau_ref) + ", amplitude=" + fmt(amplitude) + ")";
}

std::size_t SoftLIFRate::step(const NeuronStepArgs& a) const {
  for (std::size_t i = 0; i < a.n; ++i) {
    const SoftTerms t = soft_terms(a.J[i], sigma);
    a.out[i] = static_cast<float>(amplitude / (tau_ref + tau_rc * t.q));
  }
  return 0;
}

void SoftLIFRate::rates(std::span<const double> J, std::span<double> out) const {
  for (std::size_t i = 0; i < J.size(); ++i) {
    const SoftTerms t = soft_terms(J[i], sigma);
    out[i] = amplitude / (tau_ref + tau_rc * t.q);
  }
}

NeuronTypePtr SoftLIFRate::rate_twin(double) const {
  return std::make_shared<SoftLIFRate>(*this);
}

void SoftLIFRate::rate_derivative(std::span<const double> J, std::span<double> out) const {
  for (std::size_t i = 0; i < J.size(); ++i) {
    const SoftTerms t = soft_terms(J[i], sigma);
    const double d = tau_ref + tau_rc * t.q;
    out[i] = amplitude * tau_rc * t.sig_ratio / (d * d);
  }
}

// ---------------------------------------------------------------------------------------------
// AdaptiveLIFRate / AdaptiveLIF

AdaptiveLIFRate::AdaptiveLIFRate(double tau_n_, double inc_n_, double tau_rc_, double tau_ref_,
                                 double amplitude_)
    : LIFRate(tau_rc_, tau_ref_, amplitude_), tau_n(tau_n_), inc_n(inc_n_) {
  neurons_detail::require_positive("AdaptiveLIFRate", "tau_n", tau_n);
  neurons_detail::require_nonnegative("AdaptiveLIFRate", "inc_n", inc_n);
}

std::string AdaptiveLIFRate::repr() const {
  return "AdaptiveLIFRate(tau_n=" + fmt(tau_n) + ", inc_n=" + fmt(inc_n) +
         ", tau_rc=" + fmt(tau_rc) + ", tau_ref=" + fmt(tau_ref) + ", amplitude=" + fmt(amplitude) +
         ")";
}

void AdaptiveLIFRate::init_state(std::size_t n, float* const* state, Rng&) const {
  std::fill(state[0], state[0] + n, 0.0f);
}

std::size_t AdaptiveLIFRate::step(const NeuronStepArgs& a) const {
  float* adapt = a.state[0];
  lif_rate_step(a.n, a.J, adapt, a.out, tau_rc, tau_ref, amplitude);
  adapt_update(a.n, a.dt, tau_n, inc_n, a.out, adapt);
  return 0;
}

NeuronTypePtr AdaptiveLIFRate::rate_twin(double) const {
  return std::make_shared<AdaptiveLIFRate>(*this);
}

AdaptiveLIF::AdaptiveLIF(double tau_n_, double inc_n_, double tau_rc_, double tau_ref_,
                         double min_voltage_, double amplitude_)
    : LIF(tau_rc_, tau_ref_, min_voltage_, amplitude_), tau_n(tau_n_), inc_n(inc_n_) {
  neurons_detail::require_positive("AdaptiveLIF", "tau_n", tau_n);
  neurons_detail::require_nonnegative("AdaptiveLIF", "inc_n", inc_n);
}

std::string AdaptiveLIF::repr() const {
  return "AdaptiveLIF(tau_n=" + fmt(tau_n) + ", inc_n=" + fmt(inc_n) + ", tau_rc=" + fmt(tau_rc) +
         ", tau_ref=" + fmt(tau_ref) + ", min_voltage=" + fmt(min_voltage) +
         ", amplitude=" + fmt(amplitude) + ")";
}

void AdaptiveLIF::init_state(std::size_t n, float* const* state, Rng& rng) const {
  LIF::init_state(n, state, rng);
  std::fill(state[2], state[2] + n, 0.0f);
}

std::size_t AdaptiveLIF::step(const NeuronStepArgs& a) const {
  float* adapt = a.state[2];
  const std::size_t count = lif_step<true>(a, tau_rc, tau_ref, min_voltage, amplitude, adapt);
  adapt_update(a.n, a.dt, tau_n, inc_n, a.out, adapt);
  return count;
}

// The non-adaptive smoothing (SoftLIFRate) has no adaptive counterpart, so lif_smoothing is
// ignored here.
NeuronTypePtr AdaptiveLIF::rate_twin(double) const {
  return std::make_shared<AdaptiveLIFRate>(tau_n, inc_n, tau_rc, tau_ref, amplitude);
}

}  // namespace myelin
