// Event-driven spiking inference (see spiking.hpp).
//
// Per item the dynamic ops are split into stages at spiking layers whose only consumers are
// event-driven (conv / dense / pooling on spikes): stage k runs all its steps before stage
// k + 1 starts, handing over one event list (index, value) per step. This is the same
// computation in a different loop order (the network is feed-forward across the split), but
// each stage's state and weights stay in the core's cache.
#include "train/spiking.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>

#include "ir/node_output.hpp"
#include "myelin/errors.hpp"
#include "train/spike_kernels.hpp"

namespace myelin::train {

namespace {

/// Spikes of one step: indices (ascending) and values.
struct Events {
  std::vector<std::int32_t> idx;
  std::vector<float> val;
};

struct Workspace {
  std::vector<std::vector<float>> ring;           // [tensor][slot · size]
  std::vector<std::vector<std::int32_t>> fired;   // [tensor][slot · size] (spiking tensors)
  std::vector<std::vector<std::size_t>> n_fired;  // [tensor][slot]
  std::vector<std::vector<Events>> events;        // [tensor][step] (stage outputs)
  std::vector<float> vals;                        // scratch: values of a fired list
  std::vector<std::uint32_t> pix;                 // scratch: events per input pixel
  struct Neuron {
    std::vector<float> J;
    std::vector<std::vector<float>> state;  // per state variable (non-stateful runs)
    // Constant-input LIF layers (non-stateful): only neurons with J > 1 can ever fire, so
    // only they are stepped, on compact copies of their J and state.
    bool compact = false;
    std::vector<std::int32_t> active, fired;
    std::vector<float> Jc, vc, rc, outc;
    std::vector<float> scratch;  // lif_step_fast
  };
  std::vector<Neuron> nrn;   // per op
  std::vector<double> t_op;  // profiling: seconds per op
};

struct Stage {
  std::vector<std::size_t> ops;
  std::int64_t out_events = -1;  // tensor handed to later stages as events
};

}  // namespace

struct SpikingRunner::Impl {
  const Graph& g;
  ParamStore& P;
  int threads;
  CpuExecutor static_exec;
  std::size_t L = 1;  // ring depth of filter outputs (max lag + 1); others have depth 1
  // Persistent per-row state (stateful runs): neuron states and filter outputs.
  std::size_t state_rows = 0;
  std::vector<std::vector<std::vector<float>>> nstate;  // [op][state var][row · n]
  std::vector<std::vector<float>> fstate;               // [op][row · size] (Filter ops)
  std::vector<std::uint8_t> spiking_tensor;             // output of a spiking Neurons op
  std::vector<std::uint8_t> filter_tensor;              // output of a Filter op
  std::vector<std::int64_t> producer;                   // op writing each tensor
  bool keep_ = false;                                   // this run continues the kept state
  // Per run: constant tensors, stages, event tensors.
  std::vector<std::uint8_t> stat;
  std::vector<Stage> stages;
  std::vector<std::uint8_t> is_event;
  std::vector<Workspace> wss;  // per thread
  // MYELIN_TRAIN_PROFILE=1: seconds per op (summed over threads), printed at destruction.
  bool profile = false;
  std::vector<double> t_op;
  std::mutex prof_mu;
  double t_static = 0.0;
  std::size_t spikes = 0, neuron_steps = 0;
  std::vector<std::size_t> op_spikes, op_steps;

  Impl(const Graph& graph, ParamStore& params, int th)
      : g(graph), P(params), threads(th), static_exec(graph, params, th) {
    const char* e = std::getenv("MYELIN_TRAIN_PROFILE");
    profile = e && *e && *e != '0';
    t_op.assign(g.ops.size(), 0.0);
    op_spikes.assign(g.ops.size(), 0);
    op_steps.assign(g.ops.size(), 0);
    L = std::size_t(g.max_lag) + 1;
    spiking_tensor.assign(g.tensors.size(), 0);
    filter_tensor.assign(g.tensors.size(), 0);
    producer.assign(g.tensors.size(), -1);
    for (std::size_t oi = 0; oi < g.ops.size(); ++oi) {
      const Op& op = g.ops[oi];
      producer[op.out] = std::int64_t(oi);
      if (op.kind == OpKind::Neurons && op.spiking_type->spiking()) spiking_tensor[op.out] = 1;
      if (op.kind == OpKind::Filter) filter_tensor[op.out] = 1;
    }
    nstate.resize(g.ops.size());
    fstate.resize(g.ops.size());
  }

