// `myelin bench ...`: the team's reference measurements (issue "Foundation").
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "myelin/myelin.hpp"

namespace myelin::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void run_and_report(const std::string& name, Network& net, double T, int threads,
                    std::size_t neurons, nlohmann::json extra) {
  const auto t0 = Clock::now();
  Simulator sim(net, {.progress_bar = false, .threads = threads});
  const double build_s = seconds_since(t0);
  const auto t1 = Clock::now();
  sim.run(T);
  const double run_s = seconds_since(t1);
  nlohmann::json j = std::move(extra);
  j["bench"] = name;
  j["build_s"] = build_s;
  j["run_s"] = run_s;
  j["steps"] = sim.n_steps();
  j["us_per_step"] = sim.n_steps() ? 1e6 * run_s / double(sim.n_steps()) : 0.0;
  j["neurons"] = neurons;
  j["threads"] = threads;
  std::printf("%s\n", j.dump().c_str());
}

}  // namespace

void add_bench_commands(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks (print one JSON line each)");
  bench->require_subcommand(1);

  // chain K N D T
  struct ChainArgs {
    int K = 10, N = 1000, D = 8;
    double T = 1.0;
    std::uint64_t seed = 0;
    int threads = 0;
  };
  auto ca = std::make_shared<ChainArgs>();
  auto* chain = bench->add_subcommand(
      "chain",
      "WhiteSignal(T, high=5, rms=0.3) of D dims -> a chain of K ensembles of N LIF neurons "
      "(default synapses), probes on the input and the last ensemble (synapse 0.01); builds "
      "and runs T seconds");
  chain->add_option("K", ca->K, "ensembles in the chain")->required()->check(CLI::PositiveNumber);
  chain->add_option("N", ca->N, "neurons per ensemble")->required()->check(CLI::PositiveNumber);
  chain->add_option("D", ca->D, "dimensions")->required()->check(CLI::PositiveNumber);
  chain->add_option("T", ca->T, "simulated seconds")->required()->check(CLI::PositiveNumber);
  chain->add_option("--seed", ca->seed, "network seed");
  chain->add_option("--threads", ca->threads, "threads (0 = all cores)");
  chain->callback([ca] {
    Network net("chain", ca->seed);
    auto stim = net.node(WhiteSignal(ca->T, 5.0, 0.3), {.size_out = std::size_t(ca->D)});
    Endpoint prev = stim;
    Ensemble last;
    for (int k = 0; k < ca->K; ++k) {
      last = net.ensemble(std::size_t(ca->N), std::size_t(ca->D));
      net.connect(prev, last);
      prev = last;
    }
    net.probe(stim);
    net.probe(last, {.synapse = 0.01});
    run_and_report("chain", net, ca->T, ca->threads, std::size_t(ca->K) * std::size_t(ca->N),
                   {{"K", ca->K}, {"N", ca->N}, {"D", ca->D}, {"T", ca->T}});
  });

  // stream E [T]
  struct StreamArgs {
    int E = 1024;
    double T = 1.0;
    int threads = 0;
    std::uint64_t seed = 0;
  };
  auto sa = std::make_shared<StreamArgs>();
  auto* stream = bench->add_subcommand(
      "stream",
      "nengo_mpi's stream network: E ensembles of 200 LIF neurons (4-D) in sqrt(E) rings of "
      "sqrt(E) ensembles; each ring fed by a constant node [0.5]*4, each ensemble connected to "
      "the next in its ring (synapse 0.005); one probe (synapse 0.01)");
  stream->add_option("E", sa->E, "ensembles (a perfect square)")
      ->required()
      ->check(CLI::PositiveNumber);
  stream->add_option("T", sa->T, "simulated seconds (default 1)")->check(CLI::PositiveNumber);
  stream->add_option("--threads", sa->threads, "threads (0 = all cores)");
  stream->add_option("--seed", sa->seed, "network seed");
  stream->callback([sa] {
    const int rings = int(std::lround(std::sqrt(double(sa->E))));
    if (rings * rings != sa->E)
      throw ValidationError("bench stream: E must be a perfect square, got " +
                            std::to_string(sa->E));
    Network net("stream", sa->seed);
    Ensemble probed;
    for (int r = 0; r < rings; ++r) {
      auto src = net.node(std::vector<double>{0.5, 0.5, 0.5, 0.5});
      std::vector<Ensemble> ring;
      for (int k = 0; k < rings; ++k) ring.push_back(net.ensemble(200, 4));
      net.connect(src, ring[0]);
      for (int k = 0; k < rings; ++k)
        if (rings > 1)
          net.connect(ring[std::size_t(k)], ring[std::size_t((k + 1) % rings)], {.synapse = 0.005});
      if (r == 0) probed = ring.back();
    }
    net.probe(probed, {.synapse = 0.01});
    run_and_report("stream", net, sa->T, sa->threads, std::size_t(sa->E) * 200,
                   {{"E", sa->E}, {"T", sa->T}});
  });
}

}  // namespace myelin::cli
