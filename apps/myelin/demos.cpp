// `myelin demo ...`: the chapter's demos (see examples/).
#include "commands.hpp"

namespace myelin::cli {

void add_demo_commands(CLI::App& app) {
  auto* demo = app.add_subcommand("demo", "The chapter's demos (figures, metrics, probe data)");
  demo->require_subcommand(1);
}

}  // namespace myelin::cli
