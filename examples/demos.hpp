// The chapter's demos as library functions: each builds the network exactly as the
// chapter's Python does, runs it, writes figures (PNG), metrics.json and probe data (.npz)
// to out_dir, and returns the metrics. Used by `myelin demo ...`, by the example programs
// and by the tests (with plots off).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "myelin/network.hpp"

namespace myelin::examples {

struct DemoOptions {
  std::uint64_t seed = 0;
  std::string out_dir = "out";
  bool write_files = true;  ///< figures, metrics.json, .npz
  int threads = 0;
};

/// Demo 1: PES-learned communication channel (chapter "PES learning").
nlohmann::json demo_pes(const DemoOptions& o);
/// Demo 2: Pavlovian conditioning (chapter "Pavlovian conditioning").
nlohmann::json demo_pavlovian(const DemoOptions& o);
/// Demo 3: LIF vs soft-LIF tuning curves (chapter "Differentiable LIF tuning curve").
nlohmann::json demo_tuning(const DemoOptions& o);

/// Demo 4: the chapter's spiking MNIST (NengoDL's spiking-mnist example, deep-snn §1.1):
/// train on rates (LIFRate, RMSprop, minibatch 200), run on spikes (30 steps, probe synapse
/// 0.1, accuracy from the last step).
struct MnistOptions {
  std::size_t epochs = 10;        ///< the chapter's 10
  std::size_t train_limit = 0;    ///< use only the first N training images (0 = all 60000)
  std::size_t test_limit = 0;     ///< use only the first M test images (0 = all 10000)
  std::string dataset = "mnist";  ///< "mnist" or "fashion"
  std::string data_dir;           ///< where the IDX files are (default: find_mnist_dir)
  std::uint64_t seed = 0;         ///< network seed (weights, initial voltages, shuffling)
  std::string out_dir = "out";
  bool write_files = true;  ///< params .npz, metrics.json, result figure
  bool verbose = true;      ///< print progress lines (and the progress bar on a tty)
  int threads = 0;
  std::size_t minibatch_size = 200;
  std::size_t n_steps = 30;
  double learning_rate = 0.001;
  double lif_smoothing = 0.0;  ///< 0: train LIF as LIFRate (NengoDL's default)
  std::string load_params;     ///< start from these parameters (a params.npz)
};
nlohmann::json demo_mnist(const MnistOptions& o);

/// The chapter's network, written like the Python (examples/mnist.cpp).
struct MnistNetwork {
  myelin::Network net;
  myelin::Node inp;
  myelin::Probe out_p, out_p_filt;
};
MnistNetwork mnist_network(std::uint64_t seed = 0);

/// Helpers shared by the demos.
std::string prepare_dir(const std::string& out_dir, const std::string& name);
void write_metrics(const std::string& dir, const nlohmann::json& metrics);

}  // namespace myelin::examples
