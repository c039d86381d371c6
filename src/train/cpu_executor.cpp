// CPU executor for the trainer (see cpu_executor.hpp).
//
// Layout: every tensor has a [steps][batch][size] float buffer; gradient buffers have the
// same shape and a "written" flag per step, so the first contribution overwrites (no zeroing
// passes) and later ones accumulate. Images are channels-last (NHWC), the conv kernels HWIO
// (Keras' layout); oneDNN picks its own weight layout and we reorder once per call.
#include "train/cpu_executor.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <sstream>
#include <unordered_map>

#include "core/omp_scope.hpp"
#include "ir/node_output.hpp"
#include "myelin/errors.hpp"
#include "train/rate_kernels.hpp"

namespace myelin::train {

void ParamStore::init(const Graph& g) {
  value.clear();
  grad.clear();
  for (const auto& p : g.params) {
    value.push_back(p.init);
    grad.emplace_back(p.init.size(), 0.f);
  }
  grad_written.assign(g.params.size(), 0);
  ++version;
}

void ParamStore::zero_grads() {
  for (std::size_t k = 0; k < grad.size(); ++k) {
    if (grad_written[k]) std::fill(grad[k].begin(), grad[k].end(), 0.f);
    grad_written[k] = 0;
  }
}

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using DT = memory::data_type;

/// Scoped OpenMP thread count for the library calls (oneDNN reads omp_get_max_threads()).
using ThreadScope = detail::OmpThreadScope;

void sgemm(char ta, char tb, std::size_t M, std::size_t N, std::size_t K, float alpha,
           const float* A, std::size_t lda, const float* B, std::size_t ldb, float beta, float* C,
           std::size_t ldc) {
  const dnnl_status_t st =
      dnnl_sgemm(ta, tb, dnnl_dim_t(M), dnnl_dim_t(N), dnnl_dim_t(K), alpha, A, dnnl_dim_t(lda), B,
                 dnnl_dim_t(ldb), beta, C, dnnl_dim_t(ldc));
  if (st != dnnl_success)
    throw SimulationError("dnnl_sgemm failed (status " + std::to_string(int(st)) + ")");
}

/// oneDNN primitives of one convolution for one batch size.
struct ConvPrims {
  std::size_t batch = 0;
  bool train = false;  // has the backward primitives
  bool with_bias = false, has_bd = false, has_bw = false;
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_d;
  dnnl::convolution_backward_weights bwd_w;
  memory::desc src_md, dst_md, user_w_md, bias_md;
  memory w_fwd, w_bd, dw;  // oneDNN's own weight layouts (when they differ from HWIO)
  bool reorder_fwd = false, reorder_bd = false, reorder_dw = false;
  std::uint64_t w_fwd_version = ~0ULL, w_bd_version = ~0ULL;
};

}  // namespace

struct CpuExecutor::Impl {
  const Graph& g;
  ParamStore& P;
  int threads;
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  std::size_t B = 0, T = 0;
  bool training = false;
  std::vector<std::vector<float>> val, grad;
  std::vector<std::vector<std::uint8_t>> written;  // [tensor][t]
  std::vector<std::vector<float>> deriv;           // Neurons ops: [T][B][n]
  std::vector<std::unique_ptr<RateKernel>> kernels;
  std::vector<std::vector<std::unique_ptr<ConvPrims>>> convs;  // per op, per batch size
  std::vector<const Feed*> feeds;                              // per IR node
  std::vector<Feed> feed_store;
  std::vector<std::uint8_t>* needs_grad = nullptr;
  std::vector<float> tmp, tmp2;
  std::vector<float> colbuf;      // im2col columns of one chunk of items
  std::vector<float> colfull;     // im2col columns of the whole batch (weight gradient)
  std::vector<float> waug, gaug;  // augmented kernel [W; b] and its gradient
  // MYELIN_TRAIN_PROFILE=1: seconds per op (forward, backward), printed at destruction.
  bool profile = false;
  std::vector<double> t_fwd, t_bwd;

  Impl(const Graph& graph, ParamStore& params, int th) : g(graph), P(params), threads(th) {
    const char* e = std::getenv("MYELIN_TRAIN_PROFILE");
    profile = e && *e && *e != '0';
    t_fwd.assign(g.ops.size(), 0.0);
    t_bwd.assign(g.ops.size(), 0.0);
  }
  ~Impl() {
    if (!profile) return;
    double tf = 0, tb = 0;
    for (std::size_t oi = 0; oi < g.ops.size(); ++oi) {
      tf += t_fwd[oi];
      tb += t_bwd[oi];
      if (t_fwd[oi] + t_bwd[oi] > 1e-3)
        std::fprintf(stderr, "[profile] op %2zu %-8s fwd %8.3f s  bwd %8.3f s  %s\n", oi,
                     kind_name(g.ops[oi].kind), t_fwd[oi], t_bwd[oi], g.ops[oi].name.c_str());
    }
    std::fprintf(stderr, "[profile] total fwd %.3f s bwd %.3f s\n", tf, tb);
  }
  static const char* kind_name(OpKind k) {
    switch (k) {
      case OpKind::Input:
        return "Input";
      case OpKind::Sum:
        return "Sum";
      case OpKind::Gather:
        return "Gather";
      case OpKind::Scatter:
        return "Scatter";
      case OpKind::Bias:
        return "Bias";
      case OpKind::Dense:
        return "Dense";
      case OpKind::Layer:
        return "Layer";
      case OpKind::Neurons:
        return "Neurons";
      case OpKind::Filter:
        return "Filter";
    }
    return "?";
  }

