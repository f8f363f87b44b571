// Measures this machine's memory read bandwidth (bytes/s) by streaming a buffer much larger than
// the last-level cache with every thread of a pool. Used for roofline fractions in benchmarks.
#pragma once

#include <cstddef>

namespace hearth {
class ThreadPool;

// Median over `reps` passes of reading `bytes` (default 1 GiB) split over the pool's threads.
double measure_read_bandwidth(ThreadPool& pool, size_t bytes = size_t(1) << 30, int reps = 5);

}  // namespace hearth
