// Unit tests for the neuron types (spec nef-semantics §4, deep-snn §1.2).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "myelin/errors.hpp"
#include "myelin/neurons.hpp"
#include "myelin/rng.hpp"

using namespace myelin;

namespace {

/// Owns the state/output buffers of a population of one neuron type and steps it.
struct Pop {
  const NeuronType& type;
  std::size_t n;
  float dt;
  std::vector<std::vector<float>> state;
  std::vector<float*> ptrs;
  std::vector<float> J, out;
  std::vector<std::int32_t> fired;
  Rng run_rng{1234};
  std::size_t last_fired = 0;

  Pop(const NeuronType& t, std::size_t n_, float dt_ = 0.001f, std::uint64_t seed = 7)
      : type(t), n(n_), dt(dt_), J(n_, 0.0f), out(n_, 0.0f), fired(n_, -1) {
    for (std::size_t k = 0; k < t.state_names().size(); ++k) state.emplace_back(n, 0.0f);
    for (auto& s : state) ptrs.push_back(s.data());
    Rng rng(seed);
    t.init_state(n, ptrs.data(), rng);
  }
  std::size_t step(bool with_rng = true) {
    NeuronStepArgs a;
    a.dt = dt;
    a.n = n;
    a.J = J.data();
    a.out = out.data();
    a.state = ptrs.data();
    a.fired = fired.data();
    a.rng = with_rng ? &run_rng : nullptr;
    last_fired = type.step(a);
    return last_fired;
  }
  std::vector<float>& st(const std::string& name) {
    const auto names = type.state_names();
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (names[k] == name) return state[k];
    }
    throw std::runtime_error("no state " + name);
  }
  /// Mean output over `steps` steps (in Hz for spiking types).
  std::vector<double> mean_output(std::size_t steps) {
    std::vector<double> sum(n, 0.0);
    for (std::size_t s = 0; s < steps; ++s) {
      step();
      for (std::size_t i = 0; i < n; ++i) sum[i] += out[i];
    }
    for (auto& x : sum) x /= static_cast<double>(steps);
    return sum;
  }
};

std::vector<double> rates_of(const NeuronType& t, const std::vector<double>& J) {
  std::vector<double> r(J.size());
  t.rates(J, r);
  return r;
}

std::vector<double> deriv_of(const NeuronType& t, const std::vector<double>& J) {
  std::vector<double> r(J.size());
  t.rate_derivative(J, r);
  return r;
}

/// Runs `fn`, expects it to throw E, and returns the message.
template <class E, class F>
std::string error_message(F&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no exception thrown";
  return {};
}

void gain_bias_of(const NeuronType& t, const std::vector<double>& max_rates,
                  const std::vector<double>& intercepts, std::vector<double>& gain,
                  std::vector<double>& bias) {
  gain.assign(max_rates.size(), 0.0);
  bias.assign(max_rates.size(), 0.0);
  t.gain_bias(max_rates, intercepts, gain, bias);
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << "message: " << (haystack)

const std::vector<double> kTableJ = {0, 0.5, 0.9, 1.0, 1.05, 1.1, 1.5, 2, 5};

}  // namespace

// ---------------------------------------------------------------------------------------------
// LIFRate

TEST(LIFRate, GainBiasGolden) {
  LIFRate t;
  std::vector<double> g, b;
  gain_bias_of(t, {100, 200, 400}, {0, -0.5, 0.9}, g, b);
  EXPECT_NEAR(g[0], 2.033245, 2e-6);
  EXPECT_NEAR(b[0], 1.0, 1e-9);
  EXPECT_NEAR(g[1], 4.119441, 2e-6);
  EXPECT_NEAR(b[1], 3.059721, 2e-6);
  EXPECT_NEAR(g[2], 395.0208, 2e-4);
  EXPECT_NEAR(b[2], -354.5187, 2e-4);
}

TEST(LIFRate, GainBiasAchievesMaxRateAndIntercept) {
  for (double amplitude : {1.0, 0.01}) {
    LIFRate t(0.02, 0.002, amplitude);
    std::vector<double> mr = {10, 100, 250, 499}, ic = {-0.99, 0.0, 0.5, 0.95};
    std::vector<double> g, b;
    gain_bias_of(t, mr, ic, g, b);
    for (std::size_t i = 0; i < mr.size(); ++i) {
      // max_rate is in Hz regardless of amplitude (as in Nengo).
      EXPECT_NEAR(rates_of(t, {g[i] + b[i]})[0], amplitude * mr[i], 1e-9 * mr[i]);
      EXPECT_NEAR(g[i] * ic[i] + b[i], 1.0, 1e-9 * std::abs(g[i]));
    }
  }
}

TEST(LIFRate, InverseRoundTrip) {
  for (double amplitude : {1.0, 0.01}) {
    LIFRate t(0.02, 0.002, amplitude);
    std::vector<double> mr = {100, 200, 400, 37.5}, ic = {0, -0.5, 0.9, -0.2};
    std::vector<double> g, b, mr2(4), ic2(4);
    gain_bias_of(t, mr, ic, g, b);
    t.max_rates_intercepts(g, b, mr2, ic2);
    for (std::size_t i = 0; i < mr.size(); ++i) {
      EXPECT_NEAR(mr2[i], mr[i], 1e-9 * mr[i]);
      EXPECT_NEAR(ic2[i], ic[i], 1e-9);
    }
  }
}

TEST(LIFRate, RateTable) {
  const std::vector<double> expected = {0, 0, 0, 0, 15.901, 20.017, 41.715, 63.040, 154.730};
  const auto r = rates_of(LIFRate(), kTableJ);
  for (std::size_t i = 0; i < kTableJ.size(); ++i) EXPECT_NEAR(r[i], expected[i], 1e-3);
  // Amplitude scales the output.
  EXPECT_NEAR(rates_of(LIFRate(0.02, 0.002, 0.01), {2.0})[0], 0.6304, 1e-5);
}

TEST(LIFRate, StepMatchesRates) {
  LIFRate t;
  Pop p(t, kTableJ.size());
  for (std::size_t i = 0; i < kTableJ.size(); ++i) p.J[i] = static_cast<float>(kTableJ[i]);
  EXPECT_EQ(p.step(), 0u);
  const auto r = rates_of(t, kTableJ);
  for (std::size_t i = 0; i < kTableJ.size(); ++i) EXPECT_NEAR(p.out[i], r[i], 1e-4 + 1e-5 * r[i]);
}

