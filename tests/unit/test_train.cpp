// Trainer: finite-difference gradient checks for every differentiable op and a small whole
// network, optimizer steps against hand-computed values, parameter files, spiking inference
// against the NEF simulator, stateful runs, and error messages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "ir/layer.hpp"
#include "myelin/errors.hpp"
#include "myelin/layers.hpp"
#include "myelin/myelin.hpp"
#include "myelin/npz.hpp"
#include "myelin/train.hpp"

using namespace myelin;

namespace {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::vector<float> random_vec(std::size_t n, Rng& rng, double lo, double hi) {
  std::vector<float> v(n);
  for (auto& x : v) x = float(rng.uniform(lo, hi));
  return v;
}

/// Checks d loss / d param against central differences for `samples` entries of every
/// trainable parameter.
void check_gradients(Trainer& tr, const NodeFeeds& x, const ProbeFeeds& y, double h = 1e-3,
                     std::size_t samples = 6, double rtol = 3e-2, double atol = 2e-3) {
  const Gradients g = tr.gradients(x, y);
  ASSERT_TRUE(std::isfinite(g.loss));
  Rng rng(7);
  std::size_t checked = 0;
  for (const auto& info : tr.parameters()) {
    if (!info.trainable) continue;
    const auto& ana = g.grads.at(info.name);
    std::vector<float> w = tr.get_param(info.name);
    for (std::size_t s = 0; s < std::min(samples, w.size()); ++s) {
      const std::size_t i = s == 0 ? 0 : std::size_t(rng.below(w.size()));
      const float w0 = w[i];
      const double step = h * std::max(1.0, std::abs(double(w0)));
      w[i] = float(w0 + step);
      tr.set_param(info.name, w);
      const double lp = tr.gradients(x, y).loss;
      w[i] = float(w0 - step);
      tr.set_param(info.name, w);
      const double lm = tr.gradients(x, y).loss;
      w[i] = w0;
      tr.set_param(info.name, w);
      const double num = (lp - lm) / (double(float(w0 + step)) - double(float(w0 - step)));
      const double a = ana[i];
      EXPECT_NEAR(a, num, atol + rtol * std::max(std::abs(a), std::abs(num)))
          << info.name << "[" << i << "] analytic " << a << " numeric " << num;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u);
}

struct Small {
  Network net{"small", 3};
  Node inp;
  Probe out;
};

// Random data for one input node and MSE targets for one probe.
struct TrainData {
  RowMatrixF x, y;
};
TrainData make_train_data(std::size_t n, std::size_t nin, std::size_t nout, std::uint64_t seed,
                          double lo = -1, double hi = 1) {
  Rng rng(seed);
  TrainData d;
  d.x.resize(Eigen::Index(n), Eigen::Index(nin));
  d.y.resize(Eigen::Index(n), Eigen::Index(nout));
  for (Eigen::Index i = 0; i < d.x.size(); ++i) d.x.data()[i] = float(rng.uniform(lo, hi));
  for (Eigen::Index i = 0; i < d.y.size(); ++i) d.y.data()[i] = float(rng.uniform(-1, 1));
  return d;
}

void chapter_config(Network& net) {
  net.config().ensemble.max_rates = Choice({100});
  net.config().ensemble.intercepts = Choice({0});
  net.config().connection.synapse = None;
}

}  // namespace

TEST(TrainGrad, ConvValidSoftLifDense) {
  Small s;
  chapter_config(s.net);
  s.inp = s.net.node(std::vector<double>(6 * 5 * 2, 0.0));
  Endpoint x = layer(s.net, Convolution(3, {6, 5, 2}, {3, 2}), s.inp);
  x = layer(s.net, LIF::with_amplitude(0.05), x);
  x = layer(s.net, Dense(4), x);
  s.out = s.net.probe(x);
  Trainer tr(s.net, {.minibatch_size = 5, .lif_smoothing = 0.5, .threads = 2});
  tr.compile(SGD(0.1), {{s.out, Loss::MeanSquaredError}});
  auto d = make_train_data(5, 60, 4, 1);
  check_gradients(tr, {{s.inp, d.x}}, {{s.out, d.y}});
}

TEST(TrainGrad, ConvSameStridedPooling) {
  Small s;
  chapter_config(s.net);
  s.inp = s.net.node(std::vector<double>(7 * 7 * 2, 0.0));
  Endpoint x = layer(s.net, Convolution(4, {7, 7, 2}, {3, 3}, {2, 2}, "same"), s.inp);  // 4x4x4
  x = layer(s.net, LIF::with_amplitude(0.05), x);
  x = layer(s.net, AveragePooling({4, 4, 4}, {3, 3}, std::array<std::size_t, 2>{2, 2}, "same"), x);
  x = layer(s.net, Convolution(2, {2, 2, 4}, {2, 2}), x);  // 1x1x2
  s.out = s.net.probe(x);
  Trainer tr(s.net, {.minibatch_size = 4, .lif_smoothing = 0.3, .threads = 2});
  tr.compile(SGD(0.1), {{s.out, Loss::MeanSquaredError}});
  auto d = make_train_data(4, 98, 2, 2);
  check_gradients(tr, {{s.inp, d.x}}, {{s.out, d.y}});
}

TEST(TrainGrad, ValidPoolingAndLifRateAboveThreshold) {
  // Plain LIFRate (NengoDL's default training neuron): its derivative is exact away from
  // the threshold, so keep every J > 1 (positive inputs, intercept -1).
  Network net("lifrate", 4);
  net.config().ensemble.max_rates = Choice({150});
  net.config().ensemble.intercepts = Choice({-1.0});
  net.config().connection.synapse = None;
  auto inp = net.node(std::vector<double>(4 * 4 * 1, 0.0));
  Convolution conv(2, {4, 4, 1}, {2, 2});
  conv.init = std::make_shared<Uniform>(0.1, 0.5);
  Endpoint x = layer(net, conv, inp);  // 3x3x2
  x = layer(net, LIF::with_amplitude(0.01), x);
  x = layer(net, AveragePooling({3, 3, 2}, {2, 2}, std::array<std::size_t, 2>{1, 1}), x);  // 2x2x2
  x = layer(net, Dense(3), x);
  auto out = net.probe(x);
  Trainer tr(net, {.minibatch_size = 3, .threads = 2});
  tr.compile(SGD(0.1), {{out, Loss::MeanSquaredError}});
  auto d = make_train_data(3, 16, 3, 3, 0.2, 1.0);
  check_gradients(tr, {{inp, d.x}}, {{out, d.y}});
}

TEST(TrainGrad, TanhAndReluNeuronsAndSlices) {
  Network net("generic", 5);
  net.config().connection.synapse = None;
  auto inp = net.node(std::vector<double>(6, 0.0));
  auto mid = net.passthrough(4);
  // Slices on both sides (gather / scatter) and a bias on an identity transform.
  net.connect(inp[Slice(0, 3)], mid[Slice(1, 4)],
              {.transform = Transform().with_bias({0.1, 0.2, -0.3})});
  net.connect(inp[Slice(3, 6)], mid[Slice(0, 3)],
              {.transform = Transform({{0.5, -0.2, 0.1}, {0.3, 0.4, -0.6}, {-0.1, 0.2, 0.7}})});
  auto a =
      net.ensemble(4, 1, {.neuron_type = Tanh(1.0), .gain = Choice({0.5}), .bias = Choice({0.1})});
  net.connect(mid, a.neurons());
  auto r = net.ensemble(
      3, 1, {.neuron_type = RectifiedLinear(), .gain = Choice({1.0}), .bias = Choice({0.5})});
  net.connect(a.neurons(), r.neurons(), {.transform = Dense(3)});
  auto out = net.probe(r.neurons());
  Trainer tr(net, {.minibatch_size = 4, .threads = 2});
  tr.compile(SGD(0.1), {{out, Loss::MeanSquaredError}});
  auto d = make_train_data(4, 6, 3, 4);
  check_gradients(tr, {{inp, d.x}}, {{out, d.y}});
}

TEST(TrainGrad, SynapsesOverTimeAndFilteredProbe) {
  // Backprop through Lowpass synapses over 6 steps (one-step delay per synapse, spec §1.2),
  // and a filtered probe with per-step targets.
  Network net("time", 6);
  net.config().ensemble.max_rates = Choice({100});
  net.config().ensemble.intercepts = Choice({-0.5});
  auto inp = net.node(std::vector<double>(3, 0.0));
  auto h = net.passthrough(5);
  net.connect(inp, h, {.synapse = None, .transform = Dense(5)});
  auto ens = net.ensemble(5, 1, {.neuron_type = LIF::with_amplitude(0.02)});
  net.connect(h, ens.neurons(), {.synapse = 0.004});
  auto out = net.passthrough(2);
  net.connect(ens.neurons(), out, {.synapse = None, .transform = Dense(2)});
  net.connect(out, out, {.synapse = 0.01, .transform = 0.5});  // feedback through a synapse
  auto p = net.probe(out, {.synapse = 0.003});
  Trainer tr(net, {.minibatch_size = 3, .lif_smoothing = 0.4, .threads = 2});
  tr.compile(SGD(0.1), {{p, Loss::MeanSquaredError}});
  const std::size_t n = 3, T = 6;
  Rng rng(11);
  std::vector<float> xs = random_vec(n * T * 3, rng, -1, 1), ys = random_vec(n * T * 2, rng, -1, 1);
  check_gradients(tr, {{inp, DataView(xs.data(), n, T, 3)}}, {{p, DataView(ys.data(), n, T, 2)}});
}

TEST(TrainGrad, DecodedConnectionAndEncoders) {
  Network net("nef", 7);
  auto inp = net.node(std::vector<double>(2, 0.0));
  auto ens = net.ensemble(30, 2, {.neuron_type = LIF()});
  net.connect(inp, ens, {.synapse = None});
  auto out = net.passthrough(2);
  net.connect(ens, out, {.synapse = None, .function = [](const std::vector<double>& v) {
                           return std::vector<double>{v[0] * v[1], v[0]};
                         }});
  auto p = net.probe(out);
  Trainer tr(net, {.minibatch_size = 4, .lif_smoothing = 0.2, .threads = 2});
  tr.compile(SGD(0.1), {{p, Loss::MeanSquaredError}});
  auto d = make_train_data(4, 2, 2, 5, -0.8, 0.8);
  check_gradients(tr, {{inp, d.x}}, {{p, d.y}}, 1e-3, 4, 5e-2, 5e-3);
}

TEST(TrainGrad, WholeSmallNetworkCrossEntropy) {
  Network net("whole", 0);
  chapter_config(net);
  auto inp = net.node(std::vector<double>(8 * 8, 0.0));
  Endpoint x = layer(net, Convolution(4, {8, 8, 1}), inp);  // 6x6x4
  x = layer(net, LIF::with_amplitude(0.01), x);
  x = layer(net, Convolution(6, {6, 6, 4}, {3, 3}, {2, 2}), x);  // 2x2x6
  x = layer(net, LIF::with_amplitude(0.01), x);
  auto out = layer(net, Dense(5), x);
  auto p = net.probe(out);
  Trainer tr(net, {.minibatch_size = 6, .lif_smoothing = 1.0, .threads = 2});
  tr.compile(RMSprop(0.001), {{p, Loss::SparseCategoricalCrossentropy}});
  auto d = make_train_data(6, 64, 1, 9, 0, 2);
  std::vector<float> labels = {0, 1, 2, 3, 4, 1};
  check_gradients(tr, {{inp, d.x}}, {{p, labels}}, 1e-3, 5);
}

TEST(TrainGrad, NamesAndShapes) {
  Network net("names", 0);
  chapter_config(net);
  auto inp = net.node(std::vector<double>(28 * 28, 0.0));
  Endpoint x = layer(net, Convolution(32, {28, 28, 1}, {3, 3}), inp);
  x = layer(net, LIF::with_amplitude(0.01), x);
  auto out = layer(net, Dense(10), x);
  net.probe(out);
  Trainer tr(net, {.threads = 1});
  const auto ps = tr.parameters();
  ASSERT_EQ(ps.size(), 5u);
  EXPECT_EQ(ps[0].name, "conn0.kernel");
  EXPECT_EQ(ps[0].shape, (std::vector<std::size_t>{3, 3, 1, 32}));
  EXPECT_EQ(ps[1].name, "conn0.bias");
  EXPECT_EQ(ps[2].name, "ens0.bias");
  EXPECT_EQ(ps[2].shape, (std::vector<std::size_t>{26 * 26 * 32}));
  EXPECT_EQ(ps[3].name, "conn2.weights");
  EXPECT_EQ(ps[3].shape, (std::vector<std::size_t>{26 * 26 * 32, 10}));
  // Keras' Glorot uniform limit for the first conv: sqrt(6 / (9 + 288)).
  const auto k = tr.get_param("conn0.kernel");
  const float lim = std::sqrt(6.f / (9.f + 288.f));
  float mx = 0;
  for (float v : k) mx = std::max(mx, std::abs(v));
  EXPECT_LE(mx, lim);
  EXPECT_GT(mx, 0.9f * lim);
  // Gains fixed, biases 1 (max rate 100, intercept 0: spec deep-snn §1.2).
  for (float b : tr.get_param("ens0.bias")) EXPECT_FLOAT_EQ(b, 1.0f);
  for (float b : tr.get_param("conn0.bias")) EXPECT_EQ(b, 0.0f);
}

// ---------------------------------------------------------------- optimizers

TEST(OptimizerTest, SgdMomentumMatchesHandComputed) {
  OptimizerState s(SGD(0.1, 0.9), 1);
  std::vector<float> w{1.0f};
  const std::vector<float> g{0.5f};
  s.step(w, g);
  EXPECT_NEAR(w[0], 0.95, 1e-6);  // v = -0.05
  s.step(w, g);
  EXPECT_NEAR(w[0], 0.855, 1e-6);  // v = 0.9(-0.05) - 0.05 = -0.095
  OptimizerState plain(SGD(0.1), 1);
  std::vector<float> w2{1.0f};
  plain.step(w2, g);
  EXPECT_NEAR(w2[0], 0.95, 1e-7);
}

TEST(OptimizerTest, RmspropMatchesKeras) {
  // a1 = 0.1·0.25 = 0.025, w1 = 1 − 0.01·0.5/√(0.025 + 1e-7) = 0.96837729
  // a2 = 0.9·0.025 + 0.1·0.04 = 0.0265, w2 = w1 + 0.01·0.2/√(0.0265 + 1e-7) = 0.98066317
  OptimizerState s(RMSprop(0.01), 2);
  std::vector<float> w{1.0f, -2.0f};
  s.step(w, std::vector<float>{0.5f, 0.0f});
  EXPECT_NEAR(w[0], 0.96837729, 2e-6);
  EXPECT_EQ(w[1], -2.0f);
  s.step(w, std::vector<float>{-0.2f, 0.0f});
  EXPECT_NEAR(w[0], 0.98066317, 2e-6);
}

TEST(OptimizerTest, AdamMatchesKeras) {
  // Keras Adam (epsilon after the square root, bias correction folded into the rate):
  // step 1 moves by lr·sign(g) (up to ε); step 2 with g = 0.5 then g = -1:
  // m2 = 0.9·0.05 − 0.1 = −0.055, v2 = 0.999·0.00025 + 0.001 = 0.00124975,
  // lr2 = 0.01·√(1 − 0.999²)/(1 − 0.9²) = 0.00235316725, w2 = w1 − lr2·m2/(√v2 + 1e-7).
  OptimizerState s(Adam(0.01), 1);
  std::vector<float> w{1.0f};
  s.step(w, std::vector<float>{0.5f});
  EXPECT_NEAR(w[0], 0.99, 1e-6);
  s.step(w, std::vector<float>{-1.0f});
  EXPECT_NEAR(w[0], 0.99366109, 2e-6);
  EXPECT_EQ(s.iterations(), 2u);
}

TEST(OptimizerTest, RejectsBadHyperParameters) {
  EXPECT_THROW(RMSprop(-1.0), ValidationError);
  EXPECT_THROW(SGD(0.1, 1.5), ValidationError);
  EXPECT_THROW(Adam(0.001, 0.9, 1.0), ValidationError);
}

// ---------------------------------------------------------------- files, state, errors

namespace {
struct Tiny {
  Network net{"tiny", 1};
  Node inp;
  Probe out, filt;
  Tiny() {
    chapter_config(net);
    inp = net.node(std::vector<double>(6 * 6, 0.0));
    Endpoint x = layer(net, Convolution(3, {6, 6, 1}), inp);
    x = layer(net, LIF::with_amplitude(0.01), x);
    auto o = layer(net, Dense(3), x);
    out = net.probe(o);
    filt = net.probe(o, {.synapse = 0.01});
  }
};
}  // namespace

TEST(TrainFiles, SaveLoadRoundTrip) {
  Tiny a;
  Trainer ta(a.net, {.minibatch_size = 4, .threads = 2});
  ta.compile(Adam(0.01), {{a.out, Loss::SparseCategoricalCrossentropy}});
  auto d = make_train_data(8, 36, 1, 3, 0, 255);
  std::vector<float> labels{0, 1, 2, 0, 1, 2, 0, 1};
  ta.fit({{a.inp, d.x}}, {{a.out, labels}}, 2);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("myelin-params-" + std::to_string(getpid()) + ".npz"))
                               .string();
  ta.save_params(path);
  // A fresh network built the same way starts from other (untrained) values ...
  Tiny b;
  Trainer tb(b.net, {.minibatch_size = 4, .threads = 2});
  EXPECT_NE(tb.get_param("conn0.kernel"), ta.get_param("conn0.kernel"));
  tb.load_params(path);
  for (const auto& p : ta.parameters())
    EXPECT_EQ(tb.get_param(p.name), ta.get_param(p.name)) << p.name;
  const auto pa = ta.predict({{a.inp, d.x}}, {a.out});
  const auto pb = tb.predict({{b.inp, d.x}}, {b.out});
  EXPECT_EQ(pa[0].values, pb[0].values);
  // The arrays are named (numpy: np.load(path)["conn0.kernel"]).
  NpzReader r(path);
  EXPECT_TRUE(r.contains("conn0.kernel"));
  EXPECT_EQ(r.get("conn0.kernel").shape, (std::vector<size_t>{3, 3, 1, 3}));
  // Loading into a different network names the missing / mismatched entry.
  Network other("other", 1);
  chapter_config(other);
  auto oi = other.node(std::vector<double>(6 * 6, 0.0));
  auto ox = layer(other, Convolution(5, {6, 6, 1}), oi);
  other.probe(ox);
  Trainer to(other, {.threads = 1});
  try {
    to.load_params(path);
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("conn0.kernel"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(TrainSpiking, MatchesNefSimulator) {
  // The event-driven spiking runner and the NEF Simulator run the same built model: same LIF
  // kernel, same initial voltages, same step semantics (spec §1.2) -> the same outputs up to
  // float summation order (which can move a rare spike by one step).
  Tiny t;
  std::vector<double> img(36);
  Rng rng(5);
  for (auto& v : img) v = rng.uniform(0, 255);
  Network& net = t.net;
  Trainer tr(net, {.minibatch_size = 1, .threads = 2});
  RowMatrixF x(1, 36);
  for (int i = 0; i < 36; ++i) x(0, i) = float(img[std::size_t(i)]);
  const std::size_t T = 60;
  const auto pred = tr.predict({{t.inp, x}}, {t.filt, t.out}, {.spiking = true, .n_steps = T});
  // The simulator needs the image as the node's constant output: rebuild with it (same
  // seeds: same kernels, weights and initial voltages).
  Network net2("tiny", 1);
  chapter_config(net2);
  auto inp2 = net2.node(img);
  Endpoint x2 = layer(net2, Convolution(3, {6, 6, 1}), inp2);
  x2 = layer(net2, LIF::with_amplitude(0.01), x2);
  auto o2 = layer(net2, Dense(3), x2);
  net2.probe(o2);
  auto filt2 = net2.probe(o2, {.synapse = 0.01});
  Simulator sim(net2, {.threads = 1});
  sim.run_steps(T);
  const Eigen::MatrixXd ref = sim.data(filt2);
  ASSERT_EQ(ref.rows(), Eigen::Index(T));
  double max_diff = 0, max_ref = 0;
  for (std::size_t s = 0; s < T; ++s)
    for (int k = 0; k < 3; ++k) {
      max_diff =
          std::max(max_diff, std::abs(ref(Eigen::Index(s), k) - pred[0].at(0, s, std::size_t(k))));
      max_ref = std::max(max_ref, std::abs(ref(Eigen::Index(s), k)));
    }
  EXPECT_GT(max_ref, 0.0);
  EXPECT_LE(max_diff, 0.05 * max_ref + 1e-6) << "max |sim - trainer| " << max_diff;
}

TEST(TrainSpiking, SpikingApproachesRatesOverTime) {
  Tiny t;
  Trainer tr(t.net, {.minibatch_size = 4, .threads = 2});
  auto d = make_train_data(4, 36, 1, 8, 0, 255);
  const auto rate = tr.predict({{t.inp, d.x}}, {t.out});
  const auto spk = tr.predict({{t.inp, d.x}}, {t.out}, {.spiking = true, .n_steps = 2000});
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t k = 0; k < 3; ++k) {
      double mean = 0;
      for (std::size_t s = 0; s < 2000; ++s) mean += spk[0].at(i, s, k) / 2000.0;
      EXPECT_NEAR(mean, rate[0].at(i, 0, k), 0.03 * std::abs(rate[0].at(i, 0, k)) + 0.02);
    }
}

TEST(TrainSpiking, StatefulContinuesWhereItStopped) {
  Tiny t;
  auto d = make_train_data(3, 36, 1, 4, 0, 255);
  Trainer one(t.net, {.minibatch_size = 3, .threads = 2});
  const auto full = one.predict({{t.inp, d.x}}, {t.filt}, {.spiking = true, .n_steps = 20});
  Trainer two(t.net, {.minibatch_size = 3, .threads = 2, .stateful = true});
  const auto a = two.predict({{t.inp, d.x}}, {t.filt}, {.spiking = true, .n_steps = 10});
  const auto b = two.predict({{t.inp, d.x}}, {t.filt}, {.spiking = true, .n_steps = 10});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t s = 0; s < 10; ++s)
      for (std::size_t k = 0; k < 3; ++k) {
        EXPECT_FLOAT_EQ(a[0].at(i, s, k), full[0].at(i, s, k));
        EXPECT_FLOAT_EQ(b[0].at(i, s, k), full[0].at(i, 10 + s, k));
      }
  // Not stateful: every call starts again from the initial state.
  const auto c = one.predict({{t.inp, d.x}}, {t.filt}, {.spiking = true, .n_steps = 10});
  EXPECT_EQ(c[0].values, a[0].values);
}

TEST(TrainErrors, NameTheObjectAndValue) {
  Tiny t;
  Trainer tr(t.net, {.minibatch_size = 10, .threads = 1});
  auto d = make_train_data(4, 36, 1, 3, 0, 255);
  std::vector<float> labels{0, 1, 2, 0};
  auto expect_msg = [](auto&& f, const std::string& part) {
    try {
      f();
      FAIL() << "expected an error mentioning " << part;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect_msg([&] { tr.fit({{t.inp, d.x}}, {{t.out, labels}}, 1); }, "compile");
  tr.compile(RMSprop(0.001), {{t.out, Loss::SparseCategoricalCrossentropy}});
  expect_msg([&] { tr.fit({{t.inp, d.x}}, {{t.out, labels}}, 1); }, "minibatch_size 10");
  std::vector<float> bad{0, 1, 7, 0};
  expect_msg([&] { tr.evaluate({{t.inp, d.x}}, {{t.out, bad}}); }, "label 7");
  RowMatrixF wrong(4, 35);
  wrong.setZero();
  expect_msg([&] { tr.evaluate({{t.inp, wrong}}, {{t.out, labels}}); }, "35");
  std::vector<float> three{0, 1, 2};
  expect_msg([&] { tr.evaluate({{t.inp, d.x}}, {{t.out, three}}); }, "3 items");
  EXPECT_THROW(Trainer(t.net, {.minibatch_size = 0}), ValidationError);
  expect_msg(
      [&] {
        tr.predict({{t.inp, d.x}}, {t.out}, {.spiking = true, .n_steps = 0});
      },
      "n_steps must be positive");
  // A learning rule is not differentiable here.
  Network n2("pes", 1);
  auto a = n2.ensemble(10, 1);
  auto b = n2.ensemble(10, 1);
  auto c = n2.connect(a, b);
  c.learning_rule_type(PES());
  expect_msg([&] { Trainer tr2(n2); }, "learning rules");
}

TEST(Layers, BuildAndRunInTheNefSimulator) {
  // A layer network is an ordinary Network: the NEF Simulator builds it (no dense matrices
  // for the conv or the big identity connections) and runs it.
  Network net("sim", 0);
  chapter_config(net);
  auto inp = net.node(std::vector<double>(28 * 28, 100.0));
  Endpoint x = layer(net, Convolution(32, {28, 28, 1}), inp);
  x = layer(net, LIF::with_amplitude(0.01), x);
  x = layer(net, Convolution(8, {26, 26, 32}, {3, 3}, {2, 2}), x);
  x = layer(net, LIF::with_amplitude(0.01), x);
  x = layer(net, AveragePooling({12, 12, 8}), x);
  auto out = layer(net, Dense(10), x);
  auto p = net.probe(out, {.synapse = 0.1});
  Simulator sim(net, {.threads = 2});
  sim.run_steps(5);
  EXPECT_EQ(sim.data(p).rows(), 5);
  EXPECT_EQ(sim.data(p).cols(), 10);
  EXPECT_TRUE(sim.data(p).allFinite());
  // Shape errors name the layer and the sizes.
  try {
    layer(net, Convolution(4, {10, 10, 1}), inp);
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("784"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Convolution(4, {2, 2, 1}, {3, 3}).validate("c"), ValidationError);
  EXPECT_EQ(Convolution(4, {7, 7, 1}, {3, 3}, {2, 2}, "same").output_shape(),
            (std::array<std::size_t, 3>{4, 4, 4}));
  EXPECT_EQ(Convolution(4, {26, 26, 1}, {3, 3}, {2, 2}).output_shape(),
            (std::array<std::size_t, 3>{12, 12, 4}));
}

TEST(Layers, EventDrivenConvolutionMatchesDense) {
  // The three forms of a convolution on sparse inputs (dense scan, per-event scatter,
  // output-stationary gather) give the same map, for strides, "same" padding and channel
  // counts that take the vectorised paths (16, 64 filters) and the scalar tail (5).
  Rng rng(3);
  for (const Convolution& c :
       {Convolution(16, {9, 7, 4}, {3, 3}, {2, 2}, "same"), Convolution(64, {8, 8, 3}, {3, 2}),
        Convolution(5, {6, 6, 2}, {2, 2}, {1, 2}, "same")}) {
    const auto spec = ir::make_layer_spec(Transform(c), rng, "conv");
    std::vector<float> x(spec->size_in(), 0.f);
    std::vector<std::int32_t> idx;
    std::vector<float> vals;
    for (std::size_t e = 0; e < x.size(); ++e)
      if (rng.uniform() < 0.2) {
        x[e] = float(rng.uniform(0.5, 2.0));
        idx.push_back(std::int32_t(e));
        vals.push_back(x[e]);
      }
    std::vector<float> dense(spec->size_out(), 0.f), scat(dense), gath(dense);
    ir::layer_forward_add(*spec, x.data(), dense.data());
    ir::layer_scatter_add_values(*spec, idx.data(), vals.data(), idx.size(), scat.data());
    std::vector<std::uint32_t> scratch;
    ir::layer_scatter_add_values(*spec, idx.data(), vals.data(), idx.size(), gath.data(), nullptr,
                                 &scratch);
    // Reference: the definition, out[o, f] = sum over taps of x[in] * k[tap, c, f].
    std::vector<float> ref(spec->size_out(), 0.f);
    for (std::size_t oy = 0; oy < spec->out_h; ++oy)
      for (std::size_t ox = 0; ox < spec->out_w; ++ox)
        for (std::size_t ky = 0; ky < spec->kh; ++ky)
          for (std::size_t kx = 0; kx < spec->kw; ++kx) {
            const long iy = long(oy * spec->sh + ky) - long(spec->pad_top);
            const long ix = long(ox * spec->sw + kx) - long(spec->pad_left);
            if (iy < 0 || ix < 0 || iy >= long(spec->in_h) || ix >= long(spec->in_w)) continue;
            for (std::size_t ci = 0; ci < spec->in_c; ++ci)
              for (std::size_t f = 0; f < spec->out_c; ++f)
                ref[(oy * spec->out_w + ox) * spec->out_c + f] +=
                    x[(std::size_t(iy) * spec->in_w + std::size_t(ix)) * spec->in_c + ci] *
                    spec->kernel[((ky * spec->kw + kx) * spec->in_c + ci) * spec->out_c + f];
          }
    for (std::size_t i = 0; i < ref.size(); ++i) {
      EXPECT_NEAR(dense[i], ref[i], 1e-4) << c.repr() << " at " << i;
      EXPECT_NEAR(scat[i], ref[i], 1e-4) << c.repr() << " at " << i;
      EXPECT_NEAR(gath[i], ref[i], 1e-4) << c.repr() << " at " << i;
    }
  }
}
