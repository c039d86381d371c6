// Simulator facade: build (builder) → IR → CPU executor; probe data and build results.
#include "myelin/simulator.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "backend/cpu/executor.hpp"
#include "builder/builder.hpp"
#include "frontend/graph.hpp"
#include "ir/model.hpp"
#include "myelin/errors.hpp"
#include "myelin/npz.hpp"

namespace myelin {

Simulator::Simulator(const Network& net, SimulatorOptions opts) : progress_bar_(opts.progress_bar) {
  builder::BuildOptions bo;
  bo.dt = opts.dt;
  bo.seed = opts.seed;
  bo.threads = opts.threads;
  model_ = std::make_unique<ir::Model>(builder::build(net, bo));
  exec_ = std::make_unique<cpu::Executor>(*model_, model_->seed, opts.threads);
  for (std::size_t k = 0; k < net.graph().probes.size(); ++k) {
    const std::string& l = net.all_probes()[k].label();
    probe_names_.push_back(l.empty() ? "probe_" + std::to_string(k) : l);
  }
}

Simulator::~Simulator() = default;
Simulator::Simulator(Simulator&&) noexcept = default;
Simulator& Simulator::operator=(Simulator&&) noexcept = default;

void Simulator::run(double seconds) {
  if (!(seconds >= 0.0) || !std::isfinite(seconds))
    throw ValidationError("Simulator.run: time must be finite and >= 0, got " +
                          std::to_string(seconds));
  run_steps(static_cast<std::size_t>(std::llround(seconds / model_->dt)));
}

void Simulator::run_steps(std::size_t steps) {
  // Progress bar only on a terminal and for runs long enough to notice (DESIGN: no spam).
  const bool bar = progress_bar_ && steps >= 20000 && isatty(STDERR_FILENO);
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t next = steps / 50;
  exec_->reserve_probes(steps);
  for (std::size_t k = 0; k < steps; ++k) {
    exec_->step();
    if (bar && k + 1 >= next) {
      const double el =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const int pct = int(100.0 * double(k + 1) / double(steps));
      std::fprintf(stderr, "\rSimulating [%-50s] %3d%% %.1fs", std::string(pct / 2, '#').c_str(),
                   pct, el);
      next += steps / 50;
    }
  }
  if (bar) std::fprintf(stderr, "\n");
}

void Simulator::step() {
  exec_->step();
}

void Simulator::reset(std::optional<std::uint64_t> seed) {
  exec_->reset(seed ? *seed : exec_->seed());
}

void Simulator::clear_probes() {
  exec_->clear_probes();
}

Eigen::VectorXd Simulator::trange(std::optional<double> sample_every) const {
  const std::size_t n = exec_->n_steps();
  const double period = sample_every ? *sample_every / model_->dt : 1.0;
  std::vector<double> t;
  t.reserve(n);
  for (std::size_t k = 1; k <= n; ++k)
    if (std::fmod(double(k), period) < 1.0) t.push_back(double(k) * model_->dt);
  return Eigen::Map<Eigen::VectorXd>(t.data(), Eigen::Index(t.size()));
}

Eigen::MatrixXd Simulator::data(const Probe& probe) const {
  const std::size_t k = probe.id();
  if (k >= model_->probes.size()) throw ValidationError("Simulator.data: unknown probe");
  const auto& d = exec_->probe_data(k);
  const std::size_t size = exec_->probe_size(k);
  const std::size_t rows = size ? d.size() / size : 0;
  Eigen::MatrixXd out(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(size));
  // Row-major float samples to a column-major double matrix, in cache-sized tiles (a plain
  // loop writes each element to a different cache line when probes are wide, e.g. spikes).
  constexpr std::size_t kB = 64;
  double* o = out.data();
  for (std::size_t r0 = 0; r0 < rows; r0 += kB)
    for (std::size_t c0 = 0; c0 < size; c0 += kB) {
      const std::size_t r1 = std::min(rows, r0 + kB), c1 = std::min(size, c0 + kB);
      for (std::size_t c = c0; c < c1; ++c)
        for (std::size_t r = r0; r < r1; ++r) o[c * rows + r] = d[r * size + c];
    }
  return out;
}

EnsembleInfo Simulator::data(const Ensemble& ens) const {
  const auto& e = model_->ensembles.at(ens.id());
  return {e.encoders,  e.scaled_encoders, e.eval_points, e.gain_d,     e.bias_d,
          e.max_rates, e.intercepts,      e.radius,      e.neuron_type};
}

ConnectionInfo Simulator::data(const Connection& conn) const {
  const auto& c = model_->conns.at(conn.id());
  return {c.weights, c.eval_points, c.transform, c.solver_info};
}

void Simulator::save_npz(const std::string& path, const std::vector<Probe>& only) const {
  NpzWriter w(path);
  w.add("trange", Eigen::VectorXd(trange()));
  std::vector<std::size_t> ids;
  for (const auto& p : only) ids.push_back(p.id());
  if (only.empty())
    for (std::size_t k = 0; k < probe_names_.size(); ++k) ids.push_back(k);
  for (std::size_t k : ids) w.add(probe_names_.at(k), data(Probe(nullptr, k)));
  w.close();
}

std::size_t Simulator::n_steps() const {
  return exec_->n_steps();
}
double Simulator::time() const {
  return double(exec_->n_steps()) * model_->dt;
}
double Simulator::dt() const {
  return model_->dt;
}
std::uint64_t Simulator::seed() const {
  return exec_->seed();
}
double Simulator::build_seconds() const {
  return model_->build_seconds;
}
const ir::Model& Simulator::model() const {
  return *model_;
}

}  // namespace myelin
