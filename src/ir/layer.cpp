// Structured layer transforms: spec construction and reference (scatter) kernels.
#include "ir/layer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
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

// The (tap, output) pairs of every input coordinate along one axis.
void axis_plan(std::size_t in, std::size_t k, std::size_t s, std::size_t pad, std::size_t out,
               std::vector<std::uint32_t>& off, std::vector<LayerSpec::Tap>& taps) {
  off.assign(in + 1, 0);
  taps.clear();
  for (std::size_t i = 0; i < in; ++i) {
    off[i] = std::uint32_t(taps.size());
    const std::size_t ip = i + pad;  // coordinate in the padded input
    for (std::size_t kk = 0; kk < k && kk <= ip; ++kk) {
      const std::size_t d = ip - kk;
      if (d % s) continue;
      if (d / s < out) taps.push_back({std::uint32_t(kk), std::uint32_t(d / s)});
    }
  }
  off[in] = std::uint32_t(taps.size());
}

void fill_plan(LayerSpec& s) {
  axis_plan(s.in_h, s.kh, s.sh, s.pad_top, s.out_h, s.row_off, s.row_taps);
  axis_plan(s.in_w, s.kw, s.sw, s.pad_left, s.out_w, s.col_off, s.col_taps);
  s.in_pix.resize(s.in_h * s.in_w);
  for (std::size_t y = 0; y < s.in_h; ++y)
    for (std::size_t x = 0; x < s.in_w; ++x) s.in_pix[y * s.in_w + x] = std::uint32_t(y << 16 | x);
  s.inv_count.resize(s.out_h * s.out_w);
  auto span = [](std::size_t o, std::size_t st, std::size_t k, std::size_t pad, std::size_t in) {
    const long lo = long(o * st) - long(pad);
    const long hi = lo + long(k);
    return std::size_t(std::max(0L, std::min(hi, long(in)) - std::max(lo, 0L)));
  };
  for (std::size_t oy = 0; oy < s.out_h; ++oy)
    for (std::size_t ox = 0; ox < s.out_w; ++ox)
      s.inv_count[oy * s.out_w + ox] = 1.f / float(span(oy, s.sh, s.kh, s.pad_top, s.in_h) *
                                                   span(ox, s.sw, s.kw, s.pad_left, s.in_w));
}

/// out += contribution of input element e with value v.
inline void scatter_one(const LayerSpec& s, const float* kernel, std::size_t e, float v,
                        float* out) {
  const std::size_t C = s.in_c, F = s.out_c;
  const std::size_t c = e % C;
  const std::uint32_t pix = s.in_pix[e / C];
  const std::size_t iy = pix >> 16, ix = pix & 0xffffu;
  const LayerSpec::Tap* ry = s.row_taps.data() + s.row_off[iy];
  const LayerSpec::Tap* ry_end = s.row_taps.data() + s.row_off[iy + 1];
  const LayerSpec::Tap* rx0 = s.col_taps.data() + s.col_off[ix];
  const LayerSpec::Tap* rx_end = s.col_taps.data() + s.col_off[ix + 1];
  if (s.kind == LayerSpec::Kind::Convolution) {
    for (; ry != ry_end; ++ry)
      for (const LayerSpec::Tap* rx = rx0; rx != rx_end; ++rx) {
        float* __restrict o = out + (std::size_t(ry->o) * s.out_w + rx->o) * F;
        const float* __restrict w = kernel + ((std::size_t(ry->k) * s.kw + rx->k) * C + c) * F;
        for (std::size_t f = 0; f < F; ++f) o[f] += v * w[f];
      }
  } else {
    for (; ry != ry_end; ++ry)
      for (const LayerSpec::Tap* rx = rx0; rx != rx_end; ++rx) {
        const std::size_t op = std::size_t(ry->o) * s.out_w + rx->o;
        out[op * F + c] += v * s.inv_count[op];
      }
  }
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
  if (s->in_h >= 65536 || s->in_w >= 65536)
    throw ValidationError(who + ": image sides of 65536 or more are not supported");
  fill_plan(*s);
  return s;
}

void layer_forward_add(const LayerSpec& spec, const float* x, float* out, const float* kernel) {
  const float* k = kernel ? kernel : spec.kernel.data();
  for (std::size_t e = 0, n = spec.size_in(); e < n; ++e)
    if (x[e] != 0.f) scatter_one(spec, k, e, x[e], out);
}

