// Trainer: data handling, losses, fit / evaluate / predict, parameter files (deep-snn §1).
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <sstream>

#include "builder/builder.hpp"
#include "core/omp_scope.hpp"
#include "myelin/errors.hpp"
#include "myelin/npz.hpp"
#include "myelin/train.hpp"
#include "train/cpu_executor.hpp"
#include "train/graph.hpp"
#include "train/spiking.hpp"

namespace myelin {

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string shape_str(const std::vector<std::size_t>& s) {
  std::string r = "(";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + (s.size() == 1 ? ",)" : ")");
}

using ThreadScope = detail::OmpThreadScope;

/// Reads the value of one probe for item b at step t ([size] floats, or null = zeros).
using ValueFn = std::function<const float*(std::size_t b, std::size_t t)>;

struct Target {
  std::size_t probe = 0;  // IR probe index
  train::Ref ref;
  std::size_t size = 0;  // probe size
  DataView data;
  bool labels = false;  // class indices (size 1, probe size > 1)
  std::optional<Loss> loss;
};

}  // namespace

struct Trainer::Impl {
  ir::Model model;
  train::Graph graph;
  train::ParamStore params;
  std::unique_ptr<train::CpuExecutor> exec;
  std::unique_ptr<train::SpikingRunner> spiking;
  std::vector<std::pair<std::size_t, Loss>> losses;  // IR probe index, loss
  std::optional<OptimizerSpec> optimizer;
  std::vector<std::unique_ptr<OptimizerState>> opt_state;
  Rng rng;
  int threads = 1;

  // ------------------------------------------------------------------ data checks

  struct Inputs {
    std::vector<std::pair<std::size_t, DataView>> feeds;  // IR node, data
    std::size_t n = 0, steps = 1;                         // items; max data steps
  };

  Inputs check_inputs(const NodeFeeds& in) const {
    Inputs r;
    if (in.empty()) throw ValidationError("Trainer: no input data given");
    bool first = true;
    for (const auto& [node, d] : in) {
      const std::size_t id = node.id();
      const std::string who =
          id < model.nodes.size() ? model.nodes[id].name : "Node #" + std::to_string(id);
      if (id >= graph.node_input_op.size() || !graph.node_input_op[id])
        throw ValidationError("Trainer: " + who +
                              " has an input; only nodes without input can be fed data");
      if (d.size != model.nodes[id].size_out)
        throw ValidationError("Trainer: data for " + who + " has " + std::to_string(d.size) +
                              " values per step, the node outputs " +
                              std::to_string(model.nodes[id].size_out));
      if (d.steps == 0 || (d.n > 0 && d.data == nullptr))
        throw ValidationError("Trainer: data for " + who + " is empty or has 0 steps");
      if (first) {
        r.n = d.n;
        first = false;
      } else if (d.n != r.n) {
        throw ValidationError("Trainer: data for " + who + " has " + std::to_string(d.n) +
                              " items, other inputs have " + std::to_string(r.n));
      }
      if (d.steps > 1) {
        if (r.steps > 1 && d.steps != r.steps)
          throw ValidationError("Trainer: data for " + who + " has " + std::to_string(d.steps) +
                                " steps, other inputs have " + std::to_string(r.steps));
        r.steps = d.steps;
      }
      r.feeds.emplace_back(id, d);
    }
    if (r.n == 0) throw ValidationError("Trainer: the input data has no items");
    return r;
  }

  std::size_t run_steps(const Inputs& in, std::optional<std::size_t> steps) const {
    if (!steps) return in.steps;
    const std::size_t n_steps = *steps;
    if (n_steps == 0) throw ValidationError("Trainer: n_steps must be positive, got 0");
    if (in.steps > 1 && in.steps != n_steps)
      throw ValidationError("Trainer: n_steps " + std::to_string(n_steps) +
                            " does not match the input data's " + std::to_string(in.steps) +
                            " steps");
    return n_steps;
  }

  train::Ref probe_ref(const Probe& p) const {
    const std::size_t id = p.id();
    if (id >= graph.probe.size())
      throw ValidationError("Trainer: unknown probe #" + std::to_string(id));
    if (!graph.probe[id]) throw ValidationError("Trainer: " + graph.probe_error[id]);
    return *graph.probe[id];
  }

