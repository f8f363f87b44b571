// Streaming-read bandwidth probe: SSE2 loads (baseline x86-64) are enough to saturate DRAM;
// four independent accumulators keep the loop from being latency-bound.
#include "core/membw.h"

#include <emmintrin.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/huge_pages.h"
#include "core/thread_pool.h"

namespace hearth {

std::vector<double> read_bandwidth_samples(ThreadPool& pool, size_t bytes, int reps) {
  bytes &= ~size_t(4095);
  // In 2 MiB pages like the weights and the KV cache decode streams (core/huge_pages.h), so the
  // probe is not slowed by page walks the engine does not pay.
  HugeBuffer buf(bytes, "the bandwidth probe");
  void* mem = buf.data();
  std::memset(mem, 1, bytes);  // touch every page so reads hit DRAM, not the zero page
  const auto* base = static_cast<const __m128i*>(mem);
  const size_t n = bytes / sizeof(__m128i);
  std::vector<double> rates;
  volatile int64_t sink = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(int64_t(n / 8), [&](int64_t b, int64_t e, int) {
      __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t i = b * 8; i < e * 8; i += 8) {
        a0 = _mm_add_epi64(a0, _mm_add_epi64(_mm_load_si128(base + i), _mm_load_si128(base + i + 1)));
        a1 = _mm_add_epi64(a1, _mm_add_epi64(_mm_load_si128(base + i + 2), _mm_load_si128(base + i + 3)));
        a2 = _mm_add_epi64(a2, _mm_add_epi64(_mm_load_si128(base + i + 4), _mm_load_si128(base + i + 5)));
        a3 = _mm_add_epi64(a3, _mm_add_epi64(_mm_load_si128(base + i + 6), _mm_load_si128(base + i + 7)));
      }
      const __m128i s = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
      sink = sink + _mm_cvtsi128_si64(s);
    });
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(double(bytes) / sec);
  }
  return rates;
}

}  // namespace hearth