  std::size_t sz(std::uint32_t tensor) const { return g.tensors[tensor].size; }
  float* buf(std::uint32_t tensor, std::size_t t) {
    return val[tensor].data() + t * B * sz(tensor);
  }
  const float* in_val(const Ref& r, std::size_t t) const {
    if (t < r.lag) return nullptr;
    return val[r.tensor].data() + (t - r.lag) * B * sz(r.tensor);
  }
  /// Gradient buffer of the value that r reads at step t; acc: whether to add into it.
  float* gbuf(const Ref& r, std::size_t t, bool& acc) {
    if (t < r.lag || !(*needs_grad)[r.tensor]) return nullptr;
    const std::size_t s = t - r.lag;
    acc = written[r.tensor][s] != 0;
    written[r.tensor][s] = 1;
    return grad[r.tensor].data() + s * B * sz(r.tensor);
  }
  const float* gout(std::uint32_t tensor, std::size_t t) const {
    if (!written[tensor][t]) return nullptr;
    return grad[tensor].data() + t * B * sz(tensor);
  }
  float* pgrad(int p, bool& acc) {
    acc = P.grad_written[std::size_t(p)] != 0;
    P.grad_written[std::size_t(p)] = 1;
    return P.grad[std::size_t(p)].data();
  }
  bool trainable(int p) const { return p >= 0 && g.params[std::size_t(p)].trainable; }

  // ------------------------------------------------------------------ helpers

  /// dst (=|+=) src over n floats.
  void put(float* dst, const float* src, std::size_t n, bool acc, float scale = 1.f) {
    if (acc) {
#pragma omp parallel for num_threads(threads) schedule(static) if (n > 65536)
      for (std::size_t i = 0; i < n; ++i) dst[i] += scale * src[i];
    } else {
#pragma omp parallel for num_threads(threads) schedule(static) if (n > 65536)
      for (std::size_t i = 0; i < n; ++i) dst[i] = scale * src[i];
    }
  }

  /// Column sums of a [rows][cols] matrix into out (=|+=).
  void colsum(const float* m, std::size_t rows, std::size_t cols, float* out, bool acc) {
    if (!acc) std::fill(out, out + cols, 0.f);
    for (std::size_t r = 0; r < rows; ++r) {
      const float* mr = m + r * cols;
      for (std::size_t c = 0; c < cols; ++c) out[c] += mr[c];
    }
  }

  // ------------------------------------------------------------------ conv (oneDNN)

