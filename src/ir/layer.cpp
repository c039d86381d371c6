// Structured layer transforms: spec construction and reference (scatter) kernels.
#include "ir/layer.hpp"

#include <algorithm>
#include <cstdint>
#include <sstream>

#include "myelin/errors.hpp"

namespace myelin::ir {

namespace {

void fill_axes(LayerSpec& s, const std::string& padding) {
  auto pads = [&](std::size_t in, std::size_t k, std::size_t st, std::size_t out,
                  std::size_t& before, std::size_t& after) {
    before = after = 0;
    if (padding == "same") {
      const std::size_t need = (out - 1) * st + k;
      const std::size_t total = need > in ? need - in : 0;
      before = total / 2;
      after = total - before;
    }
  };
  pads(s.in_h, s.kh, s.sh, s.out_h, s.pad_top, s.pad_bottom);
  pads(s.in_w, s.kw, s.sw, s.out_w, s.pad_left, s.pad_right);
}

// For input coordinate i: the (tap, output) pairs it contributes to along one axis.
struct Tap {
  std::uint32_t k, o;
};
inline std::size_t taps_of(std::size_t i, std::size_t k, std::size_t s, std::size_t pad,
                           std::size_t out, Tap* t) {
  std::size_t n = 0;
  const std::size_t ip = i + pad;  // coordinate in the padded input
  for (std::size_t kk = 0; kk < k; ++kk) {
    if (ip < kk) break;
    const std::size_t d = ip - kk;
    if (d % s) continue;
    const std::size_t o = d / s;
    if (o < out) t[n++] = {std::uint32_t(kk), std::uint32_t(o)};
  }
  return n;
}

// Number of real (unpadded) inputs in the pooling window of output (oy, ox).
inline float window_count(const LayerSpec& s, std::size_t oy, std::size_t ox) {
  auto span = [](std::size_t o, std::size_t st, std::size_t k, std::size_t pad, std::size_t in) {
    const long lo = long(o * st) - long(pad);
    const long hi = lo + long(k);
    return std::size_t(std::max(0L, std::min(hi, long(in)) - std::max(lo, 0L)));
  };
  return float(span(oy, s.sh, s.kh, s.pad_top, s.in_h) * span(ox, s.sw, s.kw, s.pad_left, s.in_w));
}

template <class Visit>
void scatter(const LayerSpec& s, const float* x, const float* kernel, float* out, Visit&& visit) {
  Tap ty[64], tx[64];
  const std::size_t C = s.in_c, F = s.out_c;
  visit([&](std::size_t e) {
    const float v = x[e];
    if (v == 0.f) return;
    const std::size_t c = e % C, pix = e / C;
    const std::size_t iy = pix / s.in_w, ix = pix % s.in_w;
    const std::size_t ny = taps_of(iy, s.kh, s.sh, s.pad_top, s.out_h, ty);
    const std::size_t nx = taps_of(ix, s.kw, s.sw, s.pad_left, s.out_w, tx);
    for (std::size_t a = 0; a < ny; ++a) {
      for (std::size_t b = 0; b < nx; ++b) {
        float* o = out + (std::size_t(ty[a].o) * s.out_w + tx[b].o) * F;
        if (s.kind == LayerSpec::Kind::Convolution) {
          const float* w = kernel + ((std::size_t(ty[a].k) * s.kw + tx[b].k) * C + c) * F;
          for (std::size_t f = 0; f < F; ++f) o[f] += v * w[f];
        } else {
          o[c] += v / window_count(s, ty[a].o, tx[b].o);
        }
      }
    }
  });
}

}  // namespace

std::string LayerSpec::repr() const {
  std::ostringstream os;
  os << (kind == Kind::Convolution ? "Convolution" : "AveragePooling") << " (" << in_h << ", "
     << in_w << ", " << in_c << ") -> (" << out_h << ", " << out_w << ", " << out_c << ")";
  return os.str();
}

std::shared_ptr<const LayerSpec> make_layer_spec(const Transform& t, Rng& rng,
                                                 const std::string& who) {
  auto s = std::make_shared<LayerSpec>();
  if (const Convolution* c = t.convolution()) {
    c->validate(who);
    if (c->kernel_size[0] > 64 || c->kernel_size[1] > 64)
      throw ValidationError(who + ": kernel sizes above 64 are not supported");
    s->kind = LayerSpec::Kind::Convolution;
    s->in_h = c->input_shape[0];
    s->in_w = c->input_shape[1];
    s->in_c = c->input_shape[2];
    const auto o = c->output_shape();
    s->out_h = o[0];
    s->out_w = o[1];
    s->out_c = o[2];
    s->kh = c->kernel_size[0];
    s->kw = c->kernel_size[1];
    s->sh = c->strides[0];
    s->sw = c->strides[1];
    fill_axes(*s, c->padding);
    const std::vector<double> k = t.conv_kernel(rng, who);
    s->kernel.assign(k.begin(), k.end());
  } else if (const AveragePooling* p = t.pooling()) {
    p->validate(who);
    if (p->pool_size[0] > 64 || p->pool_size[1] > 64)
      throw ValidationError(who + ": pool sizes above 64 are not supported");
    s->kind = LayerSpec::Kind::AvgPool;
    s->in_h = p->input_shape[0];
    s->in_w = p->input_shape[1];
    s->in_c = p->input_shape[2];
    const auto o = p->output_shape();
    s->out_h = o[0];
    s->out_w = o[1];
    s->out_c = o[2];
    s->kh = p->pool_size[0];
    s->kw = p->pool_size[1];
    s->sh = p->strides[0];
    s->sw = p->strides[1];
    fill_axes(*s, p->padding);
  } else {
    throw BuildError(who + ": transform " + t.repr() + " is not a layer transform");
  }
  return s;
}

void layer_forward_add(const LayerSpec& spec, const float* x, float* out, const float* kernel) {
  const float* k = kernel ? kernel : spec.kernel.data();
  scatter(spec, x, k, out, [&](auto&& f) {
    for (std::size_t e = 0, n = spec.size_in(); e < n; ++e) f(e);
  });
}

void layer_scatter_add(const LayerSpec& spec, const float* x, const std::int32_t* idx,
                       std::size_t n_idx, float* out, const float* kernel) {
  const float* k = kernel ? kernel : spec.kernel.data();
  scatter(spec, x, k, out, [&](auto&& f) {
    for (std::size_t q = 0; q < n_idx; ++q) f(std::size_t(idx[q]));
  });
}

void add_bias(const std::vector<float>& bias, std::size_t size_out, float* u) {
  if (bias.empty()) return;
  const std::size_t nb = bias.size();
  if (nb == size_out) {
    for (std::size_t j = 0; j < size_out; ++j) u[j] += bias[j];
  } else {
    for (std::size_t j = 0; j < size_out; ++j) u[j] += bias[j % nb];
  }
}

}  // namespace myelin::ir