TEST(SoftLIFRate, RateTable) {
  const std::vector<std::pair<double, std::vector<double>>> table = {
      {1.0, {32.611, 40.505, 48.225, 50.347, 51.436, 52.544, 62.007, 75.059, 155.164}},
      {0.1, {4.031, 6.751, 13.912, 17.630, 19.827, 22.188, 41.746, 63.040, 154.730}},
      {0.02, {0.926, 1.723, 5.546, 11.384, 16.052, 20.027, 41.715, 63.040, 154.730}},
  };
  for (const auto& [sigma, expected] : table) {
    SoftLIFRate t(sigma);
    const auto r = rates_of(t, kTableJ);
    Pop p(t, kTableJ.size());
    for (std::size_t i = 0; i < kTableJ.size(); ++i) p.J[i] = static_cast<float>(kTableJ[i]);
    p.step();
    for (std::size_t i = 0; i < kTableJ.size(); ++i) {
      EXPECT_NEAR(r[i], expected[i], 1e-3) << "sigma " << sigma << " J " << kTableJ[i];
      EXPECT_NEAR(p.out[i], r[i], 1e-3) << "sigma " << sigma << " J " << kTableJ[i];
    }
  }
}

TEST(SoftLIFRate, GuardsAreContinuousAndFinite) {
  // Around the js = -20 and js = 30 switch points and far beyond them.
  for (double sigma : {1.0, 0.1, 0.002}) {
    SoftLIFRate t(sigma);
    for (double js : {-20.0, 30.0}) {
      const double J = 1.0 + js * sigma;
      const auto r = rates_of(t, {J - 1e-9 * sigma, J + 1e-9 * sigma});
      EXPECT_NEAR(r[0], r[1], 1e-6 * std::max(1.0, r[0])) << sigma << " " << js;
      const auto d = deriv_of(t, {J - 1e-9 * sigma, J + 1e-9 * sigma});
      EXPECT_NEAR(d[0], d[1], 1e-4 * std::abs(d[0]) + 1e-9) << sigma << " " << js;
    }
    const auto r = rates_of(t, {-1e6, -1000, 1e6});
    const auto d = deriv_of(t, {-1e6, -1000, 1e6});
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(std::isfinite(r[i]));
      EXPECT_TRUE(std::isfinite(d[i]));
      EXPECT_GE(r[i], 0.0);
      EXPECT_GE(d[i], 0.0);
    }
    EXPECT_LT(r[2], 500.0);
  }
}

// ---------------------------------------------------------------------------------------------
// rate_derivative vs central finite differences

namespace {

void check_derivative(const NeuronType& t, const std::vector<double>& Js, double rel_tol) {
  const auto d = deriv_of(t, Js);
  for (std::size_t i = 0; i < Js.size(); ++i) {
    const double h = 1e-6 * std::max(1.0, std::abs(Js[i]));
    const auto r = rates_of(t, {Js[i] - h, Js[i] + h});
    const double fd = (r[1] - r[0]) / (2 * h);
    EXPECT_NEAR(d[i], fd, rel_tol * std::max(std::abs(fd), 1.0)) << t.repr() << " at J = " << Js[i];
  }
}

}  // namespace

TEST(NeuronRateDerivative, LIFRate) {
  check_derivative(LIFRate(), {-1, 0.5, 0.99, 1.01, 1.05, 1.5, 2, 5, 20, 100}, 1e-5);
  check_derivative(LIFRate(0.05, 0.001, 0.01), {1.1, 2, 7}, 1e-5);
  // Exact zero below threshold, positive above.
  const auto d = deriv_of(LIFRate(), {0.0, 1.0, 1.5});
  EXPECT_EQ(d[0], 0.0);
  EXPECT_EQ(d[1], 0.0);
  EXPECT_GT(d[2], 0.0);
}

TEST(NeuronRateDerivative, SoftLIFRate) {
  const std::vector<double> Js = {-30, -5, 0, 0.5, 0.9, 1.0, 1.05, 1.5, 2, 5, 40};
  check_derivative(SoftLIFRate(1.0), Js, 1e-5);
  check_derivative(SoftLIFRate(0.1), Js, 1e-5);
  check_derivative(SoftLIFRate(0.02), Js, 1e-5);
  check_derivative(SoftLIFRate(0.5, 0.03, 0.001, 0.01), Js, 1e-5);
}

TEST(NeuronRateDerivative, ReLUSigmoidTanh) {
  check_derivative(RectifiedLinear(), {-2, -0.1, 0.1, 3}, 1e-6);
  check_derivative(RectifiedLinear(0.5), {-2, 0.1, 3}, 1e-6);
  check_derivative(Sigmoid(), {-5, -1, 0, 0.5, 3}, 1e-5);
  check_derivative(Tanh(0.01), {-2, -0.3, 0, 0.7, 2}, 1e-5);
  const auto d = deriv_of(RectifiedLinear(2.0), {-1, 0, 1});
  EXPECT_EQ(d[0], 0.0);
  EXPECT_EQ(d[1], 0.0);
  EXPECT_EQ(d[2], 2.0);
}

TEST(NeuronRateDerivative, SpikingTypesDelegateToRateTwin) {
  const std::vector<double> Js = {0.5, 1.2, 3};
  EXPECT_EQ(deriv_of(LIF(), Js), deriv_of(LIFRate(), Js));
  EXPECT_EQ(deriv_of(SpikingRectifiedLinear(3.0), Js), deriv_of(RectifiedLinear(3.0), Js));
  EXPECT_EQ(deriv_of(AdaptiveLIF(), Js), deriv_of(LIFRate(), Js));
  RegularSpiking rs(neuron(Tanh()));
  EXPECT_EQ(deriv_of(rs, Js), deriv_of(Tanh(), Js));
  EXPECT_THROW(deriv_of(Izhikevich(), Js), BuildError);
}

// ---------------------------------------------------------------------------------------------
// LIF

