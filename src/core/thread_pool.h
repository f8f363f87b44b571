// A fixed pool of worker threads that run one parallel region at a time (fork-join).
// The caller thread is worker 0. No allocation per region; workers spin briefly, then sleep.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace hearth {

class ThreadPool {
 public:
  // n_threads >= 1 total, including the calling thread.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs f(ith, nth) on every thread (ith in [0, nth)) and returns when all are done.
  template <typename F>
  void run(F&& f) {
    if (n_threads_ == 1) {
      f(0, 1);
      return;
    }
    using Fn = std::remove_reference_t<F>;
    run_raw([](void* ctx, int ith, int nth) { (*static_cast<Fn*>(ctx))(ith, nth); }, &f);
  }

  // Splits [0, n) into contiguous chunks, one per thread: f(begin, end, ith).
  template <typename F>
  void parallel_for(int64_t n, F&& f) {
    run([&](int ith, int nth) {
      const int64_t begin = n * ith / nth, end = n * (ith + 1) / nth;
      if (begin < end) f(begin, end, ith);
    });
  }

  // Runs f(chunk, ith) for chunks 0..n_chunks-1. Thread ith owns a contiguous share of the
  // chunks and takes them in order (one memory stream, as parallel_for); a thread that is done
  // then takes the remaining chunks of the others, so a thread that runs slower (a busy sibling
  // vCPU, a late wake-up) holds nobody at the join.
  template <typename F>
  void for_each_chunk(int64_t n_chunks, F&& f) {
    const int nth = n_threads_;
    for (int t = 0; t < nth; ++t) cursor_[size_t(t)].next.store(n_chunks * t / nth, std::memory_order_relaxed);
    run([&](int ith, int) {  // the stores above are published by run's generation bump
      for (int v = 0; v < nth; ++v) {
        const int t = (ith + v) % nth;
        const int64_t end = n_chunks * (t + 1) / nth;
        for (int64_t c; (c = cursor_[size_t(t)].next.fetch_add(1, std::memory_order_relaxed)) < end;)
          f(c, ith);
      }
    });
  }

 private:
  using RawFn = void (*)(void*, int, int);
  void run_raw(RawFn fn, void* ctx);
  void worker_loop(int ith);

  int n_threads_;
  std::vector<std::thread> workers_;
  RawFn fn_ = nullptr;
  void* ctx_ = nullptr;
  alignas(64) std::atomic<uint32_t> generation_{0};
  // Threads blocked (or about to block) in generation_.wait: run_raw notifies only when one is.
  std::atomic<int> sleeping_workers_{0};
  alignas(64) std::atomic<int> pending_{0};
  // 1 while the caller is blocked (or about to block) in pending_.wait.
  std::atomic<int> caller_sleeping_{0};
  struct alignas(64) Cursor {
    std::atomic<int64_t> next{0};
  };
  std::vector<Cursor> cursor_;  // for_each_chunk: next chunk of each thread's share
  std::atomic<bool> stop_{false};
};

}  // namespace hearth
