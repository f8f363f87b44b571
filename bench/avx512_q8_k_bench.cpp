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
