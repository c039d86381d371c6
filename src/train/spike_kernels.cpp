// Spiking LIF step in three passes (see spike_kernels.hpp). The polynomials are the
// simulator kernel's (src/neurons/lif_math.hpp), so both agree to float rounding.
#include "train/spike_kernels.hpp"

#include <algorithm>
#include <cmath>

#include "neurons/lif_kernel.hpp"
#include "neurons/lif_math.hpp"

namespace myelin::train {

namespace {

using lif_math::log1p_small;
using lif_math::neg_expm1_small;

}  // namespace

std::size_t lif_step_fast(const LifFastArgs& a) {
  const LIF& t = *a.type;
  const double dt_d = a.dt;
  if (dt_d / t.tau_rc > 0.5 || (a.J == nullptr && (a.gin == nullptr || a.gain == nullptr))) {
    // Unusual parameters: the simulator's own kernel (needs J).
    float* st[2] = {a.v, a.ref};
    NeuronStepArgs s;
    s.dt = a.dt;
    s.n = a.n;
    s.J = a.J;
    s.out = a.out;
    s.state = st;
    s.fired = a.fired;
    return t.step(s);
  }
  const float dt = a.dt, inv_tau = float(1.0 / t.tau_rc), tau_rc = float(t.tau_rc);
  const float tau_ref = float(t.tau_ref), full = float(-std::expm1(-dt_d / t.tau_rc));
  const float h = float(t.amplitude / dt_d), vmin = float(t.min_voltage);
  const std::size_t n = a.n;
  float* __restrict v = a.v;
  float* __restrict ref = a.ref;
  float* __restrict out = a.out;
  // Pass 1: integrate (spec §4.2 steps 1-4, 6); spiking neurons keep their v for pass 3.
  if (a.J != nullptr) {
    const float* __restrict J = a.J;
#pragma GCC ivdep
    for (std::size_t i = 0; i < n; ++i) {
      const float rho = ref[i] - dt;
      const float delta = std::min(std::max(dt - rho, 0.0f), dt);
      const float f = rho <= 0.0f ? full : neg_expm1_small(delta * inv_tau);
      const float v0 = v[i];
      const float vi = v0 + (J[i] - v0) * f;
      const bool s = vi > 1.0f;
      out[i] = s ? h : 0.0f;
      v[i] = s ? vi : std::max(vi, vmin);
      ref[i] = rho;
    }
  } else {
    const float* __restrict gin = a.gin;
    const float* __restrict gain = a.gain;
    const float* __restrict bias = a.bias;
#pragma GCC ivdep
    for (std::size_t i = 0; i < n; ++i) {
      const float j = bias[i] + gain[i] * gin[i];
      const float rho = ref[i] - dt;
      const float delta = std::min(std::max(dt - rho, 0.0f), dt);
      const float f = rho <= 0.0f ? full : neg_expm1_small(delta * inv_tau);
      const float v0 = v[i];
      const float vi = v0 + (j - v0) * f;
      const bool s = vi > 1.0f;
      out[i] = s ? h : 0.0f;
      v[i] = s ? vi : std::max(vi, vmin);
      ref[i] = rho;
    }
  }
  // Pass 2: which fired.
  const std::size_t cnt = kernels::compact_nonzero(n, out, a.fired);
  if (cnt == 0) return 0;
  // Pass 3: spike times of the fired ones (steps 5, 7), gathered into contiguous lanes.
  float* __restrict jf = a.scratch;
  float* __restrict vf = a.scratch + n;
  const std::int32_t* __restrict idx = a.fired;
  for (std::size_t q = 0; q < cnt; ++q) {
    const std::size_t k = std::size_t(idx[q]);
    jf[q] = a.J ? a.J[k] : a.bias[k] + a.gain[k] * a.gin[k];
    vf[q] = v[k];
  }
  for (std::size_t q = 0; q < cnt; ++q) {
    const float jm1 = jf[q] - 1.0f;
    const float den = jm1 > 0.0f ? jm1 : 1.0f;
    const float arg = std::min(std::max((1.0f - vf[q]) / den, -full), 0.0f);
    jf[q] = tau_ref + (dt + tau_rc * log1p_small(arg));
  }
  for (std::size_t q = 0; q < cnt; ++q) {
    const std::size_t k = std::size_t(idx[q]);
    v[k] = 0.0f;
    ref[k] = jf[q];
  }
  return cnt;
}

}  // namespace myelin::train
