// The trainer's op graph, compiled from the model IR (DESIGN.md: "rate/differentiable
// executor"). It is device independent: plain tensors (per-item sizes), ops in execution
// order within one time step, and parameters. Executors (CPU now, CUDA later) give each
// tensor a [steps][batch][size] buffer and implement every op's forward and backward.
//
// Time: every op runs once per step. An input Ref with lag L reads its tensor as it was L
// steps earlier (zero before the first step); synapses are Filter ops whose consumers read
// them with lag 1, which is Nengo's "a synapse delays by one step" rule (spec §1.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ir/model.hpp"

namespace myelin::train {

struct Ref {
  std::uint32_t tensor = 0;
  std::uint32_t lag = 0;
  bool operator==(const Ref&) const = default;
};

struct Tensor {
  std::string name;
  std::size_t size = 0;
};

enum class OpKind {
  Input,    ///< a node without input: fed data, else its constant / f(t) output
  Sum,      ///< out = Σ in_k
  Gather,   ///< out[k] = in[idx[k]]
  Scatter,  ///< out = 0; out[idx[k]] += in[k]
  Bias,     ///< out = in + b
  Dense,    ///< out = in · W (+ b); W is (in.size × out.size), row-major
  Layer,    ///< convolution (kernel W, + b) or average pooling (ir::LayerSpec)
  Neurons,  ///< J = gain ⊙ in_gain + in_raw + bias; out = rate(J) (spiking: the real neurons)
  Filter    ///< out[t] = a·out[t−1] + b·in[t] (Lowpass; a = 0 for a pass-through)
};

struct Op {
  OpKind kind = OpKind::Sum;
  std::string name;  ///< the IR object it comes from, for error messages
  std::vector<Ref> in;
  std::uint32_t out = 0;
  int weight = -1, bias = -1;  ///< parameter indices (Dense/Layer kernel; biases)
  // Input
  std::size_t node = 0;
  ir::NodeOp::Kind node_kind = ir::NodeOp::Kind::Constant;
  std::vector<float> constant;
  std::function<std::vector<double>(double)> fn_t;
  // Gather / Scatter
  std::vector<int> idx;
  // Layer
  std::shared_ptr<const ir::LayerSpec> layer;
  // Neurons: in[0] is the gain input when has_gain_in, then the raw input when has_raw_in.
  bool has_gain_in = false, has_raw_in = false;
  std::size_t ens = 0;
  NeuronTypePtr spiking_type, rate_type;
  std::vector<float> gain;
  std::vector<std::vector<float>> init_state;
  // Filter
  float fa = 0.f, fb = 1.f;
};

struct Param {
  std::string name;
  std::vector<std::size_t> shape;
  std::vector<float> init;
  bool trainable = true;
  std::size_t size() const { return init.size(); }
};

struct Graph {
  double dt = 0.001;
  std::uint64_t seed = 0;
  std::vector<Tensor> tensors;
  std::vector<Op> ops;
  std::vector<Param> params;
  /// Per IR node: the op index of its Input op (nodes without input), else nullopt.
  std::vector<std::optional<std::size_t>> node_input_op;
  /// Per IR node: its output.
  std::vector<std::optional<Ref>> node_out;
  /// Per IR probe: what it reads, or an explanation of why the trainer cannot.
  std::vector<std::optional<Ref>> probe;
  std::vector<std::string> probe_error;
  std::vector<std::string> probe_name;
  std::uint32_t max_lag = 0;
};

/// Compiles the IR. lif_smoothing > 0 trains LIF as SoftLIFRate(sigma). Throws BuildError
/// naming the object for what the trainer cannot differentiate (connection functions,
/// learning rules, nodes computing on their input, stateful rate neurons, non-Lowpass
/// synapses).
Graph compile(const ir::Model& m, double lif_smoothing);

}  // namespace myelin::train