  ~Impl() {
    if (!profile) return;
    std::fprintf(stderr, "[profile] spiking: static part %.3f s, %zu stage(s)\n", t_static,
                 stages.size());
    for (std::size_t oi = 0; oi < g.ops.size(); ++oi)
      if (t_op[oi] > 1e-3)
        std::fprintf(stderr, "[profile] spiking op %2zu %8.3f s (thread time)  %s  fired %.4f\n",
                     oi, t_op[oi], g.ops[oi].name.c_str(),
                     op_steps[oi] ? double(op_spikes[oi]) / double(op_steps[oi]) : 0.0);
    if (neuron_steps)
      std::fprintf(stderr, "[profile] spiking: %.4f of neuron updates fired\n",
                   double(spikes) / double(neuron_steps));
  }

  std::size_t depth(std::uint32_t tensor) const { return filter_tensor[tensor] ? L : 1; }

  void init_state(std::size_t rows) {
    state_rows = rows;
    for (std::size_t oi = 0; oi < g.ops.size(); ++oi) {
      const Op& op = g.ops[oi];
      const std::size_t n = g.tensors[op.out].size;
      if (op.kind == OpKind::Neurons) {
        nstate[oi].assign(op.init_state.size(), std::vector<float>(rows * n));
        // The built initial state (spec §4.2: U(0,1) voltages), the same for every row.
        for (std::size_t s = 0; s < op.init_state.size(); ++s)
          for (std::size_t r = 0; r < rows; ++r)
            std::copy(op.init_state[s].begin(), op.init_state[s].end(),
                      nstate[oi][s].begin() + std::ptrdiff_t(r * n));
      } else if (op.kind == OpKind::Filter) {
        fstate[oi].assign(rows * n, 0.f);
      }
    }
  }

  /// Splits the dynamic ops into stages (see the file comment).
  void plan_stages(const std::vector<Ref>& probes) {
    stages.assign(1, Stage{});
    is_event.assign(g.tensors.size(), 0);
    std::vector<std::uint8_t> probed(g.tensors.size(), 0);
    for (const Ref& r : probes) probed[r.tensor] = 1;
    std::vector<std::size_t> dyn;
    for (std::size_t oi = 0; oi < g.ops.size(); ++oi)
      if (!stat[g.ops[oi].out]) dyn.push_back(oi);
    std::size_t stage_begin = 0;  // index into dyn
    for (std::size_t q = 0; q < dyn.size(); ++q) {
      const std::size_t oi = dyn[q];
      stages.back().ops.push_back(oi);
      const Op& op = g.ops[oi];
      if (op.kind != OpKind::Neurons || !spiking_tensor[op.out] || probed[op.out] ||
          q + 1 == dyn.size())
        continue;
      bool ok = true;
      bool consumed = false;
      for (std::size_t r2 = q + 1; r2 < dyn.size() && ok; ++r2) {
        const Op& later = g.ops[dyn[r2]];
        for (const Ref& in : later.in) {
          if (stat[in.tensor]) continue;
          const std::int64_t p = producer[in.tensor];
          if (in.tensor == op.out) {
            consumed = true;
            ok = ok && in.lag == 0 && (later.kind == OpKind::Dense || later.kind == OpKind::Layer);
          } else if (p >= 0) {
            // Later ops may read only what later ops (or the static part) produce.
            const auto it = std::find(dyn.begin() + std::ptrdiff_t(stage_begin),
                                      dyn.begin() + std::ptrdiff_t(q + 1), std::size_t(p));
            ok = ok && it == dyn.begin() + std::ptrdiff_t(q + 1);
          }
        }
      }
      // Nothing up to here may read (with a lag) what a later op produces (no feedback).
      for (std::size_t r1 = stage_begin; r1 <= q && ok; ++r1)
        for (const Ref& in : g.ops[dyn[r1]].in) {
          const std::int64_t p = producer[in.tensor];
          if (p < 0 || stat[in.tensor]) continue;
          const auto it = std::find(dyn.begin() + std::ptrdiff_t(q + 1), dyn.end(), std::size_t(p));
          ok = ok && it == dyn.end();
        }
      if (!ok || !consumed) continue;
      stages.back().out_events = op.out;
      is_event[op.out] = 1;
      stages.emplace_back();
      stage_begin = q + 1;
    }
  }