  ConvPrims& conv_prims(std::size_t oi) {
    auto& list = convs[oi];
    for (auto& c : list)
      if (c->batch == B && (c->train || !training)) return *c;
    const Op& op = g.ops[oi];
    const ir::LayerSpec& s = *op.layer;
    auto cp = std::make_unique<ConvPrims>();
    cp->batch = B;
    cp->train = training;
    cp->with_bias = op.bias >= 0;
    const memory::dims src{memory::dim(B), memory::dim(s.in_c), memory::dim(s.in_h),
                           memory::dim(s.in_w)};
    const memory::dims wei{memory::dim(s.out_c), memory::dim(s.in_c), memory::dim(s.kh),
                           memory::dim(s.kw)};
    const memory::dims dst{memory::dim(B), memory::dim(s.out_c), memory::dim(s.out_h),
                           memory::dim(s.out_w)};
    const memory::dims strides{memory::dim(s.sh), memory::dim(s.sw)};
    const memory::dims pl{memory::dim(s.pad_top), memory::dim(s.pad_left)};
    const memory::dims pr{memory::dim(s.pad_bottom), memory::dim(s.pad_right)};
    cp->src_md = memory::desc(src, DT::f32, Tag::nhwc);
    cp->dst_md = memory::desc(dst, DT::f32, Tag::nhwc);
    cp->user_w_md = memory::desc(wei, DT::f32, Tag::hwio);
    cp->bias_md = memory::desc({memory::dim(s.out_c)}, DT::f32, Tag::a);
    const memory::desc w_any(wei, DT::f32, Tag::any);
    const auto alg = dnnl::algorithm::convolution_direct;
    auto fd =
        cp->with_bias
            ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, cp->src_md,
                                              w_any, cp->bias_md, cp->dst_md, strides, pl, pr)
            : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, cp->src_md,
                                              w_any, cp->dst_md, strides, pl, pr);
    auto fpd = dnnl::convolution_forward::primitive_desc(fd, eng);
    cp->fwd = dnnl::convolution_forward(fpd);
    if (fpd.weights_desc() != cp->user_w_md) {
      cp->reorder_fwd = true;
      cp->w_fwd = memory(fpd.weights_desc(), eng);
    }
    cp->has_bd = (*needs_grad)[op.in[0].tensor] != 0 && training;
    if (cp->has_bd) {
      auto bd = dnnl::convolution_backward_data::desc(alg, cp->src_md, w_any, cp->dst_md, strides,
                                                      pl, pr);
      auto bdpd = dnnl::convolution_backward_data::primitive_desc(bd, eng, fpd);
      cp->bwd_d = dnnl::convolution_backward_data(bdpd);
      if (bdpd.weights_desc() != cp->user_w_md) {
        cp->reorder_bd = true;
        cp->w_bd = memory(bdpd.weights_desc(), eng);
      }
    }
    cp->has_bw = training && (trainable(op.weight) || trainable(op.bias));
    if (cp->has_bw) {
      auto bw = cp->with_bias
                    ? dnnl::convolution_backward_weights::desc(alg, cp->src_md, w_any, cp->bias_md,
                                                               cp->dst_md, strides, pl, pr)
                    : dnnl::convolution_backward_weights::desc(alg, cp->src_md, w_any, cp->dst_md,
                                                               strides, pl, pr);
      auto bwpd = dnnl::convolution_backward_weights::primitive_desc(bw, eng, fpd);
      cp->bwd_w = dnnl::convolution_backward_weights(bwpd);
      cp->dw = memory(bwpd.diff_weights_desc(), eng);
      cp->reorder_dw = bwpd.diff_weights_desc() != cp->user_w_md;
    }
    list.push_back(std::move(cp));
    return *list.back();
  }

  memory user_w(ConvPrims& cp, const Op& op) {
    return memory(cp.user_w_md, eng, P.value[std::size_t(op.weight)].data());
  }

  // ------------------------------------------------------------------ conv (im2col + GEMM)
  // For convolutions with few input channels (the first layer of an image net, C = 1) a
  // direct convolution uses the vector units badly; lowering to a GEMM with K = kh·kw·C is
  // several times faster there (measured: 1.3 ms vs 4.7 ms fwd+bwd for MNIST's first layer).

  static bool use_gemm(const ir::LayerSpec& s) {
    return s.kh * s.kw * s.in_c <= 32;
  }

  /// col[(b, oy, ox)][(ky, kx, c)] = x[b, oy·sh + ky − pt, ox·sw + kx − pl, c] (0 outside),
  /// plus a trailing 1 per row when `ones` (the bias row of the augmented kernel).
  void im2col(const ir::LayerSpec& s, const float* x, float* col, bool ones, std::size_t b0,
              std::size_t b1) {
    const std::size_t C = s.in_c, K = s.kh * s.kw * C + (ones ? 1 : 0), run = s.kw * C;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::size_t b = b0; b < b1; ++b) {
      const float* xb = x + b * s.size_in();
      for (std::size_t oy = 0; oy < s.out_h; ++oy)
        for (std::size_t ox = 0; ox < s.out_w; ++ox) {
          float* c = col + (((b - b0) * s.out_h + oy) * s.out_w + ox) * K;
          const long ix0 = long(ox * s.sw) - long(s.pad_left);
          const bool x_inside = ix0 >= 0 && ix0 + long(s.kw) <= long(s.in_w);
          for (std::size_t ky = 0; ky < s.kh; ++ky, c += run) {
            const long iy = long(oy * s.sh + ky) - long(s.pad_top);
            if (iy < 0 || iy >= long(s.in_h)) {
              for (std::size_t q = 0; q < run; ++q) c[q] = 0.f;
              continue;
            }
            const float* src = xb + (std::size_t(iy) * s.in_w) * C;
            if (x_inside) {  // the kw·C values of this kernel row are contiguous in x
              const float* r = src + std::size_t(ix0) * C;
              switch (run) {  // short rows (the first layer: 3 values) as fixed-size copies
                case 3:
                  std::memcpy(c, r, 3 * sizeof(float));
                  break;
                case 5:
                  std::memcpy(c, r, 5 * sizeof(float));
                  break;
                default:
                  for (std::size_t q = 0; q < run; ++q) c[q] = r[q];
              }
              continue;
            }
            for (std::size_t kx = 0; kx < s.kw; ++kx) {
              const long ix = ix0 + long(kx);
              const bool in = ix >= 0 && ix < long(s.in_w);
              for (std::size_t q = 0; q < C; ++q)
                c[kx * C + q] = in ? src[std::size_t(ix) * C + q] : 0.f;
            }
          }
          if (ones) *c = 1.f;
        }
    }
  }

  /// gx (+)= col2im(gcol) (gcol rows of K = kh·kw·C values).
  void col2im(const ir::LayerSpec& s, const float* gcol, float* gx, bool acc) {
    const std::size_t K = s.kh * s.kw * s.in_c, C = s.in_c;
    if (!acc) std::fill(gx, gx + B * s.size_in(), 0.f);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::size_t b = 0; b < B; ++b) {
      float* gxb = gx + b * s.size_in();
      for (std::size_t oy = 0; oy < s.out_h; ++oy)
        for (std::size_t ox = 0; ox < s.out_w; ++ox) {
          const float* c = gcol + ((b * s.out_h + oy) * s.out_w + ox) * K;
          for (std::size_t ky = 0; ky < s.kh; ++ky) {
            const long iy = long(oy * s.sh + ky) - long(s.pad_top);
            for (std::size_t kx = 0; kx < s.kw; ++kx, c += C) {
              const long ix = long(ox * s.sw + kx) - long(s.pad_left);
              if (iy < 0 || iy >= long(s.in_h) || ix < 0 || ix >= long(s.in_w)) continue;
              float* d = gxb + (std::size_t(iy) * s.in_w + std::size_t(ix)) * C;
              for (std::size_t q = 0; q < C; ++q) d[q] += c[q];
            }
          }
        }
    }
  }

  /// Items per im2col chunk: the chunk's columns stay in the core's L2 cache between the
  /// im2col and the GEMM that reads them.
  std::size_t col_chunk(const ir::LayerSpec& s) const {
    const std::size_t per_item = s.out_h * s.out_w * (s.kh * s.kw * s.in_c + 1) * sizeof(float);
    return std::clamp<std::size_t>((std::size_t(512) << 10) / std::max<std::size_t>(per_item, 1), 1,
                                   B);
  }

  /// y = [col | 1] · [W; b]: the bias is the last row of an augmented kernel, so the GEMM
  /// writes y once (and its backward gives d kernel and d bias together).
  void gemm_conv_forward(std::size_t oi, const float* x, float* y) {
    const Op& op = g.ops[oi];
    const ir::LayerSpec& s = *op.layer;
    const bool hb = op.bias >= 0;
    const std::size_t P0 = s.out_h * s.out_w, K0 = s.kh * s.kw * s.in_c, F = s.out_c;
    const std::size_t K = K0 + (hb ? 1 : 0);
    const float* w = P.value[std::size_t(op.weight)].data();
    if (hb) {
      waug.resize(K * F);
      std::copy(w, w + K0 * F, waug.begin());
      const auto& bv = P.value[std::size_t(op.bias)];
      std::copy(bv.begin(), bv.end(), waug.begin() + std::ptrdiff_t(K0 * F));
      w = waug.data();
    }
    const std::size_t chunk = col_chunk(s);
    colbuf.resize(chunk * P0 * K);
    for (std::size_t b0 = 0; b0 < B; b0 += chunk) {
      const std::size_t b1 = std::min(B, b0 + chunk);
      im2col(s, x, colbuf.data(), hb, b0, b1);
      sgemm('N', 'N', (b1 - b0) * P0, F, K, 1.f, colbuf.data(), K, w, F, 0.f, y + b0 * P0 * F, F);
    }
  }

  void gemm_conv_backward(std::size_t oi, std::size_t t, const float* gy) {
    const Op& op = g.ops[oi];
    const ir::LayerSpec& s = *op.layer;
    const bool hb = op.bias >= 0;
    const std::size_t P0 = s.out_h * s.out_w, K0 = s.kh * s.kw * s.in_c, F = s.out_c;
    const std::size_t K = K0 + (hb ? 1 : 0);
    const float* x = in_val(op.in[0], t);
    const std::size_t chunk = col_chunk(s);
    if (trainable(op.weight) || (hb && trainable(op.bias))) {
      // [dW; db] = [col | 1]ᵀ · gy (im2col recomputed rather than kept from the forward).
      // One GEMM over the whole batch (many small ones parallelise badly).
      (void)chunk;
      gaug.resize(K * F);
      colfull.resize(B * P0 * K);
      im2col(s, x, colfull.data(), hb, 0, B);
      sgemm('T', 'N', K, F, B * P0, 1.f, colfull.data(), K, gy, F, 0.f, gaug.data(), F);
      if (trainable(op.weight)) {
        bool acc = false;
        float* gw = pgrad(op.weight, acc);
        put(gw, gaug.data(), K0 * F, acc);
      }
      if (hb && trainable(op.bias)) {
        bool acc = false;
        float* gb = pgrad(op.bias, acc);
        put(gb, gaug.data() + K0 * F, F, acc);
      }
    }
    bool acc = false;
    float* gx = gbuf(op.in[0], t, acc);
    if (gx == nullptr) return;
    tmp.resize(B * P0 * K0);
    sgemm('N', 'T', B * P0, K0, F, 1.f, gy, F, P.value[std::size_t(op.weight)].data(), F, 0.f,
          tmp.data(), K0);
    col2im(s, tmp.data(), gx, acc);
  }

  void conv_forward(std::size_t oi, const float* x, float* y) {
    const Op& op = g.ops[oi];
    const ir::LayerSpec& s = *op.layer;
    if (x == nullptr) {  // zero input: the output is the bias
      const float* b = op.bias >= 0 ? P.value[std::size_t(op.bias)].data() : nullptr;
      for (std::size_t i = 0; i < B * s.size_out(); ++i) y[i] = b ? b[i % s.out_c] : 0.f;
      return;
    }
    ConvPrims& cp = conv_prims(oi);
    memory w = user_w(cp, op);
    if (cp.reorder_fwd) {
      if (cp.w_fwd_version != P.version) {
        dnnl::reorder(w, cp.w_fwd).execute(strm, w, cp.w_fwd);
        cp.w_fwd_version = P.version;
      }
      w = cp.w_fwd;
    }
    memory src(cp.src_md, eng, const_cast<float*>(x));
    memory dst(cp.dst_md, eng, y);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}};
    if (cp.with_bias)
      args.insert({DNNL_ARG_BIAS, memory(cp.bias_md, eng, P.value[std::size_t(op.bias)].data())});
    cp.fwd.execute(strm, args);
    strm.wait();
  }

  void conv_backward(std::size_t oi, std::size_t t, const float* gy) {
    const Op& op = g.ops[oi];
    const ir::LayerSpec& s = *op.layer;
    const float* x = in_val(op.in[0], t);
    ConvPrims& cp = conv_prims(oi);
    memory dd(cp.dst_md, eng, const_cast<float*>(gy));
    if (cp.has_bw && x != nullptr) {
      bool accw = false, accb = false;
      float* gw = pgrad(op.weight, accw);
      float* gb = cp.with_bias ? pgrad(op.bias, accb) : nullptr;
      const std::size_t nw = P.value[std::size_t(op.weight)].size();
      // oneDNN overwrites its outputs: go through temporaries when accumulating.
      tmp.resize(nw);
      tmp2.resize(s.out_c);
      memory src(cp.src_md, eng, const_cast<float*>(x));
      memory udw(cp.user_w_md, eng, (accw || cp.reorder_dw) ? tmp.data() : gw);
      memory dwm = cp.reorder_dw ? cp.dw : udw;
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, dd}, {DNNL_ARG_DIFF_WEIGHTS, dwm}};
      if (cp.with_bias)
        args.insert({DNNL_ARG_DIFF_BIAS, memory(cp.bias_md, eng, accb ? tmp2.data() : gb)});
      cp.bwd_w.execute(strm, args);
      if (cp.reorder_dw) {
        memory target(cp.user_w_md, eng, accw ? tmp.data() : gw);
        dnnl::reorder(cp.dw, target).execute(strm, cp.dw, target);
      }
      strm.wait();
      if (accw)
        for (std::size_t i = 0; i < nw; ++i) gw[i] += tmp[i];
      if (cp.with_bias && accb)
        for (std::size_t i = 0; i < s.out_c; ++i) gb[i] += tmp2[i];
    } else if (cp.with_bias && trainable(op.bias)) {
      bool accb = false;
      float* gb = pgrad(op.bias, accb);
      if (!accb) std::fill(gb, gb + s.out_c, 0.f);
      for (std::size_t i = 0; i < B * s.size_out(); ++i) gb[i % s.out_c] += gy[i];
    }
    bool acc = false;
    float* gx = gbuf(op.in[0], t, acc);
    if (gx == nullptr) return;
    if (!cp.has_bd)
      throw SimulationError(op.name + ": internal error (no backward-data primitive)");
    memory w = user_w(cp, op);
    if (cp.reorder_bd) {
      if (cp.w_bd_version != P.version) {
        dnnl::reorder(w, cp.w_bd).execute(strm, w, cp.w_bd);
        cp.w_bd_version = P.version;
      }
      w = cp.w_bd;
    }
    const std::size_t nx = B * s.size_in();
    if (acc) tmp.resize(nx);
    memory ds(cp.src_md, eng, acc ? tmp.data() : gx);
    cp.bwd_d.execute(strm,
                     {{DNNL_ARG_DIFF_DST, dd}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, ds}});
    strm.wait();
    if (acc) put(gx, tmp.data(), nx, true);
  }

  // ------------------------------------------------------------------ pooling

  static float window_count(const ir::LayerSpec& s, std::size_t oy, std::size_t ox) {
    auto span = [](std::size_t o, std::size_t st, std::size_t k, std::size_t pad, std::size_t in) {
      const long lo = long(o * st) - long(pad);
      const long hi = lo + long(k);
      return std::size_t(std::max(0L, std::min(hi, long(in)) - std::max(lo, 0L)));
    };
    return float(span(oy, s.sh, s.kh, s.pad_top, s.in_h) *
                 span(ox, s.sw, s.kw, s.pad_left, s.in_w));
  }

  /// Visits (output pixel, input pixel, 1/count) triples of one item.
  template <class F>
  static void pool_visit(const ir::LayerSpec& s, F&& f) {
    for (std::size_t oy = 0; oy < s.out_h; ++oy)
      for (std::size_t ox = 0; ox < s.out_w; ++ox) {
        const float inv = 1.f / window_count(s, oy, ox);
        for (std::size_t ky = 0; ky < s.kh; ++ky) {
          const long iy = long(oy * s.sh + ky) - long(s.pad_top);
          if (iy < 0 || iy >= long(s.in_h)) continue;
          for (std::size_t kx = 0; kx < s.kw; ++kx) {
            const long ix = long(ox * s.sw + kx) - long(s.pad_left);
            if (ix < 0 || ix >= long(s.in_w)) continue;
            f(oy * s.out_w + ox, std::size_t(iy) * s.in_w + std::size_t(ix), inv);
          }
        }
      }
  }

  void pool_forward(const Op& op, const float* x, float* y) {
    const ir::LayerSpec& s = *op.layer;
    const std::size_t C = s.in_c, ni = s.size_in(), no = s.size_out();
    std::fill(y, y + B * no, 0.f);
    if (x == nullptr) return;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::size_t b = 0; b < B; ++b) {
      const float* xb = x + b * ni;
      float* yb = y + b * no;
      pool_visit(s, [&](std::size_t o, std::size_t i, float inv) {
        for (std::size_t c = 0; c < C; ++c) yb[o * C + c] += inv * xb[i * C + c];
      });
    }
  }

  void pool_backward(const Op& op, std::size_t t, const float* gy) {
    bool acc = false;
    float* gx = gbuf(op.in[0], t, acc);
    if (gx == nullptr) return;
    const ir::LayerSpec& s = *op.layer;
    const std::size_t C = s.in_c, ni = s.size_in(), no = s.size_out();
    if (!acc) std::fill(gx, gx + B * ni, 0.f);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::size_t b = 0; b < B; ++b) {
      float* gxb = gx + b * ni;
      const float* gyb = gy + b * no;
      pool_visit(s, [&](std::size_t o, std::size_t i, float inv) {
        for (std::size_t c = 0; c < C; ++c) gxb[i * C + c] += inv * gyb[o * C + c];
      });
    }
  }

  // ------------------------------------------------------------------ forward

  void forward_op(std::size_t oi, std::size_t t) {
    const Op& op = g.ops[oi];
    const std::size_t n = sz(op.out);
    float* y = buf(op.out, t);
    switch (op.kind) {
      case OpKind::Input: {
        const Feed* f = op.node < feeds.size() ? feeds[op.node] : nullptr;
        if (f != nullptr) {
          const std::size_t step = f->steps == 1 ? 0 : t;
#pragma omp parallel for num_threads(threads) schedule(static) if (B * n > 65536)
          for (std::size_t b = 0; b < B; ++b)
            std::memcpy(y + b * n, f->data + (std::size_t(f->rows[b]) * f->steps + step) * n,
                        n * sizeof(float));
          return;
        }
        std::vector<float> row(n, 0.f);
        if (op.node_kind == ir::NodeOp::Kind::Constant) {
          row = op.constant;
        } else if (op.node_kind == ir::NodeOp::Kind::FnT) {
          const double time = double(t + 1) * g.dt;
          ir::take_node_output(op.name, op.fn_t(time), n, time, row.data());
        } else {
          throw SimulationError(op.name +
                                ": this input node has no fixed output (a process); "
                                "feed it data");
        }
        for (std::size_t b = 0; b < B; ++b) std::copy(row.begin(), row.end(), y + b * n);
        return;
      }
      case OpKind::Sum: {
        bool first = true;
        for (const Ref& r : op.in) {
          const float* x = in_val(r, t);
          if (x == nullptr) continue;
          put(y, x, B * n, !first);
          first = false;
        }
        if (first) std::fill(y, y + B * n, 0.f);
        return;
      }
      case OpKind::Gather: {
        const float* x = in_val(op.in[0], t);
        const std::size_t ni = sz(op.in[0].tensor);
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t k = 0; k < n; ++k)
            y[b * n + k] = x ? x[b * ni + std::size_t(op.idx[k])] : 0.f;
        return;
      }
      case OpKind::Scatter: {
        const float* x = in_val(op.in[0], t);
        const std::size_t ni = sz(op.in[0].tensor);
        std::fill(y, y + B * n, 0.f);
        if (x == nullptr) return;
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t k = 0; k < ni; ++k) y[b * n + std::size_t(op.idx[k])] += x[b * ni + k];
        return;
      }
      case OpKind::Bias: {
        const float* x = in_val(op.in[0], t);
        const float* bv = P.value[std::size_t(op.bias)].data();
        const std::size_t nb = P.value[std::size_t(op.bias)].size();
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t k = 0; k < n; ++k) y[b * n + k] = (x ? x[b * n + k] : 0.f) + bv[k % nb];
        return;
      }
      case OpKind::Dense: {
        const float* x = in_val(op.in[0], t);
        const std::size_t ni = sz(op.in[0].tensor);
        if (op.bias >= 0) {
          const float* bv = P.value[std::size_t(op.bias)].data();
          for (std::size_t b = 0; b < B; ++b) std::copy(bv, bv + n, y + b * n);
        }
        if (x == nullptr) {
          if (op.bias < 0) std::fill(y, y + B * n, 0.f);
          return;
        }
        sgemm('N', 'N', B, n, ni, 1.f, x, ni, P.value[std::size_t(op.weight)].data(), n,
              op.bias >= 0 ? 1.f : 0.f, y, n);
        return;
      }
      case OpKind::Layer: {
        const float* x = in_val(op.in[0], t);
        if (op.layer->kind != ir::LayerSpec::Kind::Convolution)
          pool_forward(op, x, y);
        else if (x != nullptr && use_gemm(*op.layer))
          gemm_conv_forward(oi, x, y);
        else
          conv_forward(oi, x, y);
        return;
      }
      case OpKind::Neurons: {
        const float* gin = op.has_gain_in ? in_val(op.in[0], t) : nullptr;
        const float* raw = op.has_raw_in ? in_val(op.in[op.has_gain_in ? 1 : 0], t) : nullptr;
        const float* gain = op.gain.data();
        const float* bias = P.value[std::size_t(op.bias)].data();
        float* d = training ? deriv[oi].data() + t * B * n : nullptr;
        const RateKernel& kern = *kernels[oi];
#pragma omp parallel num_threads(threads)
        {
          std::vector<float> J(d ? 0 : n);
#pragma omp for schedule(static)
          for (std::size_t b = 0; b < B; ++b) {
            float* Jb = d ? d + b * n : J.data();
            const float* gb = gin ? gin + b * n : nullptr;
            const float* rb = raw ? raw + b * n : nullptr;
            if (gb && rb) {
              for (std::size_t k = 0; k < n; ++k) Jb[k] = gain[k] * gb[k] + rb[k] + bias[k];
            } else if (gb) {
              for (std::size_t k = 0; k < n; ++k) Jb[k] = gain[k] * gb[k] + bias[k];
            } else if (rb) {
              for (std::size_t k = 0; k < n; ++k) Jb[k] = rb[k] + bias[k];
            } else {
              std::copy(bias, bias + n, Jb);
            }
            kern.run(n, Jb, y + b * n, d ? Jb : nullptr);
          }
        }
        return;
      }
      case OpKind::Filter: {
        const float* x = in_val(op.in[0], t);
        const float* prev = t > 0 ? buf(op.out, t - 1) : nullptr;
        const float a = op.fa, bb = op.fb;
        for (std::size_t i = 0; i < B * n; ++i)
          y[i] = (prev ? a * prev[i] : 0.f) + (x ? bb * x[i] : 0.f);
        return;
      }
    }
  }

  // ------------------------------------------------------------------ backward

  void backward_op(std::size_t oi, std::size_t t) {
    const Op& op = g.ops[oi];
    const std::size_t n = sz(op.out);
    const float* gy = gout(op.out, t);
    if (gy == nullptr) return;  // no gradient reached this value
    switch (op.kind) {
      case OpKind::Input:
        return;
      case OpKind::Sum:
        for (const Ref& r : op.in) {
          bool acc = false;
          float* gx = gbuf(r, t, acc);
          if (gx) put(gx, gy, B * n, acc);
        }
        return;
      case OpKind::Gather: {
        bool acc = false;
        float* gx = gbuf(op.in[0], t, acc);
        if (!gx) return;
        const std::size_t ni = sz(op.in[0].tensor);
        if (!acc) std::fill(gx, gx + B * ni, 0.f);
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t k = 0; k < n; ++k) gx[b * ni + std::size_t(op.idx[k])] += gy[b * n + k];
        return;
      }
      case OpKind::Scatter: {
        bool acc = false;
        float* gx = gbuf(op.in[0], t, acc);
        if (!gx) return;
        const std::size_t ni = sz(op.in[0].tensor);
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t k = 0; k < ni; ++k) {
            const float v = gy[b * n + std::size_t(op.idx[k])];
            gx[b * ni + k] = acc ? gx[b * ni + k] + v : v;
          }
        return;
      }
      case OpKind::Bias: {
        if (trainable(op.bias)) {
          bool accb = false;
          float* gb = pgrad(op.bias, accb);
          const std::size_t nb = P.value[std::size_t(op.bias)].size();
          if (!accb) std::fill(gb, gb + nb, 0.f);
          for (std::size_t b = 0; b < B; ++b)
            for (std::size_t k = 0; k < n; ++k) gb[k % nb] += gy[b * n + k];
        }
        bool acc = false;
        float* gx = gbuf(op.in[0], t, acc);
        if (gx) put(gx, gy, B * n, acc);
        return;
      }
      case OpKind::Dense: {
        const float* x = in_val(op.in[0], t);
        const std::size_t ni = sz(op.in[0].tensor);
        if (trainable(op.weight) && x != nullptr) {
          bool acc = false;
          float* gw = pgrad(op.weight, acc);
          sgemm('T', 'N', ni, n, B, 1.f, x, ni, gy, n, acc ? 1.f : 0.f, gw, n);
        }
        if (trainable(op.bias)) {
          bool acc = false;
          float* gb = pgrad(op.bias, acc);
          colsum(gy, B, n, gb, acc);
        }
        bool acc = false;
        float* gx = gbuf(op.in[0], t, acc);
        if (gx)
          sgemm('N', 'T', B, ni, n, 1.f, gy, n, P.value[std::size_t(op.weight)].data(), n,
                acc ? 1.f : 0.f, gx, ni);
        return;
      }
      case OpKind::Layer:
        if (op.layer->kind != ir::LayerSpec::Kind::Convolution)
          pool_backward(op, t, gy);
        else if (in_val(op.in[0], t) != nullptr && use_gemm(*op.layer))
          gemm_conv_backward(oi, t, gy);
        else
          conv_backward(oi, t, gy);
        return;
      case OpKind::Neurons: {
        const float* d = deriv[oi].data() + t * B * n;
        const float* gain = op.gain.data();
        bool acc_g = false, acc_r = false;
        float* gg = op.has_gain_in ? gbuf(op.in[0], t, acc_g) : nullptr;
        float* gr = op.has_raw_in ? gbuf(op.in[op.has_gain_in ? 1 : 0], t, acc_r) : nullptr;
        const bool want_bias = trainable(op.bias);
        const int nt = threads;
        std::vector<float> part(want_bias ? std::size_t(nt) * n : 0, 0.f);
#pragma omp parallel num_threads(nt)
        {
          float* pb = want_bias ? part.data() + std::size_t(omp_get_thread_num()) * n : nullptr;
#pragma omp for schedule(static)
          for (std::size_t b = 0; b < B; ++b) {
            const float* gyb = gy + b * n;
            const float* db = d + b * n;
            float* ggb = gg ? gg + b * n : nullptr;
            float* grb = gr ? gr + b * n : nullptr;
            for (std::size_t k = 0; k < n; ++k) {
              const float gj = gyb[k] * db[k];
              if (pb) pb[k] += gj;
              if (ggb) ggb[k] = acc_g ? ggb[k] + gain[k] * gj : gain[k] * gj;
              if (grb) grb[k] = acc_r ? grb[k] + gj : gj;
            }
          }
        }
        if (want_bias) {
          bool acc = false;
          float* gb = pgrad(op.bias, acc);
          if (!acc) std::fill(gb, gb + n, 0.f);
          for (int q = 0; q < nt; ++q) {
            const float* pq = part.data() + std::size_t(q) * n;
            for (std::size_t k = 0; k < n; ++k) gb[k] += pq[k];
          }
        }
        return;
      }
      case OpKind::Filter: {
        bool acc = false;
        float* gx = gbuf(op.in[0], t, acc);
        if (gx) put(gx, gy, B * n, acc, op.fb);
        if (t > 0 && op.fa != 0.f) {
          bool accp = written[op.out][t - 1] != 0;
          written[op.out][t - 1] = 1;
          put(grad[op.out].data() + (t - 1) * B * n, gy, B * n, accp, op.fa);
        }
        return;
      }
    }
  }
};

