// Demo 4 — "MNIST classification" (the chapter's spiking MNIST, adopted from NengoDL's
// spiking-mnist example; deep-snn §1.1): a convolutional network of LIF neurons trained on
// rates and tested with spikes.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "demos.hpp"
#include "myelin/idx.hpp"
#include "myelin/layers.hpp"
#include "myelin/myelin.hpp"
#include "myelin/plot.hpp"
#include "myelin/train.hpp"

namespace myelin::examples {

MnistNetwork mnist_network(std::uint64_t seed) {
  // with nengo.Network(seed=0) as net:
  Network net("spiking MNIST", seed);
  net.config().ensemble.max_rates = Choice({100});
  net.config().ensemble.intercepts = Choice({0});
  net.config().connection.synapse = None;
  auto neuron_type = LIF::with_amplitude(0.01);

  // the input node
  Node inp = net.node(std::vector<double>(28 * 28, 0.0));

  // add the first convolutional layer
  Endpoint x = layer(net, Convolution(32, {28, 28, 1}, {3, 3}), inp);
  x = layer(net, neuron_type, x);

  // add the second convolutional layer
  x = layer(net, Convolution(64, {26, 26, 32}, {3, 3}, {2, 2}), x);
  x = layer(net, neuron_type, x);

  // add the third convolutional layer
  x = layer(net, Convolution(128, {12, 12, 64}, {3, 3}, {2, 2}), x);
  x = layer(net, neuron_type, x);

  // linear readout
  Endpoint out = layer(net, Dense(10), x);

  Probe out_p = net.probe(out, {.label = "out_p"});
  Probe out_p_filt = net.probe(out, {.synapse = 0.1, .label = "out_p_filt"});
  return {net, inp, out_p, out_p_filt};
}

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
std::vector<float> as_float(const std::vector<int32_t>& labels, std::size_t n) {
  return std::vector<float>(labels.begin(), labels.begin() + std::ptrdiff_t(n));
}
}  // namespace

nlohmann::json demo_mnist(const MnistOptions& o) {
  const std::string dataset = o.dataset == "fashion-mnist" ? "fashion" : o.dataset;
  if (dataset != "mnist" && dataset != "fashion")
    throw ValidationError("demo mnist: --dataset must be mnist or fashion, got '" + o.dataset +
                          "'");
  const std::string dir = find_mnist_dir(dataset, o.data_dir);
  Dataset train = load_mnist_split(dir, "train");
  Dataset test = load_mnist_split(dir, "t10k");
  // Raw pixel values 0..255, not divided by 255 (deep-snn §1.10).
  auto limit = [](Dataset& d, std::size_t n) {
    if (n == 0 || n >= d.labels.size()) return;
    d.images.conservativeResize(Eigen::Index(n), d.images.cols());
    d.labels.resize(n);
  };
  limit(train, o.train_limit);
  limit(test, o.test_limit);
  const std::size_t n_train = train.labels.size(), n_test = test.labels.size();
  const std::vector<float> train_y = as_float(train.labels, n_train);
  const std::vector<float> test_y = as_float(test.labels, n_test);

  MnistNetwork m = mnist_network(o.seed);
  Trainer sim(m.net, {.minibatch_size = o.minibatch_size,
                      .lif_smoothing = o.lif_smoothing,
                      .threads = o.threads,
                      .seed = o.seed,
                      .progress_bar = o.verbose});
  const RunOptions spiking{.spiking = true, .n_steps = o.n_steps};
  if (!o.load_params.empty()) sim.load_params(o.load_params);

  // Accuracy before training: spiking, out_p_filt, last of n_steps steps.
  const EvalResult before = sim.evaluate({{m.inp, test.images}}, {{m.out_p_filt, test_y}}, spiking);
  if (o.verbose) std::printf("Accuracy before training: %.4f\n", before.accuracy);
  std::fflush(stdout);

  // sim.compile(optimizer=RMSprop(0.001), loss={out_p:
  // SparseCategoricalCrossentropy(from_logits=True)})
  sim.compile(RMSprop(o.learning_rate), {{m.out_p, Loss::SparseCategoricalCrossentropy}});
  const auto t_train = Clock::now();
  const History h = sim.fit({{m.inp, train.images}}, {{m.out_p, train_y}}, o.epochs);
  const double train_s = since(t_train);

  const EvalResult after = sim.evaluate({{m.inp, test.images}}, {{m.out_p_filt, test_y}}, spiking);
  if (o.verbose) std::printf("Accuracy after training: %.4f\n", after.accuracy);
  const EvalResult rate = sim.evaluate({{m.inp, test.images}}, {{m.out_p, test_y}});

  nlohmann::json j;
  j["demo"] = "mnist";
  j["dataset"] = dataset;
  j["acc_before"] = before.accuracy;
  j["acc_after"] = after.accuracy;
  j["rate_acc_after"] = rate.accuracy;
  j["train_s"] = train_s;
  j["epoch_s"] = h.epoch_seconds;
  j["train_loss"] = h.loss;
  j["eval_s"] = after.seconds;
  j["n_train"] = n_train;
  j["n_test"] = n_test;
  j["epochs"] = o.epochs;
  j["n_steps"] = o.n_steps;
  j["minibatch_size"] = o.minibatch_size;
  j["seed"] = o.seed;

  if (o.write_files) {
    const std::string out = prepare_dir(o.out_dir, dataset == "mnist" ? "mnist" : "fashion_mnist");
    sim.save_params(out + "/params.npz");
    // The chapter's result figure: a few test images and the (softmax of the) filtered output
    // of each class over the n_steps steps.
    const std::size_t k = std::min<std::size_t>(5, n_test);
    const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> first =
        test.images.topRows(Eigen::Index(k));
    const auto data = sim.predict({{m.inp, first}}, {m.out_p_filt}, spiking);
    Figure fig(8, 3.2 * double(k));
    std::vector<double> steps(o.n_steps);
    for (std::size_t t = 0; t < o.n_steps; ++t) steps[t] = double(t);
    for (std::size_t i = 0; i < k; ++i) {
      Eigen::MatrixXd img(28, 28);
      for (int r = 0; r < 28; ++r)
        for (int c = 0; c < 28; ++c) img(r, c) = test.images(Eigen::Index(i), r * 28 + c);
      auto& a = fig.subplot(int(k), 2, int(2 * i + 1));
      a.imshow(img, "gray");
      a.set_title("label " + std::to_string(test.labels[i]));
      auto& b = fig.subplot(int(k), 2, int(2 * i + 2));
      for (std::size_t c = 0; c < 10; ++c) {
        std::vector<double> p(o.n_steps);
        for (std::size_t t = 0; t < o.n_steps; ++t) {
          double mx = -1e300, s = 0;
          for (std::size_t q = 0; q < 10; ++q) mx = std::max(mx, double(data[0].at(i, t, q)));
          for (std::size_t q = 0; q < 10; ++q) s += std::exp(double(data[0].at(i, t, q)) - mx);
          p[t] = std::exp(double(data[0].at(i, t, c)) - mx) / s;
        }
        b.plot(steps, p, {.label = std::to_string(c)});
      }
      b.legend("upper left");
      b.set_xlabel("timesteps");
      b.set_ylabel("probability");
    }
    fig.save(out + "/mnist_result.png");
    write_metrics(out, j);
  }
  return j;
}

}  // namespace myelin::examples
