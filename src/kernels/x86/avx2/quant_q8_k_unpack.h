// Level and scale decoding of GGUF-layout Q2_K, Q3_K and IQ4_XS super-blocks (256-bit AVX2 +
// BMI2 code), shared by the AVX2 row unpackers (avx2/quant_q8_k_gemm.cpp) and the AVX-512 panel
// rows (avx512/quant_q8_k_gemm.cpp), which differ only in how they store scales and minimums.
// Static functions in an anonymous namespace: each includer compiles its own copy with its own
// ISA flags, so no inline symbol is shared between ISA objects (tests/kernels/isa_symbols.sh).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "quant/blocks.h"

namespace hearth::kernels::x86 {
namespace {

// u[32 k + i] = 2-bit level of element 32 k + i (0..3), k < 8.
static inline void q2_k_levels(const quant::BlockQ2_K& x, uint8_t* u) {
  const __m256i m3 = _mm256_set1_epi8(3);
#pragma GCC unroll 2
  for (int half = 0; half < 2; ++half) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * half));
#pragma GCC unroll 4
    for (int s = 0; s < 4; ++s)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 * (4 * half + s)),
                          _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3));
  }
}

// The 16 sub-block scales (low nibbles) and minimums (high nibbles) as unsigned bytes.
static inline void q2_k_scales(const quant::BlockQ2_K& x, __m128i* sc, __m128i* mn) {
  const __m128i s8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales));
  const __m128i m4 = _mm_set1_epi8(0x0F);
  *sc = _mm_and_si128(s8, m4);
  *mn = _mm_and_si128(_mm_srli_epi16(s8, 4), m4);
}

// u[32 k + i] = 3-bit level + 4 of element 32 k + i (0..7; the high bit set means +0), k < 8.
static inline void q3_k_levels(const quant::BlockQ3_K& x, uint8_t* u) {
  const __m256i m3 = _mm256_set1_epi8(3), m4b = _mm256_set1_epi8(4);
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.hmask));
#pragma GCC unroll 2
  for (int half = 0; half < 2; ++half) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * half));
#pragma GCC unroll 4
    for (int s = 0; s < 4; ++s) {
      const int k = 4 * half + s;
      const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3);
      const __m256i hb = k <= 2 ? _mm256_and_si256(_mm256_slli_epi16(h, 2 - k), m4b)
                                : _mm256_and_si256(_mm256_srli_epi16(h, k - 2), m4b);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 * k), _mm256_or_si256(lo, hb));
    }
  }
}

// The 16 signed 6-bit sub-block scales minus 32 (layout: quant_q8_k_dot.cpp unpack_scales_q3k).
static inline __m128i q3_k_scales(const quant::BlockQ3_K& x) {
  uint64_t a;
  uint32_t w;
  std::memcpy(&a, x.scales, 8);
  std::memcpy(&w, x.scales + 8, 4);
  const uint64_t m4 = 0x0F0F0F0F0F0F0F0Full, m2 = 0x03030303u;
  const uint64_t hi0 = (uint64_t(w) & m2) | ((uint64_t(w >> 2) & m2) << 32);
  const uint64_t hi1 = (uint64_t(w >> 4) & m2) | ((uint64_t(w >> 6) & m2) << 32);
  return _mm_sub_epi8(_mm_set_epi64x(int64_t(((a >> 4) & m4) | (hi1 << 4)), int64_t((a & m4) | (hi0 << 4))),
                      _mm_set1_epi8(32));
}

// u[64 p + i] = table[4-bit index] of element 64 p + i (sub-blocks 2p, 2p+1: the low nibbles are
// elements 0-15 of a sub-block, the high nibbles 16-31); table: 16 bytes in each 128-bit lane.
static inline void iq4_xs_levels(const quant::BlockIq4Xs& x, __m256i table, uint8_t* u) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
#pragma GCC unroll 4
  for (int p = 0; p < 4; ++p) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * p));
    const __m256i wlo = _mm256_shuffle_epi8(table, _mm256_and_si256(q, m4));
    const __m256i whi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 64 * p), _mm256_permute2x128_si256(wlo, whi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 64 * p + 32), _mm256_permute2x128_si256(wlo, whi, 0x31));
  }
}

// The 8 signed 6-bit scales of the 32-element sub-blocks minus 32, in the low 8 bytes.
static inline __m128i iq4_xs_scales(const quant::BlockIq4Xs& x) {
  uint32_t sl;
  std::memcpy(&sl, x.scales_l, 4);
  const uint64_t ls = _pdep_u64(sl, 0x0F0F0F0F0F0F0F0Full) | _pdep_u64(x.scales_h, 0x3030303030303030ull);
  return _mm_sub_epi8(_mm_cvtsi64_si128(int64_t(ls)), _mm_set1_epi8(32));
}

}  // namespace
}  // namespace hearth::kernels::x86
