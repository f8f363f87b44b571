// Micro-benchmarks of the Q8_0-activation weight family (Q8_0, Q4_0, Q5_0, IQ4_NL, MXFP4, NVFP4,
// Q4_1, Q5_1): machine read bandwidth (the GEMV roofline), decode GEMV GB/s on a weight matrix
// far larger than L3, prefill GEMM GFLOP/s at m = 512, activation quantizers. Measures only.
//
// Threads: a hearth::ThreadPool splits the weight rows in tiles of 8 as ops::matmul does.
// HEARTH_ISA=scalar|avx2 picks the table (active_table()).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

namespace {

using hearth::DType;
using hearth::ThreadPool;
namespace kernels = hearth::kernels;

ThreadPool& pool(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<ThreadPool>(threads);
  return *p;
}

// 1 GiB of 64-bit words, touched once so pages exist.
const std::vector<uint64_t>& big_buffer() {
  static const std::vector<uint64_t> buf = [] {
    std::vector<uint64_t> b(size_t(1) << 27);
    for (size_t i = 0; i < b.size(); ++i) b[i] = i * 0x9E3779B97F4A7C15ull;
    return b;
  }();
  return buf;
}

// Streaming read: each thread sums its contiguous half (the access pattern of a GEMV).
void BM_ReadBandwidth(benchmark::State& state) {
  const int threads = int(state.range(0));
  const auto& buf = big_buffer();
  ThreadPool& p = pool(threads);
  uint64_t sink = 0;
  for (auto _ : state) {
    uint64_t partial[16] = {};
    p.run([&](int ith, int nth) {
      const size_t n = buf.size(), b = n * ith / nth, e = n * (ith + 1) / nth;
      uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (size_t i = b; i + 4 <= e; i += 4) {
        s0 += buf[i];
        s1 += buf[i + 1];
        s2 += buf[i + 2];
        s3 += buf[i + 3];
      }
      partial[ith] = s0 + s1 + s2 + s3;
    });
    for (uint64_t v : partial) sink += v;
  }
  benchmark::DoNotOptimize(sink);
  const double bytes = double(buf.size() * sizeof(uint64_t));
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9 * double(state.iterations()),
                                              benchmark::Counter::kIsRate);
}

// A [rows, n] weight matrix of type t: 64 rows quantized from N(0,1) data, repeated.
struct Weights {
  std::vector<uint8_t> data;
  size_t row_bytes = 0;
  int64_t rows = 0, n = 0;
};

const Weights& weights(DType t, int64_t rows, int64_t n) {
  static std::map<std::tuple<int, int64_t, int64_t>, Weights> cache;
  auto& w = cache[{int(t), rows, n}];
  if (w.rows) return w;
  w.rows = rows;
  w.n = n;
  w.row_bytes = hearth::row_bytes(t, n);
  w.data.resize(w.row_bytes * size_t(rows));
  std::mt19937 rng(42);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  const int64_t distinct = rows < 64 ? rows : 64;
  for (int64_t r = 0; r < distinct; ++r) {
    for (auto& v : x) v = g(rng);
    hearth::quant::quantize_row(t, x.data(), w.data.data() + size_t(r) * w.row_bytes, n);
  }
  for (int64_t r = distinct; r < rows; ++r)
    std::memcpy(w.data.data() + size_t(r) * w.row_bytes,
                w.data.data() + size_t(r % distinct) * w.row_bytes, w.row_bytes);
  return w;
}

std::vector<uint8_t> activations(DType wt, int64_t m, int64_t n, const kernels::KernelTable& kt) {
  const DType at = kernels::act_type(wt);
  const size_t rb = hearth::row_bytes(at, n);
  std::vector<uint8_t> q(rb * size_t(m));
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < m; ++i) {
    for (auto& v : x) v = g(rng);
    kt.quantize_act[int(at)](x.data(), q.data() + rb * size_t(i), n);
  }
  return q;
}

// The kernel table's repacked copy of w (same size), or nullptr when the type has none.
const Weights* repacked(const kernels::KernelTable& kt, DType t, const Weights& w) {
  if (!kt.repack[int(t)]) return nullptr;
  static std::map<const Weights*, Weights> cache;
  auto& r = cache[&w];
  if (r.rows) return &r;
  r = w;
  kt.repack[int(t)](w.data.data(), r.data.data(), w.rows, w.n);
  return &r;
}

