// NEF build (spec §2 seeds, §3 ensembles, §5 decoders, §6 connections, §1.5 probes).
#include "builder/builder.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>

#include "frontend/graph.hpp"
#include "myelin/errors.hpp"

namespace myelin::builder {

namespace {

using detail::Graph;
using Clock = std::chrono::steady_clock;

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

/// Runs body(i) for i in [0, n) on `threads` OpenMP threads and rethrows the first error.
template <class F>
void parallel_for(std::size_t n, int threads, F&& body) {
  std::exception_ptr err;
  std::mutex m;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (n > 1 && threads > 1)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
    try {
      body(static_cast<std::size_t>(i));
    } catch (...) {
      std::lock_guard<std::mutex> lk(m);
      if (!err) err = std::current_exception();
    }
  }
  if (err) std::rethrow_exception(err);
}

struct Seeds {
  std::vector<std::uint64_t> ens, node, conn, probe;
};

// Spec §2: each network draws one 31-bit seed per child in the order connections,
// ensembles, sub-networks, nodes, probes; explicit seeds still consume a draw.
void assign_seeds(const Graph& g, std::size_t net, std::uint64_t seed, Seeds& s) {
  Rng rng(seed);
  const auto& n = g.nets[net];
  for (std::size_t c : n.connections) {
    std::uint64_t d = rng.seed31();
    s.conn[c] = g.connections[c].opts.seed.value_or(d);
  }
  for (std::size_t e : n.ensembles) {
    std::uint64_t d = rng.seed31();
    s.ens[e] = g.ensembles[e].opts.seed.value_or(d);
  }
  std::vector<std::uint64_t> sub;
  for (std::size_t k : n.networks) {
    std::uint64_t d = rng.seed31();
    sub.push_back(g.nets[k].seed.value_or(d));
  }
  for (std::size_t k : n.nodes) {
    std::uint64_t d = rng.seed31();
    s.node[k] = g.nodes[k].seed.value_or(d);
  }
  for (std::size_t p : n.probes) {
    std::uint64_t d = rng.seed31();
    s.probe[p] = g.probes[p].opts.seed.value_or(d);
  }
  for (std::size_t i = 0; i < n.networks.size(); ++i) assign_seeds(g, n.networks[i], sub[i], s);
}

std::size_t default_n_eval_points(std::size_t n, std::size_t d) {
  // Spec §3: max(clip(500·D, 750, 2500), 2·N).
  const std::size_t a = std::clamp<std::size_t>(500 * d, 750, 2500);
  return std::max(a, 2 * n);
}

void build_ensemble(const Graph& g, std::size_t id, std::uint64_t seed, ir::EnsembleOp& e) {
  const auto& r = g.ensembles[id];
  const auto& o = r.opts;
  e.name = detail::object_name(g, ObjKind::Ensemble, id);
  e.n = r.n_neurons;
  e.d = r.dimensions;
  e.radius = o.radius.value_or(1.0);
  e.neuron_type = o.neuron_type ? o.neuron_type.get() : std::make_shared<LIF>();
  e.direct = e.neuron_type->is_direct();
  e.noise = o.noise;
  Rng rng(seed);

  // 1. Eval points (in represented units).
  const std::size_t m = o.n_eval_points.value_or(default_n_eval_points(e.n, e.d));
  if (o.eval_points.empty() || o.eval_points.is_dist()) {
    DistPtr dist = o.eval_points.empty() ? std::make_shared<ScatteredHypersphere>(false)
                                         : o.eval_points.dist();
    e.eval_points = dist->sample(m, e.d, rng) * e.radius;
  } else {
    const auto& a = o.eval_points.array();
    if (static_cast<std::size_t>(a.cols()) != e.d)
      throw ValidationError(e.name + ": eval_points must have " + std::to_string(e.d) +
                            " columns, got shape (" + std::to_string(a.rows()) + ", " +
                            std::to_string(a.cols()) + ")");
    e.eval_points = a * e.radius;
  }
  if (e.direct) return;

  // 2. Encoders.
  if (o.encoders.empty() || o.encoders.is_dist()) {
    DistPtr dist =
        o.encoders.empty() ? std::make_shared<ScatteredHypersphere>(true) : o.encoders.dist();
    e.encoders = dist->sample(e.n, e.d, rng);
  } else {
    e.encoders = o.encoders.sample(e.n, e.d, rng, e.name + " encoders");
  }
  if (o.normalize_encoders.value_or(true)) {
    for (Eigen::Index i = 0; i < e.encoders.rows(); ++i) {
      const double nrm = e.encoders.row(i).norm();
      if (!(nrm > 0.0) || !std::isfinite(nrm))
        throw BuildError(e.name + ": encoder " + std::to_string(i) +
                         " has zero or non-finite length and cannot be normalised");
      e.encoders.row(i) /= nrm;
    }
  }

  // 3. Gain and bias.
  e.gain_d.resize(e.n);
  e.bias_d.resize(e.n);
  e.max_rates.resize(e.n);
  e.intercepts.resize(e.n);
  if (!o.gain.empty()) {
    e.gain_d = o.gain.sample(e.n, 1, rng, e.name + " gain").col(0);
    e.bias_d = o.bias.sample(e.n, 1, rng, e.name + " bias").col(0);
    e.neuron_type->max_rates_intercepts(std::span<const double>(e.gain_d.data(), e.n),
                                        std::span<const double>(e.bias_d.data(), e.n),
                                        std::span<double>(e.max_rates.data(), e.n),
                                        std::span<double>(e.intercepts.data(), e.n));
  } else {
    DistOrArray mr = o.max_rates.empty() ? DistOrArray(Uniform(200, 400)) : o.max_rates;
    DistOrArray ic = o.intercepts.empty() ? DistOrArray(Uniform(-1.0, 0.9)) : o.intercepts;
    e.max_rates = mr.sample(e.n, 1, rng, e.name + " max_rates").col(0);
    e.intercepts = ic.sample(e.n, 1, rng, e.name + " intercepts").col(0);
    try {
      e.neuron_type->gain_bias(std::span<const double>(e.max_rates.data(), e.n),
                               std::span<const double>(e.intercepts.data(), e.n),
                               std::span<double>(e.gain_d.data(), e.n),
                               std::span<double>(e.bias_d.data(), e.n));
    } catch (const Error& err) {
      throw BuildError(e.name + ": " + err.what());
    }
  }
  for (std::size_t i = 0; i < e.n; ++i) {
    if (!(e.gain_d[i] > 0.0) || !std::isfinite(e.gain_d[i]) || !std::isfinite(e.bias_d[i]))
      throw BuildError(e.name + ": neuron " + std::to_string(i) + " has gain " + fmt(e.gain_d[i]) +
                       " and bias " + fmt(e.bias_d[i]) + " (max_rate " + fmt(e.max_rates[i]) +
                       ", intercept " + fmt(e.intercepts[i]) +
                       "); gains must be positive and finite (intercepts must be < 1)");
  }

  // 4. Run-time parameters: scaled encoders (dimension-major), gain, bias.
  e.scaled_encoders = (e.encoders.array().colwise() * e.gain_d.array()).matrix() / e.radius;
  e.enc_t.resize(e.n * e.d);
  for (std::size_t k = 0; k < e.d; ++k)
    for (std::size_t i = 0; i < e.n; ++i)
      e.enc_t[k * e.n + i] =
          static_cast<float>(e.scaled_encoders(Eigen::Index(i), Eigen::Index(k)));
  e.gain.assign(e.gain_d.data(), e.gain_d.data() + e.n);
  e.bias.assign(e.bias_d.data(), e.bias_d.data() + e.n);
  std::transform(e.gain_d.data(), e.gain_d.data() + e.n, e.gain.begin(),
                 [](double v) { return static_cast<float>(v); });
  std::transform(e.bias_d.data(), e.bias_d.data() + e.n, e.bias.begin(),
                 [](double v) { return static_cast<float>(v); });

  // 5. Initial neuron state from a separate stream (ensemble seed + 1, spec §2).
  auto names = e.neuron_type->state_names();
  e.init_state.assign(names.size(), std::vector<float>(e.n, 0.0f));
  std::vector<float*> ptrs;
  for (auto& s : e.init_state) ptrs.push_back(s.data());
  Rng srng(seed + 1);
  e.neuron_type->init_state(e.n, ptrs.data(), srng);
}

std::vector<int> slice_of(const Endpoint& e) {
  if (e.indices) return *e.indices;
  return {};
}

Eigen::MatrixXd select_cols(const Eigen::MatrixXd& X, const std::vector<int>& idx) {
  if (idx.empty()) return X;
  Eigen::MatrixXd out(X.rows(), Eigen::Index(idx.size()));
  for (std::size_t j = 0; j < idx.size(); ++j) out.col(Eigen::Index(j)) = X.col(idx[j]);
  return out;
}

std::optional<DiscreteFilter> discretize(const SynapseParam& s, double dt) {
  if (s.is_none()) return std::nullopt;
  return s.get()->discretize(dt);
}

}  // namespace

