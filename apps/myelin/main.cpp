// `myelin`: the command-line tool (chapter demos, benchmarks).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "myelin/errors.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "Myelin: spiking neural networks in C++ (NEF simulation, online learning, deep SNNs).\n"
      "Run `myelin demo all` for the chapter demos, `myelin bench --help` for benchmarks."};
  app.require_subcommand(1);
  myelin::cli::add_demo_commands(app);
  myelin::cli::add_bench_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const myelin::Error& e) {
    std::fprintf(stderr, "myelin: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "myelin: unexpected error: %s\n", e.what());
    return 2;
  }
  return 0;
}