// Rows split in tiles of 8 over the pool's threads, as ops::matmul.
void run_matmul(const kernels::KernelTable& kt, DType t, const Weights& w, const uint8_t* a,
                size_t arb, int64_t m, float* y, ThreadPool& p, bool rp = false) {
  const auto gemm = rp ? kt.gemm_repacked[int(t)] : kt.gemm[int(t)];
  p.run([&](int ith, int nth) {
    const int64_t tiles = (w.rows + 7) / 8;
    const int64_t t0 = tiles * ith / nth, t1 = tiles * (ith + 1) / nth;
    const int64_t r0 = std::min(w.rows, t0 * 8), r1 = std::min(w.rows, t1 * 8);
    if (r0 < r1) gemm(w.n, w.data.data(), w.row_bytes, r0, r1, a, arb, m, y, w.rows);
  });
}

constexpr int64_t kGemvN = 4096;
constexpr size_t kGemvBytes = size_t(192) << 20;  // 192 MiB of weights: 6x the 32 MiB L3

// GEMV (decode, m = 1): GB/s of weight bytes streamed.
void BM_Gemv(benchmark::State& state, DType t, bool rp) {
  const int threads = int(state.range(0));
  const auto& kt = kernels::active_table();
  const int64_t rows = int64_t(kGemvBytes / hearth::row_bytes(t, kGemvN)) / 8 * 8;
  const Weights* wp = &weights(t, rows, kGemvN);
  if (rp && !(wp = repacked(kt, t, *wp))) {
    state.SkipWithError("no repacked layout");
    return;
  }
  const Weights& w = *wp;
  const auto a = activations(t, 1, kGemvN, kt);
  std::vector<float> y(static_cast<size_t>(rows));
  ThreadPool& p = pool(threads);
  for (auto _ : state) {
    run_matmul(kt, t, w, a.data(), a.size(), 1, y.data(), p, rp);
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] = benchmark::Counter(double(w.data.size()) * 1e-9 * double(state.iterations()),
                                              benchmark::Counter::kIsRate);
  state.SetLabel(kt.name);
}

// GEMM (prefill): [n_out = 3072, n = 1024] x [m, 1024] (qwen3-0.6b's FFN up/gate shape).
void BM_Gemm(benchmark::State& state, DType t, bool rp) {
  const int threads = int(state.range(0));
  const int64_t m = state.range(1);
  const int64_t n = 1024, rows = 3072;
  const auto& kt = kernels::active_table();
  const Weights* wp = &weights(t, rows, n);
  if (rp && !(wp = repacked(kt, t, *wp))) {
    state.SkipWithError("no repacked layout");
    return;
  }
  const Weights& w = *wp;
  const auto a = activations(t, m, n, kt);
  const size_t arb = hearth::row_bytes(kernels::act_type(t), n);
  std::vector<float> y(size_t(rows * m));
  ThreadPool& p = pool(threads);
  for (auto _ : state) {
    run_matmul(kt, t, w, a.data(), arb, m, y.data(), p, rp);
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(m) * double(n) * double(rows) * 1e-9 *
                                                     double(state.iterations()),
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(kt.name);
}

// Activation quantizer: one 4096-float row per call (decode quantizes one row per matmul).
void BM_QuantizeAct(benchmark::State& state, DType at) {
  const auto& kt = kernels::active_table();
  const int64_t n = 4096;
  std::vector<float> x(static_cast<size_t>(n));
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (auto& v : x) v = g(rng);
  std::vector<uint8_t> q(hearth::row_bytes(at, n));
  for (auto _ : state) {
    kt.quantize_act[int(at)](x.data(), q.data(), n);
    benchmark::ClobberMemory();
  }
  state.counters["floats/s"] = benchmark::Counter(double(n) * double(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}

const DType kTypes[] = {DType::Q8_0, DType::Q4_0, DType::MXFP4, DType::Q5_0, DType::IQ4_NL,
                        DType::NVFP4, DType::Q4_1, DType::Q5_1};

const bool kRegistered = [] {
  benchmark::RegisterBenchmark("Q80/ReadBandwidth", BM_ReadBandwidth)
      ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
  for (DType t : kTypes) {
    const std::string name(hearth::dtype_name(t));
    for (bool rp : {false, true})
      benchmark::RegisterBenchmark(((rp ? "Q80/GemvRepacked/" : "Q80/Gemv/") + name).c_str(),
                                   BM_Gemv, t, rp)
          ->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  for (DType t : kTypes) {
    const std::string name(hearth::dtype_name(t));
    for (bool rp : {false, true})
      benchmark::RegisterBenchmark(((rp ? "Q80/GemmRepacked/" : "Q80/Gemm/") + name).c_str(),
                                   BM_Gemm, t, rp)
          ->Args({1, 512})->Args({2, 512})->Args({2, 16})->Args({1, 4})->Args({1, 2})
          ->UseRealTime()->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("Q80/QuantizeAct/q8_0", BM_QuantizeAct, DType::Q8_0);
  benchmark::RegisterBenchmark("Q80/QuantizeAct/q8_1", BM_QuantizeAct, DType::Q8_1);
  return true;
}();

}  // namespace
