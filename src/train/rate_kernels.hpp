// Batched rate-neuron kernels for training: out = rate(J) and d = d rate / dJ in one pass
// (spec §4.1, §4.3, §4.8). LIFRate, SoftLIFRate and RectifiedLinear have branch-free float32
// kernels that g++ vectorises; any other stateless rate type falls back to its own step()
// and rate_derivative().
#pragma once

#include <cstddef>
#include <memory>

#include "myelin/neurons.hpp"

namespace myelin::train {

class RateKernel {
 public:
  virtual ~RateKernel() = default;
  /// out[i] = rate(J[i]); if d is not null, d[i] = rate'(J[i]). d may alias J.
  virtual void run(std::size_t n, const float* J, float* out, float* d) const = 0;
};

std::unique_ptr<RateKernel> make_rate_kernel(const NeuronTypePtr& rate_type);

}  // namespace myelin::train