CpuExecutor::CpuExecutor(const Graph& g, ParamStore& params, int threads)
    : impl_(std::make_unique<Impl>(g, params, threads > 0 ? threads : omp_get_max_threads())) {
  auto& I = *impl_;
  I.kernels.resize(g.ops.size());
  I.convs.resize(g.ops.size());
  I.deriv.resize(g.ops.size());
  for (std::size_t oi = 0; oi < g.ops.size(); ++oi)
    if (g.ops[oi].kind == OpKind::Neurons) I.kernels[oi] = make_rate_kernel(g.ops[oi].rate_type);
  // needs_grad: a trainable parameter upstream (fixed point, since lagged refs can loop).
  needs_grad_.assign(g.tensors.size(), 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (const Op& op : g.ops) {
      bool ng = I.trainable(op.weight) || I.trainable(op.bias);
      for (const Ref& r : op.in) ng = ng || needs_grad_[r.tensor];
      if (op.kind == OpKind::Filter) ng = ng || needs_grad_[op.out];
      if (ng && !needs_grad_[op.out]) {
        needs_grad_[op.out] = 1;
        changed = true;
      }
    }
  }
  I.needs_grad = &needs_grad_;
}

CpuExecutor::~CpuExecutor() = default;

void CpuExecutor::prepare(std::size_t batch, std::size_t steps, bool training) {
  auto& I = *impl_;
  if (batch == 0 || steps == 0)
    throw SimulationError("CpuExecutor: batch and steps must be positive");
  batch_ = batch;
  steps_ = steps;
  I.B = batch;
  I.T = steps;
  I.training = training;
  const Graph& g = I.g;
  I.val.resize(g.tensors.size());
  I.grad.resize(g.tensors.size());
  I.written.resize(g.tensors.size());
  for (std::size_t k = 0; k < g.tensors.size(); ++k) {
    const std::size_t n = steps * batch * g.tensors[k].size;
    if (I.val[k].size() < n) I.val[k].resize(n);
    if (training && needs_grad_[k] && I.grad[k].size() < n) I.grad[k].resize(n);
    I.written[k].assign(steps, 0);
  }
  for (std::size_t oi = 0; oi < g.ops.size(); ++oi)
    if (training && g.ops[oi].kind == OpKind::Neurons) {
      const std::size_t n = steps * batch * g.tensors[g.ops[oi].out].size;
      if (I.deriv[oi].size() < n) I.deriv[oi].resize(n);
    }
}

