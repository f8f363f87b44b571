// AVX-512 Q8_0-family benchmarks (src/kernels/x86/avx512/quant_q8_0_family.cpp).
//  - Int8PeakDpbusd512: compute roofline of the VNNI prefill kernels, the peak rate of vpdpbusd
//    zmm (u8 x s8, 4 products summed into each int32 lane: 64 MACs per instruction) in 12
//    independent chains. Counter "ops" is 2 ops per MAC, summed over threads; compare with
//    Q80/Gemm*/.../512 GFLOP/s (bench/q8_0_family_bench.cpp, same op count) and with
//    Int8PeakMaddubs (bench/int8_peak_bench.cpp, the AVX2 sequence).
//  - Q80SmallM: GEMM with few activation rows (decode batches, MoE experts in prefill).
#include <benchmark/benchmark.h>
// GCC 12's AVX-512 headers build some results from _mm*_undefined_*() and then warn about them.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

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

// Small-m GEMM (MoE experts in prefill see a few dozen rows each; decode batches a few):
// [3072 x 1024] repacked / GGUF weights x m activation rows, 1 thread, active table
// (HEARTH_ISA=avx2|avx512). Counter "ops" = 2 m n rows per call.

namespace {

void BM_Q80SmallM(benchmark::State& state, hearth::DType t, bool rp) {
  namespace kernels = hearth::kernels;
  const int64_t m = state.range(0), n = 1024, rows = 3072;
  const auto& kt = kernels::active_table();
  const auto gemm = rp ? kt.gemm_repacked[int(t)] : kt.gemm[int(t)];
  if (!gemm || (rp && !kt.repack[int(t)])) {
    state.SkipWithError("no kernel");
    return;
  }
  const size_t wrb = hearth::row_bytes(t, n);
  std::vector<uint8_t> w(wrb * size_t(rows)), wr;
  std::mt19937 rng(5);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : x) v = g(rng);
    hearth::quant::quantize_row(t, x.data(), w.data() + size_t(r) * wrb, n);
  }
  if (rp) {
    wr = w;
    kt.repack[int(t)](w.data(), wr.data(), rows, n);
  }
  const hearth::DType at = kernels::act_type(t);
  const size_t arb = hearth::row_bytes(at, n);
  std::vector<uint8_t> a(arb * size_t(m));
  for (int64_t i = 0; i < m; ++i) {
    for (auto& v : x) v = g(rng);
    kt.quantize_act[int(at)](x.data(), a.data() + size_t(i) * arb, n);
  }
  std::vector<float> y(size_t(m * rows));
  const uint8_t* wp = rp ? wr.data() : w.data();
  for (auto _ : state) {
    gemm(n, wp, wrb, 0, rows, a.data(), arb, m, y.data(), rows);
    benchmark::ClobberMemory();
  }
  state.counters["ops"] = benchmark::Counter(2.0 * double(m * n * rows) * double(state.iterations()),
                                             benchmark::Counter::kIsRate);
  state.SetLabel(kt.name);
}

const bool kSmallMRegistered = [] {
  using hearth::DType;
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::MXFP4})
    for (bool rp : {true, false})
      benchmark::RegisterBenchmark(
          (std::string("Q80SmallM/") + (rp ? "repacked/" : "gguf/") + std::string(hearth::dtype_name(t))).c_str(),
          BM_Q80SmallM, t, rp)
          ->Arg(1)->Arg(3)->Arg(5)->Arg(6)->Arg(8)->Arg(16)->Arg(32)->Arg(64)
          ->Unit(benchmark::kMicrosecond);
  return true;
}();

}  // namespace
