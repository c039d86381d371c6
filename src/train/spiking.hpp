// Spiking inference over the trainer's op graph: the real (spiking) neuron types, their state
// per minibatch row, time stepped like the NEF simulator (spec §1.2).
//
// Speed: (1) everything that depends only on inputs held constant over time (the first conv
// layer of an image classifier) is computed once per minibatch, batched, by the CPU executor;
// (2) the rest runs per item, one item per thread with all its buffers in cache, and every
// linear op whose input is a spiking layer is event-driven: only the neurons that fired add
// their weights (a conv scatters its kernel into the output map, a dense layer adds a row).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "train/cpu_executor.hpp"
#include "train/graph.hpp"

namespace myelin::train {

class SpikingRunner {
 public:
  SpikingRunner(const Graph& g, ParamStore& params, int threads);
  ~SpikingRunner();

  /// Runs `steps` steps for the `batch` items described by `feeds` (index = IR node; a null
  /// entry = not fed). Records probe_refs for every step into out[k] ([batch][steps][size]).
  /// keep_state: start from (and keep) the state left by the previous call, per batch row.
  void run(std::size_t batch, std::size_t steps, const std::vector<const Feed*>& feeds,
           const std::vector<Ref>& probe_refs, std::vector<std::vector<float>>& out,
           bool keep_state);
  /// Back to the initial state (random LIF voltages, zero synapses).
  void reset_state();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace myelin::train
