// CPU executor for the trainer's op graph: batched forward and backward over T steps with
// rate neurons. Convolutions (forward, backward data, backward weights) run on oneDNN, dense
// layers on oneDNN's sgemm, elementwise ops are OpenMP loops. A CUDA executor would implement
// the same interface on the same Graph.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "train/graph.hpp"

namespace myelin::train {

/// Parameter values and gradients, shared by the executors (same order as Graph::params).
struct ParamStore {
  std::vector<std::vector<float>> value, grad;
  std::vector<std::uint8_t> grad_written;  ///< per param: grad holds this minibatch's sum
  std::uint64_t version = 0;               ///< bumped whenever values change
  void init(const Graph& g);
  void zero_grads();
};

/// Data of one input node for the current minibatch: item `rows[b]` of a dataset of
/// (items × steps × size) floats; steps == 1 means held constant over time.
struct Feed {
  const float* data = nullptr;
  std::size_t steps = 1, size = 0;
  const std::int64_t* rows = nullptr;
};

class CpuExecutor {
 public:
  CpuExecutor(const Graph& g, ParamStore& params, int threads);
  ~CpuExecutor();
  CpuExecutor(const CpuExecutor&) = delete;
  CpuExecutor& operator=(const CpuExecutor&) = delete;

  /// Allocates buffers for `batch` items and `steps` steps (keeps them when big enough).
  void prepare(std::size_t batch, std::size_t steps, bool training);
  /// Data for node `node` (an Input op); unfed input nodes use their constant / f(t).
  void set_feed(std::size_t node, const Feed& f);
  void clear_feeds();
  /// Runs every op (or only those with mask[op] != 0) for all steps.
  void forward(const std::vector<std::uint8_t>* mask = nullptr);
  /// Value of r at step t: [batch][size], or nullptr meaning all zeros (t < lag).
  const float* value(Ref r, std::size_t t) const;
  /// The gradient buffer of r at step t, for a loss to fill ([batch][size]); zeroed the
  /// first time it is requested after prepare().
  float* loss_grad(Ref r, std::size_t t);
  /// Backpropagates the loss gradients through all steps into params.grad (which the caller
  /// zeroes once per minibatch with ParamStore::zero_grads).
  void backward();

  std::size_t batch() const { return batch_; }
  std::size_t steps() const { return steps_; }
  /// True if a gradient can flow from a trainable parameter into tensor t.
  bool needs_grad(std::uint32_t tensor) const { return needs_grad_[tensor] != 0; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::size_t batch_ = 0, steps_ = 0;
  std::vector<std::uint8_t> needs_grad_;
};

}  // namespace myelin::train
