// AVX2 kernels of the Q8_K family: activation quantizers (Q8_K, F16, BF16) and the registration
// of every weight type whose activations are Q8_K / F32 / F16 / BF16 (the matrix kernels live in
// quant_q8_k_*.cpp). Static functions only; must stay bit-exact with kernels/reference.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86/x86.h"
#include "quant/blocks.h"

namespace hearth::kernels::x86 {

// Defined in the sibling files (strong, non-inline symbols: nothing AVX2 can leak from them).
void register_avx2_q8_k_dot(KernelTable& t);    // quant_q8_k_dot.cpp: vec_dot + GEMV/small-m gemm
void register_avx2_q8_k_gemm(KernelTable& t);   // quant_q8_k_gemm.cpp: blocked GEMM (large m)
void register_avx2_q8_k_float(KernelTable& t);  // quant_q8_k_float.cpp: F32/F16/BF16 weights
void register_avx2_q8_k_repack(KernelTable& t); // quant_q8_k_repack.cpp: 8-row Q4_K/Q6_K layouts

namespace {

using quant::BlockQ8_K;
using quant::kQK_K;

// Horizontal max of 8 floats.
static float hmax8(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Q8_K activation quantizer, bit-exact with quant::quantize_row(Q8_K) (the x86 from_float):
// max = the first element of largest |x| (strict > scan, so the earliest wins a tie),
// iscale = -127 / max, q = min(127, nearest_int(iscale * x)) with ties to even, d = 1 / iscale,
// bsums[k] = sum(q[16k .. 16k+15]); an all-zero block is all zeros. The float product iscale * x
// is the same single rounding as the scalar code (no FMA), and _mm256_round_ps(nearest) equals
// nearest_int for |v| <= 2^22 (here |v| <= 127 and a bit). For finite inputs only, like ggml.
static void act_q8_k(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(vy);
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  for (int64_t ib = 0; ib < n / kQK_K; ++ib, x += kQK_K) {
    BlockQ8_K& b = y[ib];
    __m256 vmax = _mm256_setzero_ps();
    for (int j = 0; j < kQK_K; j += 8) vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign_mask, _mm256_loadu_ps(x + j)));
    const float amax = hmax8(vmax);
    if (amax == 0.0f) {
      std::memset(&b, 0, sizeof(BlockQ8_K));
      continue;
    }
    // First index whose |x| equals amax.
    const __m256 vam = _mm256_set1_ps(amax);
    int first = 0;
    for (int j = 0; j < kQK_K; j += 8) {
      const int mask = _mm256_movemask_ps(
          _mm256_cmp_ps(_mm256_andnot_ps(sign_mask, _mm256_loadu_ps(x + j)), vam, _CMP_EQ_OQ));
      if (mask) {
        first = j + __builtin_ctz(unsigned(mask));
        break;
      }
    }
    const float iscale = -127.0f / x[first];
    const __m256 vis = _mm256_set1_ps(iscale);
    const __m256i k127 = _mm256_set1_epi32(127);
    // 32 elements per step: 4 vectors of int32 -> 32 int8, plus the two 16-element sums.
    for (int j = 0; j < kQK_K; j += 32) {
      __m256i q[4];
      #pragma GCC unroll 64
      for (int k = 0; k < 4; ++k) {
        const __m256 v = _mm256_mul_ps(vis, _mm256_loadu_ps(x + j + 8 * k));
        q[k] = _mm256_min_epi32(
            _mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)), k127);
      }
      // Sums of 16: lanes of q0 + q1 (elements j..j+15) and q2 + q3 (j+16..j+31).
      const __m256i s01 = _mm256_add_epi32(q[0], q[1]);
      const __m256i s23 = _mm256_add_epi32(q[2], q[3]);
      __m256i h = _mm256_hadd_epi32(s01, s23);  // [a0+a1 a2+a3 b0+b1 b2+b3 | a4+a5 a6+a7 b4+b5 b6+b7]
      h = _mm256_hadd_epi32(h, h);               // [A03 B03 A03 B03 | A47 B47 ..]
      const __m128i hs = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
      b.bsums[j / 16] = int16_t(_mm_cvtsi128_si32(hs));
      b.bsums[j / 16 + 1] = int16_t(_mm_extract_epi32(hs, 1));
      // Pack int32 -> int8 (values are in [-127, 127]); packs interleave 128-bit lanes, so
      // restore element order with a dword permutation.
      const __m256i p16a = _mm256_packs_epi32(q[0], q[1]);
      const __m256i p16b = _mm256_packs_epi32(q[2], q[3]);
      const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
      const __m256i ord = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(b.qs + j), ord);
    }
    b.d = 1.0f / iscale;
  }
}

