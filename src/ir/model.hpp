// The model IR: the contract between the builder and the executors (DESIGN.md).
// Everything here is plain data computed at build time: float32 parameter arrays, index
// lists, discretised filters and a schedule. Executors never look at frontend objects.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ir/layer.hpp"
#include "myelin/learning.hpp"
#include "myelin/neurons.hpp"
#include "myelin/processes.hpp"
#include "myelin/solvers.hpp"
#include "myelin/synapses.hpp"

namespace myelin::ir {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// An object that is evaluated within a step (phase 2 of spec §1.2).
struct ObjRef {
  enum class Kind { Node, Ensemble } kind;
  std::size_t index;
  bool operator==(const ObjRef&) const = default;
};

/// Neuron ensemble (or Direct-mode ensemble). Inputs are gathered into x (decoded input,
/// d), nin (per-neuron input to be multiplied by gain) and jin (raw current).
struct EnsembleOp {
  std::string name;
  std::size_t n = 0, d = 0;
  NeuronTypePtr neuron_type;
  bool direct = false;
  std::vector<float> enc_t;  ///< scaled encoders, dimension-major: enc_t[k*n + i] = e_ik·α_i/r
  std::vector<float> gain, bias;
  std::vector<std::vector<float>> init_state;  ///< per neuron_type->state_names()
  ProcessPtr noise;
  std::uint64_t stream = 0;  ///< run-time RNG stream id (noise, stochastic neurons)
  // Build results, exposed through Simulator::data(ensemble).
  Eigen::MatrixXd encoders, scaled_encoders, eval_points;
  Eigen::VectorXd gain_d, bias_d, max_rates, intercepts;
  double radius = 1.0;
};

struct NodeOp {
  std::string name;
  std::size_t size_in = 0, size_out = 0;
  enum class Kind { Constant, FnT, FnTX, Process, Passthrough } kind = Kind::Passthrough;
  std::vector<double> constant;
  std::function<std::vector<double>(double)> fn_t;
  std::function<std::vector<double>(double, const std::vector<double>&)> fn_tx;
  ProcessPtr process;
  std::uint64_t stream = 0;
};

/// Where a connection's (filtered) output goes.
enum class PostKind {
  EnsX,         ///< post ensemble's decoded input x
  NeuronsGain,  ///< post neurons' input, multiplied by the post gain (spec §6)
  NeuronsRaw,   ///< post neurons' current directly (weights=True connections)
  Node,         ///< post node's input
  LearnPort,    ///< a learning rule's error / signal port
  Sink          ///< nothing (decoded_output probes)
};

struct ConnOp {
  std::string name;
  ObjRef pre{ObjRef::Kind::Node, 0};
  /// Decoded: u = Wᵀ a (a = all pre activities); Value: u = T f(x[pre_idx]) (node or Direct
  /// ensemble output); Neurons: u = T a[pre_idx].
  enum class Mode { Decoded, Value, Neurons } mode = Mode::Value;
  std::vector<int> pre_idx;  ///< empty = whole pre output
  std::function<std::vector<double>(const std::vector<double>&)> function;  ///< Value mode
  std::size_t size_in = 0, size_mid = 0, size_out = 0;
  /// Weights, row-major (n_rows × size_out): row r is the contribution of input element r
  /// (Decoded: pre neuron r; Value: f output element r; Neurons: selected neuron r).
  RowMatrixF W;
  bool identity = false;  ///< Value/Neurons mode, no transform: u = input (W unused)
  PostKind post_kind = PostKind::Sink;
  std::size_t post = 0;                   ///< ensemble / node / learning-rule index
  std::vector<int> post_idx;              ///< empty = contiguous [0, size_out)
  std::optional<DiscreteFilter> synapse;  ///< nullopt = None (same-step)
  std::vector<std::size_t> learning;      ///< learning ops modifying W
  /// Deep-SNN layers (ir/layer.hpp): a convolution / pooling transform stays structured here
  /// (W is then empty), and u gets `bias` added (per output, or per channel for a conv).
  std::shared_ptr<const LayerSpec> layer;
  std::vector<float> bias;
  // Build results, exposed through Simulator::data(connection).
  Eigen::MatrixXd weights;      ///< Nengo orientation: (size_out × n_rows)
  Eigen::MatrixXd eval_points;  ///< decoded connections
  Eigen::MatrixXd transform;
  SolverInfo solver_info;
};

/// Learning rule instance (spec §8).
struct LearnOp {
  std::string name;
  std::string kind;  ///< "PES", "RLS", "BCM", "Oja", "Voja" (names, messages)
  enum class Rule { PES, RLS, BCM, Oja, Voja } rule = Rule::PES;  ///< what executors switch on
  std::size_t conn = 0;  ///< connection whose W it modifies (Voja: post ensemble's encoders)
  double learning_rate = 0.0;
  std::size_t port_size = 0;  ///< error/signal port size
  std::size_t pre_ens = 0, post_ens = 0;
  std::vector<int> pre_idx;  ///< .neurons pre slice (empty = all)
  std::optional<DiscreteFilter> pre_synapse, post_synapse, theta_synapse;
  double beta = 1.0;
  /// PES into neurons: local error = Es·e (n_post_sel × port_size, row-major), else empty.
  RowMatrixF error_encoders;
  bool error_to_neurons = false;
  std::vector<int> post_neuron_idx;  ///< neurons selected by the connection's post slice
};

/// What a probe records.
struct ProbeOp {
  std::string name;
  enum class Source {
    NodeOutput,
    EnsInput,
    NeuronsOutput,
    NeuronsInput,
    NeuronsState,
    ConnOutput,
    ConnInput,
    ConnWeights,
    ConnU,
    LearnError,
    LearnActivities,
    LearnDelta,
    LearnEncoders
  } source = Source::NodeOutput;
  std::size_t obj = 0;
  std::size_t state_index = 0;  ///< NeuronsState
  std::vector<int> idx;         ///< selection (empty = all)
  std::size_t size = 0;
  std::optional<DiscreteFilter> synapse;
  double sample_every = 0.0;  ///< seconds (0 = every step)
};

struct Model {
  double dt = 0.001;
  std::uint64_t seed = 0;  ///< default simulator seed (network seed + 1, or random)
  std::vector<EnsembleOp> ensembles;
  std::vector<NodeOp> nodes;
  std::vector<ConnOp> conns;
  std::vector<LearnOp> learning;
  std::vector<ProbeOp> probes;
  /// Phase-2 schedule: levels of the instantaneous (synapse=None) graph; objects in one
  /// level do not depend on each other within the step.
  std::vector<std::vector<ObjRef>> levels;
  /// Incoming / outgoing connections per object.
  std::vector<std::vector<std::size_t>> ens_in, ens_out, node_in, node_out, learn_in;
  double build_seconds = 0.0;
};

}  // namespace myelin::ir
