// IR -> trainer op graph (see graph.hpp). Mirrors the executor's per-step semantics (spec
// §1.2): objects in level order, connections computed right after their pre object, a
// connection's synapse read one step later by its post object.
#include "train/graph.hpp"

#include <algorithm>

#include "myelin/errors.hpp"

namespace myelin::train {

namespace {

struct Compiler {
  const ir::Model& m;
  double lif_smoothing;
  Graph g;
  std::vector<std::optional<Ref>> ens_out;           // neuron output (or Direct output)
  std::vector<std::optional<Ref>> conn_delivered;    // what the post object adds
  std::vector<std::optional<Ref>> conn_u;            // before the synapse (probe "ConnU")
  std::vector<std::optional<Ref>> conn_in;           // the (sliced) pre value
  std::vector<std::optional<std::uint32_t>> conn_y;  // preallocated synapse outputs
  std::vector<std::optional<Ref>> ens_x;             // summed decoded input (probe "EnsInput")

  std::uint32_t tensor(std::string name, std::size_t size) {
    g.tensors.push_back({std::move(name), size});
    return std::uint32_t(g.tensors.size() - 1);
  }
  int param(std::string name, std::vector<std::size_t> shape, std::vector<float> init,
            bool trainable = true) {
    g.params.push_back({std::move(name), std::move(shape), std::move(init), trainable});
    return int(g.params.size() - 1);
  }
  Ref emit(Op op, std::string out_name, std::size_t out_size) {
    op.out = tensor(std::move(out_name), out_size);
    for (const Ref& r : op.in) g.max_lag = std::max(g.max_lag, r.lag);
    g.ops.push_back(std::move(op));
    return {g.ops.back().out, 0};
  }
  std::size_t size_of(Ref r) const { return g.tensors[r.tensor].size; }

  /// Σ of the refs (alias for one, zero constant for none).
  Ref sum(const std::vector<Ref>& refs, const std::string& name, std::size_t size) {
    if (refs.size() == 1) return refs[0];
    Op op;
    op.name = name;
    if (refs.empty()) {
      op.kind = OpKind::Input;
      op.node_kind = ir::NodeOp::Kind::Constant;
      op.constant.assign(size, 0.f);
      op.node = SIZE_MAX;
    } else {
      op.kind = OpKind::Sum;
      op.in = refs;
    }
    return emit(std::move(op), name, size);
  }

  void build_node(std::size_t i) {
    const auto& n = m.nodes[i];
    using K = ir::NodeOp::Kind;
    if (n.size_in == 0) {
      Op op;
      op.kind = OpKind::Input;
      op.name = n.name;
      op.node = i;
      op.node_kind = n.kind;
      if (n.kind == K::Constant) op.constant.assign(n.constant.begin(), n.constant.end());
      if (n.kind == K::FnT) op.fn_t = n.fn_t;
      // Process nodes have no deterministic batched output: they must be fed data (checked
      // when running).
      g.node_input_op[i] = g.ops.size();
      g.node_out[i] = emit(std::move(op), n.name, n.size_out);
      return;
    }
    if (n.kind != K::Passthrough)
      throw BuildError(n.name + ": a node that computes on its input (" +
                       std::string(n.kind == K::Process ? "a process" : "f(t, x)") +
                       ") is not differentiable; the Trainer supports passthrough nodes and "
                       "input nodes only");
    std::vector<Ref> in;
    for (std::size_t ci : m.node_in[i]) in.push_back(delivered(ci));
    g.node_out[i] = sum(in, n.name, n.size_out);
  }

  Ref delivered(std::size_t ci) {
    if (conn_delivered[ci]) return *conn_delivered[ci];
    // A connection with a synapse from an object evaluated later in the step (a feedback
    // loop): its output tensor is preallocated, read one step later.
    if (!conn_y[ci])
      throw BuildError(m.conns[ci].name + ": internal error (connection used before computed)");
    return {*conn_y[ci], 1};
  }

