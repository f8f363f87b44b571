// AVX2 dot products of K-quant / IQ4_XS weight rows (GGUF layout) with Q8_K activation rows:
// vec_dot, and the gemm entry for few activation rows (decode GEMV: stream each weight row
// once, one row at a time). Static functions only (see CMakeLists.txt).
//
// Every kernel computes the reference entry (kernels/reference/quant_dot.cpp dot_<type>) with
// the same exact integer sums per (sub-)block; only the float summation order differs:
// per super-block d_w * d_a * isum (8 float lanes, summed at the end) minus the mins term.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86/x86.h"
#include "quant/blocks.h"

namespace hearth::kernels::x86 {

// Small-m gemm entries, used by quant_q8_k_gemm.cpp below its blocking threshold.
GemmFn avx2_q8_k_rows_gemm(DType t);

namespace {

using namespace hearth::quant;

#define HEARTH_AI __attribute__((always_inline)) inline

static HEARTH_AI __m256i loadu256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
static HEARTH_AI __m128i loadu128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
static HEARTH_AI float h2f(uint16_t h) { return _cvtsh_ss(h); }

// Software prefetch of the block ~2 KiB ahead of `blk` in the same row (a GEMV row is one
// sequential stream, but blocks are read out of address order -- scales first, then the
// quants, Q6_K's ql / qh alternately -- which the hardware prefetcher follows poorly; measured
// +25% from DRAM for Q6_K). Past the row's end this touches the next row or unmapped memory:
// prefetches never fault.
static HEARTH_AI void prefetch_ahead(const void* blk, int block_bytes) {
  const char* pf = static_cast<const char*>(blk) + (2048 / block_bytes + 1) * block_bytes;
#pragma GCC unroll 4
  for (int i = 0; i < block_bytes; i += 64) _mm_prefetch(pf + i, _MM_HINT_T0);
  _mm_prefetch(pf + block_bytes - 1, _MM_HINT_T0);
}

static HEARTH_AI float hsum8(__m256 v) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

static HEARTH_AI float hsum4(__m128 v) {
  v = _mm_add_ps(v, _mm_movehl_ps(v, v));
  v = _mm_add_ss(v, _mm_movehdup_ps(v));
  return _mm_cvtss_f32(v);
}

// Broadcast int16 lane `j` of each 128-bit half of v to all 8 lanes of that half.
static HEARTH_AI __m256i bcast16(__m256i v, int j) {
  return _mm256_shuffle_epi8(v, _mm256_set1_epi16(int16_t((2 * j) | ((2 * j + 1) << 8))));
}

// 16 int8 scales s0..s15 -> int16 vector [s0 s2 .. s14 | s1 s3 .. s15]: bcast16(v, g) then
// gives the pair (s_2g, s_2g+1) that a 32-element group g (two 16-element sub-blocks) needs,
// matching maddubs' int16 lanes 0-7 (elements 0-15) and 8-15 (elements 16-31).
static HEARTH_AI __m256i scales16_even_odd(__m128i s8) {
  const __m128i eo = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(s8, eo));
}

// Q4_K / Q5_K packed 6-bit scales (get_scale_min_k4): bytes 0-7 = sc_0..7, 8-15 = m_0..7.
//   j < 4: sc = s[j] & 63, m = s[j+4] & 63
//   j >= 4: sc = (s[j+4] & 15) | (s[j-4] >> 6) << 4, m = (s[j+4] >> 4) | (s[j] >> 6) << 4
static HEARTH_AI __m128i unpack_scales_k4(const uint8_t* s12) {
  uint32_t a, b, c;
  std::memcpy(&a, s12, 4);
  std::memcpy(&b, s12 + 4, 4);
  std::memcpy(&c, s12 + 8, 4);
  const uint32_t m6 = 0x3F3F3F3Fu, m4 = 0x0F0F0F0Fu, m2 = 0x30303030u;
  return _mm_setr_epi32(int(a & m6), int((c & m4) | ((a >> 2) & m2)), int(b & m6),
                        int(((c >> 4) & m4) | ((b >> 2) & m2)));
}

// Q3_K scales: 16 signed 6-bit values (low 4 bits: s[j] & 15 (j < 8) / s[j-8] >> 4;
// high 2 bits: s[8 + j%4] >> 2(j/4)), minus 32, as 16 int8.
static HEARTH_AI __m128i unpack_scales_q3k(const uint8_t* s12) {
  uint64_t a;
  uint32_t w;
  std::memcpy(&a, s12, 8);
  std::memcpy(&w, s12 + 8, 4);
  const uint64_t m4 = 0x0F0F0F0F0F0F0F0Full;
  const uint64_t m2 = 0x03030303u;
  const uint64_t hi0 = (uint64_t(w) & m2) | ((uint64_t(w >> 2) & m2) << 32);
  const uint64_t hi1 = (uint64_t(w >> 4) & m2) | ((uint64_t(w >> 6) & m2) << 32);
  const uint64_t lo = (a & m4) | (hi0 << 4);
  const uint64_t hi = ((a >> 4) & m4) | (hi1 << 4);
  return _mm_sub_epi8(_mm_set_epi64x(int64_t(hi), int64_t(lo)), _mm_set1_epi8(32));
}

// IQ4_XS 6-bit scales ls minus 32 for the 8 sub-blocks, as int8 in bytes 0..7 (pdep spreads
// the nibbles of scales_l and the 2-bit pairs of scales_h to one byte per sub-block).
static HEARTH_AI __m128i iq4xs_scales(const BlockIq4Xs& x) {
  uint32_t sl;
  std::memcpy(&sl, x.scales_l, 4);
  const uint64_t lo = _pdep_u64(sl, 0x0F0F0F0F0F0F0F0Full);
  const uint64_t hi = _pdep_u64(x.scales_h, 0x3030303030303030ull);
  return _mm_sub_epi8(_mm_cvtsi64_si128(int64_t(lo | hi)), _mm_set1_epi8(32));
}

// --------------------------------------------------------------------------------------------
// Row kernels: out[r] = dot(W row r, A) for r < R, rows ws bytes apart, nb super-blocks. Only
// R = 1 is instantiated (see rows_gemm: several interleaved rows were slower from DRAM); R is
// a compile-time constant after inlining, so the loops over r vanish.

// Q4_K: isum = sum_j sc_j * sum_{k in j} q_k * a_k (maddubs, then madd by the scale),
// result += d * d_a * isum - dmin * d_a * sum_j m_j * (bsums[2j] + bsums[2j+1]).
static HEARTH_AI void rows_q4_k(int64_t nb, const uint8_t* w, size_t ws, const BlockQ8_K* a,
                                float* out, const int R) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[4];
  __m128 accm[4];
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps(), accm[r] = _mm_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K& y = a[i];
    const __m128i bs = _mm_hadd_epi16(loadu128(y.bsums), loadu128(y.bsums + 8));
    #pragma GCC unroll 64
    for (int r = 0; r < R; ++r) {
      const BlockQ4_K& x = reinterpret_cast<const BlockQ4_K*>(w + size_t(r) * ws)[i];
      prefetch_ahead(&x, int(sizeof(x)));
      const __m256i sm16 = _mm256_cvtepu8_epi16(unpack_scales_k4(x.scales));
      const __m128i mprod = _mm_madd_epi16(_mm256_extracti128_si256(sm16, 1), bs);
      accm[r] = _mm_fmadd_ps(_mm_cvtepi32_ps(mprod), _mm_set1_ps(h2f(x.dmin) * y.d), accm[r]);
      const __m256i sc = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm16));
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
      #pragma GCC unroll 64
      for (int c = 0; c < 4; ++c) {
        const __m256i q = loadu256(x.qs + 32 * c);
        const __m256i plo = _mm256_maddubs_epi16(_mm256_and_si256(q, m4), loadu256(y.qs + 64 * c));
        const __m256i phi = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
                                                 loadu256(y.qs + 64 * c + 32));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(plo, bcast16(sc, 2 * c)));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(phi, bcast16(sc, 2 * c + 1)));
      }
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)),
                               _mm256_set1_ps(h2f(x.d) * y.d), acc[r]);
    }
  }
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) out[r] = hsum8(acc[r]) - hsum4(accm[r]);
}

