// `myelin demo ...`: the chapter's demos (implemented in examples/).
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "demos.hpp"

namespace myelin::cli {

namespace {
struct DemoArgs {
  std::uint64_t seed = 0;
  std::string out = "out";
  int threads = 0;
};

void print(const nlohmann::json& m) {
  std::printf("%s\n", m.dump().c_str());
}
}  // namespace

void add_demo_commands(CLI::App& app) {
  auto* demo = app.add_subcommand("demo",
                                  "The chapter's demos: figures (PNG), metrics.json and "
                                  "probe data (.npz) under --out");
  demo->require_subcommand(1);
  auto args = std::make_shared<DemoArgs>();
  auto common = [args](CLI::App* c, bool seeded) {
    if (seeded) c->add_option("--seed", args->seed, "network seed (default 0)");
    c->add_option("--out", args->out, "output directory (default ./out)");
    c->add_option("--threads", args->threads, "threads (0 = all cores)");
  };
  auto opts = [args] {
    examples::DemoOptions o;
    o.seed = args->seed;
    o.out_dir = args->out;
    o.threads = args->threads;
    return o;
  };

  auto* pes = demo->add_subcommand("pes", "Demo 1: PES-learned communication channel (10 s)");
  common(pes, true);
  pes->callback([opts] { print(examples::demo_pes(opts())); });

  auto* pav = demo->add_subcommand("pavlovian", "Demo 2: Pavlovian conditioning (15 s)");
  common(pav, true);
  pav->callback([opts] { print(examples::demo_pavlovian(opts())); });

  auto* tun = demo->add_subcommand("tuning", "Demo 3: LIF vs soft-LIF tuning curves");
  common(tun, false);
  tun->callback([opts] { print(examples::demo_tuning(opts())); });

  // Demo 4: spiking MNIST (train on rates, run on spikes).
  auto mn = std::make_shared<examples::MnistOptions>();
  auto* mnist = demo->add_subcommand(
      "mnist",
      "Demo 4: spiking MNIST (the chapter's conv net of LIF neurons): accuracy before "
      "training, training on rates (RMSprop 0.001, minibatch 200), spiking accuracy after "
      "(30 steps, probe synapse 0.1); writes params.npz, metrics.json and mnist_result.png");
  common(mnist, true);
  mnist->add_option("--epochs", mn->epochs, "training epochs (default 10, the chapter's)");
  mnist->add_option("--train-limit", mn->train_limit, "use the first N training images (0 = all)");
  mnist->add_option("--test-limit", mn->test_limit, "use the first M test images (0 = all)");
  mnist->add_option("--dataset", mn->dataset, "mnist or fashion (default mnist)");
  mnist->add_option("--data-dir", mn->data_dir, "directory of the IDX files (default: search)");
  mnist->add_option("--steps", mn->n_steps, "spiking test steps (default 30)");
  mnist->add_option("--lif-smoothing", mn->lif_smoothing,
                    "train LIF as SoftLIFRate(sigma) instead of LIFRate (default 0)");
  mnist->add_option("--load-params", mn->load_params,
                    "start from saved parameters (a params.npz; with --epochs 0: evaluate only)");
  auto mnist_opts = [args, mn] {
    examples::MnistOptions o = *mn;
    o.seed = args->seed;
    o.out_dir = args->out;
    o.threads = args->threads;
    return o;
  };
  mnist->callback([mnist_opts] { print(examples::demo_mnist(mnist_opts())); });

  auto* all = demo->add_subcommand("all",
                                   "Every demo, one after the other (the MNIST demo with "
                                   "--mnist-epochs, default 1, instead of the chapter's 10)");
  common(all, true);
  auto all_epochs = std::make_shared<std::size_t>(1);
  all->add_option("--mnist-epochs", *all_epochs, "training epochs of the MNIST demo (default 1)");
  all->callback([opts, mnist_opts, all_epochs] {
    print(examples::demo_pes(opts()));
    print(examples::demo_pavlovian(opts()));
    print(examples::demo_tuning(opts()));
    examples::MnistOptions o = mnist_opts();
    o.epochs = *all_epochs;
    print(examples::demo_mnist(o));
  });
}

}  // namespace myelin::cli
