// The executor's fused encode + LIF kernel (src/neurons/lif_kernel.hpp) against a plain
// double-precision LIF step written from spec nef-semantics §4.2, on random states. The kernel
// evaluates expm1/log1p by short polynomials in float, so agreement is to float rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "myelin/neurons.hpp"
#include "neurons/lif_kernel.hpp"

using namespace myelin;

namespace {

struct RefStep {
  double v, ref, vi;
  bool spiked;
};

// Spec §4.2: ρ ← ρ − dt; δ = clip(dt − ρ, 0, dt); v ← v + (J − v)(−expm1(−δ/τ)); a spike when
// v > 1 at t_s = dt + τ·log1p((1 − v)/(J − 1)) into the step; then v = 0, ρ = τ_ref + t_s.
RefStep reference_step(double J, double v, double ref, double dt, double tau_rc, double tau_ref,
                       double min_voltage) {
  const double rho = ref - dt;
  const double delta = std::clamp(dt - rho, 0.0, dt);
  const double vi = v + (J - v) * -std::expm1(-delta / tau_rc);
  if (vi > 1.0) {
    const double ts = std::clamp(dt + tau_rc * std::log1p((1.0 - vi) / (J - 1.0)), 0.0, dt);
    return {0.0, tau_ref + ts, vi, true};
  }
  return {std::max(vi, min_voltage), rho, vi, false};
}

struct Case {
  double tau_rc, tau_ref, min_voltage;
  std::size_t n, d;
  bool extra, keep_J;
};

void check_against_reference(const Case& c, std::uint32_t seed) {
  const double dt = 0.001;
  const std::size_t np = kernels::lif_padded(c.n);
  ASSERT_EQ(np % kernels::kLifTile, 0u);
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u01(0.f, 1.f);
  std::vector<float> bias(np, 0.f), tile(np * c.d, 0.f), x(c.d), v(np, 0.f), ref(np, 0.f),
      extra(np, 0.f), J(np, 0.f);
  std::vector<std::int32_t> fired(np, -1);
  for (std::size_t i = 0; i < c.n; ++i) {
    bias[i] = -1.f + 7.f * u01(g);
    v[i] = u01(g) < 0.5f ? u01(g) : 0.9f + 0.1f * u01(g);  // half of them close to threshold
    // A third each: free, leaving the refractory period within this step, refractory.
    const float r = u01(g);
    ref[i] = r < 1.f / 3 ? 0.f : (r < 2.f / 3 ? float(dt) * (1.f + u01(g)) : 0.0025f * u01(g));
    if (c.extra) extra[i] = u01(g) - 0.5f;
  }
  // Tiled encoders: block b, dimension k, lane l at (b·d + k)·16 + l; padding lanes stay 0.
  for (std::size_t i = 0; i < c.n; ++i)
    for (std::size_t k = 0; k < c.d; ++k)
      tile[((i / 16) * c.d + k) * 16 + i % 16] = 2.f * u01(g) - 1.f;
  for (auto& xk : x) xk = u01(g) - 0.5f;
  const std::vector<float> v0 = v, ref0 = ref;

  LIF lif(c.tau_rc, c.tau_ref, c.min_voltage);
  const kernels::LifConsts consts = kernels::lif_consts(lif, static_cast<float>(dt));
  kernels::LifFusedArgs a;
  a.n = c.n;
  a.d = c.d;
  a.bias = bias.data();
  a.enc_tile = tile.data();
  a.x = x.data();
  a.extra = c.extra ? extra.data() : nullptr;
  a.J = c.keep_J ? J.data() : nullptr;
  a.v = v.data();
  a.ref = ref.data();
  a.fired = fired.data();
  const std::size_t count = kernels::lif_fused_step(consts, a);

  std::set<std::int32_t> got(fired.begin(), fired.begin() + std::ptrdiff_t(count));
  ASSERT_EQ(got.size(), count) << "fired indices must be distinct";
  std::size_t compared_spikes = 0;
  for (std::size_t i = 0; i < c.n; ++i) {
    double Ji = bias[i] + (c.extra ? extra[i] : 0.f);
    for (std::size_t k = 0; k < c.d; ++k)
      Ji += double(tile[((i / 16) * c.d + k) * 16 + i % 16]) * x[k];
    if (c.keep_J) {
      EXPECT_NEAR(J[i], Ji, 1e-5) << "J of neuron " << i;
    }
    const RefStep r = reference_step(Ji, v0[i], ref0[i], dt, c.tau_rc, c.tau_ref, c.min_voltage);
    if (std::fabs(r.vi - 1.0) < 1e-5) continue;  // threshold decided by rounding
    const bool spiked = got.count(static_cast<std::int32_t>(i)) > 0;
    ASSERT_EQ(spiked, r.spiked) << "neuron " << i << " J=" << Ji << " v=" << v0[i]
                                << " ref=" << ref0[i];
    EXPECT_NEAR(v[i], r.v, 2e-6) << "voltage of neuron " << i;
    // t_s moves by τ·Δv/(J − 1) per rounding error Δv of the voltage.
    const double tol = 1e-8 + c.tau_rc * 1e-6 / std::max(Ji - 1.0, 1e-3);
    EXPECT_NEAR(ref[i], r.ref, tol) << "refractory time of neuron " << i;
    compared_spikes += r.spiked ? 1 : 0;
  }
  EXPECT_GT(compared_spikes, c.n / 20) << "the random states should produce spikes";
  for (std::size_t i = c.n; i < np; ++i) {
    EXPECT_EQ(got.count(static_cast<std::int32_t>(i)), 0u) << "padding lane " << i << " fired";
    EXPECT_EQ(v[i], 0.f);
  }
}

TEST(LifFusedKernel, MatchesDoublePrecisionStepShortPolynomials) {
  // dt/τ = 0.05 (the default LIF): the short-polynomial kernel; n not a multiple of 16.
  check_against_reference({0.02, 0.002, 0.0, 1000, 3, false, false}, 1);
  check_against_reference({0.02, 0.002, 0.0, 997, 8, true, true}, 2);
  check_against_reference({0.02, 0.002, -1.0, 64, 16, true, false}, 3);
  check_against_reference({0.02, 0.002, 0.0, 300, 5, false, true}, 4);  // generic-d encode
}

TEST(LifFusedKernel, MatchesDoublePrecisionStepLongPolynomials) {
  // dt/τ = 0.1 and 0.4: above the short polynomials' range.
  check_against_reference({0.01, 0.002, 0.0, 500, 4, true, true}, 5);
  check_against_reference({0.0025, 0.001, 0.0, 200, 2, false, false}, 6);
}

TEST(LifFusedKernel, FusableOnlyForPlainLifInRange) {
  EXPECT_TRUE(kernels::lif_fusable(LIF(), 0.001));
  EXPECT_FALSE(kernels::lif_fusable(LIF(0.001), 0.001));  // dt/τ = 1 > 0.5
  EXPECT_FALSE(kernels::lif_fusable(AdaptiveLIF(), 0.001));
  EXPECT_FALSE(kernels::lif_fusable(LIFRate(), 0.001));
}

}  // namespace