// Bit `bit` of every byte of h moved to bit 4 (value 16), other bits cleared.
static HEARTH_AI __m256i bit_to_16(__m256i h, int bit) {
  const __m256i m = _mm256_set1_epi8(0x10);
  if (bit < 4) return _mm256_and_si256(_mm256_slli_epi16(h, 4 - bit), m);
  if (bit == 4) return _mm256_and_si256(h, m);
  return _mm256_and_si256(_mm256_srli_epi16(h, bit - 4), m);
}

// Q5_K: Q4_K with q = nibble + 16 * (bit 2c / 2c+1 of qh[l]) for chunk c.
static HEARTH_AI void rows_q5_k(int64_t nb, const uint8_t* w, size_t ws, const BlockQ8_K* a,
                                float* out, const int R) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[4];
  __m128 accm[4];
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps(), accm[r] = _mm_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K& y = a[i];
    const __m128i bs = _mm_hadd_epi16(loadu128(y.bsums), loadu128(y.bsums + 8));
    #pragma GCC unroll 64
    for (int r = 0; r < R; ++r) {
      const BlockQ5_K& x = reinterpret_cast<const BlockQ5_K*>(w + size_t(r) * ws)[i];
      prefetch_ahead(&x, int(sizeof(x)));
      const __m256i sm16 = _mm256_cvtepu8_epi16(unpack_scales_k4(x.scales));
      const __m128i mprod = _mm_madd_epi16(_mm256_extracti128_si256(sm16, 1), bs);
      accm[r] = _mm_fmadd_ps(_mm_cvtepi32_ps(mprod), _mm_set1_ps(h2f(x.dmin) * y.d), accm[r]);
      const __m256i sc = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(sm16));
      const __m256i h = loadu256(x.qh);
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
      #pragma GCC unroll 64
      for (int c = 0; c < 4; ++c) {
        const __m256i q = loadu256(x.qs + 32 * c);
        const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), bit_to_16(h, 2 * c));
        const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), bit_to_16(h, 2 * c + 1));
        const __m256i plo = _mm256_maddubs_epi16(lo, loadu256(y.qs + 64 * c));
        const __m256i phi = _mm256_maddubs_epi16(hi, loadu256(y.qs + 64 * c + 32));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(plo, bcast16(sc, 2 * c)));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(phi, bcast16(sc, 2 * c + 1)));
      }
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)),
                               _mm256_set1_ps(h2f(x.d) * y.d), acc[r]);
    }
  }
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) out[r] = hsum8(acc[r]) - hsum4(accm[r]);
}