  std::vector<Target> check_targets(const ProbeFeeds& targets, std::size_t n, std::size_t steps,
                                    bool need_loss) const {
    std::vector<Target> out;
    for (const auto& [probe, d] : targets) {
      Target t;
      t.probe = probe.id();
      t.ref = probe_ref(probe);
      t.size = graph.tensors[t.ref.tensor].size;
      t.data = d;
      const std::string who = graph.probe_name[t.probe];
      for (const auto& [pi, l] : losses)
        if (pi == t.probe) t.loss = l;
      if (need_loss && !t.loss)
        throw ValidationError("Trainer: no loss compiled for " + who + " (see compile())");
      if (d.n != n)
        throw ValidationError("Trainer: targets for " + who + " have " + std::to_string(d.n) +
                              " items, the inputs " + std::to_string(n));
      if (d.steps != 1 && d.steps != steps)
        throw ValidationError("Trainer: targets for " + who + " have " + std::to_string(d.steps) +
                              " steps, the run has " + std::to_string(steps));
      if (t.loss == Loss::MeanSquaredError) {
        if (d.size != t.size)
          throw ValidationError("Trainer: MSE targets for " + who + " have " +
                                std::to_string(d.size) + " values per step, the probe has " +
                                std::to_string(t.size));
      } else if (t.loss == Loss::SparseCategoricalCrossentropy || (d.size == 1 && t.size > 1)) {
        if (d.size != 1)
          throw ValidationError("Trainer: class-label targets for " + who +
                                " must have one value per step, got " + std::to_string(d.size));
        t.labels = true;
        for (std::size_t i = 0; i < d.n * d.steps; ++i) {
          const float v = d.data[i];
          if (!(v >= 0.f) || v >= float(t.size) || v != std::floor(v))
            throw ValidationError("Trainer: label " + fmt(v) + " of item " +
                                  std::to_string(i / d.steps) + " for " + who +
                                  " is not a class index in [0, " + std::to_string(t.size) + ")");
        }
      } else if (d.size != t.size) {
        throw ValidationError("Trainer: targets for " + who + " have " + std::to_string(d.size) +
                              " values per step, the probe has " + std::to_string(t.size));
      }
      out.push_back(t);
    }
    return out;
  }

  // ------------------------------------------------------------------ losses

  /// Adds the loss (mean over items and steps) of one target over the rows of a minibatch;
  /// writes d loss / d output into grad(b, t) when given. Returns the loss sum over rows and
  /// the count of correct last-step predictions.
  struct LossOut {
    double loss = 0.0;
    std::size_t correct = 0;
  };
  static LossOut loss_of(const Target& tg, const std::int64_t* rows, std::size_t B, std::size_t T,
                         std::size_t n_norm, const ValueFn& value,
                         const std::function<float*(std::size_t)>& grad_step) {
    LossOut r;
    const std::size_t K = tg.size;
    const DataView& d = tg.data;
    auto target = [&](std::size_t b, std::size_t t) {
      return d.data + (std::size_t(rows[b]) * d.steps + (d.steps == 1 ? 0 : t)) * d.size;
    };
    const double norm = 1.0 / double(n_norm * T);
    std::vector<double> p(K);
    for (std::size_t t = 0; t < T; ++t) {
      float* g = grad_step ? grad_step(t) : nullptr;  // [B][K] for this step, or null
      for (std::size_t b = 0; b < B; ++b) {
        const float* z = value(b, t);
        const float* y = target(b, t);
        if (tg.loss == Loss::SparseCategoricalCrossentropy) {
          const std::size_t label = std::size_t(y[0]);
          double mx = -std::numeric_limits<double>::infinity();
          for (std::size_t k = 0; k < K; ++k) mx = std::max(mx, z ? double(z[k]) : 0.0);
          double s = 0.0;
          for (std::size_t k = 0; k < K; ++k) {
            p[k] = std::exp((z ? double(z[k]) : 0.0) - mx);
            s += p[k];
          }
          r.loss += (std::log(s) + mx - (z ? double(z[label]) : 0.0)) * norm;
          if (g)
            for (std::size_t k = 0; k < K; ++k)
              g[b * K + k] = float((p[k] / s - (k == label ? 1.0 : 0.0)) * norm);
        } else if (tg.loss == Loss::MeanSquaredError) {
          for (std::size_t k = 0; k < K; ++k) {
            const double e = (z ? double(z[k]) : 0.0) - double(y[k]);
            r.loss += e * e * norm / double(K);
            if (g) g[b * K + k] = float(2.0 * e * norm / double(K));
          }
        }
        if (tg.labels && t + 1 == T) {
          std::size_t best = 0;
          for (std::size_t k = 1; k < K; ++k)
            if (z && z[k] > z[best]) best = k;
          r.correct += best == std::size_t(y[0]);
        }
      }
    }
    return r;
  }

