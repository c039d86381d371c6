// The modelling frontend (DESIGN.md "frontend"): Network, Ensemble, Node, Connection,
// Probe and their options. These objects only *describe* a model; Simulator builds and
// runs it. Names and defaults follow Nengo (spec §3, §6, §1.5).
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "myelin/distributions.hpp"
#include "myelin/errors.hpp"
#include "myelin/learning.hpp"
#include "myelin/neurons.hpp"
#include "myelin/processes.hpp"
#include "myelin/solvers.hpp"
#include "myelin/synapses.hpp"
#include "myelin/transforms.hpp"

namespace myelin {

namespace detail {
struct Graph;
}

/// What a `neuron_type=` argument accepts: any NeuronType value or pointer.
class NeuronParam {
 public:
  NeuronParam() = default;
  NeuronParam(NeuronTypePtr p) : ptr_(std::move(p)) {}  // NOLINT
  template <class T, class = std::enable_if_t<std::is_base_of_v<NeuronType, T>>>
  NeuronParam(const T& t) : ptr_(std::make_shared<T>(t)) {}  // NOLINT
  const NeuronTypePtr& get() const { return ptr_; }
  explicit operator bool() const { return static_cast<bool>(ptr_); }

 private:
  NeuronTypePtr ptr_;
};

/// What a `solver=` argument accepts.
class SolverParam {
 public:
  SolverParam() = default;
  SolverParam(SolverPtr p) : ptr_(std::move(p)) {}  // NOLINT
  template <class T, class = std::enable_if_t<std::is_base_of_v<Solver, T>>>
  SolverParam(const T& t) : ptr_(std::make_shared<T>(t)) {}  // NOLINT
  const SolverPtr& get() const { return ptr_; }
  explicit operator bool() const { return static_cast<bool>(ptr_); }

 private:
  SolverPtr ptr_;
};

/// Ensemble parameters (spec §3). Unset fields take the network's config default, then
/// Nengo's default.
struct EnsembleOptions {
  std::optional<double> radius;              ///< default 1
  DistOrArray encoders;                      ///< default ScatteredHypersphere(surface=true)
  DistOrArray max_rates;                     ///< default Uniform(200, 400)
  DistOrArray intercepts;                    ///< default Uniform(-1, 0.9)
  DistOrArray eval_points;                   ///< default ScatteredHypersphere()
  std::optional<std::size_t> n_eval_points;  ///< default max(clip(500 D, 750, 2500), 2 N)
  NeuronParam neuron_type;                   ///< default LIF()
  DistOrArray gain;                          ///< give both gain and bias, or neither
  DistOrArray bias;
  ProcessPtr noise;                        ///< added to J each step
  std::optional<bool> normalize_encoders;  ///< default true
  std::string label;
  std::optional<std::uint64_t> seed;
};

/// Node output: constant, f(t), f(t, x), a Process, or passthrough (default-constructed).
class NodeOutput {
 public:
  using FnT = std::function<std::vector<double>(double)>;
  using FnTX = std::function<std::vector<double>(double, const std::vector<double>&)>;

  NodeOutput() = default;  ///< passthrough (Nengo's output=None); needs size_in
  NodeOutput(double c) : value_(std::vector<double>{c}) {}     // NOLINT
  NodeOutput(std::vector<double> c) : value_(std::move(c)) {}  // NOLINT
  NodeOutput(std::initializer_list<double> c) : value_(std::vector<double>(c)) {}
  NodeOutput(const Eigen::VectorXd& c)
      : value_(std::vector<double>(c.data(), c.data() + c.size())) {}  // NOLINT
  NodeOutput(ProcessPtr p) : value_(std::move(p)) {}                   // NOLINT
  template <class P, std::enable_if_t<std::is_base_of_v<Process, P>, int> = 0>
  NodeOutput(const P& p) : value_(ProcessPtr(std::make_shared<P>(p))) {}  // NOLINT
  /// Callables: f(t) or f(t, x), returning a double or a std::vector<double>.
  template <class F, std::enable_if_t<
                         std::is_invocable_v<F, double> && !std::is_base_of_v<Process, F>, int> = 0>
  NodeOutput(F f) : value_(FnT(wrap1(std::move(f)))) {}  // NOLINT
  template <class F,
            std::enable_if_t<!std::is_invocable_v<F, double> &&
                                 std::is_invocable_v<F, double, const std::vector<double>&>,
                             int> = 0>
  NodeOutput(F f) : value_(FnTX(wrap2(std::move(f)))) {}  // NOLINT

