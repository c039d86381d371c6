// Demo 2 — "Pavlovian conditioning", line for line as in the chapter.
#include <chrono>
#include <cmath>

#include "demos.hpp"
#include "myelin/myelin.hpp"
#include "myelin/plot.hpp"

namespace myelin::examples {

nlohmann::json demo_pavlovian(const DemoOptions& o) {
  using Clock = std::chrono::steady_clock;
  const std::size_t D = 3;
  const std::size_t N = D * 100;

  auto us_stim_fn = [](double t) -> std::vector<double> {
    // cycle through the three US
    t = std::fmod(t, 3.0);
    if (0.9 < t && t < 1) return {1, 0, 0};
    if (1.9 < t && t < 2) return {0, 1, 0};
    if (2.9 < t && t < 3) return {0, 0, 1};
    return {0, 0, 0};
  };
  auto cs_stim_fn = [](double t) -> std::vector<double> {
    // cycle through the three CS
    t = std::fmod(t, 3.0);
    if (0.7 < t && t < 1) return {0.7, 0, 0.5};
    if (1.7 < t && t < 2) return {0.6, 0.7, 0.8};
    if (2.7 < t && t < 3) return {0, 1, 0};
    return {0, 0, 0};
  };
  auto stop_learning = [](double t) -> double {
    if (8 > t && t > 2) return 0;
    return 1;
  };

  Network model("Classical Conditioning", o.seed);

  auto us_stim = model.node(us_stim_fn, {.label = "us_stim"});
  auto us_stim_p = model.probe(us_stim, {.label = "us_stim_p"});

  auto us = model.ensemble(N, D, {.label = "us"});
  auto ur = model.ensemble(N, D, {.label = "ur"});
  auto us_p = model.probe(us, {.synapse = 0.1, .label = "us_p"});
  auto ur_p = model.probe(ur, {.synapse = 0.1, .label = "ur_p"});
  model.connect(us, ur);
  model.connect(us_stim, us.slice(0, D));

  auto cs_stim = model.node(cs_stim_fn, {.label = "cs_stim"});
  auto cs_stim_p = model.probe(cs_stim, {.label = "cs_stim_p"});

  auto cs = model.ensemble(N * 2, D * 2, {.label = "cs"});
  auto cr = model.ensemble(N, D, {.label = "cr"});
  auto cs_p = model.probe(cs, {.synapse = 0.1, .label = "cs_p"});
  auto cr_p = model.probe(cr, {.synapse = 0.1, .label = "cr_p"});
  model.connect(cs_stim, cs.slice(0, D));
  model.connect(cs.slice(0, D), cs.slice(D), {.synapse = 0.2});

  auto learn_conn =
      model.connect(cs, cr, {.function = [D](auto&) { return std::vector<double>(D, 0.0); }});
  learn_conn.learning_rule_type(PES(3e-4));

  auto error = model.ensemble(N, D, {.label = "error"});
  auto error_p = model.probe(error, {.synapse = 0.01, .label = "error_p"});
  model.connect(error, learn_conn.learning_rule());
  model.connect(ur, error, {.transform = -1});
  model.connect(cr, error, {.synapse = 0.1, .transform = 1});

  auto stop_learn = model.node(stop_learning, {.label = "stop_learn"});
  auto stop_learn_p = model.probe(stop_learn, {.label = "stop_learn_p"});
  model.connect(stop_learn, error.neurons(),
                {.transform = Eigen::MatrixXd(-10 * Eigen::MatrixXd::Ones(N, 1))});
  // For the metrics: the error population's spikes.
  auto error_spikes = model.probe(error.neurons(), {.label = "error_spikes"});

  const auto t0 = Clock::now();
  Simulator sim(model, {.progress_bar = false, .threads = o.threads});
  const auto t1 = Clock::now();
  sim.run(15);
  const auto t2 = Clock::now();

  Eigen::VectorXd t = sim.trange();
  Eigen::MatrixXd usd = sim.data(us_stim_p), csd = sim.data(cs_stim_p), urd = sim.data(ur_p),
                  crd = sim.data(cr_p), errd = sim.data(error_p), stopd = sim.data(stop_learn_p);

  // Metrics (issue "Online learning"): mean CR over the last 0.1 s of each trial.
  auto mean_cr = [&](int k) {
    Eigen::RowVectorXd s = Eigen::RowVectorXd::Zero(Eigen::Index(D));
    int cnt = 0;
    for (Eigen::Index i = 0; i < t.size(); ++i)
      if (t(i) > k + 0.9 && t(i) < k + 1.0) {
        s += crd.row(i);
        ++cnt;
      }
    return Eigen::RowVectorXd(s / std::max(cnt, 1));
  };
  double before = 0;
  for (int k = 0; k < 2; ++k) before += mean_cr(k).norm();
  double after = 0, cosine = 0;
  for (int k = 9; k < 15; ++k) {
    Eigen::RowVectorXd cr_k = mean_cr(k);
    after += cr_k.norm();
    const double nrm = cr_k.norm();
    cosine += nrm > 0 ? cr_k(k % 3) / nrm : 0.0;  // US of trial k is unit vector k mod 3
  }
  Eigen::MatrixXd spikes = sim.data(error_spikes);
  double rate_sum = 0;
  int rate_cnt = 0;
  for (Eigen::Index i = 0; i < t.size(); ++i)
    if (t(i) > 8.0) {
      rate_sum += spikes.row(i).mean();
      ++rate_cnt;
    }

  nlohmann::json m;
  m["demo"] = "pavlovian";
  m["seed"] = o.seed;
  m["build_s"] = std::chrono::duration<double>(t1 - t0).count();
  m["run_s"] = std::chrono::duration<double>(t2 - t1).count();
  m["cr_norm_before"] = before / 2;
  m["cr_norm_after"] = after / 6;
  m["cr_cos_after"] = cosine / 6;
  m["error_rate_after8s_hz"] = rate_cnt ? rate_sum / rate_cnt : 0.0;

  if (o.write_files) {
    const std::string dir = prepare_dir(o.out_dir, "pavlovian");
    const char* colors[3] = {"blue", "red", "black"};
    auto stim_vs = [&](const std::string& file, const Eigen::MatrixXd& stim, const char* sname,
                       const Eigen::MatrixXd& resp, const char* rname) {
      Figure f(12, 4);
      auto& ax = f.axes();
      for (int k = 0; k < 3; ++k)
        ax.plot(t, stim.col(k),
                {.color = colors[k], .label = std::string(sname) + " #" + std::to_string(k + 1)});
      for (int k = 0; k < 3; ++k)
        ax.plot(t, resp.col(k),
                {.color = colors[k],
                 .label = std::string(rname) + " #" + std::to_string(k + 1),
                 .linestyle = ":",
                 .linewidth = 3});
      ax.set_ylabel("Value");
      ax.set_xlabel("Time (sec)");
      ax.legend();
      f.save(dir + "/" + file);
    };
    stim_vs("us_ur.png", usd, "US", urd, "UR");
    stim_vs("cs_ur.png", csd, "CS", urd, "UR");
    stim_vs("cs_cr.png", csd, "CS", crd, "CR");
    {
      Figure f(12, 4);
      auto& ax = f.axes();
      ax.plot(t, errd.col(0), {.color = "black", .label = "error"});
      ax.set_ylabel("Value");
      ax.set_xlabel("Time (sec)");
      ax.legend();
      f.save(dir + "/error.png");
    }
    {
      Figure f(12, 2);
      auto& ax = f.axes();
      ax.plot(t, stopd.col(0), {.color = "black", .label = "stop"});
      ax.set_ylabel("Value");
      ax.set_xlabel("Time (sec)");
      ax.legend();
      f.save(dir + "/stop.png");
    }
    sim.save_npz(dir + "/probes.npz",
                 {us_stim_p, us_p, ur_p, cs_stim_p, cs_p, cr_p, error_p, stop_learn_p});
    write_metrics(dir, m);
  }
  return m;
}

}  // namespace myelin::examples
