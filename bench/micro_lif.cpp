// Microbenchmarks of the LIF hot path (Google Benchmark): the executor's fused encode + LIF
// kernel against the generic path it replaces for plain LIF ensembles (encode into J, then
// LIF::step, which also compacts the spikes), side by side on the same random ensemble.
// Run: build/myelin_bench --benchmark_filter=Lif   (items/s = neuron updates per second)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "myelin/neurons.hpp"
#include "neurons/lif_kernel.hpp"

namespace {

using namespace myelin;
using V16 = float __attribute__((vector_size(64)));

struct Ensemble {
  std::size_t n, np, d;
  std::vector<float> bias, tile, x, v, ref, J, out;
  std::vector<std::int32_t> fired;
  Ensemble(std::size_t n_, std::size_t d_)
      : n(n_),
        np(kernels::lif_padded(n_)),
        d(d_),
        bias(np, 0.f),
        tile(np * d_, 0.f),
        x(d_),
        v(np, 0.f),
        ref(np, 0.f),
        J(np, 0.f),
        out(np, 0.f),
        fired(np, 0) {
    std::mt19937 g(7);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (std::size_t i = 0; i < n; ++i) {
      bias[i] = 1.5f + 0.5f * u(g);  // a few percent of the neurons fire per step
      v[i] = 0.5f + 0.5f * u(g);
      for (std::size_t k = 0; k < d; ++k) tile[((i / 16) * d + k) * 16 + i % 16] = 2.f * u(g);
    }
  }
  void set_input(std::int64_t step) {
    for (std::size_t k = 0; k < d; ++k) x[k] = 0.3f * std::sin(0.01f * float(step) + float(k));
  }
};

void BM_LifFused(benchmark::State& state) {
  Ensemble e(std::size_t(state.range(0)), std::size_t(state.range(1)));
  const LIF lif;
  const kernels::LifConsts c = kernels::lif_consts(lif, 0.001f);
  kernels::LifFusedArgs a;
  a.n = e.n;
  a.d = e.d;
  a.bias = e.bias.data();
  a.enc_tile = e.tile.data();
  a.x = e.x.data();
  a.v = e.v.data();
  a.ref = e.ref.data();
  a.fired = e.fired.data();
  std::int64_t step = 0;
  for (auto _ : state) {
    e.set_input(step++);
    benchmark::DoNotOptimize(kernels::lif_fused_step(c, a));
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(e.n));
}

void BM_LifGeneric(benchmark::State& state) {
  Ensemble e(std::size_t(state.range(0)), std::size_t(state.range(1)));
  const LIF lif;
  float* st[2] = {e.v.data(), e.ref.data()};
  NeuronStepArgs a;
  a.dt = 0.001f;
  a.n = e.n;
  a.J = e.J.data();
  a.out = e.out.data();
  a.state = st;
  a.fired = e.fired.data();
  std::int64_t step = 0;
  for (auto _ : state) {
    e.set_input(step++);
    // J = bias + E·x, register-blocked like the executor's encode() for the generic path.
    for (std::size_t b = 0; b < e.np / 16; ++b) {
      V16 acc;
      std::memcpy(&acc, e.bias.data() + b * 16, sizeof acc);
      for (std::size_t k = 0; k < e.d; ++k) {
        V16 t;
        std::memcpy(&t, e.tile.data() + (b * e.d + k) * 16, sizeof t);
        acc += t * e.x[k];
      }
      std::memcpy(e.J.data() + b * 16, &acc, sizeof acc);
    }
    benchmark::DoNotOptimize(lif.step(a));
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(e.n));
}

// (neurons, dimensions): the chain benchmark's ensembles and the Pavlovian demo's.
BENCHMARK(BM_LifFused)->Args({1000, 8})->Args({2000, 16})->Args({300, 3});
BENCHMARK(BM_LifGeneric)->Args({1000, 8})->Args({2000, 16})->Args({300, 3});

}  // namespace

BENCHMARK_MAIN();
