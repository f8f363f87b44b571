// AVX-512 kernels for the K-quant / IQ4_XS (Q8_K activation) family: each file overrides the
// AVX2 entries it beats (a missing entry keeps the AVX2 kernel). Static functions only.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86/avx512/quant_q8_k_avx512.h"
#include "kernels/x86/x86.h"
#include "quant/blocks.h"

// GCC 12's AVX-512 intrinsics headers trip -Wmaybe-uninitialized (their _mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace hearth::kernels::x86 {
namespace {

using namespace hearth::quant;

// Q8_K activations, bit-exact with the reference for finite input (as the AVX2 act_q8_k):
// iscale = -127 / x[first index of max |x|], q = min(round_to_nearest_even(iscale * x), 127),
// bsums = sums of 16, d = 1 / iscale. One zmm = 16 elements = one bsums entry.
static void act_q8_k(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(vy);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib, x += kQK_K) {
    BlockQ8_K& b = y[ib];
    __m512 v[16];
    __m512 vmax = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) {
      v[j] = _mm512_loadu_ps(x + 16 * j);
      vmax = _mm512_max_ps(vmax, _mm512_abs_ps(v[j]));
    }
    const float amax = _mm512_reduce_max_ps(vmax);
    if (amax == 0.0f) {
      std::memset(&b, 0, sizeof(BlockQ8_K));
      continue;
    }
    const __m512 vam = _mm512_set1_ps(amax);
    int first = 0;
    for (int j = 0; j < 16; ++j) {
      const __mmask16 m = _mm512_cmp_ps_mask(_mm512_abs_ps(v[j]), vam, _CMP_EQ_OQ);
      if (m) {
        first = 16 * j + __builtin_ctz(unsigned(m));
        break;
      }
    }
    const float iscale = -127.0f / x[first];
    const __m512 vis = _mm512_set1_ps(iscale);
    const __m512i k127 = _mm512_set1_epi32(127);
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) {
      const __m512i q = _mm512_min_epi32(
          _mm512_cvt_roundps_epi32(_mm512_mul_ps(vis, v[j]), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), k127);
      b.bsums[j] = int16_t(_mm512_reduce_add_epi32(q));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(b.qs + 16 * j), _mm512_cvtepi32_epi8(q));
    }
    b.d = 1.0f / iscale;
  }
}

}  // namespace

void register_avx512_q8_k_family(KernelTable& t) {
  t.quantize_act[int(DType::Q8_K)] = act_q8_k;
  register_avx512_q8_k_gemm(t);
}

}  // namespace hearth::kernels::x86
