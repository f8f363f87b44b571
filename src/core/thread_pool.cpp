// Fork-join pool: a generation counter wakes workers, a pending counter tells the caller when
// all are done. Spinning first keeps region overhead to a few microseconds during decode.
//
// Notifications are issued only when a thread is actually blocked: with libstdc++ 12,
// atomic::notify_* made a FUTEX_WAKE system call on every region while another pool's worker
// slept in an atomic wait, as `hearth bench`'s bandwidth-probe pool does (strace: two per
// region, ~38000 in a 130-token bench run; `hearth run` and `serve` had none per region).
// A thread announces itself in a counter or flag before it blocks, and the notifier checks it
// after changing the value, all sequentially consistent: either the notifier sees the sleeper,
// or the sleeper's wait sees the new value and does not block (std::atomic::wait re-checks the
// value before blocking).
#include "core/thread_pool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hearth {
namespace {
inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}
constexpr int kSpinIterations = 1 << 16;  // ~1-5 ms of pause before sleeping
}  // namespace

ThreadPool::ThreadPool(int n_threads)
    : n_threads_(n_threads < 1 ? 1 : n_threads), cursor_(size_t(n_threads_)) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();  // unconditionally: nothing else is in flight
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_raw(RawFn fn, void* ctx) {
  fn_ = fn;
  ctx_ = ctx;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleeping_workers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
  fn(ctx, 0, n_threads_);
  int spins = 0;
  for (;;) {
    const int p = pending_.load(std::memory_order_acquire);
    if (p == 0) break;
    if (++spins < kSpinIterations) {
      cpu_relax();
    } else {
      caller_sleeping_.store(1, std::memory_order_seq_cst);
      pending_.wait(p, std::memory_order_seq_cst);
      caller_sleeping_.store(0, std::memory_order_relaxed);
    }
  }
}

void ThreadPool::worker_loop(int ith) {
  // Regions are counted from construction (generation 0), not from whenever this thread got
  // scheduled: a region started before the thread first runs must not be missed.
  uint32_t seen = 0;
  for (;;) {
    int spins = 0;
    uint32_t g;
    while ((g = generation_.load(std::memory_order_acquire)) == seen) {
      if (++spins < kSpinIterations) {
        cpu_relax();
      } else {
        sleeping_workers_.fetch_add(1, std::memory_order_seq_cst);
        generation_.wait(seen, std::memory_order_seq_cst);
        sleeping_workers_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    fn_(ctx_, ith, n_threads_);
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        caller_sleeping_.load(std::memory_order_seq_cst) != 0)
      pending_.notify_one();
  }
}

}  // namespace hearth