TEST(LIF, GoldenSpikeTrace) {
  LIF t;
  Pop p(t, 1);
  p.st("voltage")[0] = 0.0f;
  p.st("refractory_time")[0] = 0.0f;
  p.J[0] = 2.0f;
  std::vector<int> spike_steps;
  for (int s = 1; s <= 2000; ++s) {
    const std::size_t nf = p.step();
    if (p.out[0] != 0.0f) {
      EXPECT_EQ(nf, 1u);
      EXPECT_EQ(p.fired[0], 0);
      EXPECT_FLOAT_EQ(p.out[0], 1000.0f);
      EXPECT_EQ(p.st("voltage")[0], 0.0f);
      if (spike_steps.empty()) {
        EXPECT_NEAR(p.st("refractory_time")[0], 2.863e-3, 1e-5);
      }
      spike_steps.push_back(s);
    } else {
      EXPECT_EQ(nf, 0u);
    }
  }
  ASSERT_GE(spike_steps.size(), 10u);
  EXPECT_EQ(spike_steps[0], 14);
  // Period 15.863 ms: the first ISIs are 16 steps; the phase drifts, so later ones are 15 or 16.
  for (std::size_t k = 1; k < 6; ++k) EXPECT_EQ(spike_steps[k] - spike_steps[k - 1], 16) << k;
  for (std::size_t k = 1; k < spike_steps.size(); ++k) {
    const int isi = spike_steps[k] - spike_steps[k - 1];
    EXPECT_TRUE(isi == 15 || isi == 16) << isi;
  }
  const double rate =
      (spike_steps.size() - 1) / ((spike_steps.back() - spike_steps.front()) * 0.001);
  EXPECT_NEAR(rate, 63.04, 0.2);
}

TEST(LIF, LongRunRatesMatchGolden) {
  LIF t;
  const std::vector<double> Js = {1.5, 2, 5, 20};
  const std::vector<double> golden = {41.70, 63.05, 154.75, 330.5};
  Pop p(t, Js.size());
  for (std::size_t i = 0; i < Js.size(); ++i) p.J[i] = static_cast<float>(Js[i]);
  const auto mean = p.mean_output(20000);  // 20 s
  const auto lifrate = rates_of(LIFRate(), Js);
  for (std::size_t i = 0; i < Js.size(); ++i) {
    EXPECT_NEAR(mean[i], golden[i], 0.005 * golden[i]) << "J " << Js[i];
    EXPECT_NEAR(mean[i], lifrate[i], 0.005 * lifrate[i]) << "J " << Js[i];
  }
}

TEST(LIF, AmplitudeAndDt) {
  LIF t = LIF::with_amplitude(0.01);
  Pop p(t, 1, 0.002f);
  p.J[0] = 50.0f;
  double sum = 0;
  int spikes = 0;
  for (int s = 0; s < 5000; ++s) {
    p.step();
    if (p.out[0] != 0.0f) {
      EXPECT_FLOAT_EQ(p.out[0], 0.01f / 0.002f);
      ++spikes;
    }
    sum += p.out[0];
  }
  EXPECT_GT(spikes, 0);
  const double expected = rates_of(t, {50.0})[0];  // 0.01 * rate
  EXPECT_NEAR(sum / 5000, expected, 0.01 * expected);
}

namespace {

/// Straightforward double-precision transcription of spec §4.2 (one neuron, one step).
void lif_reference_step(double J, double dt, double tau_rc, double tau_ref, double min_v, double& v,
                        double& ref, bool& spiked) {
  ref -= dt;
  const double delta = std::clamp(dt - ref, 0.0, dt);
  v += (J - v) * (-std::expm1(-delta / tau_rc));
  spiked = v > 1.0;
  if (spiked) {
    const double ts = dt + tau_rc * std::log1p(-(v - 1.0) / (J - 1.0));
    v = 0.0;
    ref = tau_ref + ts;
  } else {
    v = std::max(v, min_v);
  }
}

void check_against_reference(const LIF& t, float dt, std::size_t n) {
  Pop p(t, n, dt, 99);
  Rng rng(5);
  for (std::size_t i = 0; i < n; ++i) p.J[i] = static_cast<float>(rng.uniform(-2.0, 30.0));
  std::vector<double> v(n), ref(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = p.st("voltage")[i];
    ref[i] = p.st("refractory_time")[i];
  }
  std::size_t spikes = 0, mismatched = 0;
  for (int s = 0; s < 200; ++s) {
    const std::size_t nf = p.step();
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {
      bool spiked = false;
      lif_reference_step(p.J[i], dt, t.tau_rc, t.tau_ref, t.min_voltage, v[i], ref[i], spiked);
      const bool got = p.out[i] != 0.0f;
      if (got != spiked) {
        // Float rounding may move a spike across a step when v lands within ~1e-6 of 1; resync.
        ++mismatched;
        v[i] = p.st("voltage")[i];
        ref[i] = p.st("refractory_time")[i];
      }
      if (got) {
        ASSERT_LT(k, nf);
        EXPECT_EQ(p.fired[k], static_cast<std::int32_t>(i));
        ++k;
        ++spikes;
        EXPECT_FLOAT_EQ(p.out[i], static_cast<float>(t.amplitude / dt));
      } else {
        EXPECT_EQ(p.out[i], 0.0f);
      }
      EXPECT_NEAR(p.st("voltage")[i], v[i], 2e-5 * std::max(1.0, std::abs(v[i])));
      if (ref[i] > -dt) {
        // t_s inherits the float rounding of v (sensitivity tau_rc/(J - 1)): 0.1 us is generous.
        EXPECT_NEAR(p.st("refractory_time")[i], ref[i], 1e-7);
      }
      v[i] = p.st("voltage")[i];  // avoid drift accumulation; the per-step error is what we test
      ref[i] = p.st("refractory_time")[i];
    }
    EXPECT_EQ(k, nf);
  }
  EXPECT_GT(spikes, n);
  EXPECT_LE(mismatched, n / 100 + 1);
}

}  // namespace

TEST(LIF, MatchesDoubleReferenceVectorPath) {
  check_against_reference(LIF(), 0.001f, 1037);  // not a multiple of the vector width
  check_against_reference(LIF(0.05, 0.004, 0.0, 2.0), 0.0005f, 333);
}

TEST(LIF, MatchesDoubleReferenceLargeDtPath) {
  // dt / tau_rc > 0.5 takes the scalar exact path.
  check_against_reference(LIF(0.001, 0.0005), 0.001f, 101);
  check_against_reference(LIF(0.002, 0.002, -1.0), 0.005f, 64);
}