void CpuExecutor::set_feed(std::size_t node, const Feed& f) {
  auto& I = *impl_;
  if (I.feeds.size() < I.g.node_out.size()) I.feeds.assign(I.g.node_out.size(), nullptr);
  I.feed_store.reserve(I.g.node_out.size());
  if (I.feed_store.size() >= I.g.node_out.size())
    throw SimulationError("CpuExecutor: too many feeds");
  I.feed_store.push_back(f);
  I.feeds[node] = &I.feed_store.back();
}

void CpuExecutor::clear_feeds() {
  impl_->feeds.assign(impl_->g.node_out.size(), nullptr);
  impl_->feed_store.clear();
  impl_->feed_store.reserve(impl_->g.node_out.size());
}

void CpuExecutor::forward(const std::vector<std::uint8_t>* mask) {
  auto& I = *impl_;
  ThreadScope ts(I.threads);
  for (auto& w : I.written) std::fill(w.begin(), w.end(), 0);
  for (std::size_t t = 0; t < I.T; ++t)
    for (std::size_t oi = 0; oi < I.g.ops.size(); ++oi) {
      if (mask && !(*mask)[oi]) continue;
      if (!I.profile) {
        I.forward_op(oi, t);
        continue;
      }
      const auto t0 = std::chrono::steady_clock::now();
      I.forward_op(oi, t);
      I.t_fwd[oi] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
}

const float* CpuExecutor::value(Ref r, std::size_t t) const {
  return impl_->in_val(r, t);
}

float* CpuExecutor::loss_grad(Ref r, std::size_t t) {
  auto& I = *impl_;
  if (!I.training) throw SimulationError("CpuExecutor: loss_grad needs prepare(training=true)");
  bool acc = false;
  float* p = I.gbuf(r, t, acc);
  if (p == nullptr) return nullptr;
  if (!acc) std::fill(p, p + I.B * I.sz(r.tensor), 0.f);
  return p;
}

void CpuExecutor::backward() {
  auto& I = *impl_;
  if (!I.training) throw SimulationError("CpuExecutor: backward needs prepare(training=true)");
  ThreadScope ts(I.threads);
  for (std::size_t t = I.T; t-- > 0;)
    for (std::size_t oi = I.g.ops.size(); oi-- > 0;) {
      if (!needs_grad_[I.g.ops[oi].out]) continue;
      const auto t0 = std::chrono::steady_clock::now();
      I.backward_op(oi, t);
      if (I.profile)
        I.t_bwd[oi] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
}

}  // namespace myelin::train
