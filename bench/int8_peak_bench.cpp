// Compute roofline of prefill on AVX2 machines without VNNI (e.g. AMD Zen 3): the peak rate of
// the int8 multiply-accumulate sequence every Q8_0-activation kernel (Hearth's and llama.cpp's)
// is built from: vpmaddubsw (u8 x s8 -> s16 pair sums, 32 MACs) + vpmaddwd by 1 (-> s32) +
// vpaddd, in 8 independent chains so only throughput limits it. Counter "ops" is 2 ops per
// MAC, summed over threads. A prefill that needs more int8 ops per second than this cannot be
// reached with these instructions; see BENCHMARKS.md. The AVX-512 VNNI counterpart (vpdpbusd)
// is Int8PeakDpbusd512 in bench/avx512_q8_0_bench.cpp.
#include <benchmark/benchmark.h>
#include <immintrin.h>

namespace {

__attribute__((target("avx2"))) int64_t maddubs_chains(int64_t iters) {
  __m256i a = _mm256_set1_epi8(3);
  const __m256i one = _mm256_set1_epi16(1);
  __m256i acc[8], b[8];
  for (int j = 0; j < 8; ++j) {
    acc[j] = _mm256_setzero_si256();
    b[j] = _mm256_set1_epi8(char(j + 1));
  }
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j)
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b[j]), one));
    a = _mm256_xor_si256(a, one);
    __asm__ volatile("" : "+x"(a));  // keep the 8 products from being hoisted out of the loop
  }
  __m256i s = acc[0];
  for (int j = 1; j < 8; ++j) s = _mm256_add_epi32(s, acc[j]);
  return _mm256_extract_epi32(s, 0);
}

void BM_Int8PeakMaddubs(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx2")) {
    state.SkipWithError("no AVX2 on this CPU");
    return;
  }
  constexpr int64_t kIters = 1 << 20;
  for (auto _ : state) benchmark::DoNotOptimize(maddubs_chains(kIters));
  // per iteration: 8 chains x 32 MACs x 2 ops
  state.counters["ops"] = benchmark::Counter(double(state.iterations()) * kIters * 8 * 32 * 2,
                                             benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Int8PeakMaddubs)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