  void run(std::size_t B, std::size_t T, const std::vector<const Feed*>& feeds,
           const std::vector<Ref>& probes, std::vector<std::vector<float>>& out, bool keep) {
    keep_ = keep;
    if (keep && state_rows < B) init_state(B);
    // 1. Which tensors are constant over the run: fed with held-constant data or constant
    //    nodes, and anything computed from them alone (lag 0).
    stat.assign(g.tensors.size(), 0);
    std::vector<std::uint8_t> mask(g.ops.size(), 0);
    bool any_static = false;
    for (std::size_t oi = 0; oi < g.ops.size(); ++oi) {
      const Op& op = g.ops[oi];
      bool s = false;
      switch (op.kind) {
        case OpKind::Input: {
          const Feed* f = op.node < feeds.size() ? feeds[op.node] : nullptr;
          s = f ? f->steps == 1 : op.node_kind == ir::NodeOp::Kind::Constant;
          break;
        }
        case OpKind::Neurons:
        case OpKind::Filter:
          s = false;
          break;
        default:
          s = true;
          for (const Ref& r : op.in) s = s && r.lag == 0 && stat[r.tensor];
      }
      stat[op.out] = s;
      mask[oi] = s;
      any_static = any_static || s;
    }
    plan_stages(probes);
    // 2. Static part, batched (oneDNN conv etc.), one step.
    const auto ts0 = std::chrono::steady_clock::now();
    if (any_static) {
      static_exec.prepare(B, 1, false);
      static_exec.clear_feeds();
      for (std::size_t k = 0; k < feeds.size(); ++k)
        if (feeds[k]) static_exec.set_feed(k, *feeds[k]);
      static_exec.forward(&mask);
    }
    t_static += std::chrono::duration<double>(std::chrono::steady_clock::now() - ts0).count();
    // 3. The dynamic part, one item per thread.
    out.resize(probes.size());
    for (std::size_t k = 0; k < probes.size(); ++k)
      out[k].assign(B * T * g.tensors[probes[k].tensor].size, 0.f);
    std::exception_ptr err;
    std::mutex mu;
    if (wss.size() < std::size_t(threads)) wss.resize(std::size_t(threads));
#pragma omp parallel num_threads(threads)
    {
      // Per-thread scratch, kept between calls (no page faults per minibatch).
      Workspace& ws = wss[std::size_t(omp_get_thread_num())];
      ws.ring.resize(g.tensors.size());
      ws.fired.resize(g.tensors.size());
      ws.n_fired.resize(g.tensors.size());
      ws.events.resize(g.tensors.size());
      ws.nrn.resize(g.ops.size());
      ws.t_op.assign(g.ops.size(), 0.0);
      for (std::size_t k = 0; k < g.tensors.size(); ++k) {
        if (stat[k]) continue;
        const std::size_t d = depth(std::uint32_t(k));
        ws.ring[k].assign(d * g.tensors[k].size, 0.f);
        if (spiking_tensor[k]) {
          ws.fired[k].assign(d * g.tensors[k].size, 0);
          ws.n_fired[k].assign(d, 0);
        }
        if (is_event[k]) ws.events[k].resize(T);
      }
#pragma omp for schedule(dynamic, 1)
      for (std::size_t b = 0; b < B; ++b) {
        try {
          run_item(b, T, feeds, probes, out, ws);
        } catch (...) {
          std::lock_guard<std::mutex> lk(mu);
          if (!err) err = std::current_exception();
        }
      }
      if (profile) {
        std::lock_guard<std::mutex> lk(mu);
        for (std::size_t oi = 0; oi < g.ops.size(); ++oi) t_op[oi] += ws.t_op[oi];
      }
    }
    if (err) std::rethrow_exception(err);
  }