// F16 activations: F16C round-to-nearest-even, bit-exact with hearth::f32_to_f16, which maps
// every NaN to sign | 0x7E00 (F16C would keep payload bits: those lanes are patched).
static void act_f16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint16_t*>(vy);
  int64_t i = 0;
  const __m128i qnan = _mm_set1_epi16(0x7E00);
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
    const __m256 isnan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    if (!_mm256_testz_ps(isnan, isnan)) {
      const __m256i m32 = _mm256_castps_si256(isnan);
      const __m128i m16 = _mm_packs_epi32(_mm256_castsi256_si128(m32), _mm256_extracti128_si256(m32, 1));
      const __m128i patched = _mm_or_si128(_mm_and_si128(h, _mm_set1_epi16(int16_t(0x8000))), qnan);
      h = _mm_blendv_epi8(h, patched, m16);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), h);
  }
  for (; i < n; ++i) {
    const float f = x[i];
    if (f != f) {
      uint32_t u;
      std::memcpy(&u, &f, 4);
      y[i] = uint16_t(((u >> 16) & 0x8000) | 0x7E00);
    } else {
      y[i] = uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
    }
  }
}

// BF16 activations: round to nearest even, (u + 0x7FFF + ((u >> 16) & 1)) >> 16; NaN becomes
// (u >> 16) | 64 (quiet), as hearth::f32_to_bf16 / ggml_compute_fp32_to_bf16.
static void act_bf16(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint16_t*>(vy);
  int64_t i = 0;
  const __m256i k7fff = _mm256_set1_epi32(0x7FFF), one = _mm256_set1_epi32(1);
  const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF), inf = _mm256_set1_epi32(0x7F800000);
  const __m256i quiet = _mm256_set1_epi32(64);
  for (; i + 16 <= n; i += 16) {
    __m256i r[2];
    #pragma GCC unroll 64
    for (int k = 0; k < 2; ++k) {
      const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 8 * k));
      const __m256i rounded = _mm256_srli_epi32(
          _mm256_add_epi32(u, _mm256_add_epi32(k7fff, _mm256_and_si256(_mm256_srli_epi32(u, 16), one))), 16);
      const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), inf);
      const __m256i nanv = _mm256_or_si256(_mm256_srli_epi32(u, 16), quiet);
      r[k] = _mm256_blendv_epi8(rounded, nanv, nan);
    }
    // Values are < 2^16, so the unsigned saturating pack is exact; fix the lane interleave.
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(r[0], r[1]), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), p);
  }
  for (; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    if ((u & 0x7FFFFFFF) > 0x7F800000)
      y[i] = uint16_t((u >> 16) | 64);
    else
      y[i] = uint16_t((u + (0x7FFF + ((u >> 16) & 1))) >> 16);
  }
}

}  // namespace

void register_avx2_q8_k_family(KernelTable& t) {
  t.quantize_act[int(DType::Q8_K)] = act_q8_k;
  t.quantize_act[int(DType::F16)] = act_f16;
  t.quantize_act[int(DType::BF16)] = act_bf16;
  register_avx2_q8_k_dot(t);
  register_avx2_q8_k_gemm(t);
  register_avx2_q8_k_float(t);
  register_avx2_q8_k_repack(t);
}

}  // namespace hearth::kernels::x86