  const auto& value() const { return value_; }

 private:
  template <class R>
  static std::vector<double> to_vec(R&& r) {
    if constexpr (std::is_convertible_v<R, double>) {
      return {static_cast<double>(r)};
    } else {
      return std::vector<double>(std::begin(r), std::end(r));
    }
  }
  template <class F>
  static FnT wrap1(F f) {
    return [f = std::move(f)](double t) { return to_vec(f(t)); };
  }
  template <class F>
  static FnTX wrap2(F f) {
    return [f = std::move(f)](double t, const std::vector<double>& x) { return to_vec(f(t, x)); };
  }
  std::variant<std::monostate, std::vector<double>, FnT, FnTX, ProcessPtr> value_;
};

struct NodeOptions {
  std::optional<std::size_t> size_in;   ///< default 0 (size of x given to f(t, x))
  std::optional<std::size_t> size_out;  ///< default: inferred (constant / process / one call)
  std::string label;
  std::optional<std::uint64_t> seed;
};

/// A connection function x -> f(x), returning a double or a vector. Evaluated on eval points
/// at build time (decoded connections) or on the actual value each step (node / Direct pre).
class ConnFunction {
 public:
  using Fn = std::function<std::vector<double>(const std::vector<double>&)>;
  ConnFunction() = default;
  template <class F, std::enable_if_t<std::is_invocable_v<F, const std::vector<double>&>, int> = 0>
  ConnFunction(F f)  // NOLINT
      : fn_([f = std::move(f)](const std::vector<double>& x) -> std::vector<double> {
          using R = std::invoke_result_t<F, const std::vector<double>&>;
          if constexpr (std::is_convertible_v<R, double>) {
            return {static_cast<double>(f(x))};
          } else {
            auto r = f(x);
            return std::vector<double>(std::begin(r), std::end(r));
          }
        }) {}
  /// With an explicit output size (otherwise inferred from the first evaluation).
  template <class F>
  ConnFunction(F f, std::size_t size_out) : ConnFunction(std::move(f)) {
    size_out_ = size_out;
  }
  explicit operator bool() const { return static_cast<bool>(fn_); }
  const Fn& fn() const { return fn_; }
  std::optional<std::size_t> size_out() const { return size_out_; }

