// Compute roofline of the AVX-512 VNNI prefill kernels (src/kernels/x86/avx512/
// quant_q8_0_family.cpp): the peak rate of vpdpbusd zmm (u8 x s8, 4 products summed into each
// int32 lane: 64 MACs per instruction) in 12 independent chains, as the 2 x 6 accumulator tile
// of the micro-kernel. Counter "ops" is 2 ops per MAC, summed over threads; compare with
// Q80/Gemm*/.../512 GFLOP/s (bench/q8_0_family_bench.cpp, same op count) and with
// Int8PeakMaddubs (bench/int8_peak_bench.cpp, the AVX2 sequence).
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdint>

namespace {

__attribute__((target("avx512f,avx512vnni"))) int64_t dpbusd_chains(int64_t iters) {
  __m512i a = _mm512_set1_epi8(3);
  const __m512i one = _mm512_set1_epi8(1);
  __m512i acc[12], b[12];
  for (int j = 0; j < 12; ++j) {
    acc[j] = _mm512_setzero_si512();
    b[j] = _mm512_set1_epi8(char(j + 1));
  }
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < 12; ++j) acc[j] = _mm512_dpbusd_epi32(acc[j], a, b[j]);
    a = _mm512_xor_si512(a, one);
    __asm__ volatile("" : "+v"(a));  // keep the products from being hoisted out of the loop
  }
  __m512i s = acc[0];
  for (int j = 1; j < 12; ++j) s = _mm512_add_epi32(s, acc[j]);
  return _mm512_reduce_add_epi32(s);
}

void BM_Int8PeakDpbusd512(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx512vnni")) {
    state.SkipWithError("no AVX-512 VNNI on this CPU");
    return;
  }
  constexpr int64_t kIters = 1 << 20;
  for (auto _ : state) benchmark::DoNotOptimize(dpbusd_chains(kIters));
  // per iteration: 12 chains x 64 MACs x 2 ops
  state.counters["ops"] = benchmark::Counter(double(state.iterations()) * kIters * 12 * 64 * 2,
                                             benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Int8PeakDpbusd512)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
