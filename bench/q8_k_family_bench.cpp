// Micro-benchmarks of the Q8_K-family kernels (K-quants, IQ4_XS, F32/F16/BF16 weights) through
// the active kernel table, threaded like ops::matmul (weight rows split in multiples of 8):
//  - ReadBandwidth/T: streaming sum over 1 GiB with T threads (the decode roofline);
//  - Gemv/<type>/<K>/T: m = 1 against a weight matrix of >= 64 MiB (twice L3), GB/s of weights;
//  - Gemm/<type>/T: m = 512, K = 2048, 2048 weight rows, GFLOP/s (2 * m * rows * K / time).
// Rates are wall-clock; the "(cpu)" counters divide by process CPU time / T instead, which is
// what the same run would reach with T otherwise idle cores (the build machine is shared).
// HEARTH_ISA=scalar selects the reference table for comparison.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdint>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

namespace {

using hearth::DType;
namespace kernels = hearth::kernels;

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Sets counter `name` = work per iteration * threads / process CPU seconds since cpu0.
void cpu_rate(benchmark::State& state, const char* name, double work, int threads, double cpu0) {
  const double cpu = process_cpu_seconds() - cpu0;
  if (cpu > 0) state.counters[name] = work * double(state.iterations()) * threads / cpu;
}

// ---- machine read bandwidth -----------------------------------------------------------------

__attribute__((target("avx2"))) uint64_t sum_bytes(const uint8_t* p, size_t n) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i + 128 <= n; i += 128) {
    s0 = _mm256_add_epi64(s0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
    s1 = _mm256_add_epi64(s1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
    s2 = _mm256_add_epi64(s2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
    s3 = _mm256_add_epi64(s3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
  }
  const __m256i s = _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3));
  alignas(32) uint64_t v[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(v), s);
  return v[0] + v[1] + v[2] + v[3];
}

void BM_ReadBandwidth(benchmark::State& state) {
  const int threads = int(state.range(0));
  constexpr size_t kBytes = size_t(1) << 30;
  static uint8_t* buf = [] {
    auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, kBytes));
    std::memset(p, 1, kBytes);
    return p;
  }();
  hearth::ThreadPool pool(threads);
  uint64_t total = 0;
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    std::vector<uint64_t> part(size_t(threads) * 8, 0);
    pool.run([&](int ith, int nth) {
      const size_t b = kBytes / size_t(nth) * size_t(ith), e = kBytes / size_t(nth) * size_t(ith + 1);
      part[size_t(ith) * 8] = sum_bytes(buf + b, e - b);
    });
    for (int t = 0; t < threads; ++t) total += part[size_t(t) * 8];
  }
  benchmark::DoNotOptimize(total);
  cpu_rate(state, "GB/s(cpu)", double(kBytes) * 1e-9, threads, cpu0);
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(kBytes));
}
BENCHMARK(BM_ReadBandwidth)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// ---- matrices -------------------------------------------------------------------------------

struct Problem {
  DType type{};
  int64_t n = 0, rows = 0, m = 0;
  bool repacked = false;      // w holds the table's repacked layout (repack[type])
  std::vector<uint8_t> w, a;  // [rows, row_bytes(type, n)], [m, row_bytes(act_type, n)]
  std::vector<float> y;       // [m, rows]
};