namespace {
#if defined(__GNUC__)
typedef float V16 __attribute__((vector_size(64)));
inline V16 load16(const float* p) {
  V16 v;
  std::memcpy(&v, p, sizeof(V16));
  return v;
}
inline void store16(float* p, V16 v) {
  std::memcpy(p, &v, sizeof(V16));
}
#endif

/// Convolution scatter for sorted indices: the inputs of one pixel (a run of consecutive
/// indices) are summed per tap in registers first, so each output pixel is read and written
/// once per run instead of once per input (no store-to-load chains), 64 filters at a time.
void conv_scatter_sorted(const LayerSpec& s, const float* kernel, const std::int32_t* idx,
                         const float* val, std::size_t n_idx, float* out) {
  const std::size_t C = s.in_c, F = s.out_c;
  // Pixel of an input index: a shift when C is a power of two (no division per spike).
  const bool pow2 = (C & (C - 1)) == 0;
  const unsigned shift = pow2 ? unsigned(__builtin_ctzll(C)) : 0u;
  auto pixel = [&](std::int32_t e) {
    return pow2 ? std::size_t(std::uint32_t(e) >> shift)
                : std::size_t(std::uint32_t(e) / std::uint32_t(C));
  };
  std::size_t q = 0;
  while (q < n_idx) {
    const std::size_t pix_i = pixel(idx[q]);
    std::size_t r = q + 1;
    while (r < n_idx && pixel(idx[r]) == pix_i) ++r;
    const std::uint32_t pix = s.in_pix[pix_i];
    const std::size_t iy = pix >> 16, ix = pix & 0xffffu;
    const LayerSpec::Tap* ry = s.row_taps.data() + s.row_off[iy];
    const LayerSpec::Tap* ry_end = s.row_taps.data() + s.row_off[iy + 1];
    const LayerSpec::Tap* rx0 = s.col_taps.data() + s.col_off[ix];
    const LayerSpec::Tap* rx_end = s.col_taps.data() + s.col_off[ix + 1];
    for (; ry != ry_end; ++ry) {
      for (const LayerSpec::Tap* rx = rx0; rx != rx_end; ++rx) {
        float* o = out + (std::size_t(ry->o) * s.out_w + rx->o) * F;
        // Weights of tap (ky, kx) for input channel 0; channel c = e - base adds c·F.
        const float* wt = kernel + (std::size_t(ry->k) * s.kw + rx->k) * C * F;
        const std::size_t base = pix_i * C;
        std::size_t f = 0;
#if defined(__GNUC__)
        for (; f + 64 <= F; f += 64) {
          V16 a0 = {}, a1 = {}, a2 = {}, a3 = {};
          for (std::size_t k = q; k < r; ++k) {
            const std::size_t e = std::size_t(idx[k]);
            const float v = val[k];
            const float* w = wt + (e - base) * F + f;
            a0 += v * load16(w);
            a1 += v * load16(w + 16);
            a2 += v * load16(w + 32);
            a3 += v * load16(w + 48);
          }
          store16(o + f, load16(o + f) + a0);
          store16(o + f + 16, load16(o + f + 16) + a1);
          store16(o + f + 32, load16(o + f + 32) + a2);
          store16(o + f + 48, load16(o + f + 48) + a3);
        }
        for (; f + 16 <= F; f += 16) {
          V16 a = {};
          for (std::size_t k = q; k < r; ++k) {
            const std::size_t e = std::size_t(idx[k]);
            a += val[k] * load16(wt + (e - base) * F + f);
          }
          store16(o + f, load16(o + f) + a);
        }
#endif
        for (; f < F; ++f) {
          float a = 0.f;
          for (std::size_t k = q; k < r; ++k) {
            const std::size_t e = std::size_t(idx[k]);
            a += val[k] * wt[(e - base) * F + f];
          }
          o[f] += a;
        }
      }
    }
    q = r;
  }
}
#if defined(__GNUC__)
/// Output-stationary form (events sorted by index): per output pixel, the events of the
/// input pixel under each tap are accumulated in NV vector registers, then added once.
template <int NV>
void conv_gather_sorted(const LayerSpec& s, const float* kernel, const std::int32_t* idx,
                        const float* val, std::size_t n_idx, float* out,
                        std::vector<std::uint32_t>& start) {
  const std::size_t C = s.in_c, F = s.out_c, npix = s.in_h * s.in_w;
  const bool pow2 = (C & (C - 1)) == 0;
  const unsigned shift = pow2 ? unsigned(__builtin_ctzll(C)) : 0u;
  start.assign(npix + 1, 0);  // events of input pixel p: [start[p], start[p + 1])
  for (std::size_t q = 0; q < n_idx; ++q) {
    const std::uint32_t e = std::uint32_t(idx[q]);
    ++start[(pow2 ? e >> shift : e / std::uint32_t(C)) + 1];
  }
  for (std::size_t p = 0; p < npix; ++p) start[p + 1] += start[p];
  for (std::size_t oy = 0; oy < s.out_h; ++oy) {
    for (std::size_t ox = 0; ox < s.out_w; ++ox) {
      V16 acc[NV] = {};
      bool any = false;
      for (std::size_t ky = 0; ky < s.kh; ++ky) {
        const long iy = long(oy * s.sh + ky) - long(s.pad_top);
        if (iy < 0 || iy >= long(s.in_h)) continue;
        for (std::size_t kx = 0; kx < s.kw; ++kx) {
          const long ix = long(ox * s.sw + kx) - long(s.pad_left);
          if (ix < 0 || ix >= long(s.in_w)) continue;
          const std::size_t p = std::size_t(iy) * s.in_w + std::size_t(ix);
          const std::uint32_t b = start[p], e = start[p + 1];
          if (b == e) continue;
          any = true;
          const float* wt = kernel + (ky * s.kw + kx) * C * F;
          for (std::uint32_t q = b; q < e; ++q) {
            const float v = val[q];
            const float* w = wt + (std::size_t(idx[q]) - p * C) * F;
            for (int k = 0; k < NV; ++k) acc[k] += v * load16(w + 16 * k);
          }
        }
      }
      if (!any) continue;
      float* o = out + (oy * s.out_w + ox) * F;
      for (int k = 0; k < NV; ++k) store16(o + 16 * k, load16(o + 16 * k) + acc[k]);
    }
  }
}
#endif
}  // namespace

