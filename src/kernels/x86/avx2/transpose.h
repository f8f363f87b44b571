// In-register 8x8 transposes of 32-bit lanes, shared by the AVX2 kernels (repacking of Q4_K /
// Q5_K / Q6_K and Q8_0-family groups, attention's K blocks). Include only from files compiled
// with AVX2; static inline, so nothing leaks into baseline code.
#pragma once

#include <immintrin.h>

namespace hearth::kernels::x86 {
namespace {

// out[j] = [in[0][j] .. in[7][j]] (24 shuffles).
__attribute__((always_inline)) static inline void transpose8x8_epi32(const __m256i in[8], __m256i out[8]) {
  __m256i t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(in[2 * i], in[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(in[2 * i], in[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {  // rows 4i .. 4i+3
    u[4 * i + 0] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int j = 0; j < 4; ++j) {
    out[j] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x20);
    out[j + 4] = _mm256_permute2x128_si256(u[j], u[4 + j], 0x31);
  }
}

// In place: v[s] lane r = old v[r] lane s.
__attribute__((always_inline)) static inline void transpose8_epi32(__m256i v[8]) {
  __m256i in[8];
  for (int i = 0; i < 8; ++i) in[i] = v[i];
  transpose8x8_epi32(in, v);
}

// The same bit permutation on float lanes.
__attribute__((always_inline)) static inline void transpose8_ps(__m256 r[8]) {
  __m256i v[8];
  for (int i = 0; i < 8; ++i) v[i] = _mm256_castps_si256(r[i]);
  transpose8_epi32(v);
  for (int i = 0; i < 8; ++i) r[i] = _mm256_castsi256_ps(v[i]);
}

}  // namespace
}  // namespace hearth::kernels::x86
