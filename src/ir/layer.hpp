// Structured (layer) transforms in the model IR: convolution and average pooling on
// channels-last images (deep-snn §1.1). The builder fills a LayerSpec instead of a dense
// matrix; executors run it with their own kernels (the reference ones below are used by the
// NEF CPU executor and by the event-driven spiking evaluator).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "myelin/rng.hpp"
#include "myelin/transforms.hpp"

namespace myelin::ir {

struct LayerSpec {
  enum class Kind { Convolution, AvgPool } kind = Kind::Convolution;
  std::size_t in_h = 0, in_w = 0, in_c = 0;
  std::size_t out_h = 0, out_w = 0, out_c = 0;
  std::size_t kh = 1, kw = 1, sh = 1, sw = 1;
  std::size_t pad_top = 0, pad_left = 0;  ///< zero padding before the first row / column
  std::size_t pad_bottom = 0, pad_right = 0;
  /// Convolution kernel (kh, kw, in_c, out_c) in C order (Keras' HWIO): for an input element
  /// (y, x, c) the out_c weights of one tap are contiguous.
  std::vector<float> kernel;
  /// Scatter plan (filled by make_layer_spec): input row iy contributes through the taps
  /// row_taps[row_off[iy] .. row_off[iy + 1]) = (ky, oy) pairs; the same for columns.
  /// in_pix[e] = (iy << 16 | ix) of input element e; inv_count = 1 / pooling window size.
  struct Tap {
    std::uint32_t k, o;
  };
  std::vector<std::uint32_t> row_off, col_off, in_pix;
  std::vector<Tap> row_taps, col_taps;
  std::vector<float> inv_count;

  std::size_t size_in() const { return in_h * in_w * in_c; }
  std::size_t size_out() const { return out_h * out_w * out_c; }
  std::string repr() const;
};

/// Layer spec of a structured transform (kernel sampled with rng for a Convolution).
std::shared_ptr<const LayerSpec> make_layer_spec(const Transform& t, Rng& rng,
                                                 const std::string& who);

/// Reference kernels on one item (no batch): out += layer(x), visiting only the nonzero
/// elements of x (for spikes that is the event-driven "scatter the kernel" form). kernel
/// overrides spec.kernel when given (e.g. trained weights).
void layer_forward_add(const LayerSpec& spec, const float* x, float* out,
                       const float* kernel = nullptr);
/// Same, for the listed input elements only (indices into x; x[idx] is the value).
void layer_scatter_add(const LayerSpec& spec, const float* x, const std::int32_t* idx,
                       std::size_t n_idx, float* out, const float* kernel = nullptr);

/// Same with explicit values: input element idx[q] has value vals[q] (events). With a
/// scratch vector and ascending indices, a convolution with up to 128 filters (a multiple of
/// 16) runs output-stationary: each output pixel sums its taps' events in registers.
void layer_scatter_add_values(const LayerSpec& spec, const std::int32_t* idx, const float* vals,
                              std::size_t n_idx, float* out, const float* kernel = nullptr,
                              std::vector<std::uint32_t>* scratch = nullptr);

/// Adds a bias to u (size_out): per output element, or per channel (bias.size() == out_c of
/// a convolution, channels-last).
void add_bias(const std::vector<float>& bias, std::size_t size_out, float* u);

}  // namespace myelin::ir