  void set_feeds(train::CpuExecutor& ex, const Inputs& in, const std::int64_t* rows) {
    ex.clear_feeds();
    for (const auto& [node, d] : in.feeds) ex.set_feed(node, {d.data, d.steps, d.size, rows});
  }

  // ------------------------------------------------------------------ batches

  /// Runs one minibatch (rate or spiking) and hands probe values to `use`.
  void run_batch(const Inputs& in, const std::int64_t* rows, std::size_t B, std::size_t T,
                 bool spike, bool keep_state, const std::vector<train::Ref>& refs,
                 const std::function<void(const std::vector<ValueFn>&)>& use) {
    if (!spike) {
      exec->prepare(B, T, false);
      set_feeds(*exec, in, rows);
      exec->forward();
      std::vector<ValueFn> fns;
      for (const auto& r : refs) {
        const std::size_t K = graph.tensors[r.tensor].size;
        fns.push_back([this, r, K](std::size_t b, std::size_t t) -> const float* {
          const float* v = exec->value(r, t);
          return v ? v + b * K : nullptr;
        });
      }
      use(fns);
      return;
    }
    std::vector<train::Feed> fs(model.nodes.size());
    std::vector<const train::Feed*> fp(model.nodes.size(), nullptr);
    for (const auto& [node, d] : in.feeds) {
      fs[node] = {d.data, d.steps, d.size, rows};
      fp[node] = &fs[node];
    }
    std::vector<std::vector<float>> out;
    spiking->run(B, T, fp, refs, out, keep_state);
    std::vector<ValueFn> fns;
    for (std::size_t k = 0; k < refs.size(); ++k) {
      const std::size_t K = graph.tensors[refs[k].tensor].size;
      const float* base = out[k].data();
      fns.push_back([base, K, T](std::size_t b, std::size_t t) -> const float* {
        return base + (b * T + t) * K;
      });
    }
    use(fns);
  }
};

Trainer::Trainer(const Network& net, TrainerOptions opts)
    : impl_(std::make_unique<Impl>()), opts_(std::move(opts)) {
  auto& I = *impl_;
  if (opts_.minibatch_size == 0)
    throw ValidationError("Trainer: minibatch_size must be positive, got 0");
  if (!(opts_.lif_smoothing >= 0.0) || !std::isfinite(opts_.lif_smoothing))
    throw ValidationError("Trainer: lif_smoothing must be >= 0, got " + fmt(opts_.lif_smoothing));
  I.threads = opts_.threads > 0 ? opts_.threads : omp_get_max_threads();
  builder::BuildOptions bo;
  bo.dt = opts_.dt;
  bo.threads = I.threads;
  I.model = builder::build(net, bo);
  I.graph = train::compile(I.model, opts_.lif_smoothing);
  I.params.init(I.graph);
  I.exec = std::make_unique<train::CpuExecutor>(I.graph, I.params, I.threads);
  I.spiking = std::make_unique<train::SpikingRunner>(I.graph, I.params, I.threads);
  I.rng = Rng(opts_.seed.value_or(I.model.seed));
}

Trainer::~Trainer() = default;
Trainer::Trainer(Trainer&&) noexcept = default;
Trainer& Trainer::operator=(Trainer&&) noexcept = default;

double Trainer::build_seconds() const {
  return impl_->model.build_seconds;
}

