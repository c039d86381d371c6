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

  auto* all = demo->add_subcommand("all", "Every demo, one after the other");
  common(all, true);
  all->callback([opts] {
    print(examples::demo_pes(opts()));
    print(examples::demo_pavlovian(opts()));
    print(examples::demo_tuning(opts()));
  });
}

}  // namespace myelin::cli
