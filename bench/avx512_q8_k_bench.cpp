// Micro-benchmark of the Q8_K activation quantizer through the active table (HEARTH_ISA=avx2 /
// avx512 to compare): 64 rows of 4096 floats per iteration, rate in G elements/s (wall and
// process CPU time, the latter what to compare on a shared machine).
#include <benchmark/benchmark.h>

#include <ctime>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "kernels/kernels.h"

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

void BM_QuantizeQ8K(benchmark::State& state) {
  constexpr int64_t kN = 4096, kRows = 64;
  std::vector<float> x(size_t(kN * kRows));
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (auto& v : x) v = g(rng);
  const size_t rb = hearth::row_bytes(hearth::DType::Q8_K, kN);
  std::vector<uint8_t> y(rb * kRows);
  const auto q = hearth::kernels::active_table().quantize_act[int(hearth::DType::Q8_K)];
  const double cpu0 = cpu_seconds();
  for (auto _ : state) {
    for (int64_t r = 0; r < kRows; ++r) q(x.data() + r * kN, y.data() + size_t(r) * rb, kN);
    benchmark::ClobberMemory();
  }
  const double cpu = cpu_seconds() - cpu0;
  if (cpu > 0) state.counters["Gelem/s(cpu)"] = double(kN * kRows) * double(state.iterations()) * 1e-9 / cpu;
  state.SetLabel(hearth::kernels::active_table().name);
}
BENCHMARK(BM_QuantizeQ8K)->Unit(benchmark::kMicrosecond);

}  // namespace

// Few activation rows (MoE experts see a few dozen tokens each): Q4_K / Q6_K repacked, K = 2048,
// 768 weight rows (a Qwen3-MoE expert's gate/up), m = state.range(0); one thread. G int8 ops/s
// = 2 * m * rows * K per second of CPU time.
#include <cstring>

#include "quant/quant.h"

namespace {

void BM_GemmSmallM(benchmark::State& state, hearth::DType t) {
  namespace k = hearth::kernels;
  const int64_t m = state.range(0), n = 2048, rows = 768;
  const auto& tab = k::active_table();
  if (!tab.repack[int(t)] || !tab.gemm_repacked[int(t)]) return state.SkipWithError("no repacked layout");
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 1.0f);
  const size_t rb = hearth::row_bytes(t, n), arb = hearth::row_bytes(hearth::DType::Q8_K, n);
  std::vector<uint8_t> w(rb * rows), packed(rb * rows), a(arb * size_t(m));
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : x) v = g(rng);
    hearth::quant::quantize_row(t, x.data(), w.data() + size_t(r) * rb, n);
  }
  tab.repack[int(t)](w.data(), packed.data(), rows, n);
  for (int64_t i = 0; i < m; ++i) {
    for (auto& v : x) v = g(rng);
    tab.quantize_act[int(hearth::DType::Q8_K)](x.data(), a.data() + size_t(i) * arb, n);
  }
  std::vector<float> y(size_t(m * rows));
  const double cpu0 = cpu_seconds();
  for (auto _ : state) {
    tab.gemm_repacked[int(t)](n, packed.data(), rb, 0, rows, a.data(), arb, m, y.data(), rows);
    benchmark::ClobberMemory();
  }
  const double cpu = cpu_seconds() - cpu0;
  if (cpu > 0) state.counters["Gops(cpu)"] = 2.0 * double(m * rows * n) * double(state.iterations()) * 1e-9 / cpu;
  state.SetLabel(tab.name);
}
BENCHMARK_CAPTURE(BM_GemmSmallM, Q4_K_x8, hearth::DType::Q4_K)->DenseRange(1, 8)->Arg(16)->Arg(32)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GemmSmallM, Q6_K_x8, hearth::DType::Q6_K)->DenseRange(1, 8)->Arg(16)->Arg(32)->Unit(benchmark::kMicrosecond);

}  // namespace
