// CPU spiking executor: steps an ir::Model with the phase order of spec §1.2.
// float32 structure-of-arrays state, spike index lists for sparse decoding, levels of the
// instantaneous graph evaluated in parallel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/cpu/huge_alloc.hpp"
#include "ir/model.hpp"

namespace myelin::cpu {

/// Recorded samples of one probe, row-major (samples × size).
using ProbeData = std::vector<float, HugePageAllocator<float>>;

class Executor {
 public:
  Executor(const ir::Model& model, std::uint64_t seed, int threads);
  ~Executor();
  void step();
  void reset(std::uint64_t seed);
  void clear_probes();
  /// Reserves probe storage for `steps` more steps (so recording never reallocates mid-run).
  void reserve_probes(std::size_t steps);
  std::size_t n_steps() const { return n_; }
  /// Recorded samples of probe k, row-major (samples × size).
  const ProbeData& probe_data(std::size_t k) const;
  std::size_t probe_size(std::size_t k) const;
  std::uint64_t seed() const { return seed_; }

 private:
  struct EnsState;
  struct NodeState;
  struct ConnState;
  struct LearnState;
  struct ProbeState;

  void eval_node(std::size_t i, double t);
  void eval_ensemble(std::size_t i, double t);
  void compute_conn(std::size_t ci);  // u, then the synapse
  void compute_u(std::size_t ci);
  void build_decode_groups();
  void decode_groups(EnsState& s);
  void learn_phase();
  void apply_deltas();
  void record_probes();
  const float* conn_input(std::size_t ci) const;   // y[n-1] (synapse) or u[n] (None)
  const float* conn_output(std::size_t ci) const;  // y[n] (synapse, once advanced) or u[n]
  void init_runtime(std::uint64_t seed);

  const ir::Model& m_;
  int threads_;
  std::uint64_t seed_;
  std::size_t n_ = 0;
  std::vector<std::unique_ptr<EnsState>> ens_;
  std::vector<std::unique_ptr<NodeState>> nodes_;
  std::vector<std::unique_ptr<ConnState>> conns_;
  std::vector<std::unique_ptr<LearnState>> learn_;
  std::vector<std::unique_ptr<ProbeState>> probes_;
  std::vector<std::size_t> level_work_;  // neurons per level (to decide on threading)
};

}  // namespace myelin::cpu
