// Rate kernels (see rate_kernels.hpp). The math functions below are branch-free (selects
// only) so that the loops calling them vectorise; relative accuracy ~1e-7 before float
// rounding, which is what the gradient checks in tests/unit/test_train_grad.cpp rely on.
#include "train/rate_kernels.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "myelin/errors.hpp"
#include "neurons/lif_math.hpp"

namespace myelin::train {

namespace {

using lif_math::log_pos;  // ln x, the polynomial of the simulator's LIF rate

/// ln(1 + x) for 0 <= x <= 1: 2 atanh(y), y = x / (2 + x) <= 1/3, odd series to y^15.
inline float vlog1p_unit(float x) {
  const float y = x / (2.0f + x);
  const float y2 = y * y;
  float p = 1.0f / 15;
  p = 1.0f / 13 + y2 * p;
  p = 1.0f / 11 + y2 * p;
  p = 1.0f / 9 + y2 * p;
  p = 1.0f / 7 + y2 * p;
  p = 1.0f / 5 + y2 * p;
  p = 1.0f / 3 + y2 * p;
  p = 1.0f + y2 * p;
  return 2.0f * y * p;
}

/// e^x for -87 <= x <= 0 (clamped): 2^n · e^r, |r| <= ln2/2, degree-7 Taylor polynomial.
inline float vexp_neg(float x) {
  x = std::max(x, -87.0f);
  x = std::min(x, 0.0f);
  const float n = std::nearbyint(x * 1.44269504088896f);
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
  float p = 1.0f / 5040;
  p = 1.0f / 720 + r * p;
  p = 1.0f / 120 + r * p;
  p = 1.0f / 24 + r * p;
  p = 1.0f / 6 + r * p;
  p = 0.5f + r * p;
  p = 1.0f + r * p;
  p = 1.0f + r * p;
  const std::int32_t ni = static_cast<std::int32_t>(n);
  const float scale = std::bit_cast<float>(static_cast<std::uint32_t>((ni + 127) << 23));
  return p * scale;
}

/// LIFRate (spec §4.1, derivative §4.8): r = amp / (tau_ref + tau_rc ln(1 + 1/j)), j = J − 1.
class LifRateKernel : public RateKernel {
 public:
  explicit LifRateKernel(const LIFRate& t)
      : tau_rc_(float(t.tau_rc)), tau_ref_(float(t.tau_ref)), amp_(float(t.amplitude)) {}
  void run(std::size_t n, const float* J, float* out, float* d) const override {
    const float trc = tau_rc_, tref = tau_ref_, amp = amp_;
    // ivdep: d may alias J (in place), element by element, which is safe to vectorise.
    if (d == nullptr) {
#pragma GCC ivdep
      for (std::size_t i = 0; i < n; ++i) {
        const float j = J[i] - 1.0f;
        const float jj = j > 0.0f ? j : 1.0f;
        const float r = amp / (tref + trc * log_pos(1.0f + 1.0f / jj));
        out[i] = j > 0.0f ? r : 0.0f;
      }
      return;
    }
#pragma GCC ivdep
    for (std::size_t i = 0; i < n; ++i) {
      const float j = J[i] - 1.0f;
      const float jj = j > 0.0f ? j : 1.0f;
      const float den = tref + trc * log_pos(1.0f + 1.0f / jj);
      const float r = amp / den;
      // d r / dJ = amp · tau_rc / (den² · j (j + 1))
      const float dr = (r * trc) / (den * jj * (jj + 1.0f));
      out[i] = j > 0.0f ? r : 0.0f;
      d[i] = j > 0.0f ? dr : 0.0f;
    }
  }