TEST(LIF, MinVoltage) {
  LIF clipped;
  Pop p(clipped, 1);
  p.J[0] = -5.0f;
  for (int s = 0; s < 50; ++s) p.step();
  EXPECT_EQ(p.st("voltage")[0], 0.0f);

  LIF unclipped(0.02, 0.002, -std::numeric_limits<double>::infinity());
  Pop q(unclipped, 1);
  q.J[0] = -5.0f;
  for (int s = 0; s < 200; ++s) q.step();
  EXPECT_NEAR(q.st("voltage")[0], -5.0f, 0.01f);  // relaxes to J: 200 steps = 10 tau_rc

  LIF floor1(0.02, 0.002, -1.0);
  Pop r(floor1, 1);
  r.J[0] = -5.0f;
  for (int s = 0; s < 200; ++s) r.step();
  EXPECT_EQ(r.st("voltage")[0], -1.0f);
}

TEST(LIF, InitStateAndFiredWithoutBuffer) {
  LIF t;
  Pop p(t, 10000);
  double mean = 0;
  for (float x : p.st("voltage")) {
    EXPECT_GE(x, 0.0f);
    EXPECT_LT(x, 1.0f);
    mean += x;
  }
  EXPECT_NEAR(mean / 10000, 0.5, 0.02);
  for (float x : p.st("refractory_time")) EXPECT_EQ(x, 0.0f);
  EXPECT_EQ(t.state_names(), (std::vector<std::string>{"voltage", "refractory_time"}));

  // fired == nullptr: nothing is recorded, the dynamics are the same.
  Pop q(t, 100);
  Pop r(t, 100);
  for (std::size_t i = 0; i < 100; ++i) q.J[i] = r.J[i] = 1.0f + 0.2f * static_cast<float>(i);
  for (int s = 0; s < 100; ++s) {
    NeuronStepArgs a;
    a.dt = q.dt;
    a.n = q.n;
    a.J = q.J.data();
    a.out = q.out.data();
    a.state = q.ptrs.data();
    EXPECT_EQ(t.step(a), 0u);
    r.step();
    EXPECT_EQ(q.out, r.out);
    EXPECT_EQ(q.state, r.state);
  }
}

TEST(LIF, EmptyAndTinyPopulations) {
  for (std::size_t n : {0u, 1u, 3u, 17u}) {
    LIF t;
    Pop p(t, n);
    for (auto& j : p.J) j = 30.0f;
    std::size_t total = 0;
    for (int s = 0; s < 100; ++s) total += p.step();
    // 373.4 Hz: 37 or 38 spikes in 100 ms, depending on the random initial voltage.
    EXPECT_GE(total, n * 37);
    EXPECT_LE(total, n * 38);
  }
}

TEST(LIF, RatesAndGainBiasAreLIFRate) {
  LIF t(0.03, 0.001, 0.0, 0.5);
  LIFRate rt(0.03, 0.001, 0.5);
  EXPECT_EQ(rates_of(t, kTableJ), rates_of(rt, kTableJ));
  std::vector<double> g1, b1, g2, b2;
  gain_bias_of(t, {100, 300}, {-0.3, 0.2}, g1, b1);
  gain_bias_of(rt, {100, 300}, {-0.3, 0.2}, g2, b2);
  EXPECT_EQ(g1, g2);
  EXPECT_EQ(b1, b2);
}

// ---------------------------------------------------------------------------------------------
// Rectified linear

TEST(RectifiedLinear, RatesGainBiasRoundTrip) {
  RectifiedLinear t;
  const auto r = rates_of(t, {-1, 0, 2.5});
  EXPECT_EQ(r, (std::vector<double>{0, 0, 2.5}));
  std::vector<double> g, b, mr(3), ic(3);
  gain_bias_of(t, {100, 200, 300}, {-0.5, 0, 0.8}, g, b);
  const std::vector<double> want_mr = {100, 200, 300}, want_ic = {-0.5, 0, 0.8};
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(g[i] + b[i], want_mr[i], 1e-9);
    EXPECT_NEAR(g[i] * want_ic[i] + b[i], 0.0, 1e-9);
  }
  t.max_rates_intercepts(g, b, mr, ic);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(mr[i], want_mr[i], 1e-9);
    EXPECT_NEAR(ic[i], want_ic[i], 1e-12);
  }
  Pop p(t, 3);
  p.J = {-1.0f, 0.5f, 7.0f};
  p.step();
  EXPECT_EQ(p.out, (std::vector<float>{0.0f, 0.5f, 7.0f}));
}

TEST(SpikingRectifiedLinear, MeanRateEqualsRate) {
  for (double amplitude : {1.0, 0.02}) {
    SpikingRectifiedLinear t(amplitude);
    const std::vector<double> Js = {-3, 0, 7.3, 55.5, 400, 2500};  // 2500 Hz: >1 spike/step
    Pop p(t, Js.size());
    for (std::size_t i = 0; i < Js.size(); ++i) p.J[i] = static_cast<float>(Js[i]);
    const auto mean = p.mean_output(10000);
    const auto want = rates_of(t, Js);
    for (std::size_t i = 0; i < Js.size(); ++i) {
      // At most one spike of difference over the 10 s window (the initial voltage phase).
      EXPECT_NEAR(mean[i], want[i], amplitude * 1.0 / 10.0 + 1e-3 * want[i]) << Js[i];
    }
  }
  SpikingRectifiedLinear t;
  Pop p(t, 2);
  p.J = {2500.0f, 0.0f};
  p.st("voltage") = {0.9f, 0.5f};
  EXPECT_EQ(p.step(), 1u);
  EXPECT_EQ(p.fired[0], 0);
  EXPECT_FLOAT_EQ(p.out[0], 3000.0f);  // floor(0.9 + 2.5) = 3 spikes
  EXPECT_NEAR(p.st("voltage")[0], 0.4f, 1e-5);
}

// ---------------------------------------------------------------------------------------------
// Sigmoid, Tanh

TEST(Sigmoid, RatesAndGainBias) {
  Sigmoid t;  // tau_ref = 2.5 ms -> saturates at 400 Hz
  EXPECT_NEAR(rates_of(t, {0.0})[0], 200.0, 1e-9);
  const std::vector<double> mr = {250, 300, 399}, ic = {-0.5, 0.0, 0.7};
  std::vector<double> g, b, mr2(3), ic2(3);
  gain_bias_of(t, mr, ic, g, b);
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(g[i], 0.0);
    EXPECT_NEAR(rates_of(t, {g[i] + b[i]})[0], mr[i], 1e-9 * mr[i]);
    EXPECT_NEAR(rates_of(t, {g[i] * ic[i] + b[i]})[0], 200.0, 1e-9);  // half rate at intercept
  }
  t.max_rates_intercepts(g, b, mr2, ic2);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(mr2[i], mr[i], 1e-9 * mr[i]);
    EXPECT_NEAR(ic2[i], ic[i], 1e-9);
  }
  Pop p(t, 3);
  p.J = {-2.0f, 0.0f, 3.0f};
  p.step();
  const auto r = rates_of(t, {-2, 0, 3});
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(p.out[i], r[i], 1e-4);
}