  void build_ensemble(std::size_t i) {
    const auto& e = m.ensembles[i];
    std::vector<Ref> xs, gains, raws;
    for (std::size_t ci : m.ens_in[i]) {
      const auto& c = m.conns[ci];
      const Ref r = delivered(ci);
      if (c.post_kind == ir::PostKind::EnsX)
        xs.push_back(r);
      else if (c.post_kind == ir::PostKind::NeuronsGain)
        gains.push_back(r);
      else
        raws.push_back(r);
    }
    if (e.direct) {
      ens_out[i] = sum(xs, e.name, e.d);
      ens_x[i] = ens_out[i];
      return;
    }
    if (!xs.empty()) {
      const Ref x = sum(xs, e.name + " input", e.d);
      ens_x[i] = x;
      // Encoders (scaled by gain / radius): a trainable dense op x (d) -> J (n), as NengoDL.
      Op op;
      op.kind = OpKind::Dense;
      op.name = e.name + " encoders";
      op.in = {x};
      op.weight = param("ens" + std::to_string(i) + ".encoders", {e.d, e.n}, e.enc_t);
      raws.push_back(emit(std::move(op), e.name + " encoded input", e.n));
    }
    NeuronTypePtr twin = e.neuron_type->rate_twin(lif_smoothing);
    if (!twin || twin->spiking() || !twin->state_names().empty())
      throw BuildError(e.name + ": the Trainer needs a stateless rate version of " +
                       e.neuron_type->repr() + " (got " + (twin ? twin->repr() : "none") + ")");
    Op op;
    op.kind = OpKind::Neurons;
    op.name = e.name;
    op.ens = i;
    op.spiking_type = e.neuron_type;
    op.rate_type = twin;
    op.gain = e.gain;
    op.init_state = e.init_state;
    if (!gains.empty()) {
      op.has_gain_in = true;
      op.in.push_back(sum(gains, e.name + " neuron input", e.n));
    }
    if (!raws.empty()) {
      op.has_raw_in = true;
      op.in.push_back(sum(raws, e.name + " current", e.n));
    }
    op.bias = param("ens" + std::to_string(i) + ".bias", {e.n}, e.bias);
    ens_out[i] = emit(std::move(op), e.name + " output", e.n);
  }

  void build_conn(std::size_t ci) {
    const auto& c = m.conns[ci];
    const std::string base = "conn" + std::to_string(ci);
    if (!c.learning.empty())
      throw BuildError(c.name + ": learning rules are not supported by the Trainer");
    if (c.post_kind == ir::PostKind::LearnPort)
      throw BuildError(c.name +
                       ": connections into learning rules are not supported by the Trainer");
    Ref x;
    if (c.mode == ir::ConnOp::Mode::Value && c.pre.kind == ir::ObjRef::Kind::Node) {
      x = *g.node_out[c.pre.index];
    } else {
      x = *ens_out[c.pre.index];
    }
    if (c.mode != ir::ConnOp::Mode::Decoded && !c.pre_idx.empty()) {
      Op op;
      op.kind = OpKind::Gather;
      op.name = c.name;
      op.in = {x};
      op.idx = c.pre_idx;
      x = emit(std::move(op), c.name + " input", c.pre_idx.size());
    }
    conn_in[ci] = x;
    if (c.mode == ir::ConnOp::Mode::Value && c.function)
      throw BuildError(c.name +
                       ": a connection function on a node or Direct ensemble is not "
                       "differentiable; the Trainer does not support it");
    Ref u = x;
    const bool has_bias = !c.bias.empty();
    if (c.layer) {
      Op op;
      op.kind = OpKind::Layer;
      op.name = c.name;
      op.in = {x};
      op.layer = c.layer;
      if (c.layer->kind == ir::LayerSpec::Kind::Convolution)
        op.weight =
            param(base + ".kernel", {c.layer->kh, c.layer->kw, c.layer->in_c, c.layer->out_c},
                  c.layer->kernel);
      if (has_bias) op.bias = param(base + ".bias", {c.bias.size()}, c.bias);
      u = emit(std::move(op), c.name + " output", c.size_out);
    } else if (!c.identity || c.mode == ir::ConnOp::Mode::Decoded) {
      Op op;
      op.kind = OpKind::Dense;
      op.name = c.name;
      op.in = {x};
      const std::size_t rows = std::size_t(c.W.rows()), cols = std::size_t(c.W.cols());
      if (rows != size_of(x) || cols != c.size_out)
        throw BuildError(c.name + ": weights of shape (" + std::to_string(rows) + ", " +
                         std::to_string(cols) + ") do not match " + std::to_string(size_of(x)) +
                         " -> " + std::to_string(c.size_out));
      op.weight = param(base + ".weights", {rows, cols},
                        std::vector<float>(c.W.data(), c.W.data() + c.W.size()));
      if (has_bias) op.bias = param(base + ".bias", {c.bias.size()}, c.bias);
      u = emit(std::move(op), c.name + " output", c.size_out);
    } else if (has_bias) {
      Op op;
      op.kind = OpKind::Bias;
      op.name = c.name;
      op.in = {x};
      op.bias = param(base + ".bias", {c.bias.size()}, c.bias);
      u = emit(std::move(op), c.name + " output", c.size_out);
    }
    if (!c.post_idx.empty()) {
      std::size_t post_size = 0;
      switch (c.post_kind) {
        case ir::PostKind::Node:
          post_size = m.nodes[c.post].size_in;
          break;
        case ir::PostKind::EnsX:
          post_size = m.ensembles[c.post].d;
          break;
        default:
          post_size = m.ensembles[c.post].n;
          break;
      }
      Op op;
      op.kind = OpKind::Scatter;
      op.name = c.name;
      op.in = {u};
      op.idx = c.post_idx;
      u = emit(std::move(op), c.name + " (scattered)", post_size);
    }
    conn_u[ci] = u;
    if (c.synapse) {
      Op op = filter_op(*c.synapse, c.name);
      op.in = {u};
      op.out = *conn_y[ci];
      g.max_lag = std::max(g.max_lag, u.lag);
      g.ops.push_back(std::move(op));
      conn_delivered[ci] = Ref{*conn_y[ci], 1};
    } else {
      conn_delivered[ci] = u;
    }
  }