// Q6_K: u = 6-bit unsigned level (q + 32); isum = sum_j sc_j * (sum u * a - 32 * bsums[j]),
// the offset folded in exactly as an integer; result += d * d_a * isum.
static HEARTH_AI void rows_q6_k(int64_t nb, const uint8_t* w, size_t ws, const BlockQ8_K* a,
                                float* out, const int R) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
  __m256 acc[4];
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K& y = a[i];
    const __m256i bsums = loadu256(y.bsums);
    #pragma GCC unroll 64
    for (int r = 0; r < R; ++r) {
      const BlockQ6_K& x = reinterpret_cast<const BlockQ6_K*>(w + size_t(r) * ws)[i];
      prefetch_ahead(&x, int(sizeof(x)));
      const __m128i s8 = loadu128(x.scales);
      const __m256i corr = _mm256_madd_epi16(_mm256_cvtepi8_epi16(s8), bsums);
      __m256i s0 = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 5));
      __m256i s1 = _mm256_setzero_si256();
      const __m256i sc = scales16_even_odd(s8);
      #pragma GCC unroll 64
      for (int n = 0; n < 2; ++n) {
        const __m256i l0 = loadu256(x.ql + 64 * n), l1 = loadu256(x.ql + 64 * n + 32);
        const __m256i h = loadu256(x.qh + 32 * n);
        const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30));
        const __m256i q2 = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30));
        const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30));
        const __m256i q4 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                           _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));
        const int8_t* q8 = y.qs + 128 * n;
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(q1, loadu256(q8)), bcast16(sc, 4 * n + 0)));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_maddubs_epi16(q2, loadu256(q8 + 32)), bcast16(sc, 4 * n + 1)));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(q3, loadu256(q8 + 64)), bcast16(sc, 4 * n + 2)));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_maddubs_epi16(q4, loadu256(q8 + 96)), bcast16(sc, 4 * n + 3)));
      }
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)),
                               _mm256_set1_ps(h2f(x.d) * y.d), acc[r]);
    }
  }
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) out[r] = hsum8(acc[r]);
}

