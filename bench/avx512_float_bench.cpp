// Micro-benchmarks of the float-family entries of the avx2 and avx512 tables side by side (same
// process, so A/B runs interleave on the shared machine):
//  - AttnScores/<isa>, AttnPv/<isa>: one prefill tile block (32 query rows = 16 tokens x GQA
//    group 2, 64 keys, head dim 128), GFLOP/s (2 * rows * keys * dim / time);
//  - DotF32F16/<isa>/<n>, AxpyF16/<isa>/<n>: decode attention rows, ns per call;
//  - AddAxpy/<isa>/<n>/<axpy>: f32 add / axpy, bytes moved per second;
//  - F32ToF16/<isa>/<n>: f32 -> f16 -> f32 round trip of an L1/L2-resident row;
//  - FloatGemm/<type>/<isa>/<m>: F32/F16/BF16 weights, K = 1024, 256 rows, m activation rows,
//    GFLOP/s. Single-threaded; "(cpu)" counters divide by process CPU time.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <ctime>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/fp16.h"
#include "kernels/kernels.h"

namespace {

namespace kernels = hearth::kernels;
using hearth::DType;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

const kernels::KernelTable* table(const char* name) {
  for (const kernels::KernelTable* t : kernels::available_tables())
    if (std::strcmp(t->name, name) == 0) return t;
  return nullptr;
}

const char* kIsa[] = {"avx2", "avx512"};

struct Kv {
  std::vector<std::vector<uint16_t>> rows;
  std::vector<const uint16_t*> ptr;
  Kv(int64_t nk, int64_t n, std::mt19937& rng) {
    std::normal_distribution<float> nd(0.0f, 1.0f);
    for (int64_t j = 0; j < nk; ++j) {
      rows.emplace_back(size_t(n));
      for (auto& h : rows.back()) h = hearth::f32_to_f16(nd(rng));
      ptr.push_back(rows.back().data());
    }
  }
};

void BM_AttnScores(benchmark::State& state) {
  const kernels::KernelTable* kt = table(kIsa[state.range(0)]);
  if (!kt) return state.SkipWithError("table not available");
  const int64_t rows = state.range(1), nk = 64, n = 128;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> q(size_t(rows * n)), s(size_t(rows * 512));
  for (auto& x : q) x = nd(rng);
  Kv k(nk, n, rng);
  const double c0 = cpu_seconds();
  for (auto _ : state) {
    kt->attn_scores_f16(q.data(), n, rows, k.ptr.data(), nk, n, s.data(), 512);
    benchmark::DoNotOptimize(s.data());
  }
  const double flop = 2.0 * double(rows * nk * n);
  state.counters["GFLOP/s"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s(cpu)"] = flop * 1e-9 * double(state.iterations()) / (cpu_seconds() - c0);
  state.SetLabel(kt->name);
}

void BM_AttnPv(benchmark::State& state) {
  const kernels::KernelTable* kt = table(kIsa[state.range(0)]);
  if (!kt) return state.SkipWithError("table not available");
  const int64_t rows = state.range(1), nk = 64, n = 128;
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> ud(0.0f, 1.0f / 64);
  std::vector<float> p(size_t(rows * nk));
  for (auto& x : p) x = ud(rng);
  std::vector<std::vector<float>> o(size_t(rows), std::vector<float>(size_t(n), 0.0f));
  std::vector<float*> op;
  for (auto& r : o) op.push_back(r.data());
  Kv v(nk, n, rng);
  const double c0 = cpu_seconds();
  for (auto _ : state) {
    kt->attn_pv_f16(p.data(), nk, rows, v.ptr.data(), nk, n, op.data());
    benchmark::DoNotOptimize(op.data());
  }
  const double flop = 2.0 * double(rows * nk * n);
  state.counters["GFLOP/s"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s(cpu)"] = flop * 1e-9 * double(state.iterations()) / (cpu_seconds() - c0);
  state.SetLabel(kt->name);
}

void BM_DotF32F16(benchmark::State& state) {
  const kernels::KernelTable* kt = table(kIsa[state.range(0)]);
  if (!kt) return state.SkipWithError("table not available");
  const int64_t n = state.range(1);
  std::mt19937 rng(3);
  Kv k(64, n, rng);
  std::vector<float> q(size_t(n), 0.5f);
  for (auto _ : state)
    for (int j = 0; j < 64; ++j) benchmark::DoNotOptimize(kt->dot_f32_f16(q.data(), k.ptr[size_t(j)], n));
  state.SetItemsProcessed(state.iterations() * 64);
  state.SetLabel(kt->name);
}

void BM_AxpyF16(benchmark::State& state) {
  const kernels::KernelTable* kt = table(kIsa[state.range(0)]);
  if (!kt) return state.SkipWithError("table not available");
  const int64_t n = state.range(1);
  std::mt19937 rng(4);
  Kv v(64, n, rng);
  std::vector<float> o(size_t(n), 0.0f);
  for (auto _ : state) {
    for (int j = 0; j < 64; ++j) kt->axpy_f16(o.data(), 0.01f, v.ptr[size_t(j)], n);
    benchmark::DoNotOptimize(o.data());
  }
  state.SetItemsProcessed(state.iterations() * 64);
  state.SetLabel(kt->name);
}

void BM_F32ToF16(benchmark::State& state) {
  const kernels::KernelTable* kt = table(kIsa[state.range(0)]);
  if (!kt) return state.SkipWithError("table not available");
  const int64_t n = state.range(1);
  std::vector<float> x(size_t(n), 0.37f);
  std::vector<uint16_t> h(static_cast<size_t>(n));
  for (auto _ : state) {
    for (int j = 0; j < 64; ++j) {
      kt->f32_to_f16(x.data(), h.data(), n);
      kt->f16_to_f32(h.data(), x.data(), n);
    }
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * 64);
  state.SetLabel(kt->name);
}

// add / axpy (f32): residual adds (decode: one 1024-float row; prefill: 512 rows at once).
void BM_AddAxpy(benchmark::State& state) {
  const kernels::KernelTable* kt = table(kIsa[state.range(0)]);
  if (!kt) return state.SkipWithError("table not available");
  const int64_t n = state.range(1);
  const bool is_axpy = state.range(2) != 0;
  std::vector<float> x(static_cast<size_t>(n), 0.5f), y(static_cast<size_t>(n), 0.25f);
  for (auto _ : state) {
    if (is_axpy) kt->axpy(y.data(), 1e-3f, x.data(), n);
    else kt->add(y.data(), x.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * n * 12);
  state.SetLabel(kt->name);
}

// ---- F32 / F16 / BF16 weights ---------------------------------------------------------------
const DType kTypes[] = {DType::F32, DType::F16, DType::BF16};

void BM_FloatGemm(benchmark::State& state) {
  const DType t = kTypes[state.range(0)];
  const kernels::KernelTable* kt = table(kIsa[state.range(1)]);
  if (!kt) return state.SkipWithError("table not available");
  const int64_t m = state.range(2), n = 1024, rows = 256;
  const size_t es = t == DType::F32 ? 4 : 2;
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> wf(size_t(rows * n)), af(size_t(m * n));
  for (auto& x : wf) x = nd(rng);
  for (auto& x : af) x = nd(rng);
  std::vector<uint8_t> w(wf.size() * es), a(af.size() * es);
  kernels::reference_table().quantize_act[int(t)](wf.data(), w.data(), int64_t(wf.size()));
  kernels::reference_table().quantize_act[int(t)](af.data(), a.data(), int64_t(af.size()));
  std::vector<float> y(size_t(m * rows));
  const double c0 = cpu_seconds();
  for (auto _ : state) {
    if (m == 1)
      for (int64_t r = 0; r < rows; ++r) y[size_t(r)] = kt->vec_dot[int(t)](n, w.data() + size_t(r) * n * es, a.data());
    else
      kt->gemm[int(t)](n, w.data(), size_t(n) * es, 0, rows, a.data(), size_t(n) * es, m, y.data(), rows);
    benchmark::DoNotOptimize(y.data());
  }
  const double flop = 2.0 * double(m * rows * n);
  state.counters["GFLOP/s"] = benchmark::Counter(flop * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GFLOP/s(cpu)"] = flop * 1e-9 * double(state.iterations()) / (cpu_seconds() - c0);
  state.SetLabel(kt->name);
}

BENCHMARK(BM_AttnScores)->ArgsProduct({{0, 1}, {32, 8}});
BENCHMARK(BM_AttnPv)->ArgsProduct({{0, 1}, {32, 8}});
BENCHMARK(BM_DotF32F16)->ArgsProduct({{0, 1}, {64, 128}});
BENCHMARK(BM_F32ToF16)->ArgsProduct({{0, 1}, {128, 4096}});
BENCHMARK(BM_AddAxpy)->ArgsProduct({{0, 1}, {1024, 512 * 1024}, {0, 1}});
BENCHMARK(BM_AxpyF16)->ArgsProduct({{0, 1}, {64, 128}});
BENCHMARK(BM_FloatGemm)->ArgsProduct({{0, 1, 2}, {0, 1}, {1, 2, 64}});

}  // namespace