Eigen::MatrixXf ensemble_activities_f(const ir::EnsembleOp& ens, const Eigen::MatrixXd& X) {
  // Float32 version for the build: J = X Esᵀ + bias with a float GEMM, then rates_f per
  // neuron (contiguous columns).
  const Eigen::MatrixXf Xf = X.cast<float>();
  const Eigen::MatrixXf Ef = ens.scaled_encoders.cast<float>();
  Eigen::MatrixXf J(Xf.rows(), Ef.rows());
  J.noalias() = Xf * Ef.transpose();
  Eigen::MatrixXf A(J.rows(), J.cols());
  for (Eigen::Index i = 0; i < J.cols(); ++i) {
    J.col(i).array() += ens.bias[std::size_t(i)];
    ens.neuron_type->rates_f(std::span<const float>(J.col(i).data(), std::size_t(J.rows())),
                             std::span<float>(A.col(i).data(), std::size_t(A.rows())));
  }
  return A;
}

Eigen::MatrixXd ensemble_activities(const ir::EnsembleOp& ens, const Eigen::MatrixXd& X) {
  // J = gain ⊙ (X Eᵀ / r) + bias  (spec §5: activities use x / r; rates never spikes).
  Eigen::MatrixXd J = X * ens.scaled_encoders.transpose();
  J.rowwise() += ens.bias_d.transpose();
  Eigen::MatrixXd A(J.rows(), J.cols());
  // Rates are evaluated column-wise (one neuron over all points): contiguous in Eigen.
  for (Eigen::Index i = 0; i < J.cols(); ++i) {
    ens.neuron_type->rates(std::span<const double>(J.col(i).data(), std::size_t(J.rows())),
                           std::span<double>(A.col(i).data(), std::size_t(A.rows())));
  }
  return A;
}