// Q3_K: u = 2 low bits + 4 * hmask bit (= q + 4, 0..7); isum = sum_j sc_j * (sum u * a -
// 4 * bsums[j]) with the signed scales sc_j = 6-bit - 32; result += d * d_a * isum.
static HEARTH_AI void rows_q3_k(int64_t nb, const uint8_t* w, size_t ws, const BlockQ8_K* a,
                                float* out, const int R) {
  const __m256i m3 = _mm256_set1_epi8(3), m4b = _mm256_set1_epi8(4);
  __m256 acc[4];
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K& y = a[i];
    const __m256i bsums = loadu256(y.bsums);
    #pragma GCC unroll 64
    for (int r = 0; r < R; ++r) {
      const BlockQ3_K& x = reinterpret_cast<const BlockQ3_K*>(w + size_t(r) * ws)[i];
      prefetch_ahead(&x, int(sizeof(x)));
      const __m128i s8 = unpack_scales_q3k(x.scales);
      const __m256i corr = _mm256_madd_epi16(_mm256_cvtepi8_epi16(s8), bsums);
      __m256i s0 = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(corr, 2));
      __m256i s1 = _mm256_setzero_si256();
      const __m256i sc = scales16_even_odd(s8);
      const __m256i h = loadu256(x.hmask);
      #pragma GCC unroll 64
      for (int half = 0; half < 2; ++half) {
        const __m256i q = loadu256(x.qs + 32 * half);
        #pragma GCC unroll 64
        for (int s = 0; s < 4; ++s) {
          const int k = 4 * half + s;  // 32-element group: elements 32k .. 32k+31
          const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3);
          // hmask bit k -> value 4 (bit 2)
          const __m256i hb = k <= 2 ? _mm256_and_si256(_mm256_slli_epi16(h, 2 - k), m4b)
                                    : _mm256_and_si256(_mm256_srli_epi16(h, k - 2), m4b);
          const __m256i p = _mm256_maddubs_epi16(_mm256_or_si256(lo, hb), loadu256(y.qs + 32 * k));
          if (s & 1)
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(p, bcast16(sc, k)));
          else
            s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(p, bcast16(sc, k)));
        }
      }
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)),
                               _mm256_set1_ps(h2f(x.d) * y.d), acc[r]);
    }
  }
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) out[r] = hsum8(acc[r]);
}