TEST(Tanh, RatesAndGainBias) {
  Tanh t;
  const std::vector<double> mr = {100, 300, 399}, ic = {-0.5, 0.0, 0.7};
  std::vector<double> g, b, mr2(3), ic2(3);
  gain_bias_of(t, mr, ic, g, b);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(rates_of(t, {g[i] + b[i]})[0], mr[i], 1e-9 * mr[i]);
    EXPECT_NEAR(rates_of(t, {g[i] * ic[i] + b[i]})[0], 0.0, 1e-9);
  }
  t.max_rates_intercepts(g, b, mr2, ic2);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(mr2[i], mr[i], 1e-9 * mr[i]);
    EXPECT_NEAR(ic2[i], ic[i], 1e-9);
  }
  Pop p(t, 2);
  p.J = {-0.5f, 1.0f};
  p.step();
  EXPECT_NEAR(p.out[0], 400.0 * std::tanh(-0.5), 1e-3);
  EXPECT_NEAR(p.out[1], 400.0 * std::tanh(1.0), 1e-3);
}

// ---------------------------------------------------------------------------------------------
// Adaptive LIF

TEST(AdaptiveLIF, RateDecreasesUnderConstantInput) {
  AdaptiveLIF t(0.1, 0.05);  // fast, strong adaptation
  Pop p(t, 1);
  p.J[0] = 3.0f;
  p.st("voltage")[0] = 0.0f;
  auto count = [&](int steps) {
    int c = 0;
    for (int s = 0; s < steps; ++s) {
      p.step();
      c += p.out[0] != 0.0f;
    }
    return c;
  };
  const int first = count(200);
  const int later = count(200);
  const int last = count(200);
  EXPECT_GT(first, later);
  EXPECT_GE(later, last);
  EXPECT_GT(last, 0);
  EXPECT_GT(p.st("adaptation")[0], 0.0f);
  EXPECT_EQ(t.state_names(),
            (std::vector<std::string>{"voltage", "refractory_time", "adaptation"}));
  // Gain/bias and rates are the non-adaptive ones.
  EXPECT_EQ(rates_of(t, kTableJ), rates_of(LIFRate(), kTableJ));
}

TEST(AdaptiveLIF, NoAdaptationEqualsLIF) {
  AdaptiveLIF a(1.0, 0.0);
  LIF l;
  Pop pa(a, 50), pl(l, 50);
  for (std::size_t i = 0; i < 50; ++i) pa.J[i] = pl.J[i] = 0.5f + 0.3f * static_cast<float>(i);
  for (int s = 0; s < 300; ++s) {
    EXPECT_EQ(pa.step(), pl.step());
    EXPECT_EQ(pa.out, pl.out);
  }
}

TEST(AdaptiveLIFRate, OutputDecreasesAndSettles) {
  AdaptiveLIFRate t(0.1, 0.05);
  Pop p(t, 1);
  p.J[0] = 3.0f;
  p.step();
  const float first = p.out[0];
  EXPECT_NEAR(first, rates_of(LIFRate(), {3.0})[0], 1e-3);
  for (int s = 0; s < 2000; ++s) p.step();
  EXPECT_LT(p.out[0], 0.8f * first);
  // Steady state: n = inc_n * rate(J - n).
  const float n = p.st("adaptation")[0];
  EXPECT_NEAR(n, 0.05 * rates_of(LIFRate(), {3.0 - n})[0], 1e-3);
}

// ---------------------------------------------------------------------------------------------
// Izhikevich

TEST(Izhikevich, SpikesUnderConstantInput) {
  Izhikevich t;
  Pop p(t, 2);
  p.J = {10.0f, 0.0f};
  int spikes0 = 0, spikes1 = 0;
  for (int s = 0; s < 1000; ++s) {
    const std::size_t nf = p.step();
    for (std::size_t k = 0; k < nf; ++k) {
      EXPECT_FLOAT_EQ(p.out[static_cast<std::size_t>(p.fired[k])], 1000.0f);
    }
    if (s > 5) {  // the random initial voltage (~U(0,1), far above rest) causes a first spike
      spikes0 += p.out[0] != 0.0f;
      spikes1 += p.out[1] != 0.0f;
    }
  }
  EXPECT_GT(spikes0, 5);
  EXPECT_EQ(spikes1, 0);
  const double r = rates_of(t, {10.0})[0];
  EXPECT_NEAR(spikes0, r, 0.1 * r + 2);
  EXPECT_EQ(rates_of(t, {0.0})[0], 0.0);
}

TEST(Izhikevich, NumericGainBias) {
  // Izhikevich rates are spike counts in 1 s, with a jump at threshold (RS: 0 -> 5 Hz) and, for
  // fast spiking, plateaus locked to dt (166 -> 200 -> 222 Hz). So: rate(x = 1) is the first
  // rate >= max_rate (and within 2 Hz of it where the curve is fine-grained), a hair below x = 1
  // it is < max_rate, and the neuron is silent at and below the intercept but fires just above.
  struct Case {
    Izhikevich t;
    std::vector<double> mr;
    bool fine;
  };
  const std::vector<Case> cases = {{Izhikevich(), {20, 50, 100.5, 150}, true},
                                   {Izhikevich::fast_spiking(), {20, 50, 100.5, 180}, false}};
  const std::vector<double> ic = {-0.5, 0.0, 0.3, 0.8};
  for (const auto& [t, mr, fine] : cases) {
    std::vector<double> g, b;
    gain_bias_of(t, mr, ic, g, b);
    for (std::size_t i = 0; i < mr.size(); ++i) {
      SCOPED_TRACE(t.repr() + " neuron " + std::to_string(i));
      EXPECT_GT(g[i], 0.0);
      const double r1 = rates_of(t, {g[i] + b[i]})[0];
      EXPECT_GE(r1, mr[i]);
      if (fine) {
        EXPECT_LE(r1, mr[i] + 2.0);
      }
      EXPECT_LT(rates_of(t, {g[i] * (1 - 1e-6) + b[i]})[0], mr[i]);
      EXPECT_EQ(rates_of(t, {g[i] * ic[i] + b[i]})[0], 0.0);
      EXPECT_EQ(rates_of(t, {g[i] * (ic[i] - 0.05) + b[i]})[0], 0.0);
      EXPECT_GT(rates_of(t, {g[i] * (ic[i] + 1e-6) + b[i]})[0], 0.0);
    }
    std::vector<double> mr2(mr.size()), ic2(mr.size());
    t.max_rates_intercepts(g, b, mr2, ic2);
    for (std::size_t i = 0; i < mr.size(); ++i) {
      EXPECT_EQ(mr2[i], rates_of(t, {g[i] + b[i]})[0]);
      EXPECT_NEAR(ic2[i], ic[i], 1e-8);
    }
  }
}

