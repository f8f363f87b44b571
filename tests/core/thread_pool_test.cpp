// Thread pool: every index runs exactly once per region, regions are ordered, many regions.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/thread_pool.h"

namespace hearth {
namespace {

TEST(ThreadPool, RunsEveryThreadOnce) {
  for (int n : {1, 2, 3, 8}) {
    ThreadPool pool(n);
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.run([&](int ith, int nth) {
      EXPECT_EQ(nth, n);
      hits[size_t(ith)]++;
    });
    for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  }
}

TEST(ThreadPool, ParallelForCoversTheRangeOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 2, 7, 1000}) {
    std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
    pool.parallel_for(n, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) seen[size_t(i)]++;
    });
    for (auto& s : seen) EXPECT_EQ(s.load(), 1);
  }
}

TEST(ThreadPool, ForEachChunkRunsEveryChunkOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 5, 64, 1001}) {
      std::vector<std::atomic<int>> seen(static_cast<size_t>(n));
      std::atomic<int> bad_thread{0};
      pool.for_each_chunk(n, [&](int64_t c, int ith) {
        if (ith < 0 || ith >= threads) bad_thread++;
        seen[size_t(c)]++;
      });
      EXPECT_EQ(bad_thread.load(), 0);
      for (auto& s : seen) EXPECT_EQ(s.load(), 1) << threads << " threads, " << n << " chunks";
    }
  }
}

TEST(ThreadPool, ForEachChunkLetsAFreeThreadTakeAnothersChunks) {
  // Whichever thread takes chunk 0 (thread 0's first) is held there until the other has run
  // every other chunk, including the rest of thread 0's run: without stealing this would hang.
  ThreadPool pool(2);
  constexpr int64_t kChunks = 16;
  std::atomic<int64_t> done{0};
  std::vector<int> owner(kChunks, -1);
  pool.for_each_chunk(kChunks, [&](int64_t c, int ith) {
    if (c == 0) {
      while (done.load() < kChunks - 1) std::this_thread::yield();
    }
    owner[size_t(c)] = ith;
    done++;
  });
  EXPECT_EQ(done.load(), kChunks);
  for (int64_t c = 1; c < kChunks; ++c) EXPECT_EQ(owner[size_t(c)], 1 - owner[0]) << "chunk " << c;
}

TEST(ThreadPool, ManyShortRegionsComplete) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int r = 0; r < 20000; ++r) pool.run([&](int ith, int) { sum += ith + 1; });
  EXPECT_EQ(sum.load(), 20000 * 3);
}

// Ends the process with a message if the test body has not finished in time: a lost wake-up
// would otherwise hang the suite instead of failing it.
class Watchdog {
 public:
  explicit Watchdog(int seconds)
      : t_([this, seconds] {
          for (int i = 0; i < seconds * 100 && !done_.load(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          if (!done_.load()) {
            std::fprintf(stderr, "thread pool test: a region did not finish (lost wake-up)\n");
            std::_Exit(1);
          }
        }) {}
  ~Watchdog() {
    done_ = true;
    t_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread t_;
};

// Workers spin for a while after a region, then block; the caller blocks too when a worker takes
// long. Pauses of 0..8 ms around the spin limit (~1-5 ms) cross both paths and their races:
// every region must still run every thread once and return.
TEST(ThreadPool, BlockedWorkersAndCallerAreWoken) {
  Watchdog wd(60);
  for (int n : {2, 3}) {
    ThreadPool pool(n);
    for (int r = 0; r < 60; ++r) {
      const auto pause = std::chrono::microseconds((r * 137) % 8000);
      if (r % 2) std::this_thread::sleep_for(pause);  // the workers may be asleep now
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.run([&](int ith, int) {
        if (ith == n - 1 && r % 3 == 0) std::this_thread::sleep_for(pause);  // caller may sleep
        hits[size_t(ith)]++;
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "region " << r;
    }
  }
}

}  // namespace
}  // namespace hearth
