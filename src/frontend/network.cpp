// Frontend: object creation, config defaults and connect-time validation (spec §3, §6).
#include <cmath>
#include <random>
#include <sstream>

#include "frontend/graph.hpp"
#include "myelin/errors.hpp"
#include "myelin/network.hpp"

namespace myelin {

std::string to_string(ObjKind k) {
  switch (k) {
    case ObjKind::Node:
      return "Node";
    case ObjKind::Ensemble:
      return "Ensemble";
    case ObjKind::Neurons:
      return "Neurons";
    case ObjKind::LearningRule:
      return "LearningRule";
    case ObjKind::Connection:
      return "Connection";
    case ObjKind::Probe:
      return "Probe";
    case ObjKind::Network:
      return "Network";
  }
  return "?";
}

namespace detail {

std::string object_name(const Graph& g, ObjKind kind, std::size_t id) {
  auto named = [&](const std::string& label, const char* what) {
    if (!label.empty()) return "'" + label + "'";
    return std::string(what) + " #" + std::to_string(id);
  };
  switch (kind) {
    case ObjKind::Ensemble:
      return "Ensemble " + named(g.ensembles.at(id).opts.label, "");
    case ObjKind::Neurons:
      return object_name(g, ObjKind::Ensemble, id) + ".neurons";
    case ObjKind::Node:
      return "Node " + named(g.nodes.at(id).label, "");
    case ObjKind::Connection: {
      const auto& c = g.connections.at(id);
      if (!c.opts.label.empty()) return "Connection '" + c.opts.label + "'";
      return "Connection #" + std::to_string(id) + " (" + c.pre.name() + " -> " + c.post.name() +
             ")";
    }
    case ObjKind::LearningRule:
      return object_name(g, ObjKind::Connection, id) + ".learning_rule";
    case ObjKind::Probe:
      return "Probe " + named(g.probes.at(id).opts.label, "");
    case ObjKind::Network:
      return "Network " + named(g.nets.at(id).label, "");
  }
  return "?";
}

}  // namespace detail

namespace {

using detail::Graph;

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// Walk from `net` to the root, filling unset ensemble options from configs.
void apply_ensemble_defaults(const Graph& g, std::size_t net, EnsembleOptions& o) {
  std::optional<std::size_t> cur = net;
  while (cur) {
    const auto& c = g.nets[*cur].config.ensemble;
    if (!o.radius) o.radius = c.radius;
    if (o.encoders.empty()) o.encoders = c.encoders;
    if (o.intercepts.empty()) o.intercepts = c.intercepts;
    if (o.max_rates.empty()) o.max_rates = c.max_rates;
    if (o.eval_points.empty()) o.eval_points = c.eval_points;
    if (!o.n_eval_points) o.n_eval_points = c.n_eval_points;
    if (!o.neuron_type) o.neuron_type = c.neuron_type;
    if (o.gain.empty()) o.gain = c.gain;
    if (o.bias.empty()) o.bias = c.bias;
    if (!o.noise) o.noise = c.noise;
    if (!o.normalize_encoders) o.normalize_encoders = c.normalize_encoders;
    cur = g.nets[*cur].parent;
  }
}

template <class F>
void walk_configs(const Graph& g, std::size_t net, F&& f) {
  std::optional<std::size_t> cur = net;
  while (cur) {
    f(g.nets[*cur].config);
    cur = g.nets[*cur].parent;
  }
}

std::size_t learning_port_size(const Graph& g, std::size_t conn, std::size_t k) {
  const auto& c = g.connections.at(conn);
  const auto& rules = c.opts.learning_rule_type.rules();
  if (k >= rules.size())
    throw ValidationError(detail::object_name(g, ObjKind::Connection, conn) + " has " +
                          std::to_string(rules.size()) + " learning rule(s); index " +
                          std::to_string(k) + " does not exist");
  const std::string kind = rules[k]->kind();
  if (kind == "PES" || kind == "RLS") {
    if (c.post.kind == ObjKind::Neurons) return g.ensembles.at(c.post.id).dimensions;
    return c.post.size();
  }
  if (kind == "Voja") return 1;
  return 0;
}

}  // namespace

// ---------------------------------------------------------------- Endpoint

std::size_t Endpoint::full_size() const {
  const Graph& g = *graph;
  switch (kind) {
    case ObjKind::Ensemble:
      return g.ensembles.at(id).dimensions;
    case ObjKind::Neurons:
      return g.ensembles.at(id).n_neurons;
    case ObjKind::Node:
      return g.nodes.at(id).size_out;
    case ObjKind::Connection:
      return g.connections.at(id).post.size();
    case ObjKind::LearningRule:
      return learning_port_size(g, id, sub);
    default:
      return 0;
  }
}

std::size_t Endpoint::size() const {
  return indices ? indices->size() : full_size();
}

std::string Endpoint::name() const {
  std::string n = detail::object_name(*graph, kind, id);
  if (indices) {
    std::string s = "[";
    for (std::size_t i = 0; i < indices->size() && i < 8; ++i)
      s += (i ? "," : "") + std::to_string((*indices)[i]);
    if (indices->size() > 8) s += ",...";
    n += s + "]";
  }
  return n;
}

// ---------------------------------------------------------------- handles

std::size_t Neurons::size() const {
  return g_->ensembles.at(id_).n_neurons;
}
std::size_t Ensemble::n_neurons() const {
  return g_->ensembles.at(id_).n_neurons;
}
std::size_t Ensemble::dimensions() const {
  return g_->ensembles.at(id_).dimensions;
}
const std::string& Ensemble::label() const {
  return g_->ensembles.at(id_).opts.label;
}
std::size_t Node::size_in() const {
  return g_->nodes.at(id_).size_in;
}
std::size_t Node::size_out() const {
  return g_->nodes.at(id_).size_out;
}
const std::string& Node::label() const {
  return g_->nodes.at(id_).label;
}
const std::string& Connection::label() const {
  return g_->connections.at(id_).opts.label;
}
std::size_t Connection::size_in() const {
  return g_->connections.at(id_).pre.size();
}
std::size_t Connection::size_out() const {
  return g_->connections.at(id_).post.size();
}
const std::string& Probe::label() const {
  return g_->probes.at(id_).opts.label;
}
std::size_t Probe::size() const {
  return g_->probes.at(id_).size;
}

LearningRule::operator Endpoint() const {
  Endpoint e{g_, ObjKind::LearningRule, conn_, std::nullopt};
  e.sub = index_;
  return e;
}
std::size_t LearningRule::size_in() const {
  return learning_port_size(*g_, conn_, index_);
}

namespace {
void validate_learning(const Graph& g, std::size_t id, const LearningRules& rules) {
  const auto& c = g.connections.at(id);
  const std::string who = detail::object_name(g, ObjKind::Connection, id);
  for (const auto& r : rules.rules()) {
    if (!r) throw ValidationError(who + ": null learning rule");
    if (!(r->learning_rate >= 0.0) || !std::isfinite(r->learning_rate))
      throw ValidationError(who + ": " + r->kind() +
                            " learning_rate must be finite and >= 0, got " + fmt(r->learning_rate));
    const auto tk = c.opts.transform.kind();
    if (tk != Transform::Kind::None && tk != Transform::Kind::Dense &&
        tk != Transform::Kind::Scalar && tk != Transform::Kind::Diagonal &&
        tk != Transform::Kind::Dist)
      throw ValidationError(who + ": only dense transforms can be learned");
    const std::string m = r->modifies();
    if (m == "decoders") {
      if (c.pre.kind != ObjKind::Ensemble && c.pre.kind != ObjKind::Neurons)
        throw ValidationError(who + ": " + r->kind() +
                              " needs an Ensemble or .neurons pre object, got " + c.pre.name());
      const bool into_neurons =
          c.post.kind == ObjKind::Neurons || (c.opts.solver && c.opts.solver.get()->weights);
      if (r->kind() == "RLS" && into_neurons)
        throw ValidationError(who +
                              ": RLS learns decoders; connect into an Ensemble or Node "
                              "(not .neurons or weights=true), or use PES there");
      if (c.pre.kind == ObjKind::Ensemble) {
        const auto& nt = g.ensembles.at(c.pre.id).opts.neuron_type;
        if (nt && nt.get()->is_direct())
          throw ValidationError(who + ": " + r->kind() +
                                " cannot learn from a Direct-mode ensemble");
      }
    } else if (m == "weights") {
      bool weights = c.opts.solver && c.opts.solver.get()->weights;
      bool neurons_to_neurons = c.pre.kind == ObjKind::Neurons && c.post.kind == ObjKind::Neurons;
      if (!(weights || neurons_to_neurons) || c.pre.kind == ObjKind::Node)
        throw ValidationError(
            who + ": " + r->kind() +
            " modifies full weights: the connection must be neurons -> neurons or "
            "use a solver with weights=true");
    } else if (m == "encoders") {
      if (c.post.kind != ObjKind::Ensemble)
        throw ValidationError(who + ": Voja needs an Ensemble post object, got " + c.post.name());
    }
  }
}
}  // namespace

void Connection::learning_rule_type(LearningRules rules) {
  validate_learning(*g_, id_, rules);
  g_->connections.at(id_).opts.learning_rule_type = std::move(rules);
}

LearningRule Connection::learning_rule(std::size_t k) const {
  const auto& rules = g_->connections.at(id_).opts.learning_rule_type.rules();
  if (k >= rules.size())
    throw ValidationError(detail::object_name(*g_, ObjKind::Connection, id_) + " has " +
                          std::to_string(rules.size()) +
                          " learning rule(s); set learning_rule_type before using learning_rule(" +
                          std::to_string(k) + ")");
  return {g_, id_, k};
}

// ---------------------------------------------------------------- Network

Network::Network(std::string label, std::optional<std::uint64_t> seed)
    : g_(std::make_shared<Graph>()), net_(0) {
  detail::NetworkRec r;
  r.label = std::move(label);
  r.seed = seed;
  g_->nets.push_back(std::move(r));
}

Network Network::network(std::string label, std::optional<std::uint64_t> seed) {
  detail::NetworkRec r;
  r.label = std::move(label);
  r.seed = seed;
  r.parent = net_;
  g_->nets.push_back(std::move(r));
  const std::size_t id = g_->nets.size() - 1;
  g_->nets[net_].networks.push_back(id);
  return Network(g_, id);
}

Config& Network::config() {
  return g_->nets.at(net_).config;
}
const std::string& Network::label() const {
  return g_->nets.at(net_).label;
}
std::optional<std::uint64_t> Network::seed() const {
  return g_->nets.at(net_).seed;
}

std::vector<Ensemble> Network::all_ensembles() const {
  std::vector<Ensemble> out;
  for (std::size_t i = 0; i < g_->ensembles.size(); ++i) out.emplace_back(g_.get(), i);
  return out;
}
std::vector<Node> Network::all_nodes() const {
  std::vector<Node> out;
  for (std::size_t i = 0; i < g_->nodes.size(); ++i) out.emplace_back(g_.get(), i);
  return out;
}
std::vector<Connection> Network::all_connections() const {
  std::vector<Connection> out;
  for (std::size_t i = 0; i < g_->connections.size(); ++i) out.emplace_back(g_.get(), i);
  return out;
}
std::vector<Probe> Network::all_probes() const {
  std::vector<Probe> out;
  for (std::size_t i = 0; i < g_->probes.size(); ++i) out.emplace_back(g_.get(), i);
  return out;
}

Ensemble Network::ensemble(std::size_t n_neurons, std::size_t dimensions, EnsembleOptions opts) {
  const std::string who =
      "Ensemble " +
      (opts.label.empty() ? "#" + std::to_string(g_->ensembles.size()) : "'" + opts.label + "'");
  if (n_neurons == 0) throw ValidationError(who + ": n_neurons must be positive, got 0");
  if (dimensions == 0) throw ValidationError(who + ": dimensions must be positive, got 0");
  if (n_neurons > (std::size_t(1) << 30))
    throw ValidationError(who + ": n_neurons too large (" + std::to_string(n_neurons) + ")");
  apply_ensemble_defaults(*g_, net_, opts);
  if (opts.radius && !(*opts.radius > 0.0 && std::isfinite(*opts.radius)))
    throw ValidationError(who + ": radius must be positive and finite, got " + fmt(*opts.radius));
  if (opts.n_eval_points && *opts.n_eval_points == 0)
    throw ValidationError(who + ": n_eval_points must be positive, got 0");
  if (opts.gain.empty() != opts.bias.empty())
    throw ValidationError(who + ": give both gain and bias, or neither");
  detail::EnsembleRec r{n_neurons, dimensions, std::move(opts), net_};
  g_->ensembles.push_back(std::move(r));
  const std::size_t id = g_->ensembles.size() - 1;
  g_->nets[net_].ensembles.push_back(id);
  return Ensemble(g_.get(), id);
}

Node Network::passthrough(std::size_t size, std::string label) {
  return node(NodeOutput(),
              NodeOptions{.size_in = size, .size_out = size, .label = std::move(label)});
}

Node Network::node(NodeOutput output, NodeOptions opts) {
  const std::string who = "Node " + (opts.label.empty() ? "#" + std::to_string(g_->nodes.size())
                                                        : "'" + opts.label + "'");
  detail::NodeRec r;
  r.label = opts.label;
  r.seed = opts.seed;
  r.net = net_;
  r.size_in = opts.size_in.value_or(0);
  const auto& v = output.value();
  if (std::holds_alternative<std::monostate>(v)) {
    if (!opts.size_in || *opts.size_in == 0)
      throw ValidationError(who + ": a passthrough node (no output) needs size_in > 0");
    r.size_out = *opts.size_in;
    if (opts.size_out && *opts.size_out != r.size_out)
      throw ValidationError(who + ": a passthrough node has size_out == size_in (" +
                            std::to_string(r.size_out) + "), got size_out " +
                            std::to_string(*opts.size_out));
  } else if (auto* c = std::get_if<std::vector<double>>(&v)) {
    if (r.size_in != 0) throw ValidationError(who + ": a constant node cannot have an input");
    for (std::size_t i = 0; i < c->size(); ++i)
      if (!std::isfinite((*c)[i]))
        throw ValidationError(who + ": constant output element " + std::to_string(i) +
                              " is not finite (" + fmt((*c)[i]) + ")");
    r.size_out = c->size();
    if (opts.size_out && *opts.size_out != r.size_out)
      throw ValidationError(who + ": size_out " + std::to_string(*opts.size_out) +
                            " does not match the constant's size " + std::to_string(r.size_out));
  } else if (auto* p = std::get_if<ProcessPtr>(&v)) {
    if (!*p) throw ValidationError(who + ": null process");
    if (!opts.size_in) r.size_in = (*p)->default_size_in();
    r.size_out = opts.size_out ? *opts.size_out : (*p)->default_size_out().value_or(1);
  } else if (auto* f = std::get_if<NodeOutput::FnT>(&v)) {
    if (r.size_in != 0)
      throw ValidationError(who + ": f(t) takes no input; use a function f(t, x) for size_in " +
                            std::to_string(r.size_in));
    if (opts.size_out) {
      r.size_out = *opts.size_out;
    } else {
      // Nengo infers the size by calling f(0) once at construction (spec §1.4).
      r.size_out = (*f)(0.0).size();
    }
  } else if (auto* f2 = std::get_if<NodeOutput::FnTX>(&v)) {
    if (opts.size_out) {
      r.size_out = *opts.size_out;
    } else {
      r.size_out = (*f2)(0.0, std::vector<double>(r.size_in, 0.0)).size();
    }
  }
  r.output = std::move(output);
  g_->nodes.push_back(std::move(r));
  const std::size_t id = g_->nodes.size() - 1;
  g_->nets[net_].nodes.push_back(id);
  return Node(g_.get(), id);
}

Connection Network::connect(const Endpoint& pre, const Endpoint& post, ConnectionOptions opts) {
  const std::size_t id = g_->connections.size();
  const std::string who = "Connection " +
                          (opts.label.empty() ? "#" + std::to_string(id) : "'" + opts.label + "'") +
                          " (" + pre.name() + " -> " + post.name() + ")";
  if (pre.graph != g_.get() || post.graph != g_.get())
    throw ValidationError(who + ": both ends must belong to this network's model");
  switch (pre.kind) {
    case ObjKind::Node:
    case ObjKind::Ensemble:
    case ObjKind::Neurons:
      break;
    default:
      throw ValidationError(who + ": cannot connect from a " + to_string(pre.kind) +
                            " (pre must be a Node, Ensemble or .neurons)");
  }
  switch (post.kind) {
    case ObjKind::Node:
    case ObjKind::Ensemble:
    case ObjKind::Neurons:
    case ObjKind::LearningRule:
      break;
    default:
      throw ValidationError(who + ": cannot connect into a " + to_string(post.kind) +
                            " (post must be a Node, Ensemble, .neurons or a learning rule)");
  }
  if (pre.kind == ObjKind::Node && g_->nodes[pre.id].size_out == 0)
    throw ValidationError(who + ": the pre node has no output (size_out 0)");
  std::size_t post_size = post.size();
  if (post.kind == ObjKind::Node) {
    const auto& pn = g_->nodes[post.id];
    if (pn.size_in == 0) throw ValidationError(who + ": the post node takes no input (size_in 0)");
    post_size = post.indices ? post.indices->size() : pn.size_in;
    if (post.indices)
      for (int i : *post.indices)
        if (i >= static_cast<int>(pn.size_in))
          throw ValidationError(who + ": post index " + std::to_string(i) +
                                " out of range for node input size " + std::to_string(pn.size_in));
  }
  if (post.kind == ObjKind::LearningRule && post_size == 0)
    throw ValidationError(who + ": this learning rule has no input port");

  // Defaults from config (innermost first).
  walk_configs(*g_, net_, [&](const Config& c) {
    if (!opts.synapse && c.connection.synapse) opts.synapse = c.connection.synapse;
    if (!opts.solver && c.connection.solver) opts.solver = c.connection.solver;
  });
  if (!opts.synapse) opts.synapse = SynapseParam(0.005);
  if (!opts.solver) opts.solver = SolverParam(std::make_shared<LstsqL2>());

  const std::size_t size_in = pre.size();
  std::size_t size_mid = size_in;
  bool known = true;
  if (opts.function) {
    if (pre.kind == ObjKind::Neurons)
      throw ValidationError(who + ": a function cannot be applied to a .neurons pre object");
    if (opts.function.size_out()) {
      size_mid = *opts.function.size_out();
    } else {
      // Like Nengo, call the function once to learn its output size (spec §1.4).
      std::vector<double> x0(size_in, 0.0);
      size_mid = opts.function.fn()(x0).size();
    }
    if (size_mid == 0) throw ValidationError(who + ": the function returns an empty vector");
  }
  // Transform shape check (size_out × size_mid).
  if (opts.transform.is_none()) {
    if (size_mid != post_size)
      throw ValidationError(who + ": size mismatch: pre" +
                            std::string(opts.function ? " function output" : "") + " has size " +
                            std::to_string(size_mid) + " but post has size " +
                            std::to_string(post_size) + "; give a transform of shape (" +
                            std::to_string(post_size) + ", " + std::to_string(size_mid) + ")");
  } else {
    opts.transform.validate(post_size, size_mid, who);
  }
  if (opts.solver.get()->weights &&
      !(pre.kind == ObjKind::Ensemble && post.kind == ObjKind::Ensemble))
    throw ValidationError(who + ": a solver with weights=true needs Ensemble -> Ensemble");
  if (pre.indices && opts.transform.kind() == Transform::Kind::Dense) {
    std::vector<int> s = *pre.indices;
    std::sort(s.begin(), s.end());
    if (std::adjacent_find(s.begin(), s.end()) != s.end())
      throw ValidationError(who +
                            ": a pre slice with repeated indices needs a non-matrix transform");
  }

  detail::ConnectionRec r;
  r.pre = pre;
  r.post = post;
  r.opts = std::move(opts);
  r.size_mid = size_mid;
  r.size_mid_known = known;
  r.net = net_;
  LearningRules rules = std::move(r.opts.learning_rule_type);
  r.opts.learning_rule_type = {};
  g_->connections.push_back(std::move(r));
  g_->nets[net_].connections.push_back(id);
  Connection c(g_.get(), id);
  if (!rules.empty()) {
    try {
      c.learning_rule_type(std::move(rules));
    } catch (...) {
      g_->connections.pop_back();
      g_->nets[net_].connections.pop_back();
      throw;
    }
  }
  return c;
}

Probe Network::probe(const Endpoint& target, ProbeOptions opts) {
  const std::size_t id = g_->probes.size();
  const std::string who = "Probe " +
                          (opts.label.empty() ? "#" + std::to_string(id) : "'" + opts.label + "'") +
                          " (" + target.name() + ")";
  if (target.graph != g_.get()) throw ValidationError(who + ": target belongs to another model");
  std::size_t size = 0;
  std::string& a = opts.attr;
  switch (target.kind) {
    case ObjKind::Ensemble:
      if (a.empty()) a = "decoded_output";
      if (a != "decoded_output" && a != "input")
        throw ValidationError(who + ": Ensemble probes record 'decoded_output' or 'input', not '" +
                              a + "'");
      size = target.size();
      break;
    case ObjKind::Neurons: {
      if (a.empty()) a = "output";
      const auto& nt = g_->ensembles.at(target.id).opts.neuron_type;
      std::vector<std::string> states =
          nt ? nt.get()->state_names() : std::vector<std::string>{"voltage", "refractory_time"};
      bool ok = a == "output" || a == "input" ||
                std::find(states.begin(), states.end(), a) != states.end();
      if (!ok) {
        std::string list = "'output', 'input'";
        for (auto& s : states) list += ", '" + s + "'";
        throw ValidationError(who + ": Neurons probes record one of " + list + ", not '" + a + "'");
      }
      size = target.size();
      break;
    }
    case ObjKind::Node:
      if (a.empty()) a = "output";
      if (a != "output")
        throw ValidationError(who + ": Node probes record 'output', not '" + a + "'");
      size = target.size();
      break;
    case ObjKind::Connection: {
      if (a.empty()) a = "output";
      const auto& c = g_->connections.at(target.id);
      if (a == "output")
        size = c.post.size();
      else if (a == "input")
        size = c.pre.size();
      else if (a == "weights")
        size = 0;  // resolved at build (matrix shape)
      else
        throw ValidationError(
            who + ": Connection probes record 'output', 'input' or 'weights', not '" + a + "'");
      break;
    }
    case ObjKind::LearningRule: {
      const auto& c = g_->connections.at(target.id);
      const auto& rule = c.opts.learning_rule_type.rules().at(target.sub);
      if (a.empty())
        a = rule->kind() == "Voja" ? "scaled_encoders"
                                   : (rule->kind() == "PES" ? "error" : "delta");
      if (a == "error") {
        if (rule->kind() != "PES" && rule->kind() != "RLS")
          throw ValidationError(who + ": " + rule->kind() + " has no 'error' to probe");
        size = target.full_size();
      } else if (a == "activities" || a == "delta" || a == "scaled_encoders") {
        size = 0;  // resolved at build
      } else {
        throw ValidationError(who +
                              ": learning rule probes record 'error', 'activities', 'delta' or "
                              "'scaled_encoders', not '" +
                              a + "'");
      }
      break;
    }
    default:
      throw ValidationError(who + ": cannot probe a " + to_string(target.kind));
  }
  walk_configs(*g_, net_, [&](const Config& c) {
    if (!opts.synapse && c.probe.synapse) opts.synapse = c.probe.synapse;
  });
  if (opts.sample_every && !(*opts.sample_every > 0.0))
    throw ValidationError(who + ": sample_every must be positive, got " + fmt(*opts.sample_every));
  if (!opts.solver) opts.solver = SolverParam(std::make_shared<LstsqL2>());
  detail::ProbeRec r{target, std::move(opts), size, net_};
  g_->probes.push_back(std::move(r));
  g_->nets[net_].probes.push_back(id);
  return Probe(g_.get(), id);
}

}  // namespace myelin