 private:
  Fn fn_;
  std::optional<std::size_t> size_out_;
};

struct ConnectionOptions {
  std::optional<SynapseParam> synapse;  ///< default: config, else Lowpass(0.005)
  ConnFunction function;
  Transform transform;               ///< default: none (identity)
  SolverParam solver;                ///< default: config, else LstsqL2()
  LearningRules learning_rule_type;  ///< zero or more rules (spec §8)
  DistOrArray eval_points;           ///< default: the pre ensemble's
  bool scale_eval_points = true;
  std::string label;
  std::optional<std::uint64_t> seed;
};

struct ProbeOptions {
  std::string attr;                     ///< default: the target's first probeable attribute
  std::optional<SynapseParam> synapse;  ///< default None
  std::optional<double> sample_every;   ///< seconds; default every step
  SolverParam solver;                   ///< decoded_output probes; default LstsqL2()
  std::string label;
  std::optional<std::uint64_t> seed;
};

/// Per-network defaults ("net.config[Ensemble].max_rates = ..."). Unset fields inherit
/// from the enclosing network.
struct Config {
  EnsembleOptions ensemble;
  struct ConnectionDefaults {
    std::optional<SynapseParam> synapse;
    SolverParam solver;
  } connection;
  struct ProbeDefaults {
    std::optional<SynapseParam> synapse;
  } probe;
};

/// Kinds of things a connection or probe can attach to.
enum class ObjKind { Node, Ensemble, Neurons, LearningRule, Connection, Probe, Network };
std::string to_string(ObjKind k);

/// A (possibly sliced) reference to an object; what connect() and probe() take.
struct Endpoint {
  detail::Graph* graph = nullptr;
  ObjKind kind = ObjKind::Node;
  std::size_t id = 0;
  std::optional<std::vector<int>> indices;  ///< slice (resolved, non-negative); empty = all
  std::size_t sub = 0;                      ///< learning rule index (kind LearningRule)
  std::size_t size() const;                 ///< size after slicing
  std::size_t full_size() const;
  std::string name() const;  ///< label or "Ensemble #3", with the slice
};

/// Python-style slice: Slice(0, 3), Slice(3) == [3:], Slice(0, std::nullopt, 2) == [::2].
struct Slice {
  std::optional<int> start, stop;
  int step = 1;
  Slice(std::optional<int> start = {}, std::optional<int> stop = {}, int step = 1)
      : start(start), stop(stop), step(step) {}
};

class Network;

/// Handle mixin with slicing: [Slice], [index list], [i].
template <class Derived>
class Sliceable {
 public:
  Endpoint operator[](const Slice& s) const;
  Endpoint operator[](const std::vector<int>& idx) const;
  Endpoint operator[](int i) const { return (*this)[std::vector<int>{i}]; }
  /// ens.slice(a, b) == ens[a:b]; ens.slice(a) == ens[a:].
  Endpoint slice(std::optional<int> start, std::optional<int> stop = {}, int step = 1) const {
    return (*this)[Slice(start, stop, step)];
  }
};

class Neurons : public Sliceable<Neurons> {
 public:
  Neurons(detail::Graph* g, std::size_t id) : g_(g), id_(id) {}
  operator Endpoint() const { return {g_, ObjKind::Neurons, id_, std::nullopt}; }  // NOLINT
  std::size_t size() const;
  std::size_t ensemble_id() const { return id_; }

 private:
  detail::Graph* g_;
  std::size_t id_;
};

class Ensemble : public Sliceable<Ensemble> {
 public:
  Ensemble() = default;
  Ensemble(detail::Graph* g, std::size_t id) : g_(g), id_(id) {}
  operator Endpoint() const { return {g_, ObjKind::Ensemble, id_, std::nullopt}; }  // NOLINT
  Neurons neurons() const { return {g_, id_}; }
  std::size_t n_neurons() const;
  std::size_t dimensions() const;
  std::size_t size() const { return dimensions(); }
  const std::string& label() const;
  std::size_t id() const { return id_; }

 private:
  detail::Graph* g_ = nullptr;
  std::size_t id_ = 0;
};

class Node : public Sliceable<Node> {
 public:
  Node() = default;
  Node(detail::Graph* g, std::size_t id) : g_(g), id_(id) {}
  operator Endpoint() const { return {g_, ObjKind::Node, id_, std::nullopt}; }  // NOLINT
  std::size_t size_in() const;
  std::size_t size_out() const;
  std::size_t size() const { return size_out(); }
  const std::string& label() const;
  std::size_t id() const { return id_; }

 private:
  detail::Graph* g_ = nullptr;
  std::size_t id_ = 0;
};

/// The learning rule(s) of a connection, as a connection target (error port) and probe
/// target. For several rules, learning_rule(k) picks one.
class LearningRule {
 public:
  LearningRule(detail::Graph* g, std::size_t conn, std::size_t index)
      : g_(g), conn_(conn), index_(index) {}
  operator Endpoint() const;    // NOLINT
  std::size_t size_in() const;  ///< size of the error / learning-signal port

 private:
  detail::Graph* g_;
  std::size_t conn_, index_;
};

class Connection {
 public:
  Connection() = default;
  Connection(detail::Graph* g, std::size_t id) : g_(g), id_(id) {}
  operator Endpoint() const { return {g_, ObjKind::Connection, id_, std::nullopt}; }  // NOLINT
  /// Sets (replaces) the learning rule(s); Nengo's `conn.learning_rule_type = PES()`.
  void learning_rule_type(LearningRules rules);
  /// The connection's (first, or k-th) learning rule, to connect an error into or probe.
  LearningRule learning_rule(std::size_t k = 0) const;
  const std::string& label() const;
  std::size_t id() const { return id_; }
  std::size_t size_in() const;
  std::size_t size_out() const;