  /// Value a ref reads at step t for item b (nullptr = zeros).
  const float* read(const Ref& r, long t, std::size_t b, Workspace& ws) const {
    const long s = t - long(r.lag);
    if (stat[r.tensor]) {
      if (s < 0) return nullptr;
      return static_exec.value({r.tensor, 0}, 0) + b * g.tensors[r.tensor].size;
    }
    const long d = long(depth(r.tensor));
    if (s < 0 && (s <= -d || !filter_tensor[r.tensor])) return nullptr;
    const std::size_t slot = std::size_t(((s % d) + d) % d);
    return ws.ring[r.tensor].data() + slot * g.tensors[r.tensor].size;
  }

  /// Spikes of input r at step t as (indices, values, count), for event-driven ops.
  struct Spikes {
    const std::int32_t* idx = nullptr;
    const float* val = nullptr;
    std::size_t n = 0;
  };
  Spikes spikes_of(const Ref& r, long t, Workspace& ws) const {
    if (t < long(r.lag)) return {};
    const std::size_t s = std::size_t(t) - r.lag;
    if (is_event[r.tensor]) {
      const Events& e = ws.events[r.tensor][s];
      return {e.idx.data(), e.val.data(), e.idx.size()};
    }
    const std::size_t slot = s % depth(r.tensor);
    const std::size_t n = g.tensors[r.tensor].size;
    const std::int32_t* idx = ws.fired[r.tensor].data() + slot * n;
    const std::size_t cnt = ws.n_fired[r.tensor][slot];
    const float* x = ws.ring[r.tensor].data() + slot * n;
    ws.vals.resize(cnt);
    for (std::size_t q = 0; q < cnt; ++q) ws.vals[q] = x[idx[q]];
    return {idx, ws.vals.data(), cnt};
  }

  void run_item(std::size_t b, std::size_t T, const std::vector<const Feed*>& feeds,
                const std::vector<Ref>& probes, std::vector<std::vector<float>>& out,
                Workspace& ws) {
    // Filter outputs start from the kept state (stateful) or zero at "step −1".
    for (std::size_t oi = 0; oi < g.ops.size(); ++oi) {
      const Op& op = g.ops[oi];
      if (op.kind != OpKind::Filter || stat[op.out]) continue;
      const std::size_t n = g.tensors[op.out].size;
      std::fill(ws.ring[op.out].begin(), ws.ring[op.out].end(), 0.f);
      if (keep_ && L > 1)
        std::copy(fstate[oi].begin() + std::ptrdiff_t(b * n),
                  fstate[oi].begin() + std::ptrdiff_t((b + 1) * n),
                  ws.ring[op.out].begin() + std::ptrdiff_t((L - 1) * n));
    }
    // Which stage records which probe: the one producing its tensor (static ones: first).
    std::vector<std::size_t> probe_stage(probes.size(), 0);
    for (std::size_t k = 0; k < probes.size(); ++k) {
      const std::int64_t p = producer[probes[k].tensor];
      if (p < 0 || stat[probes[k].tensor]) continue;
      for (std::size_t s = 0; s < stages.size(); ++s)
        if (std::find(stages[s].ops.begin(), stages[s].ops.end(), std::size_t(p)) !=
            stages[s].ops.end())
          probe_stage[k] = s;
    }
    for (std::size_t si = 0; si < stages.size(); ++si) {
      const Stage& st = stages[si];
      for (std::size_t t = 0; t < T; ++t) {
        for (std::size_t oi : st.ops) {
          const Op& op = g.ops[oi];
          const std::size_t n = g.tensors[op.out].size;
          float* y = ws.ring[op.out].data() + (t % depth(op.out)) * n;
          if (!profile) {
            step_op(oi, op, long(t), b, y, n, feeds, ws);
            continue;
          }
          const auto t0 = std::chrono::steady_clock::now();
          step_op(oi, op, long(t), b, y, n, feeds, ws);
          ws.t_op[oi] +=
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          if (op.kind == OpKind::Neurons && spiking_tensor[op.out]) {
            std::lock_guard<std::mutex> lk(prof_mu);
            spikes += ws.n_fired[op.out][t % depth(op.out)];
            neuron_steps += n;
            op_spikes[oi] += ws.n_fired[op.out][t % depth(op.out)];
            op_steps[oi] += n;
          }
        }
        if (st.out_events >= 0) {
          // Hand this step's spikes to the next stages.
          const std::uint32_t k = std::uint32_t(st.out_events);
          const std::size_t n = g.tensors[k].size;
          const std::int32_t* idx = ws.fired[k].data();
          const std::size_t cnt = ws.n_fired[k][0];
          const float* x = ws.ring[k].data();
          Events& e = ws.events[k][t];
          e.idx.assign(idx, idx + cnt);
          e.val.resize(cnt);
          for (std::size_t q = 0; q < cnt; ++q) e.val[q] = x[idx[q]];
          (void)n;
        }
        for (std::size_t k = 0; k < probes.size(); ++k) {
          if (probe_stage[k] != si) continue;
          const std::size_t n = g.tensors[probes[k].tensor].size;
          const float* v = read(probes[k], long(t), b, ws);
          float* dst = out[k].data() + (b * T + t) * n;
          if (v) std::copy(v, v + n, dst);
        }
      }
    }
    // Keep the filter outputs for a stateful continuation.
    for (std::size_t oi = 0; keep_ && oi < g.ops.size(); ++oi) {
      const Op& op = g.ops[oi];
      if (op.kind != OpKind::Filter || stat[op.out]) continue;
      const std::size_t n = g.tensors[op.out].size;
      const float* last = ws.ring[op.out].data() + ((T - 1) % L) * n;
      std::copy(last, last + n, fstate[oi].begin() + std::ptrdiff_t(b * n));
    }
  }