// Q2_K: q = 2 bits (0..3); isum = sum_j (sc_j & 15) * sum q * a; msum = sum_j (sc_j >> 4) * bsums[j];
// result += d * d_a * isum - dmin * d_a * msum.
static HEARTH_AI void rows_q2_k(int64_t nb, const uint8_t* w, size_t ws, const BlockQ8_K* a,
                                float* out, const int R) {
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m128i m4 = _mm_set1_epi8(0x0F);
  __m256 acc[4], accm[4];
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps(), accm[r] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K& y = a[i];
    const __m256i bsums = loadu256(y.bsums);
    #pragma GCC unroll 64
    for (int r = 0; r < R; ++r) {
      const BlockQ2_K& x = reinterpret_cast<const BlockQ2_K*>(w + size_t(r) * ws)[i];
      prefetch_ahead(&x, int(sizeof(x)));
      const __m128i s8 = loadu128(x.scales);
      const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s8, 4), m4));
      accm[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(mins, bsums)),
                                _mm256_set1_ps(h2f(x.dmin) * y.d), accm[r]);
      const __m256i sc = scales16_even_odd(_mm_and_si128(s8, m4));
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
      #pragma GCC unroll 64
      for (int half = 0; half < 2; ++half) {
        const __m256i q = loadu256(x.qs + 32 * half);
        #pragma GCC unroll 64
        for (int s = 0; s < 4; ++s) {
          const int k = 4 * half + s;
          const __m256i v = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m3);
          const __m256i p = _mm256_maddubs_epi16(v, loadu256(y.qs + 32 * k));
          if (s & 1)
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(p, bcast16(sc, k)));
          else
            s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(p, bcast16(sc, k)));
        }
      }
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)),
                               _mm256_set1_ps(h2f(x.d) * y.d), acc[r]);
    }
  }
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) out[r] = hsum8(acc[r]) - hsum8(accm[r]);
}

// IQ4_XS: w = kvalues_iq4nl[nibble] (signed); per 32-element sub-block
// isum += (ls - 32) * sum w * a, via maddubs(|w|, sign(a, w)) (exact: |a| <= 127 for
// quantize_act output, pair sums <= 2 * 127 * 127); result += d * d_a * isum.
// Two sub-blocks per step: the low nibbles of their 32 bytes are elements 0-15 of each, the high
// nibbles elements 16-31, so the activation halves are regrouped to match.
static HEARTH_AI void rows_iq4_xs(int64_t nb, const uint8_t* w, size_t ws, const BlockQ8_K* a,
                                  float* out, const int R) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i table = _mm256_broadcastsi128_si256(
      _mm_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113));
  __m256 acc[4];
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K& y = a[i];
    #pragma GCC unroll 64
    for (int r = 0; r < R; ++r) {
      const BlockIq4Xs& x = reinterpret_cast<const BlockIq4Xs*>(w + size_t(r) * ws)[i];
      prefetch_ahead(&x, int(sizeof(x)));
      // Step p covers sub-blocks 2p (low 128-bit half) and 2p+1 (high half): scales as int16
      // [ls0 ls2 ls4 ls6 0 0 0 0 | ls1 ls3 ls5 ls7 0 0 0 0] - 32, picked by bcast16(sc, p).
      const __m128i ls8 = iq4xs_scales(x);
      const __m256i sc = _mm256_cvtepi8_epi16(
          _mm_shuffle_epi8(ls8, _mm_setr_epi8(0, 2, 4, 6, -1, -1, -1, -1, 1, 3, 5, 7, -1, -1, -1, -1)));
      __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
      #pragma GCC unroll 64
      for (int p = 0; p < 4; ++p) {
        const __m256i q = loadu256(x.qs + 32 * p);
        const __m256i wlo = _mm256_shuffle_epi8(table, _mm256_and_si256(q, m4));
        const __m256i whi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
        const __m256i a0 = loadu256(y.qs + 64 * p), a1 = loadu256(y.qs + 64 * p + 32);
        const __m256i alo = _mm256_permute2x128_si256(a0, a1, 0x20);
        const __m256i ahi = _mm256_permute2x128_si256(a0, a1, 0x31);
        const __m256i plo = _mm256_maddubs_epi16(_mm256_sign_epi8(wlo, wlo), _mm256_sign_epi8(alo, wlo));
        const __m256i phi = _mm256_maddubs_epi16(_mm256_sign_epi8(whi, whi), _mm256_sign_epi8(ahi, whi));
        const __m256i scp = bcast16(sc, p);
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(plo, scp));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(phi, scp));
      }
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)),
                               _mm256_set1_ps(h2f(x.d) * y.d), acc[r]);
    }
  }
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) out[r] = hsum8(acc[r]);
}