void Trainer::compile(const OptimizerSpec& optimizer, std::vector<std::pair<Probe, Loss>> losses) {
  auto& I = *impl_;
  OptimizerState check(optimizer, 0);  // validates the hyper-parameters
  (void)check;
  I.losses.clear();
  for (const auto& [p, l] : losses) {
    I.probe_ref(p);  // the probe must be readable
    I.losses.emplace_back(p.id(), l);
  }
  I.optimizer = optimizer;
  I.opt_state.clear();
  for (std::size_t k = 0; k < I.graph.params.size(); ++k)
    I.opt_state.push_back(I.graph.params[k].trainable ? std::make_unique<OptimizerState>(
                                                            optimizer, I.params.value[k].size())
                                                      : nullptr);
}

History Trainer::fit(const NodeFeeds& inputs, const ProbeFeeds& targets, std::size_t epochs,
                     const FitOptions& fo) {
  auto& I = *impl_;
  if (!I.optimizer) throw ValidationError("Trainer.fit: call compile() first");
  if (targets.empty()) throw ValidationError("Trainer.fit: no targets given");
  ThreadScope ts(I.threads);
  const Impl::Inputs in = I.check_inputs(inputs);
  const std::size_t T = in.steps;
  const auto tgs = I.check_targets(targets, in.n, T, true);
  const std::size_t B = opts_.minibatch_size;
  if (B > in.n)
    throw ValidationError("Trainer.fit: minibatch_size " + std::to_string(B) +
                          " is larger than the data (" + std::to_string(in.n) + " items)");
  const std::size_t nb = in.n / B;
  std::vector<std::int64_t> perm(in.n);
  std::iota(perm.begin(), perm.end(), std::int64_t(0));
  History h;
  const bool bar = opts_.progress_bar && isatty(STDERR_FILENO);
  for (std::size_t e = 0; e < epochs; ++e) {
    const auto t0 = Clock::now();
    if (fo.shuffle) I.rng.shuffle(std::span<std::int64_t>(perm));
    double loss_sum = 0.0;
    std::size_t correct = 0, counted = 0;
    bool any_labels = false;
    for (std::size_t k = 0; k < nb; ++k) {
      const std::int64_t* rows = perm.data() + k * B;
      I.exec->prepare(B, T, true);
      I.set_feeds(*I.exec, in, rows);
      I.exec->forward();
      I.params.zero_grads();
      double loss = 0.0;
      for (const Target& tg : tgs) {
        const std::size_t K = tg.size;
        auto value = [&](std::size_t b, std::size_t t) -> const float* {
          const float* v = I.exec->value(tg.ref, t);
          return v ? v + b * K : nullptr;
        };
        auto grad = [&](std::size_t t) { return I.exec->loss_grad(tg.ref, t); };
        const auto r = Impl::loss_of(tg, rows, B, T, B, value, grad);
        loss += r.loss;
        if (tg.labels) {
          any_labels = true;
          correct += r.correct;
          counted += B;
        }
      }
      if (!std::isfinite(loss))
        throw SimulationError("Trainer.fit: the loss became " + fmt(loss) + " in epoch " +
                              std::to_string(e + 1) + ", minibatch " + std::to_string(k + 1) +
                              " (try a smaller learning rate)");
      I.exec->backward();
      for (std::size_t p = 0; p < I.opt_state.size(); ++p)
        if (I.opt_state[p] && I.params.grad_written[p])
          I.opt_state[p]->step(I.params.value[p], I.params.grad[p]);
      ++I.params.version;
      loss_sum += loss;
      if (bar && (k + 1 == nb || (k + 1) % 5 == 0)) {
        const double el = std::chrono::duration<double>(Clock::now() - t0).count();
        const int w = 30, fill = int(double(w) * double(k + 1) / double(nb));
        std::fprintf(
            stderr, "\rEpoch %zu/%zu [%s%s] %zu/%zu - loss %.4f%s - %.1f s", e + 1, epochs,
            std::string(std::size_t(fill), '=').c_str(),
            std::string(std::size_t(w - fill), ' ').c_str(), k + 1, nb, loss_sum / double(k + 1),
            any_labels
                ? (" - acc " + fmt(std::round(1e4 * double(correct) / double(counted)) / 1e4))
                      .c_str()
                : "",
            el);
        std::fflush(stderr);
      }
    }
    if (bar) std::fprintf(stderr, "\n");
    h.loss.push_back(loss_sum / double(nb));
    h.accuracy.push_back(any_labels ? double(correct) / double(counted) : kNaN);
    h.epoch_seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (fo.on_epoch) fo.on_epoch(e, h);
  }
  return h;
}