ir::Model build(const Network& net, const BuildOptions& bo) {
  const auto t0 = Clock::now();
  const Graph& g = net.graph();
  if (!(bo.dt > 0.0) || !std::isfinite(bo.dt))
    throw ValidationError("Simulator: dt must be positive and finite, got " + fmt(bo.dt));
  const int threads = bo.threads > 0 ? bo.threads : omp_get_max_threads();
  ir::Model M;
  M.dt = bo.dt;

  // Seeds (spec §2).
  std::uint64_t top_seed;
  if (g.nets[0].seed) {
    top_seed = *g.nets[0].seed;
  } else {
    std::random_device rd;
    top_seed = (std::uint64_t(rd()) << 32) ^ rd();
  }
  M.seed = bo.seed ? *bo.seed : (g.nets[0].seed ? top_seed + 1 : mix_seed(top_seed, 1));
  Seeds seeds;
  seeds.ens.resize(g.ensembles.size());
  seeds.node.resize(g.nodes.size());
  seeds.conn.resize(g.connections.size());
  seeds.probe.resize(g.probes.size());
  assign_seeds(g, 0, top_seed, seeds);

  // Ensembles (in parallel).
  M.ensembles.resize(g.ensembles.size());
  parallel_for(g.ensembles.size(), threads,
               [&](std::size_t i) { build_ensemble(g, i, seeds.ens[i], M.ensembles[i]); });
  for (std::size_t i = 0; i < M.ensembles.size(); ++i) M.ensembles[i].stream = 1000003ULL * (i + 1);

  // Nodes.
  M.nodes.resize(g.nodes.size());
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& r = g.nodes[i];
    auto& n = M.nodes[i];
    n.name = detail::object_name(g, ObjKind::Node, i);
    n.size_in = r.size_in;
    n.size_out = r.size_out;
    n.stream = 2000003ULL * (i + 1);
    const auto& v = r.output.value();
    if (std::holds_alternative<std::monostate>(v)) {
      n.kind = ir::NodeOp::Kind::Passthrough;
    } else if (auto* c = std::get_if<std::vector<double>>(&v)) {
      n.kind = ir::NodeOp::Kind::Constant;
      n.constant = *c;
    } else if (auto* f = std::get_if<NodeOutput::FnT>(&v)) {
      n.kind = ir::NodeOp::Kind::FnT;
      n.fn_t = *f;
    } else if (auto* f2 = std::get_if<NodeOutput::FnTX>(&v)) {
      n.kind = ir::NodeOp::Kind::FnTX;
      n.fn_tx = *f2;
    } else {
      n.kind = ir::NodeOp::Kind::Process;
      n.process = std::get<ProcessPtr>(v);
      if (n.process->seed) n.stream = *n.process->seed;
    }
  }

  // Learning ops are numbered in connection order.
  std::vector<std::vector<std::size_t>> conn_learn(g.connections.size());
  for (std::size_t c = 0; c < g.connections.size(); ++c) {
    const auto& rules = g.connections[c].opts.learning_rule_type.rules();
    for (std::size_t k = 0; k < rules.size(); ++k) {
      conn_learn[c].push_back(M.learning.size());
      ir::LearnOp lo;
      lo.conn = c;
      lo.kind = rules[k]->kind();
      using R = ir::LearnOp::Rule;
      if (lo.kind == "PES") {
        lo.rule = R::PES;
      } else if (lo.kind == "RLS") {
        lo.rule = R::RLS;
      } else if (lo.kind == "BCM") {
        lo.rule = R::BCM;
      } else if (lo.kind == "Oja") {
        lo.rule = R::Oja;
      } else if (lo.kind == "Voja") {
        lo.rule = R::Voja;
      } else {
        throw BuildError("learning rule of unknown kind '" + lo.kind + "'");
      }
      lo.learning_rate = rules[k]->learning_rate;
      lo.name = detail::object_name(g, ObjKind::Connection, c) + ".learning_rule[" +
                std::to_string(k) + "] (" + lo.kind + ")";
      M.learning.push_back(std::move(lo));
    }
  }

  // Connections: first the cheap structure, then the decoder solves in parallel.
  // A decoded solve request (connection or decoded_output probe).
  struct SolveJob {
    std::size_t conn;  // index into M.conns
    std::size_t pre_ens;
    std::vector<int> pre_idx;
    ConnFunction function;
    DistOrArray eval_points;
    bool scale_eval_points = true;
    SolverPtr solver;
    Eigen::MatrixXd T;                        // size_out × size_mid
    std::optional<std::size_t> weights_post;  // post ensemble (weights=True)
    std::vector<int> post_idx;                // post dims for weights=True
    std::uint64_t seed;
  };
  std::vector<SolveJob> jobs;

  M.conns.resize(g.connections.size());
  for (std::size_t ci = 0; ci < g.connections.size(); ++ci) {
    const auto& r = g.connections[ci];
    auto& c = M.conns[ci];
    c.name = detail::object_name(g, ObjKind::Connection, ci);
    c.size_in = r.pre.size();
    c.size_mid = r.size_mid;
    c.size_out = r.post.kind == ObjKind::Node
                     ? (r.post.indices ? r.post.indices->size() : g.nodes[r.post.id].size_in)
                     : r.post.size();
    c.synapse = discretize(*r.opts.synapse, bo.dt);
    c.learning = conn_learn[ci];
    Rng crng(seeds.conn[ci]);
    // Deep-SNN layers (ir/layer.hpp): conv/pool transforms stay structured, and identity
    // connections out of nodes / .neurons of big layers are not materialised (a 21632-neuron
    // layer would need a 3.7 GB identity); executors use `identity` / `layer` instead of W.
    const bool decoded_pre = r.pre.kind == ObjKind::Ensemble && !M.ensembles[r.pre.id].direct;
    const bool lazy_identity = r.opts.transform.is_none() && !decoded_pre &&
                               c.size_out * c.size_mid > (std::size_t(1) << 22);
    if (r.opts.transform.is_structured()) {
      if (decoded_pre)
        throw BuildError(c.name + ": a " + r.opts.transform.repr() +
                         " transform needs a Node or .neurons pre object, not a decoded ensemble");
      c.layer = ir::make_layer_spec(r.opts.transform, crng, c.name);
    } else if (!lazy_identity) {
      c.transform =
          r.opts.transform.is_none()
              ? Eigen::MatrixXd::Identity(Eigen::Index(c.size_out), Eigen::Index(c.size_mid))
              : r.opts.transform.materialize(c.size_out, c.size_mid, crng, c.name);
    }
    for (double b : r.opts.transform.bias_values(c.size_out, c.name)) c.bias.push_back(float(b));
    const bool weights_solver = r.opts.solver.get()->weights;

    // Post side.
    c.post = r.post.id;
    c.post_idx = slice_of(r.post);
    switch (r.post.kind) {
      case ObjKind::Ensemble:
        c.post_kind = ir::PostKind::EnsX;
        break;
      case ObjKind::Neurons:
        c.post_kind = ir::PostKind::NeuronsGain;
        break;
      case ObjKind::Node:
        c.post_kind = ir::PostKind::Node;
        break;
      case ObjKind::LearningRule:
        c.post_kind = ir::PostKind::LearnPort;
        c.post = conn_learn.at(r.post.id).at(r.post.sub);
        break;
      default:
        throw BuildError(c.name + ": unsupported post object");
    }

    // Pre side.
    if (r.pre.kind == ObjKind::Node ||
        (r.pre.kind == ObjKind::Ensemble && M.ensembles[r.pre.id].direct)) {
      c.pre = {r.pre.kind == ObjKind::Node ? ir::ObjRef::Kind::Node : ir::ObjRef::Kind::Ensemble,
               r.pre.id};
      c.mode = ir::ConnOp::Mode::Value;
      c.pre_idx = slice_of(r.pre);
      if (r.opts.function) c.function = r.opts.function.fn();
      c.identity = r.opts.transform.is_none();
      c.W = c.transform.transpose().cast<float>();
      c.weights = c.transform;
      if (weights_solver) throw BuildError(c.name + ": weights=true needs a neuron ensemble pre");
    } else if (r.pre.kind == ObjKind::Neurons) {
      c.pre = {ir::ObjRef::Kind::Ensemble, r.pre.id};
      c.mode = ir::ConnOp::Mode::Neurons;
      c.pre_idx = slice_of(r.pre);
      c.identity = r.opts.transform.is_none();
      c.W = c.transform.transpose().cast<float>();
      c.weights = c.transform;
    } else {
      c.pre = {ir::ObjRef::Kind::Ensemble, r.pre.id};
      c.mode = ir::ConnOp::Mode::Decoded;
      SolveJob j;
      j.conn = ci;
      j.pre_ens = r.pre.id;
      j.pre_idx = slice_of(r.pre);
      j.function = r.opts.function;
      j.eval_points = r.opts.eval_points;
      j.scale_eval_points = r.opts.scale_eval_points;
      j.solver = r.opts.solver.get();
      j.T = c.transform;
      j.seed = seeds.conn[ci];
      if (weights_solver) {
        if (r.post.kind != ObjKind::Ensemble || M.ensembles[r.post.id].direct)
          throw BuildError(c.name + ": weights=true needs a neuron ensemble post");
        j.weights_post = r.post.id;
        j.post_idx = c.post_idx;
        c.post_kind = ir::PostKind::NeuronsRaw;
        c.post_idx.clear();
        c.size_out = M.ensembles[r.post.id].n;
      }
      jobs.push_back(std::move(j));
    }
  }

  // Probes (decoded_output probes add a sink connection with their own solve).
  M.probes.resize(g.probes.size());
  for (std::size_t pi = 0; pi < g.probes.size(); ++pi) {
    const auto& r = g.probes[pi];
    auto& p = M.probes[pi];
    p.name = detail::object_name(g, ObjKind::Probe, pi) + " of " + r.target.name();
    p.synapse = r.opts.synapse ? discretize(*r.opts.synapse, bo.dt) : std::nullopt;
    p.sample_every = r.opts.sample_every.value_or(0.0);
    p.idx = slice_of(r.target);
    p.obj = r.target.id;
    p.size = r.size;
    const std::string& a = r.opts.attr;
    using S = ir::ProbeOp::Source;
    switch (r.target.kind) {
      case ObjKind::Node:
        p.source = S::NodeOutput;
        break;
      case ObjKind::Ensemble:
        if (a == "input") {
          p.source = S::EnsInput;
        } else if (M.ensembles[r.target.id].direct) {
          p.source = S::EnsInput;  // Direct mode: the output is the input
        } else {
          // Sink connection: Decoded, identity function on the probed slice.
          ir::ConnOp c;
          c.name = p.name + " (decoded_output)";
          c.pre = {ir::ObjRef::Kind::Ensemble, r.target.id};
          c.mode = ir::ConnOp::Mode::Decoded;
          c.size_in = c.size_mid = c.size_out = r.size;
          c.post_kind = ir::PostKind::Sink;
          c.transform = Eigen::MatrixXd::Identity(Eigen::Index(r.size), Eigen::Index(r.size));
          SolveJob j;
          j.conn = M.conns.size();
          j.pre_ens = r.target.id;
          j.pre_idx = p.idx;
          j.solver = r.opts.solver.get();
          j.T = c.transform;
          j.seed = seeds.probe[pi];
          jobs.push_back(std::move(j));
          p.source = S::ConnU;
          p.obj = M.conns.size();
          p.idx.clear();
          M.conns.push_back(std::move(c));
        }
        break;
      case ObjKind::Neurons:
        if (a == "output")
          p.source = S::NeuronsOutput;
        else if (a == "input")
          p.source = S::NeuronsInput;
        else {
          p.source = S::NeuronsState;
          auto names = M.ensembles[r.target.id].neuron_type->state_names();
          auto it = std::find(names.begin(), names.end(), a);
          if (it == names.end())
            throw BuildError(p.name + ": neuron type " +
                             M.ensembles[r.target.id].neuron_type->kind() + " has no state '" + a +
                             "'");
          p.state_index = std::size_t(it - names.begin());
        }
        break;
      case ObjKind::Connection:
        if (a == "output")
          p.source = S::ConnOutput;
        else if (a == "input")
          p.source = S::ConnInput;
        else
          p.source = S::ConnWeights;
        p.idx.clear();
        break;
      case ObjKind::LearningRule:
        p.obj = conn_learn.at(r.target.id).at(r.target.sub);
        p.idx.clear();
        if (a == "error")
          p.source = S::LearnError;
        else if (a == "activities")
          p.source = S::LearnActivities;
        else if (a == "delta")
          p.source = S::LearnDelta;
        else
          p.source = S::LearnEncoders;
        break;
      default:
        throw BuildError(p.name + ": unsupported probe target");
    }
  }

  // Decoder solves (spec §5). Jobs that share a pre ensemble, its eval points and an
  // LstsqL2 solver with the same reg share one factorisation (their targets are stacked as
  // extra right-hand sides). Groups run in parallel, biggest pre-population first.
  std::vector<std::vector<std::size_t>> groups;
  {
    std::vector<int> group_of(jobs.size(), -1);
    for (std::size_t k = 0; k < jobs.size(); ++k) {
      const SolveJob& j = jobs[k];
      const auto* l2 = dynamic_cast<const LstsqL2*>(j.solver.get());
      const bool shareable = l2 && j.eval_points.empty();
      if (shareable) {
        for (std::size_t q = 0; q < k; ++q) {
          const auto* l2q = dynamic_cast<const LstsqL2*>(jobs[q].solver.get());
          if (group_of[q] >= 0 && l2q && jobs[q].eval_points.empty() &&
              jobs[q].pre_ens == j.pre_ens && l2q->reg == l2->reg) {
            group_of[k] = group_of[q];
            break;
          }
        }
      }
      if (group_of[k] < 0) {
        group_of[k] = static_cast<int>(groups.size());
        groups.emplace_back();
      }
      groups[std::size_t(group_of[k])].push_back(k);
    }
  }
  std::stable_sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) {
    return M.ensembles[jobs[a[0]].pre_ens].n > M.ensembles[jobs[b[0]].pre_ens].n;
  });

  // Targets f(X[:, pre_slice]) of one job (spec §5).
  auto targets = [&](const SolveJob& j, const Eigen::MatrixXd& X) {
    const auto& c = M.conns[j.conn];
    Eigen::MatrixXd Xs = select_cols(X, j.pre_idx);
    if (!j.function) return Xs;
    Eigen::MatrixXd Y(X.rows(), Eigen::Index(c.size_mid));
    std::vector<double> x(std::size_t(Xs.cols()));
    for (Eigen::Index i = 0; i < Xs.rows(); ++i) {
      for (Eigen::Index q = 0; q < Xs.cols(); ++q) x[std::size_t(q)] = Xs(i, q);
      std::vector<double> y = j.function.fn()(x);
      if (y.size() != c.size_mid)
        throw ValidationError(c.name + ": function returned " + std::to_string(y.size()) +
                              " values at eval point " + std::to_string(i) + ", expected " +
                              std::to_string(c.size_mid));
      for (std::size_t q = 0; q < y.size(); ++q) {
        if (!std::isfinite(y[q]))
          throw BuildError(c.name + ": function returned a non-finite value (" + fmt(y[q]) +
                           ") at eval point " + std::to_string(i));
        Y(i, Eigen::Index(q)) = y[q];
      }
    }
    return Y;
  };

  // Decoders → connection weights.
  auto finalize = [&](const SolveJob& j, const Eigen::MatrixXd& D) {
    auto& c = M.conns[j.conn];
    const auto& pre = M.ensembles[j.pre_ens];
    if (static_cast<std::size_t>(D.rows()) != pre.n ||
        static_cast<std::size_t>(D.cols()) != c.size_mid)
      throw BuildError(c.name + ": solver returned decoders of shape (" + std::to_string(D.rows()) +
                       ", " + std::to_string(D.cols()) + "), expected (" + std::to_string(pre.n) +
                       ", " + std::to_string(c.size_mid) + ")");
    if (!D.allFinite()) throw BuildError(c.name + ": the decoder solve produced non-finite values");
    if (j.weights_post) {
      // Full weights: W = Es_post[:, post_slice] · T · Dᵀ (spec §5), into post currents.
      const auto& post = M.ensembles[*j.weights_post];
      Eigen::MatrixXd Es = select_cols(post.scaled_encoders, j.post_idx);
      c.weights = Es * j.T * D.transpose();  // n_post × n_pre
    } else {
      c.weights = j.T * D.transpose();  // size_out × n_pre
    }
    c.W = c.weights.transpose().cast<float>();
  };

  parallel_for(groups.size(), threads, [&](std::size_t gi) {
    const auto& grp = groups[gi];
    const SolveJob& j0 = jobs[grp[0]];
    const auto& pre = M.ensembles[j0.pre_ens];
    auto& c0 = M.conns[j0.conn];
    Rng rng(j0.seed);
    Eigen::MatrixXd X;
    Eigen::MatrixXf A;
    if (j0.eval_points.empty()) {
      X = pre.eval_points;
    } else {
      X = j0.eval_points.is_dist()
              ? j0.eval_points.dist()->sample(
                    pre.eval_points.rows() > 0 ? std::size_t(pre.eval_points.rows()) : 750, pre.d,
                    rng)
              : j0.eval_points.array();
      if (static_cast<std::size_t>(X.cols()) != pre.d)
        throw ValidationError(c0.name + ": eval_points must have " + std::to_string(pre.d) +
                              " columns, got " + std::to_string(X.cols()));
      if (j0.scale_eval_points) X *= pre.radius;
    }
    if (j0.solver->needs_activities()) A = ensemble_activities_f(pre, X);
    std::vector<Eigen::MatrixXd> Ys;
    Eigen::Index cols = 0;
    for (std::size_t k : grp) {
      M.conns[jobs[k].conn].eval_points = X;
      Ys.push_back(targets(jobs[k], X));
      cols += Ys.back().cols();
    }
    auto solve = [&](const SolveJob& j, const Eigen::MatrixXd& Y, SolverInfo& info) {
      if (j.solver->needs_activities())
        return j.solver->solve_f(A, Y, rng, info, M.conns[j.conn].name);
      return j.solver->solve(Eigen::MatrixXd::Zero(0, Eigen::Index(pre.n)), Y, rng, info,
                             M.conns[j.conn].name);
    };
    if (grp.size() == 1) {
      finalize(j0, solve(j0, Ys[0], c0.solver_info));
      return;
    }
    Eigen::MatrixXd Yall(X.rows(), cols);
    for (std::size_t q = 0, off = 0; q < grp.size(); off += std::size_t(Ys[q].cols()), ++q)
      Yall.middleCols(Eigen::Index(off), Ys[q].cols()) = Ys[q];
    SolverInfo info;
    const std::string names = c0.name + " (+" + std::to_string(grp.size() - 1) + " sharing)";
    Eigen::MatrixXd Dall = j0.solver->solve_f(A, Yall, rng, info, names);
    for (std::size_t q = 0, off = 0; q < grp.size(); off += std::size_t(Ys[q].cols()), ++q) {
      const SolveJob& j = jobs[grp[q]];
      Eigen::MatrixXd D = Dall.middleCols(Eigen::Index(off), Ys[q].cols());
      auto& si = M.conns[j.conn].solver_info;
      si = info;
      const Eigen::MatrixXf E = A * D.cast<float>() - Ys[q].cast<float>();
      si.rmses = E.size() ? std::sqrt(double(E.squaredNorm()) / double(E.size())) : 0.0;
      si.method += "-shared";
      finalize(j, D);
    }
  });

  // Learning ops: resolve pre/post and filters (spec §8).
  for (std::size_t li = 0; li < M.learning.size(); ++li) {
    auto& lo = M.learning[li];
    const auto& r = g.connections[lo.conn];
    const auto& c = M.conns[lo.conn];
    std::size_t k =
        std::size_t(std::find(conn_learn[lo.conn].begin(), conn_learn[lo.conn].end(), li) -
                    conn_learn[lo.conn].begin());
    const auto& rule = r.opts.learning_rule_type.rules()[k];
    lo.pre_ens = r.pre.id;
    if (r.pre.kind == ObjKind::Neurons) lo.pre_idx = slice_of(r.pre);
    lo.post_ens = r.post.id;
    lo.port_size = Endpoint{const_cast<Graph*>(&g), ObjKind::LearningRule, lo.conn, std::nullopt, k}
                       .full_size();
    if (auto* pes = dynamic_cast<const PES*>(rule.get())) {
      lo.pre_synapse = discretize(pes->pre_synapse, bo.dt);
      if (c.post_kind == ir::PostKind::NeuronsRaw || c.post_kind == ir::PostKind::NeuronsGain) {
        // Local error ε = Es·e, restricted to the targeted post dims / neurons (spec §8.1).
        const auto& post = M.ensembles[r.post.id];
        lo.error_to_neurons = true;
        Eigen::MatrixXd Es;
        if (c.post_kind == ir::PostKind::NeuronsRaw) {
          Es = select_cols(post.scaled_encoders, slice_of(r.post));
        } else {
          std::vector<int> rows = slice_of(r.post);
          if (rows.empty()) {
            Es = post.scaled_encoders;
          } else {
            Es.resize(Eigen::Index(rows.size()), post.scaled_encoders.cols());
            for (std::size_t q = 0; q < rows.size(); ++q)
              Es.row(Eigen::Index(q)) = post.scaled_encoders.row(rows[q]);
          }
        }
        lo.error_encoders = Es.cast<float>();
      }
    } else if (auto* rls = dynamic_cast<const RLS*>(rule.get())) {
      lo.pre_synapse = discretize(rls->pre_synapse, bo.dt);
    } else if (auto* bcm = dynamic_cast<const BCM*>(rule.get())) {
      lo.pre_synapse = discretize(bcm->pre_synapse, bo.dt);
      lo.post_synapse = discretize(bcm->post_synapse, bo.dt);
      lo.theta_synapse = discretize(bcm->theta_synapse, bo.dt);
    } else if (auto* oja = dynamic_cast<const Oja*>(rule.get())) {
      lo.pre_synapse = discretize(oja->pre_synapse, bo.dt);
      lo.post_synapse = discretize(oja->post_synapse, bo.dt);
      lo.beta = oja->beta;
    } else if (auto* voja = dynamic_cast<const Voja*>(rule.get())) {
      lo.post_synapse = discretize(voja->post_synapse, bo.dt);
      lo.post_ens = r.post.id;
    }
  }

  // Adjacency.
  M.ens_in.assign(M.ensembles.size(), {});
  M.ens_out.assign(M.ensembles.size(), {});
  M.node_in.assign(M.nodes.size(), {});
  M.node_out.assign(M.nodes.size(), {});
  M.learn_in.assign(M.learning.size(), {});
  for (std::size_t ci = 0; ci < M.conns.size(); ++ci) {
    const auto& c = M.conns[ci];
    (c.pre.kind == ir::ObjRef::Kind::Node ? M.node_out[c.pre.index] : M.ens_out[c.pre.index])
        .push_back(ci);
    switch (c.post_kind) {
      case ir::PostKind::EnsX:
      case ir::PostKind::NeuronsGain:
      case ir::PostKind::NeuronsRaw:
        M.ens_in[c.post].push_back(ci);
        break;
      case ir::PostKind::Node:
        M.node_in[c.post].push_back(ci);
        break;
      case ir::PostKind::LearnPort:
        M.learn_in[c.post].push_back(ci);
        break;
      case ir::PostKind::Sink:
        break;
    }
  }

  // Schedule: levels of the synapse=None graph (Kahn); a cycle is a build error (spec §1.1).
  const std::size_t NE = M.ensembles.size(), NN = M.nodes.size();
  auto key = [&](ir::ObjRef o) {
    return o.kind == ir::ObjRef::Kind::Node ? o.index : NN + o.index;
  };
  std::vector<std::vector<std::size_t>> succ(NN + NE);
  std::vector<int> indeg(NN + NE, 0);
  for (const auto& c : M.conns) {
    if (c.synapse) continue;
    std::size_t dst;
    if (c.post_kind == ir::PostKind::Node)
      dst = c.post;
    else if (c.post_kind == ir::PostKind::EnsX || c.post_kind == ir::PostKind::NeuronsGain ||
             c.post_kind == ir::PostKind::NeuronsRaw)
      dst = NN + c.post;
    else
      continue;
    succ[key(c.pre)].push_back(dst);
    ++indeg[dst];
  }
  std::vector<std::size_t> frontier;
  for (std::size_t v = 0; v < NN + NE; ++v)
    if (indeg[v] == 0) frontier.push_back(v);
  std::size_t done = 0;
  auto ref_of = [&](std::size_t v) {
    return v < NN ? ir::ObjRef{ir::ObjRef::Kind::Node, v}
                  : ir::ObjRef{ir::ObjRef::Kind::Ensemble, v - NN};
  };
  while (!frontier.empty()) {
    std::vector<ir::ObjRef> level;
    std::vector<std::size_t> next;
    for (std::size_t v : frontier) {
      level.push_back(ref_of(v));
      ++done;
      for (std::size_t w : succ[v])
        if (--indeg[w] == 0) next.push_back(w);
    }
    M.levels.push_back(std::move(level));
    frontier = std::move(next);
  }
  if (done != NN + NE) {
    std::string names;
    for (std::size_t v = 0; v < NN + NE; ++v) {
      if (indeg[v] > 0) {
        if (!names.empty()) names += ", ";
        names += v < NN ? M.nodes[v].name : M.ensembles[v - NN].name;
      }
    }
    throw BuildError(
        "the model has a cycle of connections without a synapse (synapse=None) "
        "through: " +
        names + "; every feedback loop needs at least one synapse");
  }

  M.build_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return M;
}

}  // namespace myelin::builder