  /// y = the op's bias (per output, or per channel of a conv, channels-last), or zeros.
  void fill_bias(const Op& op, float* y, std::size_t n) const {
    if (op.bias < 0) {
      std::fill(y, y + n, 0.f);
      return;
    }
    const auto& bv = P.value[std::size_t(op.bias)];
    const std::size_t nb = bv.size();
    for (std::size_t k = 0; k + nb <= n; k += nb) std::copy(bv.begin(), bv.end(), y + k);
  }

  bool event_input(const Ref& r) const {
    return !stat[r.tensor] && (spiking_tensor[r.tensor] || is_event[r.tensor]);
  }

  void step_op(std::size_t oi, const Op& op, long t, std::size_t b, float* y, std::size_t n,
               const std::vector<const Feed*>& feeds, Workspace& ws) {
    switch (op.kind) {
      case OpKind::Input: {
        const Feed* f = op.node < feeds.size() ? feeds[op.node] : nullptr;
        if (f) {
          const std::size_t step = f->steps == 1 ? 0 : std::size_t(t);
          std::memcpy(y, f->data + (std::size_t(f->rows[b]) * f->steps + step) * n,
                      n * sizeof(float));
        } else if (op.node_kind == ir::NodeOp::Kind::FnT) {
          const double time = double(t + 1) * g.dt;
          ir::take_node_output(op.name, op.fn_t(time), n, time, y);
        } else if (op.node_kind == ir::NodeOp::Kind::Constant) {
          std::copy(op.constant.begin(), op.constant.end(), y);
        } else {
          throw SimulationError(op.name +
                                ": this input node has no fixed output (a process); feed it data");
        }
        return;
      }
      case OpKind::Sum: {
        std::fill(y, y + n, 0.f);
        for (const Ref& r : op.in) {
          const float* x = read(r, t, b, ws);
          if (x)
            for (std::size_t k = 0; k < n; ++k) y[k] += x[k];
        }
        return;
      }
      case OpKind::Gather: {
        const float* x = read(op.in[0], t, b, ws);
        for (std::size_t k = 0; k < n; ++k) y[k] = x ? x[op.idx[k]] : 0.f;
        return;
      }
      case OpKind::Scatter: {
        const float* x = read(op.in[0], t, b, ws);
        std::fill(y, y + n, 0.f);
        if (x)
          for (std::size_t k = 0; k < op.idx.size(); ++k) y[op.idx[k]] += x[k];
        return;
      }
      case OpKind::Bias: {
        const float* x = read(op.in[0], t, b, ws);
        fill_bias(op, y, n);
        if (x)
          for (std::size_t k = 0; k < n; ++k) y[k] += x[k];
        return;
      }
      case OpKind::Dense: {
        const Ref& r = op.in[0];
        const float* W = P.value[std::size_t(op.weight)].data();
        fill_bias(op, y, n);
        if (event_input(r)) {
          // A fired input neuron adds its weight row times its spike height.
          const Spikes sp = spikes_of(r, t, ws);
          for (std::size_t q = 0; q < sp.n; ++q) {
            const float v = sp.val[q];
            const float* w = W + std::size_t(sp.idx[q]) * n;
            for (std::size_t k = 0; k < n; ++k) y[k] += v * w[k];
          }
          return;
        }
        const float* x = read(r, t, b, ws);
        if (!x) return;
        // A dense (rate) input: the GEMV is oneDNN's.
        const std::size_t ni = g.tensors[r.tensor].size;
        dnnl_sgemm('N', 'N', 1, dnnl_dim_t(n), dnnl_dim_t(ni), 1.f, x, dnnl_dim_t(ni), W,
                   dnnl_dim_t(n), 1.f, y, dnnl_dim_t(n));
        return;
      }
      case OpKind::Layer: {
        const Ref& r = op.in[0];
        const ir::LayerSpec& s = *op.layer;
        fill_bias(op, y, n);
        const float* kern = op.weight >= 0 ? P.value[std::size_t(op.weight)].data() : nullptr;
        if (event_input(r)) {
          const Spikes sp = spikes_of(r, t, ws);
          ir::layer_scatter_add_values(s, sp.idx, sp.val, sp.n, y, kern, &ws.pix);
          return;
        }
        const float* x = read(r, t, b, ws);
        if (x) ir::layer_forward_add(s, x, y, kern);
        return;
      }
      case OpKind::Neurons:
        step_neurons(oi, op, t, b, y, n, ws);
        return;
      case OpKind::Filter: {
        const float* x = read(op.in[0], t, b, ws);
        const float* prev = read({op.out, 1}, t, b, ws);
        for (std::size_t k = 0; k < n; ++k)
          y[k] = (prev ? op.fa * prev[k] : 0.f) + (x ? op.fb * x[k] : 0.f);
        return;
      }
    }
  }

