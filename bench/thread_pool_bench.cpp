// Fork-join region overhead of hearth::ThreadPool: decode runs ~140 regions per token on a
// Qwen3-0.6B-sized model, so a microsecond per region is ~1% of a token at 100 tok/s.
// Arg: the work per region in cache-resident float adds per thread (0 = empty region).
#include <benchmark/benchmark.h>

#include <vector>

#include "core/thread_pool.h"

namespace {

void BM_PoolRegion(benchmark::State& state) {
  hearth::ThreadPool pool(2);
  // A second, idle pool whose worker sleeps in atomic::wait (as `hearth bench` keeps one for its
  // bandwidth probe): with libstdc++ 12 a sleeping waiter anywhere made every notify a syscall.
  hearth::ThreadPool idle(2);
  idle.run([](int, int) {});
  const int64_t work = state.range(0);
  std::vector<std::vector<float>> buf(2, std::vector<float>(size_t(work) + 1, 1.0f));
  for (auto _ : state) {
    pool.run([&](int ith, int) {
      float* b = buf[size_t(ith)].data();
      for (int64_t i = 0; i < work; ++i) b[i] += 1.0f;
      benchmark::DoNotOptimize(b);
    });
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PoolRegion)->Arg(0)->Arg(4096)->UseRealTime();

}  // namespace