  Op filter_op(const DiscreteFilter& f, const std::string& who) {
    Op op;
    op.kind = OpKind::Filter;
    op.name = who;
    if (f.kind == DiscreteFilter::Kind::Lowpass) {
      op.fa = float(f.a);
      op.fb = float(f.b);
    } else if (f.kind == DiscreteFilter::Kind::Identity) {
      op.fa = 0.f;
      op.fb = float(f.D);
    } else {
      throw BuildError(who + ": the Trainer supports Lowpass synapses (and None) only");
    }
    return op;
  }

  void run() {
    g.dt = m.dt;
    g.seed = m.seed;
    ens_out.assign(m.ensembles.size(), std::nullopt);
    ens_x.assign(m.ensembles.size(), std::nullopt);
    g.node_out.assign(m.nodes.size(), std::nullopt);
    g.node_input_op.assign(m.nodes.size(), std::nullopt);
    conn_delivered.assign(m.conns.size(), std::nullopt);
    conn_u.assign(m.conns.size(), std::nullopt);
    conn_in.assign(m.conns.size(), std::nullopt);
    conn_y.assign(m.conns.size(), std::nullopt);
    for (std::size_t ci = 0; ci < m.conns.size(); ++ci) {
      const auto& c = m.conns[ci];
      if (!c.synapse) continue;
      std::size_t size = c.size_out;
      if (!c.post_idx.empty()) {
        switch (c.post_kind) {
          case ir::PostKind::Node:
            size = m.nodes[c.post].size_in;
            break;
          case ir::PostKind::EnsX:
            size = m.ensembles[c.post].d;
            break;
          case ir::PostKind::NeuronsGain:
          case ir::PostKind::NeuronsRaw:
            size = m.ensembles[c.post].n;
            break;
          default:
            break;
        }
      }
      conn_y[ci] = tensor(c.name + " (filtered)", size);
    }
    for (const auto& level : m.levels) {
      for (const auto& o : level) {
        if (o.kind == ir::ObjRef::Kind::Node) {
          build_node(o.index);
          for (std::size_t ci : m.node_out[o.index]) build_conn(ci);
        } else {
          build_ensemble(o.index);
          for (std::size_t ci : m.ens_out[o.index]) build_conn(ci);
        }
      }
    }
    // Probes (spec §1.5): a filtered probe records its filter's previous output.
    using S = ir::ProbeOp::Source;
    g.probe.assign(m.probes.size(), std::nullopt);
    g.probe_error.assign(m.probes.size(), "");
    g.probe_name.assign(m.probes.size(), "");
    for (std::size_t k = 0; k < m.probes.size(); ++k) {
      const auto& p = m.probes[k];
      g.probe_name[k] = p.name;
      std::optional<Ref> r;
      switch (p.source) {
        case S::NodeOutput:
          r = g.node_out[p.obj];
          break;
        case S::NeuronsOutput:
          r = ens_out[p.obj];
          break;
        case S::ConnU:
          r = conn_u[p.obj];
          break;
        case S::ConnOutput:
          r = conn_delivered[p.obj];
          break;
        case S::ConnInput:
          r = conn_in[p.obj];
          break;
        case S::EnsInput:
          r = ens_x[p.obj];
          break;
        default:
          break;
      }
      if (!r) {
        g.probe_error[k] = p.name +
                           ": the Trainer can read node outputs, neuron outputs, decoded "
                           "outputs and connection inputs/outputs, not this probe";
        continue;
      }
      if (p.sample_every > 0.0 && std::abs(p.sample_every - m.dt) > 1e-12) {
        g.probe_error[k] = p.name + ": sample_every is not supported by the Trainer";
        continue;
      }
      if (!p.idx.empty()) {
        Op op;
        op.kind = OpKind::Gather;
        op.name = p.name;
        op.in = {*r};
        op.idx = p.idx;
        r = emit(std::move(op), p.name + " (selection)", p.idx.size());
      }
      if (p.synapse) {
        try {
          Op op = filter_op(*p.synapse, p.name);
          op.in = {*r};
          r = emit(std::move(op), p.name + " (filtered)", size_of(*r));
          r->lag = 1;
        } catch (const BuildError& e) {
          g.probe_error[k] = e.what();
          continue;
        }
      }
      g.max_lag = std::max(g.max_lag, r->lag);
      g.probe[k] = r;
    }
  }
};

}  // namespace

Graph compile(const ir::Model& m, double lif_smoothing) {
  Compiler c{m, lif_smoothing, {}, {}, {}, {}, {}, {}, {}};
  c.run();
  return std::move(c.g);
}

}  // namespace myelin::train
