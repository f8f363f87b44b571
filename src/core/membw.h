// Measures this machine's memory read bandwidth (bytes/s) by streaming a buffer much larger than
// the last-level cache with every thread of a pool. Used for roofline fractions in benchmarks.
#pragma once

#include <cstddef>
#include <vector>

namespace hearth {
class ThreadPool;

// The rate (bytes/s) of each of `reps` passes of reading `bytes` split over the pool's threads.
std::vector<double> read_bandwidth_samples(ThreadPool& pool, size_t bytes = size_t(1) << 30, int reps = 5);

}  // namespace hearth
