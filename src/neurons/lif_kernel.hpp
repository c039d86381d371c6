// The fused encode + LIF step used by the CPU executor's hot loop (not part of the public API).
// One pass over an ensemble: J = bias + E·x (+ extra) is formed in registers block by block,
// the LIF state is advanced and the indices of the neurons that fired are compacted, so J and
// the dense output never go through memory. See docs/design.md "Executor hot path".
#pragma once

#include <cstddef>
#include <cstdint>

#include "myelin/neurons.hpp"

namespace myelin::kernels {

/// Neurons per encoder tile: the tile holds, for each block of 16 neurons, the 16 values of
/// dimension 0, then of dimension 1, ... (the tail block zero-padded).
inline constexpr std::size_t kLifTile = 16;

/// n rounded up to whole tiles: the length of every per-neuron array the fused kernel touches.
inline constexpr std::size_t lif_padded(std::size_t n) {
  return (n + kLifTile - 1) / kLifTile * kLifTile;
}

/// dt/τ at or below which the kernel uses its short polynomials (the default LIF has 0.05).
inline constexpr double kShortPolyMax = 1.0 / 16.0;

/// Per-ensemble constants of the LIF step, computed once (lif_consts).
struct LifConsts {
  float dt;
  float inv_tau;  ///< 1 / tau_rc
  float tau_rc;
  float tau_ref;
  float full;  ///< -expm1(-dt / tau_rc), the factor for a whole (non-refractory) step
  float ymin;  ///< -full / (2 - full): atanh argument of log1p(-full)
  float atanh1, atanh3, atanh5;  ///< 2τ, 2τ/3, 2τ/5: τ·log1p via the atanh series
  float ref_base;                ///< tau_ref + dt
  float spike_out;               ///< amplitude / dt
  float min_voltage;
  bool short_poly;  ///< dt / tau_rc <= kShortPolyMax
};

LifConsts lif_consts(float dt, double tau_rc, double tau_ref, double min_voltage, double amplitude);
LifConsts lif_consts(const LIF& type, float dt);

/// Arguments of lif_fused_step. Every per-neuron array has lif_padded(n) entries; padding lanes
/// hold bias 0, tile 0, extra 0 and voltage/refractory state 0, so they never spike.
struct LifFusedArgs {
  std::size_t n = 0, d = 0;
  const float* bias = nullptr;      ///< [padded n]
  const float* enc_tile = nullptr;  ///< ceil(n/16)·16·d, tiled as above
  const float* x = nullptr;         ///< decoded input [d]
  const float* extra = nullptr;     ///< optional current added to J [padded n]
  float* J = nullptr;               ///< optional: J written here [padded n] (may equal extra)
  float* v = nullptr;               ///< voltage [padded n]
  float* ref = nullptr;             ///< refractory time [padded n]
  std::int32_t* fired = nullptr;    ///< indices of the neurons that spiked [padded n]
};

/// Writes the indices i < n with out[i] != 0 to `fired` (which has room for n) and returns how
/// many; skips all-zero blocks of 16 quickly.
std::size_t compact_nonzero(std::size_t n, const float* out, std::int32_t* fired);

/// True when `type` is exactly LIF and dt / tau_rc <= 0.5 (the polynomial kernel's range).
bool lif_fusable(const NeuronType& type, double dt);

/// One step for the ensemble; returns the number of fired indices written. Does not touch the
/// output array: spikes are c.spike_out at the fired indices.
std::size_t lif_fused_step(const LifConsts& c, const LifFusedArgs& a);

}  // namespace myelin::kernels