EvalResult Trainer::evaluate(const NodeFeeds& inputs, const ProbeFeeds& targets,
                             const RunOptions& run) {
  auto& I = *impl_;
  const auto t0 = Clock::now();
  ThreadScope ts(I.threads);
  const Impl::Inputs in = I.check_inputs(inputs);
  const std::size_t T = I.run_steps(in, run.n_steps);
  if (targets.empty()) throw ValidationError("Trainer.evaluate: no targets given");
  const auto tgs = I.check_targets(targets, in.n, T, false);
  std::vector<train::Ref> refs;
  for (const auto& tg : tgs) refs.push_back(tg.ref);
  const std::size_t B = std::min(opts_.minibatch_size, in.n);
  std::vector<std::int64_t> rows(in.n);
  std::iota(rows.begin(), rows.end(), std::int64_t(0));
  std::vector<double> loss(tgs.size(), 0.0);
  std::vector<std::size_t> correct(tgs.size(), 0);
  for (std::size_t s = 0; s < in.n; s += B) {
    const std::size_t b = std::min(B, in.n - s);
    I.run_batch(in, rows.data() + s, b, T, run.spiking, opts_.stateful, refs,
                [&](const std::vector<ValueFn>& fns) {
                  for (std::size_t k = 0; k < tgs.size(); ++k) {
                    const auto r = Impl::loss_of(tgs[k], rows.data() + s, b, T, in.n, fns[k], {});
                    loss[k] += r.loss;
                    correct[k] += r.correct;
                  }
                });
  }
  EvalResult res;
  res.n = in.n;
  res.loss = kNaN;
  res.accuracy = kNaN;
  for (std::size_t k = 0; k < tgs.size(); ++k) {
    ProbeResult pr;
    pr.probe = I.graph.probe_name[tgs[k].probe];
    pr.loss = tgs[k].loss ? loss[k] : kNaN;
    pr.accuracy = tgs[k].labels ? double(correct[k]) / double(in.n) : kNaN;
    if (tgs[k].loss) res.loss = std::isnan(res.loss) ? pr.loss : res.loss + pr.loss;
    if (tgs[k].labels && std::isnan(res.accuracy)) res.accuracy = pr.accuracy;
    res.probes.push_back(pr);
  }
  res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return res;
}

std::vector<SeqData> Trainer::predict(const NodeFeeds& inputs, const std::vector<Probe>& probes,
                                      const RunOptions& run) {
  auto& I = *impl_;
  ThreadScope ts(I.threads);
  const Impl::Inputs in = I.check_inputs(inputs);
  const std::size_t T = I.run_steps(in, run.n_steps);
  std::vector<train::Ref> refs;
  std::vector<SeqData> out;
  for (const Probe& p : probes) {
    refs.push_back(I.probe_ref(p));
    SeqData d;
    d.n = in.n;
    d.steps = T;
    d.size = I.graph.tensors[refs.back().tensor].size;
    d.values.assign(d.n * d.steps * d.size, 0.f);
    out.push_back(std::move(d));
  }
  const std::size_t B = std::min(opts_.minibatch_size, in.n);
  std::vector<std::int64_t> rows(in.n);
  std::iota(rows.begin(), rows.end(), std::int64_t(0));
  for (std::size_t s = 0; s < in.n; s += B) {
    const std::size_t b = std::min(B, in.n - s);
    I.run_batch(in, rows.data() + s, b, T, run.spiking, opts_.stateful, refs,
                [&](const std::vector<ValueFn>& fns) {
                  for (std::size_t k = 0; k < refs.size(); ++k) {
                    const std::size_t K = out[k].size;
                    for (std::size_t i = 0; i < b; ++i)
                      for (std::size_t t = 0; t < T; ++t) {
                        const float* v = fns[k](i, t);
                        float* dst = out[k].values.data() + ((s + i) * T + t) * K;
                        if (v) std::copy(v, v + K, dst);
                      }
                  }
                });
  }
  return out;
}