// One problem alive at a time (they are large); rebuilt when the shape changes.
Problem& problem(DType t, int64_t n, int64_t rows, int64_t m, bool repacked = false) {
  static std::unique_ptr<Problem> p;
  if (p && p->type == t && p->n == n && p->rows == rows && p->m == m && p->repacked == repacked) return *p;
  p.reset();
  p = std::make_unique<Problem>();
  p->type = t, p->n = n, p->rows = rows, p->m = m, p->repacked = repacked;
  std::mt19937 rng(1);
  std::normal_distribution<float> g(0.0f, 1.0f);
  // Weights: quantize a few distinct random rows with the reference quantizer, then tile them
  // (quantizing 64 MiB of floats would dominate the start-up time).
  const size_t rb = hearth::row_bytes(t, n);
  p->w.resize(size_t(rows) * rb);
  std::vector<float> x(static_cast<size_t>(n));
  constexpr int64_t kDistinct = 64;
  for (int64_t r = 0; r < kDistinct && r < rows; ++r) {
    for (auto& v : x) v = g(rng);
    hearth::quant::quantize_row(t, x.data(), p->w.data() + size_t(r) * rb, n);
  }
  for (int64_t r = kDistinct; r < rows; ++r)
    std::memcpy(p->w.data() + size_t(r) * rb, p->w.data() + size_t(r % kDistinct) * rb, rb);
  const DType at = kernels::act_type(t);
  const size_t arb = hearth::row_bytes(at, n);
  p->a.resize(size_t(m) * arb);
  for (int64_t i = 0; i < m; ++i) {
    for (auto& v : x) v = g(rng);
    kernels::active_table().quantize_act[int(at)](x.data(), p->a.data() + size_t(i) * arb, n);
  }
  p->y.assign(size_t(m * rows), 0.0f);
  if (repacked) {
    std::vector<uint8_t> packed(p->w.size());
    kernels::active_table().repack[int(t)](p->w.data(), packed.data(), rows, n);
    p->w.swap(packed);
  }
  return *p;
}

bool can_repack(DType t) { return kernels::active_table().repack[int(t)] != nullptr; }

// ops::matmul's split: row tiles of 8, contiguous ranges per thread.
void run_matmul(hearth::ThreadPool& pool, Problem& p) {
  const auto& k = kernels::active_table();
  const auto gemm = p.repacked ? k.gemm_repacked[int(p.type)] : k.gemm[int(p.type)];
  const int64_t tile = p.repacked ? std::max<int64_t>(8, k.repack_rows[int(p.type)]) : 8;
  const size_t rb = hearth::row_bytes(p.type, p.n), arb = hearth::row_bytes(kernels::act_type(p.type), p.n);
  pool.run([&](int ith, int nth) {
    const int64_t tiles = (p.rows + tile - 1) / tile;
    const int64_t r0 = std::min(p.rows, tiles * ith / nth * tile), r1 = std::min(p.rows, tiles * (ith + 1) / nth * tile);
    if (r0 < r1) gemm(p.n, p.w.data(), rb, r0, r1, p.a.data(), arb, p.m, p.y.data(), p.rows);
  });
}

void BM_Gemv(benchmark::State& state, DType t, bool repacked) {
  if (repacked && !can_repack(t)) return state.SkipWithError("no repacked layout for this type");
  const int64_t n = state.range(0);
  const int threads = int(state.range(1));
  const size_t rb = hearth::row_bytes(t, n);
  const int64_t rows = ((int64_t(64) << 20) / int64_t(rb) + 7) / 8 * 8;  // >= 64 MiB: 2x L3
  Problem& p = problem(t, n, rows, 1, repacked);
  hearth::ThreadPool pool(threads);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    run_matmul(pool, p);
    benchmark::ClobberMemory();
  }
  cpu_rate(state, "GB/s(cpu)", double(p.w.size()) * 1e-9, threads, cpu0);
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(p.w.size()));
  state.SetLabel(kernels::active_table().name);
}

// The same with a 4 MiB matrix (L3-resident): the kernels' compute ceiling.
void BM_GemvHot(benchmark::State& state, DType t, bool repacked) {
  if (repacked && !can_repack(t)) return state.SkipWithError("no repacked layout for this type");
  const int64_t n = state.range(0);
  const int threads = int(state.range(1));
  const size_t rb = hearth::row_bytes(t, n);
  const int64_t rows = ((int64_t(4) << 20) / int64_t(rb) + 7) / 8 * 8;
  Problem& p = problem(t, n, rows, 1, repacked);
  hearth::ThreadPool pool(threads);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    run_matmul(pool, p);
    benchmark::ClobberMemory();
  }
  cpu_rate(state, "GB/s(cpu)", double(p.w.size()) * 1e-9, threads, cpu0);
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(p.w.size()));
  state.SetLabel(kernels::active_table().name);
}