void layer_scatter_add_values(const LayerSpec& spec, const std::int32_t* idx, const float* vals,
                              std::size_t n_idx, float* out, const float* kernel,
                              std::vector<std::uint32_t>* scratch) {
  const float* k = kernel ? kernel : spec.kernel.data();
  const bool sorted = std::is_sorted(idx, idx + n_idx);
#if defined(__GNUC__)
  if (spec.kind == LayerSpec::Kind::Convolution && sorted && scratch != nullptr &&
      spec.out_c % 16 == 0 && spec.out_c <= 128) {
    switch (spec.out_c / 16) {
      case 1:
        conv_gather_sorted<1>(spec, k, idx, vals, n_idx, out, *scratch);
        return;
      case 2:
        conv_gather_sorted<2>(spec, k, idx, vals, n_idx, out, *scratch);
        return;
      case 4:
        conv_gather_sorted<4>(spec, k, idx, vals, n_idx, out, *scratch);
        return;
      case 8:
        conv_gather_sorted<8>(spec, k, idx, vals, n_idx, out, *scratch);
        return;
      default:
        break;
    }
  }
#endif
  if (spec.kind == LayerSpec::Kind::Convolution && sorted) {
    conv_scatter_sorted(spec, k, idx, vals, n_idx, out);
    return;
  }
  for (std::size_t q = 0; q < n_idx; ++q) scatter_one(spec, k, std::size_t(idx[q]), vals[q], out);
}

void layer_scatter_add(const LayerSpec& spec, const float* x, const std::int32_t* idx,
                       std::size_t n_idx, float* out, const float* kernel) {
  const float* k = kernel ? kernel : spec.kernel.data();
  for (std::size_t q = 0; q < n_idx; ++q) {
    const std::size_t e = std::size_t(idx[q]);
    scatter_one(spec, k, e, x[e], out);
  }
}

void add_bias(const std::vector<float>& bias, std::size_t size_out, float* u) {
  if (bias.empty()) return;
  const std::size_t nb = bias.size();
  for (std::size_t j0 = 0; j0 + nb <= size_out; j0 += nb)
    for (std::size_t j = 0; j < nb; ++j) u[j0 + j] += bias[j];
}

}  // namespace myelin::ir