Gradients Trainer::gradients(const NodeFeeds& inputs, const ProbeFeeds& targets) {
  auto& I = *impl_;
  ThreadScope ts(I.threads);
  const Impl::Inputs in = I.check_inputs(inputs);
  const std::size_t T = in.steps;
  const auto tgs = I.check_targets(targets, in.n, T, true);
  std::vector<std::int64_t> rows(in.n);
  std::iota(rows.begin(), rows.end(), std::int64_t(0));
  const std::size_t B = in.n;
  I.exec->prepare(B, T, true);
  I.set_feeds(*I.exec, in, rows.data());
  I.exec->forward();
  I.params.zero_grads();
  Gradients out;
  for (const Target& tg : tgs) {
    const std::size_t K = tg.size;
    auto value = [&](std::size_t b, std::size_t t) -> const float* {
      const float* v = I.exec->value(tg.ref, t);
      return v ? v + b * K : nullptr;
    };
    auto grad = [&](std::size_t t) { return I.exec->loss_grad(tg.ref, t); };
    out.loss += Impl::loss_of(tg, rows.data(), B, T, B, value, grad).loss;
  }
  I.exec->backward();
  for (std::size_t p = 0; p < I.graph.params.size(); ++p) {
    if (!I.graph.params[p].trainable) continue;
    out.grads[I.graph.params[p].name] = I.params.grad_written[p]
                                            ? I.params.grad[p]
                                            : std::vector<float>(I.params.value[p].size(), 0.f);
  }
  return out;
}

void Trainer::save_params(const std::string& path) const {
  const auto& I = *impl_;
  NpzWriter w(path, true);
  for (std::size_t p = 0; p < I.graph.params.size(); ++p)
    w.add(I.graph.params[p].name, I.params.value[p], I.graph.params[p].shape);
  w.close();
}

void Trainer::load_params(const std::string& path) {
  auto& I = *impl_;
  NpzReader r(path);
  std::vector<std::vector<float>> vals(I.graph.params.size());
  for (std::size_t p = 0; p < I.graph.params.size(); ++p) {
    const auto& info = I.graph.params[p];
    if (!r.contains(info.name))
      throw IoError(path + ": no array '" + info.name + "' (this network has " +
                    std::to_string(I.graph.params.size()) +
                    " parameters; was the file saved from "
                    "the same network?)");
    const NpyArray a = r.get(info.name);
    if (a.shape != info.shape)
      throw IoError(path + ": array '" + info.name + "' has shape " + shape_str(a.shape) +
                    ", expected " + shape_str(info.shape));
    vals[p].resize(a.data.size());
    for (std::size_t i = 0; i < a.data.size(); ++i) {
      if (!std::isfinite(a.data[i]))
        throw IoError(path + ": array '" + info.name + "' has a non-finite value at " +
                      std::to_string(i));
      vals[p][i] = float(a.data[i]);
    }
  }
  for (std::size_t p = 0; p < vals.size(); ++p) I.params.value[p] = std::move(vals[p]);
  ++I.params.version;
}

std::vector<ParamInfo> Trainer::parameters() const {
  std::vector<ParamInfo> out;
  for (const auto& p : impl_->graph.params) out.push_back({p.name, p.shape, p.trainable});
  return out;
}

std::vector<float> Trainer::get_param(const std::string& name) const {
  const auto& I = *impl_;
  for (std::size_t p = 0; p < I.graph.params.size(); ++p)
    if (I.graph.params[p].name == name) return I.params.value[p];
  throw ValidationError("Trainer: no parameter named '" + name + "'");
}

void Trainer::set_param(const std::string& name, const std::vector<float>& values) {
  auto& I = *impl_;
  for (std::size_t p = 0; p < I.graph.params.size(); ++p) {
    if (I.graph.params[p].name != name) continue;
    if (values.size() != I.params.value[p].size())
      throw ValidationError("Trainer: parameter '" + name + "' has " +
                            std::to_string(I.params.value[p].size()) + " values, got " +
                            std::to_string(values.size()));
    I.params.value[p] = values;
    ++I.params.version;
    return;
  }
  throw ValidationError("Trainer: no parameter named '" + name + "'");
}

void Trainer::reset_state() {
  impl_->spiking->reset_state();
}

}  // namespace myelin