 private:
  detail::Graph* g_ = nullptr;
  std::size_t id_ = 0;
};

class Probe {
 public:
  Probe() = default;
  Probe(detail::Graph* g, std::size_t id) : g_(g), id_(id) {}
  std::size_t id() const { return id_; }
  const std::string& label() const;
  std::size_t size() const;

 private:
  detail::Graph* g_ = nullptr;
  std::size_t id_ = 0;
};

/// A network: owns its objects; sub-networks share the same underlying graph.
class Network {
 public:
  explicit Network(std::string label = "", std::optional<std::uint64_t> seed = std::nullopt);

  Ensemble ensemble(std::size_t n_neurons, std::size_t dimensions, EnsembleOptions opts = {});
  Node node(NodeOutput output, NodeOptions opts = {});
  /// Passthrough node of the given size (Nengo's Node(size_in=k)).
  Node passthrough(std::size_t size, std::string label = "");
  Connection connect(const Endpoint& pre, const Endpoint& post, ConnectionOptions opts = {});
  Connection connect(const Endpoint& pre, const LearningRule& post, ConnectionOptions opts = {}) {
    return connect(pre, static_cast<Endpoint>(post), std::move(opts));
  }
  Probe probe(const Endpoint& target, ProbeOptions opts = {});
  Probe probe(const LearningRule& target, ProbeOptions opts = {}) {
    return probe(static_cast<Endpoint>(target), std::move(opts));
  }
  /// A nested network (its objects get seeds from this network's seed, spec §2).
  Network network(std::string label = "", std::optional<std::uint64_t> seed = std::nullopt);

  /// This network's defaults; objects created afterwards in this network (or its
  /// sub-networks) use them.
  Config& config();
  const std::string& label() const;
  std::optional<std::uint64_t> seed() const;
  std::vector<Ensemble> all_ensembles() const;
  std::vector<Node> all_nodes() const;
  std::vector<Connection> all_connections() const;
  std::vector<Probe> all_probes() const;

  /// Internal: the description graph (read by the builder).
  const detail::Graph& graph() const { return *g_; }
  std::size_t id() const { return net_; }

 private:
  Network(std::shared_ptr<detail::Graph> g, std::size_t net) : g_(std::move(g)), net_(net) {}
  std::shared_ptr<detail::Graph> g_;
  std::size_t net_ = 0;
};

template <class Derived>
Endpoint Sliceable<Derived>::operator[](const Slice& s) const {
  Endpoint e = static_cast<Endpoint>(static_cast<const Derived&>(*this));
  const int n = static_cast<int>(e.full_size());
  std::vector<int> idx;
  const int step = s.step;
  if (step == 0) throw ValidationError(e.name() + ": slice step cannot be zero");
  auto norm = [n](int v) { return v < 0 ? v + n : v; };
  if (step > 0) {
    int a = s.start ? std::clamp(norm(*s.start), 0, n) : 0;
    int b = s.stop ? std::clamp(norm(*s.stop), 0, n) : n;
    for (int i = a; i < b; i += step) idx.push_back(i);
  } else {
    int a = s.start ? std::clamp(norm(*s.start), -1, n - 1) : n - 1;
    int b = s.stop ? std::clamp(norm(*s.stop), -1, n - 1) : -1;
    for (int i = a; i > b; i += step) idx.push_back(i);
  }
  if (idx.empty())
    throw ValidationError(e.name() + ": slice selects no elements (size " + std::to_string(n) +
                          ")");
  e.indices = std::move(idx);
  return e;
}

template <class Derived>
Endpoint Sliceable<Derived>::operator[](const std::vector<int>& idx) const {
  Endpoint e = static_cast<Endpoint>(static_cast<const Derived&>(*this));
  const int n = static_cast<int>(e.full_size());
  std::vector<int> out;
  out.reserve(idx.size());
  for (int i : idx) {
    int j = i < 0 ? i + n : i;
    if (j < 0 || j >= n)
      throw ValidationError(e.name() + ": index " + std::to_string(i) + " out of range for size " +
                            std::to_string(n));
    out.push_back(j);
  }
  if (out.empty()) throw ValidationError(e.name() + ": empty index list");
  e.indices = std::move(out);
  return e;
}

}  // namespace myelin