// --------------------------------------------------------------------------------------------
// Instances and the small-m gemm driver.

using RowsFn = void (*)(int64_t nb, const uint8_t* w, size_t ws, const BlockQ8_K* a, float* out);

#define HEARTH_ROWS_INSTANCES(T)                                                                 \
  static void T##_r1(int64_t nb, const uint8_t* w, size_t ws, const BlockQ8_K* a, float* out) { \
    rows_##T(nb, w, ws, a, out, 1);                                                              \
  }                                                                                              \
  static float T##_dot(int64_t n, const void* w, const void* a) {                               \
    float r;                                                                                     \
    rows_##T(n / kQK_K, static_cast<const uint8_t*>(w), 0, static_cast<const BlockQ8_K*>(a), &r, 1); \
    return r;                                                                                    \
  }

HEARTH_ROWS_INSTANCES(q2_k)
HEARTH_ROWS_INSTANCES(q3_k)
HEARTH_ROWS_INSTANCES(q4_k)
HEARTH_ROWS_INSTANCES(q5_k)
HEARTH_ROWS_INSTANCES(q6_k)
HEARTH_ROWS_INSTANCES(iq4_xs)

// y[m * ldy + r] for r in [r0, r1), m < m_rows: one weight row at a time against every
// activation row while it is in L1 (so each weight row is read from memory once). One row at a
// time beats 4 interleaved rows here: a single sequential stream keeps the hardware prefetcher
// ahead (Q6_K from DRAM: 15 vs 7.7 GB/s per core) and nothing spills.
static HEARTH_AI void rows_gemm(RowsFn f1, int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,
                                const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  const int64_t nb = n / kQK_K;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t m = 0; m < m_rows; ++m)
      f1(nb, wb + size_t(r) * w_stride, w_stride, reinterpret_cast<const BlockQ8_K*>(ab + size_t(m) * a_stride),
         y + m * ldy + r);
}

#define HEARTH_ROWS_GEMM(T)                                                                      \
  static void T##_rows_gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,  \
                            const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) { \
    rows_gemm(T##_r1, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);              \
  }

HEARTH_ROWS_GEMM(q2_k)
HEARTH_ROWS_GEMM(q3_k)
HEARTH_ROWS_GEMM(q4_k)
HEARTH_ROWS_GEMM(q5_k)
HEARTH_ROWS_GEMM(q6_k)
HEARTH_ROWS_GEMM(iq4_xs)

}  // namespace

GemmFn avx2_q8_k_rows_gemm(DType t) {
  switch (t) {
    case DType::Q2_K: return q2_k_rows_gemm;
    case DType::Q3_K: return q3_k_rows_gemm;
    case DType::Q4_K: return q4_k_rows_gemm;
    case DType::Q5_K: return q5_k_rows_gemm;
    case DType::Q6_K: return q6_k_rows_gemm;
    case DType::IQ4_XS: return iq4_xs_rows_gemm;
    default: return nullptr;
  }
}

void register_avx2_q8_k_dot(KernelTable& t) {
  t.vec_dot[int(DType::Q2_K)] = q2_k_dot;
  t.vec_dot[int(DType::Q3_K)] = q3_k_dot;
  t.vec_dot[int(DType::Q4_K)] = q4_k_dot;
  t.vec_dot[int(DType::Q5_K)] = q5_k_dot;
  t.vec_dot[int(DType::Q6_K)] = q6_k_dot;
  t.vec_dot[int(DType::IQ4_XS)] = iq4_xs_dot;
  const DType types[] = {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_XS};
  for (DType d : types) t.gemm[int(d)] = avx2_q8_k_rows_gemm(d);
}

}  // namespace hearth::kernels::x86
