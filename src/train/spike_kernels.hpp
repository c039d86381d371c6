// Spiking-inference kernels for the event-driven runner (spiking.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "myelin/neurons.hpp"

namespace myelin::train {

/// One step of spiking LIF neurons with the exact semantics of LIF::step (spec §4.2), in three
/// passes: a branch-free integration of every neuron (with J = bias + gain ⊙ gin computed on
/// the fly when gin is given, else J read from J), compaction of the indices that fired, then
/// the sub-step spike times of just those (a few percent), so the expensive division and
/// logarithm run once per spike instead of once per neuron. Returns the number fired.
/// Falls back to type.step() when dt/tau_rc > 0.5.
struct LifFastArgs {
  const LIF* type = nullptr;
  float dt = 0.001f;
  std::size_t n = 0;
  const float* J = nullptr;    ///< input current, or null to compute it from gin/gain/bias
  const float* gin = nullptr;  ///< J = bias + gain ⊙ gin
  const float* gain = nullptr;
  const float* bias = nullptr;
  float* v = nullptr;
  float* ref = nullptr;
  float* out = nullptr;
  std::int32_t* fired = nullptr;
  float* scratch = nullptr;  ///< 2·n floats
};
std::size_t lif_step_fast(const LifFastArgs& a);

}  // namespace myelin::train
