// The chapter's demos as library functions: each builds the network exactly as the
// chapter's Python does, runs it, writes figures (PNG), metrics.json and probe data (.npz)
// to out_dir, and returns the metrics. Used by `myelin demo ...`, by the example programs
// and by the tests (with plots off).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

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

/// Helpers shared by the demos.
std::string prepare_dir(const std::string& out_dir, const std::string& name);
void write_metrics(const std::string& dir, const nlohmann::json& metrics);

}  // namespace myelin::examples