  void step_neurons(std::size_t oi, const Op& op, long t, std::size_t b, float* y, std::size_t n,
                    Workspace& ws) {
    const float* gin = op.has_gain_in ? read(op.in[0], t, b, ws) : nullptr;
    const Ref* raw_ref = op.has_raw_in ? &op.in[op.has_gain_in ? 1 : 0] : nullptr;
    const float* raw = raw_ref ? read(*raw_ref, t, b, ws) : nullptr;
    auto& nw = ws.nrn[oi];
    auto& J = nw.J;
    // J is constant over time when every input is (the first layer of an image net).
    bool constant = true;
    for (const Ref& r : op.in) constant = constant && stat[r.tensor] && r.lag == 0;
    const LIF* lif = op.spiking_type->kind() == "LIF"
                         ? dynamic_cast<const LIF*>(op.spiking_type.get())
                         : nullptr;
    // Plain LIF fed through .neurons only: J = bias + gain ⊙ gin is fused into the step.
    const bool fused = lif != nullptr && gin != nullptr && raw == nullptr && !constant;
    if (J.size() != n) J.assign(n, 0.f);
    if ((!constant || t == 0) && !fused) {
      const float* __restrict gain = op.gain.data();
      const float* __restrict bias = P.value[std::size_t(op.bias)].data();
      float* __restrict j = J.data();
      if (gin) {
        for (std::size_t k = 0; k < n; ++k) j[k] = bias[k] + gain[k] * gin[k];
      } else {
        std::copy(bias, bias + n, j);
      }
      if (raw)
        for (std::size_t k = 0; k < n; ++k) j[k] += raw[k];
    }
    const bool spk = spiking_tensor[op.out] != 0;
    const std::size_t slot = std::size_t(t) % depth(op.out);
    const std::size_t nst = op.init_state.size();
    if (t == 0) {
      nw.compact = !keep_ && constant && spk && op.spiking_type->kind() == "LIF";
      if (nw.compact) {
        // v <= 1 always holds for J <= 1 (v starts in [0, 1)), so those never fire.
        nw.active.clear();
        for (std::size_t k = 0; k < n; ++k)
          if (J[k] > 1.f) nw.active.push_back(std::int32_t(k));
        const std::size_t na = nw.active.size();
        nw.Jc.resize(na);
        nw.vc.resize(na);
        nw.rc.resize(na);
        nw.outc.resize(na);
        nw.fired.resize(na);
        for (std::size_t a = 0; a < na; ++a) {
          const std::size_t k = std::size_t(nw.active[a]);
          nw.Jc[a] = J[k];
          nw.vc[a] = op.init_state[0][k];
          nw.rc[a] = op.init_state[1][k];
        }
        std::fill(ws.ring[op.out].begin(), ws.ring[op.out].end(), 0.f);
        std::fill(ws.n_fired[op.out].begin(), ws.n_fired[op.out].end(), 0);
      } else if (!keep_) {
        nw.state.resize(nst);
        for (std::size_t s = 0; s < nst; ++s) nw.state[s] = op.init_state[s];
      }
    }
    NeuronStepArgs a;
    a.dt = float(g.dt);
    Rng rng(mix_seed(g.seed, 7919 * (oi + 1) + 104729 * b + std::size_t(t)));
    a.rng = &rng;
    if (nw.compact) {
      std::int32_t* fired_slot = ws.fired[op.out].data() + slot * n;
      std::size_t& cnt_slot = ws.n_fired[op.out][slot];
      for (std::size_t q = 0; q < cnt_slot; ++q) y[fired_slot[q]] = 0.f;  // older spikes
      float* st[2] = {nw.vc.data(), nw.rc.data()};
      a.n = nw.active.size();
      a.J = nw.Jc.data();
      a.out = nw.outc.data();
      a.state = st;
      a.fired = nw.fired.data();
      std::size_t cnt = 0;
      if (a.n && lif) {
        nw.scratch.resize(2 * a.n);
        LifFastArgs f;
        f.type = lif;
        f.dt = a.dt;
        f.n = a.n;
        f.J = a.J;
        f.v = st[0];
        f.ref = st[1];
        f.out = a.out;
        f.fired = a.fired;
        f.scratch = nw.scratch.data();
        cnt = lif_step_fast(f);
      } else if (a.n) {
        cnt = op.spiking_type->step(a);
      }
      for (std::size_t q = 0; q < cnt; ++q) {
        const std::size_t ka = std::size_t(nw.fired[q]);
        const std::int32_t k = nw.active[ka];
        fired_slot[q] = k;
        y[k] = nw.outc[ka];
      }
      cnt_slot = cnt;
      return;
    }
    float* st[8] = {};
    if (nst > 8) throw SimulationError(op.name + ": too many neuron state variables");
    for (std::size_t s = 0; s < nst; ++s)
      st[s] = keep_ ? nstate[oi][s].data() + b * n : nw.state[s].data();
    a.n = n;
    a.J = J.data();
    a.out = y;
    a.state = st;
    if (spk) a.fired = ws.fired[op.out].data() + slot * n;
    std::size_t cnt = 0;
    if (lif) {
      nw.scratch.resize(2 * n);
      LifFastArgs f;
      f.type = lif;
      f.dt = a.dt;
      f.n = n;
      if (fused) {
        f.gin = gin;
        f.gain = op.gain.data();
        f.bias = P.value[std::size_t(op.bias)].data();
      } else {
        f.J = J.data();
      }
      f.v = st[0];
      f.ref = st[1];
      f.out = y;
      f.fired = a.fired;
      f.scratch = nw.scratch.data();
      cnt = lif_step_fast(f);
    } else {
      cnt = op.spiking_type->step(a);
    }
    if (spk) ws.n_fired[op.out][slot] = cnt;
    if (!fused && n > 0 && !std::isfinite(J[0]))
      throw SimulationError(op.name + ": input current became non-finite");
  }
};

SpikingRunner::SpikingRunner(const Graph& g, ParamStore& params, int threads)
    : impl_(std::make_unique<Impl>(g, params, threads > 0 ? threads : omp_get_max_threads())) {}

SpikingRunner::~SpikingRunner() = default;

void SpikingRunner::run(std::size_t batch, std::size_t steps, const std::vector<const Feed*>& feeds,
                        const std::vector<Ref>& probe_refs, std::vector<std::vector<float>>& out,
                        bool keep_state) {
  if (batch == 0 || steps == 0)
    throw SimulationError("spiking run: batch and steps must be positive");
  impl_->run(batch, steps, feeds, probe_refs, out, keep_state);
}

void SpikingRunner::reset_state() {
  impl_->state_rows = 0;
}

}  // namespace myelin::train
