// Demo 1 — "PES learning: communication channel", line for line as in the chapter.
#include <chrono>
#include <cmath>

#include "demos.hpp"
#include "myelin/myelin.hpp"
#include "myelin/plot.hpp"

namespace myelin::examples {

namespace {
double rms(const Eigen::VectorXd& v) {
  return v.size() ? std::sqrt(v.array().square().mean()) : 0.0;
}

// Rows of column `c` of `data` whose time satisfies pred(t).
template <class P>
Eigen::VectorXd where(const Eigen::VectorXd& t, const Eigen::VectorXd& v, P pred) {
  std::vector<double> out;
  for (Eigen::Index k = 0; k < t.size(); ++k)
    if (pred(t(k))) out.push_back(v(k));
  return Eigen::Map<Eigen::VectorXd>(out.data(), Eigen::Index(out.size()));
}
}  // namespace

nlohmann::json demo_pes(const DemoOptions& o) {
  using Clock = std::chrono::steady_clock;
  Rng np_random(o.seed);  // stands in for numpy's global generator

  Network model("Learn a Communication Channel", o.seed);
  auto stim = model.node(WhiteSignal(10, 5, 0.5));

  auto pre = model.ensemble(60, 1);
  auto post = model.ensemble(60, 1);

  model.connect(stim, pre);
  auto conn = model.connect(pre, post, {.function = [&](auto&) { return np_random.uniform(); }});

  auto inp_p = model.probe(stim, {.label = "inp_p"});
  auto pre_p = model.probe(pre, {.synapse = 0.01, .label = "pre_p"});
  auto post_p = model.probe(post, {.synapse = 0.01, .label = "post_p"});

  auto error = model.ensemble(60, 1);
  auto error_p = model.probe(error, {.synapse = 0.03, .label = "error_p"});

  model.connect(post, error);
  model.connect(pre, error, {.transform = -1});  // learn a simple communication line
  conn.learning_rule_type(PES());
  auto learn_conn = model.connect(error, conn.learning_rule());
  (void)learn_conn;

  const auto t0 = Clock::now();
  Simulator sim(model, {.progress_bar = false, .threads = o.threads});
  const auto t1 = Clock::now();
  sim.run(10.0);
  const auto t2 = Clock::now();

  Eigen::VectorXd t = sim.trange();
  Eigen::VectorXd inp = sim.data(inp_p).col(0), pre_v = sim.data(pre_p).col(0),
                  post_v = sim.data(post_p).col(0), err_v = sim.data(error_p).col(0);
  Eigen::VectorXd diff = post_v - pre_v;

  nlohmann::json m;
  m["demo"] = "pes";
  m["seed"] = o.seed;
  m["build_s"] = std::chrono::duration<double>(t1 - t0).count();
  m["run_s"] = std::chrono::duration<double>(t2 - t1).count();
  m["rmse_post_pre_first1s"] = rms(where(t, diff, [](double x) { return x < 1.0; }));
  m["rmse_post_pre_last2s"] = rms(where(t, diff, [](double x) { return x > 8.0; }));
  m["rms_error_last2s"] = rms(where(t, err_v, [](double x) { return x > 8.0; }));

  if (o.write_files) {
    const std::string dir = prepare_dir(o.out_dir, "pes");
    Figure f1(12, 4);
    auto& ax = f1.axes();
    ax.plot(t, inp, {.color = "k", .label = "Input"});
    ax.plot(t, pre_v, {.color = "b", .label = "Pre"});
    ax.plot(t, post_v, {.color = "r", .label = "Post"});
    ax.set_ylabel("Value");
    ax.legend("upper right");
    f1.save(dir + "/pes_channel.png");

    Figure f2(12, 4);
    auto& ax2 = f2.axes();
    ax2.plot(t, err_v, {.color = "k", .label = "Error"});
    ax2.set_ylabel("Value");
    ax2.set_xlabel("Time (sec)");
    ax2.legend("best");
    f2.save(dir + "/pes_error.png");

    sim.save_npz(dir + "/probes.npz");
    write_metrics(dir, m);
  }
  return m;
}

}  // namespace myelin::examples