TEST(Izhikevich, ImpossibleMaxRate) {
  std::vector<double> g, b;
  const auto msg = error_message<BuildError>([&] {
    gain_bias_of(Izhikevich(), {100, 5000}, {0, 0}, g, b);
  });
  EXPECT_CONTAINS(msg, "5000");
}

TEST(NeuronGenericGainBias, MatchesAnalyticLIF) {
  LIFRate t;
  const std::vector<double> mr = {100, 200, 400}, ic = {0, -0.5, 0.9};
  std::vector<double> g(3), b(3), g2, b2, mr2(3), ic2(3);
  t.NeuronType::gain_bias(mr, ic, g, b);
  gain_bias_of(t, mr, ic, g2, b2);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(g[i], g2[i], 1e-7 * g2[i]);
    EXPECT_NEAR(b[i], b2[i], 1e-7 * std::abs(g2[i]));
  }
  t.NeuronType::max_rates_intercepts(g, b, mr2, ic2);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(mr2[i], mr[i], 1e-6 * mr[i]);
    EXPECT_NEAR(ic2[i], ic[i], 1e-7);
  }
}

// ---------------------------------------------------------------------------------------------
// Rate-to-spike wrappers

TEST(RegularSpiking, LongRunRateMatchesBase) {
  RegularSpiking t(neuron(LIFRate()));
  EXPECT_EQ(t.state_names(), std::vector<std::string>{"voltage"});
  const std::vector<double> Js = {0.5, 1.5, 2, 5, 20};
  Pop p(t, Js.size());
  for (std::size_t i = 0; i < Js.size(); ++i) p.J[i] = static_cast<float>(Js[i]);
  const auto mean = p.mean_output(20000);
  const auto want = rates_of(LIFRate(), Js);
  for (std::size_t i = 0; i < Js.size(); ++i) {
    EXPECT_NEAR(mean[i], want[i], 0.06 + 1e-4 * want[i]) << Js[i];  // <= 1 spike in 20 s
  }
  EXPECT_EQ(rates_of(t, Js), want);
  // gain_bias delegates to the base.
  std::vector<double> g1, b1, g2, b2;
  gain_bias_of(t, {100}, {0.1}, g1, b1);
  gain_bias_of(LIFRate(), {100}, {0.1}, g2, b2);
  EXPECT_EQ(g1, g2);
  EXPECT_EQ(b1, b2);
}

TEST(RegularSpiking, StatefulBaseAndAmplitude) {
  RegularSpiking t(neuron(AdaptiveLIFRate()), 0.5);
  EXPECT_EQ(t.state_names(), (std::vector<std::string>{"adaptation", "voltage"}));
  Pop p(t, 1);
  p.J[0] = 5.0f;
  for (int s = 0; s < 100; ++s) {
    p.step();
    // 0.5 / 0.001f in float
    EXPECT_TRUE(p.out[0] == 0.0f || std::abs(p.out[0] - 500.0f) < 1e-3f) << p.out[0];
  }
  EXPECT_GT(p.st("adaptation")[0], 0.0f);
  EXPECT_NEAR(rates_of(t, {5.0})[0], 0.5 * rates_of(LIFRate(), {5.0})[0], 1e-9);
}

TEST(StochasticSpiking, MeanMatchesRate) {
  StochasticSpiking t(neuron(LIFRate()));
  EXPECT_EQ(t.state_names(), std::vector<std::string>{});
  const std::vector<double> Js = {0.5, 1.5, 5, 20};
  Pop p(t, Js.size());
  for (std::size_t i = 0; i < Js.size(); ++i) p.J[i] = static_cast<float>(Js[i]);
  const std::size_t steps = 50000;
  const auto mean = p.mean_output(steps);
  const auto want = rates_of(LIFRate(), Js);
  for (std::size_t i = 0; i < Js.size(); ++i) {
    // Bernoulli per step: sd of the mean rate = sqrt(p(1-p)/steps)/dt.
    const double pr = want[i] * 0.001;
    const double sd = std::sqrt(pr * (1 - pr) / steps) / 0.001;
    EXPECT_NEAR(mean[i], want[i], 4 * sd + 1e-9) << Js[i];
  }
  // Negative rates give negative spikes.
  StochasticSpiking neg(neuron(Tanh(0.001)));
  Pop q(neg, 1);
  q.J[0] = -3.0f;
  double s = 0;
  for (int k = 0; k < 1000; ++k) {
    q.step();
    EXPECT_LE(q.out[0], 0.0f);
    s += q.out[0];
  }
  EXPECT_NEAR(s / 1000, 1000 * std::tanh(-3.0), 5.0);  // ~1 spike per step
}

TEST(PoissonSpiking, MeanAndVarianceMatchRate) {
  // dt = 1 ms (small lambda) and dt = 0.1 s with 300 Hz (lambda = 30: the large-lambda sampler).
  for (float dt : {0.001f, 0.1f}) {
    PoissonSpiking t(neuron(RectifiedLinear()));
    const std::vector<double> Js = {0, 20, 120, 300};
    Pop p(t, Js.size(), dt);
    for (std::size_t i = 0; i < Js.size(); ++i) p.J[i] = static_cast<float>(Js[i]);
    const std::size_t steps = 20000;
    std::vector<double> sum(Js.size()), sum2(Js.size());
    for (std::size_t s = 0; s < steps; ++s) {
      p.step();
      for (std::size_t i = 0; i < Js.size(); ++i) {
        const double count = p.out[i] * dt;  // amplitude 1
        EXPECT_NEAR(count, std::round(count), 1e-3);
        sum[i] += count;
        sum2[i] += count * count;
      }
    }
    for (std::size_t i = 0; i < Js.size(); ++i) {
      const double lam = Js[i] * dt;
      const double mean = sum[i] / steps;
      const double var = sum2[i] / steps - mean * mean;
      EXPECT_NEAR(mean, lam, 4 * std::sqrt(lam / steps) + 1e-12) << dt << " " << Js[i];
      EXPECT_NEAR(var, lam, 0.1 * lam + 1e-12) << dt << " " << Js[i];
    }
  }
}