void BM_Gemm(benchmark::State& state, DType t, bool repacked) {
  if (repacked && !can_repack(t)) return state.SkipWithError("no repacked layout for this type");
  const int threads = int(state.range(0));
  constexpr int64_t kN = 2048, kRows = 2048, kM = 512;
  Problem& p = problem(t, kN, kRows, kM, repacked);
  hearth::ThreadPool pool(threads);
  const double cpu0 = process_cpu_seconds();
  for (auto _ : state) {
    run_matmul(pool, p);
    benchmark::ClobberMemory();
  }
  cpu_rate(state, "GFLOP/s(cpu)", 2.0 * double(kN) * double(kRows) * double(kM) * 1e-9, threads, cpu0);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(kN) * double(kRows) * double(kM) * 1e-9 *
                                                     double(state.iterations()),
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(kernels::active_table().name);
}

#define HEARTH_GEMV(T)                                                                    \
  BENCHMARK_CAPTURE(BM_Gemv, T, DType::T, false)                                                 \
      ->ArgsProduct({{1024, 4096}, {1, 2}})                                               \
      ->ArgNames({"K", "threads"})                                                        \
      ->UseRealTime()                                                                     \
      ->Unit(benchmark::kMillisecond);
#define HEARTH_GEMV_HOT(T)                                                                \
  BENCHMARK_CAPTURE(BM_GemvHot, T, DType::T, false)                                              \
      ->ArgsProduct({{1024, 4096}, {1}})                                                  \
      ->ArgNames({"K", "threads"})                                                        \
      ->UseRealTime()                                                                     \
      ->Unit(benchmark::kMicrosecond);
#define HEARTH_GEMM(T)                                                                    \
  BENCHMARK_CAPTURE(BM_Gemm, T, DType::T, false)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime() \
      ->Unit(benchmark::kMillisecond);

HEARTH_GEMV(Q4_K)
HEARTH_GEMV(Q6_K)
HEARTH_GEMV(Q5_K)
HEARTH_GEMV(IQ4_XS)
HEARTH_GEMV(Q3_K)
HEARTH_GEMV(Q2_K)
HEARTH_GEMV(F16)
HEARTH_GEMV(BF16)
HEARTH_GEMV(F32)

HEARTH_GEMV_HOT(Q4_K)
HEARTH_GEMV_HOT(Q6_K)
HEARTH_GEMV_HOT(Q5_K)
HEARTH_GEMV_HOT(IQ4_XS)
HEARTH_GEMV_HOT(Q3_K)
HEARTH_GEMV_HOT(Q2_K)

// Repacked (8-row interleaved) layouts where the table has one.
BENCHMARK_CAPTURE(BM_Gemv, Q4_K_x8, DType::Q4_K, true)
    ->ArgsProduct({{1024, 4096}, {1, 2}})->ArgNames({"K", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemv, Q5_K_x8, DType::Q5_K, true)
    ->ArgsProduct({{1024, 4096}, {1, 2}})->ArgNames({"K", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemv, Q6_K_x8, DType::Q6_K, true)
    ->ArgsProduct({{1024, 4096}, {1, 2}})->ArgNames({"K", "threads"})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_GemvHot, Q4_K_x8, DType::Q4_K, true)
    ->ArgsProduct({{1024, 4096}, {1}})->ArgNames({"K", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GemvHot, Q5_K_x8, DType::Q5_K, true)
    ->ArgsProduct({{1024, 4096}, {1}})->ArgNames({"K", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GemvHot, Q6_K_x8, DType::Q6_K, true)
    ->ArgsProduct({{1024, 4096}, {1}})->ArgNames({"K", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Gemm, Q4_K_x8, DType::Q4_K, true)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemm, Q5_K_x8, DType::Q5_K, true)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemm, Q6_K_x8, DType::Q6_K, true)->Arg(1)->Arg(2)->ArgName("threads")->UseRealTime()
    ->Unit(benchmark::kMillisecond);

HEARTH_GEMM(Q4_K)
HEARTH_GEMM(Q6_K)
HEARTH_GEMM(Q5_K)
HEARTH_GEMM(IQ4_XS)
HEARTH_GEMM(Q3_K)
HEARTH_GEMM(Q2_K)
HEARTH_GEMM(F16)
HEARTH_GEMM(BF16)
HEARTH_GEMM(F32)

}  // namespace