 private:
  float tau_rc_, tau_ref_, amp_;
};

/// SoftLIFRate (spec §4.8): z = σ softplus(j/σ), q = ln(1 + 1/z) (asymptote −j/σ − ln σ for
/// j/σ <= −20), r = amp / (tau_ref + tau_rc q), r' = amp tau_rc logistic(j/σ) / (den² z (z+1)).
class SoftLifKernel : public RateKernel {
 public:
  explicit SoftLifKernel(const SoftLIFRate& t)
      : tau_rc_(float(t.tau_rc)),
        tau_ref_(float(t.tau_ref)),
        amp_(float(t.amplitude)),
        sigma_(float(t.sigma)),
        log_sigma_(float(std::log(t.sigma))) {}
  void run(std::size_t n, const float* J, float* out, float* d) const override {
    const float trc = tau_rc_, tref = tau_ref_, amp = amp_, sg = sigma_, lsg = log_sigma_;
    const float inv_sg = 1.0f / sg;
#pragma GCC ivdep
    for (std::size_t i = 0; i < n; ++i) {
      const float j = J[i] - 1.0f;
      const float js = j * inv_sg;
      const float e = vexp_neg(-std::fabs(js));  // e^{-|js|} in (0, 1]
      const float softplus = std::max(js, 0.0f) + vlog1p_unit(e);
      const bool high = js > 30.0f, low = js <= -20.0f;
      float z = high ? j : sg * softplus;
      z = low ? std::max(z, 1e-30f) : z;
      const float q_mid = log_pos(1.0f + 1.0f / z);
      const float q = low ? -js - lsg : q_mid;
      const float den = tref + trc * q;
      out[i] = amp / den;
      if (d != nullptr) {
        const float logistic = js >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
        // For js <= -20: logistic/(z(z+1)) -> 1/(σ (1+e)(1+σe)) with e = e^{js}.
        const float ratio_low = inv_sg / ((1.0f + e) * (1.0f + sg * e));
        const float ratio = low ? ratio_low : logistic / (z * (z + 1.0f));
        d[i] = amp * trc * ratio / (den * den);
      }
    }
  }

 private:
  float tau_rc_, tau_ref_, amp_, sigma_, log_sigma_;
};

class ReluKernel : public RateKernel {
 public:
  explicit ReluKernel(const RectifiedLinear& t) : amp_(float(t.amplitude)) {}
  void run(std::size_t n, const float* J, float* out, float* d) const override {
    const float amp = amp_;
#pragma GCC ivdep
    for (std::size_t i = 0; i < n; ++i) {
      const float j = J[i];
      out[i] = j > 0.0f ? amp * j : 0.0f;
      if (d != nullptr) d[i] = j > 0.0f ? amp : 0.0f;
    }
  }

 private:
  float amp_;
};

/// Any other stateless rate type: its own float step() and double rate_derivative().
class GenericKernel : public RateKernel {
 public:
  explicit GenericKernel(NeuronTypePtr t) : t_(std::move(t)) {}
  void run(std::size_t n, const float* J, float* out, float* d) const override {
    std::vector<double> jd(n), dd;
    for (std::size_t i = 0; i < n; ++i) jd[i] = J[i];
    if (d != nullptr) {
      dd.resize(n);
      t_->rate_derivative(jd, dd);
    }
    NeuronStepArgs a;
    a.n = n;
    a.J = J;
    a.out = out;
    t_->step(a);
    if (d != nullptr)
      for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<float>(dd[i]);
  }

 private:
  NeuronTypePtr t_;
};

}  // namespace

std::unique_ptr<RateKernel> make_rate_kernel(const NeuronTypePtr& t) {
  if (!t) throw BuildError("rate kernel: null neuron type");
  const std::string k = t->kind();
  if (k == "LIFRate") return std::make_unique<LifRateKernel>(static_cast<const LIFRate&>(*t));
  if (k == "SoftLIFRate")
    return std::make_unique<SoftLifKernel>(static_cast<const SoftLIFRate&>(*t));
  if (k == "RectifiedLinear")
    return std::make_unique<ReluKernel>(static_cast<const RectifiedLinear&>(*t));
  return std::make_unique<GenericKernel>(t);
}

}  // namespace myelin::train
