// CLI subcommand registration (one function per command group).
#pragma once

#include <CLI/CLI.hpp>

namespace myelin::cli {

void add_bench_commands(CLI::App& app);
void add_demo_commands(CLI::App& app);

}  // namespace myelin::cli
