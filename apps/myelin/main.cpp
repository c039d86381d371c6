// `myelin`: the command-line tool (chapter demos, benchmarks).
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "myelin/errors.hpp"

int main(int argc, char** argv) {
  // Keep large blocks (activity and Gram matrices, probe buffers) in the heap instead of
  // fresh mmaps: on virtual machines every first touch of a fresh page is expensive, and the
  // builder allocates and frees many large matrices (docs/design.md, "Memory").
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
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