TEST(SpikingWrappers, NeedRunTimeRng) {
  StochasticSpiking s(neuron(LIFRate()));
  PoissonSpiking p(neuron(LIFRate()));
  Pop ps(s, 3), pp(p, 3);
  EXPECT_THROW(ps.step(false), SimulationError);
  EXPECT_THROW(pp.step(false), SimulationError);
  RegularSpiking r(neuron(LIFRate()));
  Pop pr(r, 3);
  EXPECT_NO_THROW(pr.step(false));
}

TEST(SpikingWrappers, RejectBadBase) {
  EXPECT_THROW(RegularSpiking{nullptr}, ValidationError);
  EXPECT_THROW(RegularSpiking{neuron(LIF())}, ValidationError);
  EXPECT_THROW(PoissonSpiking{neuron(Direct())}, ValidationError);
  EXPECT_THROW(StochasticSpiking(neuron(LIFRate()), 0.0), ValidationError);
}

// ---------------------------------------------------------------------------------------------
// rate_twin, repr, Direct

TEST(NeuronRateTwin, Mapping) {
  const auto lif_twin = LIF(0.03, 0.001, 0.0, 0.5).rate_twin();
  EXPECT_EQ(lif_twin->kind(), "LIFRate");
  EXPECT_EQ(lif_twin->repr(), "LIFRate(tau_rc=0.03, tau_ref=0.001, amplitude=0.5)");
  const auto soft = LIF().rate_twin(0.02);
  EXPECT_EQ(soft->kind(), "SoftLIFRate");
  EXPECT_EQ(dynamic_cast<const SoftLIFRate&>(*soft).sigma, 0.02);
  EXPECT_EQ(LIFRate().rate_twin()->repr(), LIFRate().repr());
  EXPECT_EQ(SoftLIFRate(0.5).rate_twin()->repr(), SoftLIFRate(0.5).repr());
  EXPECT_EQ(SpikingRectifiedLinear(2).rate_twin()->repr(), "RectifiedLinear(amplitude=2)");
  EXPECT_EQ(RectifiedLinear(2).rate_twin()->repr(), "RectifiedLinear(amplitude=2)");
  EXPECT_EQ(Sigmoid().rate_twin()->kind(), "Sigmoid");
  EXPECT_EQ(Tanh().rate_twin()->kind(), "Tanh");
  EXPECT_EQ(AdaptiveLIF(2, 0.1).rate_twin()->repr(), AdaptiveLIFRate(2, 0.1).repr());
  EXPECT_EQ(AdaptiveLIFRate().rate_twin()->kind(), "AdaptiveLIFRate");
  EXPECT_EQ(RegularSpiking(neuron(LIFRate())).rate_twin()->repr(), LIFRate().repr());
  EXPECT_EQ(PoissonSpiking(neuron(LIFRate()), 0.5).rate_twin()->repr(),
            LIFRate(0.02, 0.002, 0.5).repr());
  EXPECT_THROW(RegularSpiking(neuron(Tanh()), 0.5).rate_twin(), BuildError);
  EXPECT_THROW(Izhikevich().rate_twin(), BuildError);
  EXPECT_TRUE(Direct().rate_twin()->is_direct());
}

TEST(NeuronRepr, NengoLike) {
  EXPECT_EQ(LIF().repr(), "LIF(tau_rc=0.02, tau_ref=0.002, min_voltage=0, amplitude=1)");
  EXPECT_EQ(LIFRate().repr(), "LIFRate(tau_rc=0.02, tau_ref=0.002, amplitude=1)");
  EXPECT_EQ(LIF::with_amplitude(0.01).repr(),
            "LIF(tau_rc=0.02, tau_ref=0.002, min_voltage=0, amplitude=0.01)");
  EXPECT_EQ(LIF(0.02, 0.002, -std::numeric_limits<double>::infinity()).repr(),
            "LIF(tau_rc=0.02, tau_ref=0.002, min_voltage=-inf, amplitude=1)");
  EXPECT_EQ(SoftLIFRate().repr(), "SoftLIFRate(sigma=1, tau_rc=0.02, tau_ref=0.002, amplitude=1)");
  EXPECT_EQ(RectifiedLinear().repr(), "RectifiedLinear(amplitude=1)");
  EXPECT_EQ(SpikingRectifiedLinear().repr(), "SpikingRectifiedLinear(amplitude=1)");
  EXPECT_EQ(Sigmoid().repr(), "Sigmoid(tau_ref=0.0025)");
  EXPECT_EQ(Tanh().repr(), "Tanh(tau_ref=0.0025)");
  EXPECT_EQ(AdaptiveLIF().repr(),
            "AdaptiveLIF(tau_n=1, inc_n=0.01, tau_rc=0.02, tau_ref=0.002, min_voltage=0, "
            "amplitude=1)");
  EXPECT_EQ(AdaptiveLIFRate().repr(),
            "AdaptiveLIFRate(tau_n=1, inc_n=0.01, tau_rc=0.02, tau_ref=0.002, amplitude=1)");
  EXPECT_EQ(Izhikevich().repr(),
            "Izhikevich(tau_recovery=0.02, coupling=0.2, reset_voltage=-65, reset_recovery=8)");
  EXPECT_EQ(Izhikevich::chattering().repr(),
            "Izhikevich(tau_recovery=0.02, coupling=0.2, reset_voltage=-50, reset_recovery=2)");
  EXPECT_EQ(RegularSpiking(neuron(LIFRate())).repr(),
            "RegularSpiking(LIFRate(tau_rc=0.02, tau_ref=0.002, amplitude=1), amplitude=1)");
  EXPECT_EQ(PoissonSpiking(neuron(RectifiedLinear()), 0.5).repr(),
            "PoissonSpiking(RectifiedLinear(amplitude=1), amplitude=0.5)");
  EXPECT_EQ(Direct().repr(), "Direct()");
  EXPECT_EQ(LIF().kind(), "LIF");
  EXPECT_TRUE(LIF().spiking());
  EXPECT_FALSE(SoftLIFRate().spiking());
}

