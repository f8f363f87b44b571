// Thread pool: every index runs exactly once per region, regions are ordered, many regions.
#include <gtest/gtest.h>

#include <atomic>
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

TEST(ThreadPool, ManyShortRegionsComplete) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int r = 0; r < 20000; ++r) pool.run([&](int ith, int) { sum += ith + 1; });
  EXPECT_EQ(sum.load(), 20000 * 3);
}

}  // namespace
}  // namespace hearth
