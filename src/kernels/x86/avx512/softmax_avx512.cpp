// AVX-512 attention softmax row (kernels.h attn_softmax): the AVX2 version's algorithm on 16
// lanes, tails by mask. Compiled with the AVX-512 flags; static functions only.
// GCC 12's AVX-512 headers build some results from _mm*_undefined_*() and then warn about them.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>

#include "kernels/x86/x86.h"

namespace hearth::kernels::x86 {
namespace {

// exp(x), x <= 88: the AVX2 exp_ps (elementwise_avx2.cpp) on 16 lanes: Cody-Waite reduction,
// Cephes' degree-5 polynomial, 2^n through the exponent field; below -86.5 gives 0.
static inline __m512 exp_ps(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-86.5f);
  const __mmask16 ok = _mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ);
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.0f)), lo);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  const __m512i e = _mm512_slli_epi32(_mm512_cvtps_epi32(n), 23);
  return _mm512_maskz_mov_ps(ok, _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(y), e)));
}

static inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
}

static void attn_softmax(float* s, int64_t n, float scale, float sink) {
  const __m512 vs = _mm512_set1_ps(scale);
  __m512 vmax = _mm512_set1_ps(-INFINITY);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 z = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + i), vs);
    _mm512_mask_storeu_ps(s + i, m, z);
    vmax = _mm512_mask_max_ps(vmax, m, vmax, z);
  }
  const float vm = _mm512_reduce_max_ps(vmax);
  const float mx = vm > sink ? vm : sink;
  const __m512 vmx = _mm512_set1_ps(mx);
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 e = _mm512_maskz_mov_ps(m, exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + i), vmx)));
    _mm512_mask_storeu_ps(s + i, m, e);
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
    acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(_mm512_extractf32x8_ps(e, 1)));
  }
  double sum = sink == -INFINITY ? 0.0 : std::exp(double(sink - mx));
  sum += _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
  const __m512 vinv = _mm512_set1_ps(float(1.0 / sum));
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    const __m512 p = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + i), vinv);
    _mm512_mask_storeu_ps(s + i, m, _mm512_cvtph_ps(_mm512_cvtps_ph(p, _MM_FROUND_TO_NEAREST_INT)));
  }
}

}  // namespace

void register_avx512_softmax(KernelTable& t) { t.attn_softmax = attn_softmax; }

}  // namespace hearth::kernels::x86