TEST(DirectNeuron, HasNoNeurons) {
  Direct d;
  EXPECT_TRUE(d.is_direct());
  EXPECT_FALSE(d.spiking());
  NeuronStepArgs a;
  EXPECT_CONTAINS(error_message<BuildError>([&] { d.step(a); }),
                  "Direct ensembles have no neurons");
  EXPECT_CONTAINS(error_message<BuildError>([&] { rates_of(d, {1.0}); }),
                  "Direct ensembles have no neurons");
  std::vector<double> g, b;
  EXPECT_THROW(gain_bias_of(d, {100}, {0}, g, b), BuildError);
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(NeuronErrors, LIFGainBias) {
  std::vector<double> g, b;
  LIF t;
  auto msg = error_message<BuildError>([&] {
    gain_bias_of(t, {100, 100, 100, 100}, {0, 0.5, 0.2, 1.2}, g, b);
  });
  EXPECT_CONTAINS(msg, "LIF neuron 3");
  EXPECT_CONTAINS(msg, "intercept 1.2 >= 1 gives a non-positive gain");

  msg = error_message<BuildError>([&] { gain_bias_of(t, {100, 600}, {0, 0}, g, b); });
  EXPECT_CONTAINS(msg, "LIF neuron 1");
  EXPECT_CONTAINS(msg, "max_rate 600 Hz >= 1/tau_ref = 500 Hz");

  msg = error_message<BuildError>([&] { gain_bias_of(LIFRate(), {100, 50, 0}, {0, 0, 0}, g, b); });
  EXPECT_CONTAINS(msg, "LIFRate neuron 2");
  EXPECT_CONTAINS(msg, "max_rate 0 Hz");
  msg = error_message<BuildError>([&] { gain_bias_of(LIFRate(), {-5}, {0}, g, b); });
  EXPECT_CONTAINS(msg, "neuron 0");
  EXPECT_CONTAINS(msg, "max_rate -5 Hz");
  msg = error_message<BuildError>([&] { gain_bias_of(t, {500}, {0}, g, b); });  // boundary
  EXPECT_CONTAINS(msg, "max_rate 500 Hz >= 1/tau_ref = 500 Hz");
  EXPECT_THROW(gain_bias_of(t, {100}, {std::nan("")}, g, b), BuildError);
  EXPECT_THROW(gain_bias_of(t, {std::numeric_limits<double>::infinity()}, {0}, g, b), BuildError);
}

TEST(NeuronErrors, OtherGainBias) {
  std::vector<double> g, b;
  auto msg = error_message<BuildError>([&] { gain_bias_of(Sigmoid(), {300, 150}, {0, 0}, g, b); });
  EXPECT_CONTAINS(msg, "Sigmoid neuron 1");
  EXPECT_CONTAINS(msg, "max_rate 150 Hz");
  msg = error_message<BuildError>([&] { gain_bias_of(Sigmoid(), {300, 400}, {0, 0}, g, b); });
  EXPECT_CONTAINS(msg, "Sigmoid neuron 1: max_rate 400 Hz >= 1/tau_ref = 400 Hz");
  msg = error_message<BuildError>([&] { gain_bias_of(Tanh(), {450}, {0}, g, b); });
  EXPECT_CONTAINS(msg, "Tanh neuron 0: max_rate 450 Hz >= 1/tau_ref = 400 Hz");
  msg = error_message<BuildError>([&] {
    gain_bias_of(RectifiedLinear(), {100, 100}, {0, 1.0}, g, b);
  });
  EXPECT_CONTAINS(msg, "RectifiedLinear neuron 1: intercept 1 >= 1");
  msg = error_message<BuildError>([&] { gain_bias_of(Izhikevich(), {100, 100}, {0, 1.5}, g, b); });
  EXPECT_CONTAINS(msg, "Izhikevich neuron 1: intercept 1.5 >= 1");
  msg = error_message<BuildError>([&] { gain_bias_of(Izhikevich(), {100, -1}, {0, 0}, g, b); });
  EXPECT_CONTAINS(msg, "Izhikevich neuron 1: max_rate -1 Hz");
  msg = error_message<BuildError>([&] {
    gain_bias_of(RegularSpiking(neuron(LIFRate())), {100, 700}, {0, 0}, g, b);
  });
  EXPECT_CONTAINS(msg, "neuron 1: max_rate 700 Hz >= 1/tau_ref = 500 Hz");
}

TEST(NeuronErrors, Constructors) {
  EXPECT_THROW(LIFRate(0.0), ValidationError);
  EXPECT_THROW(LIFRate(-0.02), ValidationError);
  EXPECT_THROW(LIFRate(0.02, -0.001), ValidationError);
  EXPECT_THROW(LIFRate(0.02, 0.002, 0.0), ValidationError);
  EXPECT_THROW(LIF(0.02, 0.002, 0.5), ValidationError);  // min_voltage must be <= 0
  EXPECT_THROW(LIF(std::nan("")), ValidationError);
  EXPECT_THROW(LIF(0.02, 0.002, 0.0, -1.0), ValidationError);
  EXPECT_THROW(SoftLIFRate(0.0), ValidationError);
  EXPECT_THROW(SoftLIFRate(-1.0), ValidationError);
  EXPECT_THROW(RectifiedLinear(0.0), ValidationError);
  EXPECT_THROW(SpikingRectifiedLinear(-1.0), ValidationError);
  EXPECT_THROW(Sigmoid(0.0), ValidationError);
  EXPECT_THROW(Tanh(-1.0), ValidationError);
  EXPECT_THROW(AdaptiveLIF(0.0), ValidationError);
  EXPECT_THROW(AdaptiveLIFRate(1.0, -0.1), ValidationError);
  EXPECT_THROW(Izhikevich(0.0), ValidationError);
  EXPECT_NO_THROW(LIFRate(0.02, 0.0));  // tau_ref = 0 is allowed
  const std::string msg = error_message<ValidationError>([] { LIFRate(-0.5); });
  EXPECT_CONTAINS(msg, "tau_rc");
  EXPECT_CONTAINS(msg, "-0.5");
}
