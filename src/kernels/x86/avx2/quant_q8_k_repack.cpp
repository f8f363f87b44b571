// AVX2 repacked (8-row interleaved) layouts for Q4_K, Q5_K and Q6_K weights: the repack entries and
// the GEMV / few-activation-row kernels that read them (the blocked GEMM for many rows is in
// quant_q8_k_gemm.cpp). Static functions only (see CMakeLists.txt).
//
// Why: in the GGUF layout a GEMV spends most of its vector loads and ALU slots on per-row work
// (scale unpacking and broadcasts, mins, horizontal sums). With 8 rows interleaved by 4 bytes
// (quant_q8_k_repack.h) one maddubs multiplies 4 elements of all 8 rows by 4 broadcast
// activation bytes, int16 sums run over a whole sub-block before one madd by the 8 rows'
// scales, scales are unpacked for 8 rows at once and the result is 8 lanes = 8 outputs.
// Sums are the reference's exact integer sums (dot_q4_k / dot_q6_k in reference/quant_dot.cpp);
// only the float summation order differs.
#include "kernels/x86/avx2/quant_q8_k_repack.h"

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86/x86.h"
#include "quant/blocks.h"

namespace hearth::kernels::x86 {
namespace {

using namespace hearth::quant;

#define HEARTH_AI __attribute__((always_inline)) inline

static HEARTH_AI __m256i loadu256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
static HEARTH_AI __m128i loadu128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// Software prefetch of `bytes` bytes starting at p (one hint per cache line).
static HEARTH_AI void prefetch_bytes(const void* p, int bytes) {
  const char* c = static_cast<const char*>(p);
#pragma GCC unroll 32
  for (int i = 0; i < bytes; i += 64) _mm_prefetch(c + i, _MM_HINT_T0);
}

static HEARTH_AI __m256i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// ---------------------------------------------------------------------------------------------
// Repack: rows multiple of 8, n multiple of 256, src and dst distinct buffers of equal size.

// The quants of 8 rows are transposed 32 bytes at a time (8 dwords per row -> 8 vectors of one
// dword per row), so repacking runs at memory speed (it is done once per weight at load).
static void repack_q4_k(const void* src, void* dst, int64_t rows, int64_t n) {
  const int64_t nb = n / kQK_K;
  const auto* x = static_cast<const BlockQ4_K*>(src);
  auto* o = static_cast<BlockQ4_Kx8*>(dst);
  for (int64_t g = 0; g < rows / 8; ++g)
    for (int64_t b = 0; b < nb; ++b) {
      BlockQ4_Kx8& ob = o[g * nb + b];
      const BlockQ4_K* xr[8];
      for (int r = 0; r < 8; ++r) {
        xr[r] = &x[(8 * g + r) * nb + b];
        ob.d[r] = xr[r]->d;
        ob.dmin[r] = xr[r]->dmin;
        for (int part = 0; part < 3; ++part) std::memcpy(ob.scales + 32 * part + 4 * r, xr[r]->scales + 4 * part, 4);
      }
      __m256i in[8], out[8];
      for (int c = 0; c < 4; ++c) {
        for (int r = 0; r < 8; ++r) in[r] = loadu256(xr[r]->qs + 32 * c);
        transpose8x8_epi32(in, out);
        for (int l4 = 0; l4 < 8; ++l4) _mm256_storeu_si256(reinterpret_cast<__m256i*>(ob.qs + (8 * c + l4) * 32), out[l4]);
      }
    }
}

static void repack_q5_k(const void* src, void* dst, int64_t rows, int64_t n) {
  const int64_t nb = n / kQK_K;
  const auto* x = static_cast<const BlockQ5_K*>(src);
  auto* o = static_cast<BlockQ5_Kx8*>(dst);
  for (int64_t g = 0; g < rows / 8; ++g)
    for (int64_t b = 0; b < nb; ++b) {
      BlockQ5_Kx8& ob = o[g * nb + b];
      const BlockQ5_K* xr[8];
      for (int r = 0; r < 8; ++r) {
        xr[r] = &x[(8 * g + r) * nb + b];
        ob.d[r] = xr[r]->d;
        ob.dmin[r] = xr[r]->dmin;
        for (int part = 0; part < 3; ++part) std::memcpy(ob.scales + 32 * part + 4 * r, xr[r]->scales + 4 * part, 4);
      }
      __m256i in[8], out[8];
      for (int r = 0; r < 8; ++r) in[r] = loadu256(xr[r]->qh);
      transpose8x8_epi32(in, out);
      for (int l4 = 0; l4 < 8; ++l4) _mm256_storeu_si256(reinterpret_cast<__m256i*>(ob.qh + 32 * l4), out[l4]);
      for (int c = 0; c < 4; ++c) {
        for (int r = 0; r < 8; ++r) in[r] = loadu256(xr[r]->qs + 32 * c);
        transpose8x8_epi32(in, out);
        for (int l4 = 0; l4 < 8; ++l4) _mm256_storeu_si256(reinterpret_cast<__m256i*>(ob.qs + (8 * c + l4) * 32), out[l4]);
      }
    }
}

static void repack_q6_k(const void* src, void* dst, int64_t rows, int64_t n) {
  const int64_t nb = n / kQK_K;
  const auto* x = static_cast<const BlockQ6_K*>(src);
  auto* o = static_cast<BlockQ6_Kx8*>(dst);
  for (int64_t g = 0; g < rows / 8; ++g)
    for (int64_t b = 0; b < nb; ++b) {
      BlockQ6_Kx8& ob = o[g * nb + b];
      const BlockQ6_K* xr[8];
      for (int r = 0; r < 8; ++r) {
        xr[r] = &x[(8 * g + r) * nb + b];
        ob.d[r] = xr[r]->d;
        for (int j = 0; j < 16; ++j) ob.scales[8 * j + r] = xr[r]->scales[j];
      }
      __m256i in[8], out[8];
      for (int h = 0; h < 2; ++h) {
        for (int part = 0; part < 3; ++part) {  // ql part 0, ql part 1, qh
          for (int r = 0; r < 8; ++r)
            in[r] = loadu256(part < 2 ? xr[r]->ql + 64 * h + 32 * part : xr[r]->qh + 32 * h);
          transpose8x8_epi32(in, out);
          for (int l4 = 0; l4 < 8; ++l4)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(ob.q[8 * h + l4] + 32 * part), out[l4]);
        }
      }
    }
}

// ---------------------------------------------------------------------------------------------
// Scale unpacking for 8 rows.

// Q4_K: from the three [row][4] parts A (bytes 0-3), B (4-7), C (8-11) of get_scale_min_k4:
// sc_lo[row][j] = A & 63 (j < 4), sc_hi = (C & 15) | (A >> 6) << 4 (j = 4 + ..),
// m_lo = B & 63, m_hi = (C >> 4) | (B >> 6) << 4. Each result is [row][4] bytes.
struct Q4KScales {
  __m256i sc_lo, sc_hi, m_lo, m_hi;
};

static HEARTH_AI Q4KScales q4k_scales(const uint8_t* s96) {
  const __m256i a = loadu256(s96), b = loadu256(s96 + 32), c = loadu256(s96 + 64);
  const __m256i m6 = _mm256_set1_epi8(0x3F), m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x30);
  Q4KScales s;
  s.sc_lo = _mm256_and_si256(a, m6);
  s.sc_hi = _mm256_or_si256(_mm256_and_si256(c, m4), _mm256_and_si256(_mm256_srli_epi32(a, 2), m2));
  s.m_lo = _mm256_and_si256(b, m6);
  s.m_hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(c, 4), m4), _mm256_and_si256(_mm256_srli_epi32(b, 2), m2));
  return s;
}

// From [row][4] bytes v, the int16 vector [row][2] = (v[row][t], v[row][t]) (rows 0-3 live in
// the low 128-bit half of v and of the result, rows 4-7 in the high half).
static HEARTH_AI __m256i dup_rows16(__m256i v, int t) {
  const char z = char(0x80);
  const __m256i ctl = _mm256_setr_epi8(char(t), z, char(t), z, char(4 + t), z, char(4 + t), z, char(8 + t), z,
                                       char(8 + t), z, char(12 + t), z, char(12 + t), z, char(t), z, char(t), z,
                                       char(4 + t), z, char(4 + t), z, char(8 + t), z, char(8 + t), z, char(12 + t), z,
                                       char(12 + t), z);
  return _mm256_shuffle_epi8(v, ctl);
}

// From [row][4] bytes v, the int16 vector [row][2] = (v[row][t], v[row][t+1]).
static HEARTH_AI __m256i pair_rows16(__m256i v, int t) {
  const char z = char(0x80);
  const __m256i ctl = _mm256_setr_epi8(char(t), z, char(t + 1), z, char(4 + t), z, char(5 + t), z, char(8 + t), z,
                                       char(9 + t), z, char(12 + t), z, char(13 + t), z, char(t), z, char(t + 1), z,
                                       char(4 + t), z, char(5 + t), z, char(8 + t), z, char(9 + t), z, char(12 + t), z,
                                       char(13 + t), z);
  return _mm256_shuffle_epi8(v, ctl);
}

// Q6_K: int8 scales [j][row] -> int16 [row][2] duplicated, for 16-element sub-block j.
static HEARTH_AI __m256i q6k_scale_dup(const int8_t* scales, int j) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(scales + 8 * j));
  return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(v, v));
}

// ---------------------------------------------------------------------------------------------
// One 8-row group against C activation rows (C <= 2): out[c * ldo + row].

// GEMV streams each group once: prefetching a few group blocks ahead (past the end of a group
// it touches the next group or harmless addresses: prefetches never fault) keeps more DRAM
// requests in flight than the hardware prefetcher alone.
constexpr int64_t kPrefetchBlocks = 2;

// Q4_K: result = d * d_a * sum_j sc_j * sum u * a - dmin * d_a * sum_j m_j * (bsums[2j] + bsums[2j+1]).
static HEARTH_AI void group_q4_k(int64_t nb, const BlockQ4_Kx8* x, const BlockQ8_K* const* a, float* out,
                                 int64_t ldo, const int C) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[2], accm[2];
#pragma GCC unroll 2
  for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps(), accm[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ4_Kx8& X = x[b];
    prefetch_bytes(&x[b + kPrefetchBlocks], int(sizeof(BlockQ4_Kx8)));
    const Q4KScales s = q4k_scales(X.scales);
    const __m256 d = _mm256_cvtph_ps(loadu128(X.d)), dmin = _mm256_cvtph_ps(loadu128(X.dmin));
    // mins of sub-blocks (2jj, 2jj+1) per row, paired for madd with (bp[2jj], bp[2jj+1])
    const __m256i mn0 = pair_rows16(s.m_lo, 0), mn1 = pair_rows16(s.m_lo, 2);
    const __m256i mn2 = pair_rows16(s.m_hi, 0), mn3 = pair_rows16(s.m_hi, 2);
#pragma GCC unroll 2
    for (int c = 0; c < C; ++c) {
      const BlockQ8_K& y = a[c][b];
      // bp[j] = bsums[2j] + bsums[2j+1]: pairs (bp[2jj], bp[2jj+1]) as int32 lanes 0..3
      const __m128i bp = _mm_hadd_epi16(loadu128(y.bsums), loadu128(y.bsums + 8));
      __m256i msum = _mm256_madd_epi16(mn0, _mm256_set1_epi32(_mm_extract_epi32(bp, 0)));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mn1, _mm256_set1_epi32(_mm_extract_epi32(bp, 1))));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mn2, _mm256_set1_epi32(_mm_extract_epi32(bp, 2))));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mn3, _mm256_set1_epi32(_mm_extract_epi32(bp, 3))));
      __m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 4
      for (int ch = 0; ch < 4; ++ch) {
        __m256i slo = _mm256_setzero_si256(), shi = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int l4 = 0; l4 < 8; ++l4) {
          const __m256i w = loadu256(X.qs + (8 * ch + l4) * 32);
          // levels <= 15: 8 steps of maddubs pairs (<= 3840) stay within int16
          slo = _mm256_add_epi16(slo, _mm256_maddubs_epi16(_mm256_and_si256(w, m4), bcast4(y.qs + 64 * ch + 4 * l4)));
          shi = _mm256_add_epi16(shi, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(w, 4), m4),
                                                           bcast4(y.qs + 64 * ch + 32 + 4 * l4)));
        }
        const __m256i sv = ch < 2 ? s.sc_lo : s.sc_hi;
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(slo, dup_rows16(sv, (2 * ch) % 4)));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(shi, dup_rows16(sv, (2 * ch + 1) % 4)));
      }
      const __m256 da = _mm256_set1_ps(y.d);
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, da), acc[c]);
      accm[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmin, da), accm[c]);
    }
  }
#pragma GCC unroll 2
  for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + c * ldo, _mm256_sub_ps(acc[c], accm[c]));
}

// Bit `bit` of every byte of h moved to bit 4 (value 16), other bits cleared.
static HEARTH_AI __m256i bit_to_16(__m256i h, int bit) {
  const __m256i m = _mm256_set1_epi8(0x10);
  if (bit < 4) return _mm256_and_si256(_mm256_slli_epi16(h, 4 - bit), m);
  if (bit == 4) return _mm256_and_si256(h, m);
  return _mm256_and_si256(_mm256_srli_epi16(h, bit - 4), m);
}

// Q5_K: Q4_K with levels nibble + 16 * (bit 2c / 2c+1 of qh) (<= 31: int16 sums of 4 steps).
static HEARTH_AI void group_q5_k(int64_t nb, const BlockQ5_Kx8* x, const BlockQ8_K* const* a, float* out,
                                 int64_t ldo, const int C) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[2], accm[2];
#pragma GCC unroll 2
  for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps(), accm[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ5_Kx8& X = x[b];
    prefetch_bytes(&x[b + kPrefetchBlocks], int(sizeof(BlockQ5_Kx8)));
    const Q4KScales s = q4k_scales(X.scales);
    const __m256 d = _mm256_cvtph_ps(loadu128(X.d)), dmin = _mm256_cvtph_ps(loadu128(X.dmin));
    const __m256i mn0 = pair_rows16(s.m_lo, 0), mn1 = pair_rows16(s.m_lo, 2);
    const __m256i mn2 = pair_rows16(s.m_hi, 0), mn3 = pair_rows16(s.m_hi, 2);
#pragma GCC unroll 2
    for (int c = 0; c < C; ++c) {
      const BlockQ8_K& y = a[c][b];
      const __m128i bp = _mm_hadd_epi16(loadu128(y.bsums), loadu128(y.bsums + 8));
      __m256i msum = _mm256_madd_epi16(mn0, _mm256_set1_epi32(_mm_extract_epi32(bp, 0)));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mn1, _mm256_set1_epi32(_mm_extract_epi32(bp, 1))));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mn2, _mm256_set1_epi32(_mm_extract_epi32(bp, 2))));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mn3, _mm256_set1_epi32(_mm_extract_epi32(bp, 3))));
      __m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 4
      for (int ch = 0; ch < 4; ++ch) {
        const __m256i sv = ch < 2 ? s.sc_lo : s.sc_hi;
        const __m256i sclo = dup_rows16(sv, (2 * ch) % 4), schi = dup_rows16(sv, (2 * ch + 1) % 4);
#pragma GCC unroll 2
        for (int q4 = 0; q4 < 2; ++q4) {  // two runs of 4 steps (levels <= 31)
          __m256i slo = _mm256_setzero_si256(), shi = _mm256_setzero_si256();
#pragma GCC unroll 4
          for (int l = 0; l < 4; ++l) {
            const int l4 = 4 * q4 + l;
            const __m256i w = loadu256(X.qs + (8 * ch + l4) * 32);
            const __m256i h = loadu256(X.qh + 32 * l4);
            const __m256i ulo = _mm256_or_si256(_mm256_and_si256(w, m4), bit_to_16(h, 2 * ch));
            const __m256i uhi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(w, 4), m4), bit_to_16(h, 2 * ch + 1));
            slo = _mm256_add_epi16(slo, _mm256_maddubs_epi16(ulo, bcast4(y.qs + 64 * ch + 4 * l4)));
            shi = _mm256_add_epi16(shi, _mm256_maddubs_epi16(uhi, bcast4(y.qs + 64 * ch + 32 + 4 * l4)));
          }
          isum = _mm256_add_epi32(isum, _mm256_madd_epi16(slo, sclo));
          isum = _mm256_add_epi32(isum, _mm256_madd_epi16(shi, schi));
        }
      }
      const __m256 da = _mm256_set1_ps(y.d);
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, da), acc[c]);
      accm[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmin, da), accm[c]);
    }
  }
#pragma GCC unroll 2
  for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + c * ldo, _mm256_sub_ps(acc[c], accm[c]));
}

// Q6_K: u = q + 32; isum = sum_j sc_j * (sum u * a - 32 * bsums[j]); result = d * d_a * isum.
static HEARTH_AI void group_q6_k(int64_t nb, const BlockQ6_Kx8* x, const BlockQ8_K* const* a, float* out,
                                 int64_t ldo, const int C) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
  __m256 acc[2];
#pragma GCC unroll 2
  for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ6_Kx8& X = x[b];
    prefetch_bytes(&x[b + kPrefetchBlocks], int(sizeof(BlockQ6_Kx8)));
    const __m256 d = _mm256_cvtph_ps(loadu128(X.d));
#pragma GCC unroll 2
    for (int c = 0; c < C; ++c) {
      const BlockQ8_K& y = a[c][b];
      // -32 * sum_j sc_j * bsums[j]
      __m256i isum = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(q6k_scaled_bsums(X, y.bsums), 5));
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 2
        for (int half4 = 0; half4 < 2; ++half4) {  // l4 0-3: sub-blocks 2g; 4-7: 2g+1
          __m256i s16[4];
#pragma GCC unroll 4
          for (int l = 0; l < 4; ++l) {
            const int l4 = 4 * half4 + l;
            const __m256i l0 = loadu256(X.q[8 * h + l4]);
            const __m256i l1 = loadu256(X.q[8 * h + l4] + 32);
            const __m256i hb = loadu256(X.q[8 * h + l4] + 64);
            const __m256i u[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30)),
                _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30))};
#pragma GCC unroll 4
            for (int g = 0; g < 4; ++g) {
              const __m256i p = _mm256_maddubs_epi16(u[g], bcast4(y.qs + 128 * h + 32 * g + 4 * l4));
              // levels <= 63: pairs <= 16128, so two steps per int16 sum
              if (l % 2 == 0) {
                s16[g] = p;
              } else {
                s16[g] = _mm256_add_epi16(s16[g], p);
                const int j = 8 * h + 2 * g + half4;  // 16-element sub-block of these elements
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(s16[g], q6k_scale_dup(X.scales, j)));
              }
            }
          }
        }
      }
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, _mm256_set1_ps(y.d)), acc[c]);
    }
  }
#pragma GCC unroll 2
  for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + c * ldo, acc[c]);
}

// y[m * ldy + r] for r in [r0, r1) (multiples of 8), every activation row against each group
// while it is in L1; two activation rows per pass share the weight loads.
#define HEARTH_REPACKED_ROWS(T, BLOCK)                                                                 \
  static void T##_x8_c1(int64_t nb, const BLOCK* x, const BlockQ8_K* const* a, float* o, int64_t ldo) { \
    group_##T(nb, x, a, o, ldo, 1);                                                                    \
  }                                                                                                    \
  static void T##_x8_c2(int64_t nb, const BLOCK* x, const BlockQ8_K* const* a, float* o, int64_t ldo) { \
    group_##T(nb, x, a, o, ldo, 2);                                                                    \
  }                                                                                                    \
  static void T##_x8_rows_gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,     \
                               const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) { \
    const int64_t nb = n / kQK_K;                                                                      \
    const auto* ab = static_cast<const uint8_t*>(a);                                                   \
    for (int64_t r = r0; r < r1; r += 8) {                                                             \
      const auto* x = reinterpret_cast<const BLOCK*>(static_cast<const uint8_t*>(w) + size_t(r) * w_stride); \
      int64_t m = 0;                                                                                   \
      for (; m + 2 <= m_rows; m += 2) {                                                                \
        const BlockQ8_K* ar[2] = {reinterpret_cast<const BlockQ8_K*>(ab + size_t(m) * a_stride),      \
                                  reinterpret_cast<const BlockQ8_K*>(ab + size_t(m + 1) * a_stride)}; \
        T##_x8_c2(nb, x, ar, y + m * ldy + r, ldy);                                                    \
      }                                                                                                \
      if (m < m_rows) {                                                                                \
        const BlockQ8_K* ar[1] = {reinterpret_cast<const BlockQ8_K*>(ab + size_t(m) * a_stride)};     \
        T##_x8_c1(nb, x, ar, y + m * ldy + r, ldy);                                                    \
      }                                                                                                \
    }                                                                                                  \
  }

HEARTH_REPACKED_ROWS(q4_k, BlockQ4_Kx8)
HEARTH_REPACKED_ROWS(q5_k, BlockQ5_Kx8)
HEARTH_REPACKED_ROWS(q6_k, BlockQ6_Kx8)

constexpr int64_t kRepackedPanelMinRows = 6;  // from here the blocked GEMM pays off

static void q4_k_gemm_repacked(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                               size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kRepackedPanelMinRows) return q4_k_x8_rows_gemm(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  avx2_q8_k_panel_gemm_repacked(DType::Q4_K, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
}

static void q5_k_gemm_repacked(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                               size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kRepackedPanelMinRows) return q5_k_x8_rows_gemm(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  avx2_q8_k_panel_gemm_repacked(DType::Q5_K, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
}

static void q6_k_gemm_repacked(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                               size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kRepackedPanelMinRows) return q6_k_x8_rows_gemm(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  avx2_q8_k_panel_gemm_repacked(DType::Q6_K, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
}

// ---------------------------------------------------------------------------------------------
// Panels for the blocked GEMM (PanelBlock: levels per 4-element step, scales per 16-element
// sub-block, bsums multipliers): no transpose needed, the layout is already row-interleaved.

static void panel_q4_k(const BlockQ4_Kx8* x, int64_t kc, PanelBlock* panel) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < kc; ++b) {
    const BlockQ4_Kx8& X = x[b];
    PanelBlock& P = panel[b];
#pragma GCC unroll 4
    for (int ch = 0; ch < 4; ++ch)
#pragma GCC unroll 8
      for (int l4 = 0; l4 < 8; ++l4) {
        const __m256i w = loadu256(X.qs + (8 * ch + l4) * 32);
        _mm256_store_si256(reinterpret_cast<__m256i*>(P.q[16 * ch + l4]), _mm256_and_si256(w, m4));
        _mm256_store_si256(reinterpret_cast<__m256i*>(P.q[16 * ch + 8 + l4]),
                           _mm256_and_si256(_mm256_srli_epi16(w, 4), m4));
      }
    const Q4KScales s = q4k_scales(X.scales);
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {  // 32-element sub-block j = 16-element sub-blocks 2j, 2j+1
      const __m256i sc = dup_rows16(j < 4 ? s.sc_lo : s.sc_hi, j % 4);
      const __m256i mn = _mm256_sub_epi16(_mm256_setzero_si256(), dup_rows16(j < 4 ? s.m_lo : s.m_hi, j % 4));
      _mm256_store_si256(reinterpret_cast<__m256i*>(P.sc[2 * j]), sc);
      _mm256_store_si256(reinterpret_cast<__m256i*>(P.sc[2 * j + 1]), sc);
      _mm256_store_si256(reinterpret_cast<__m256i*>(P.mn[j]), mn);
    }
    _mm256_store_ps(P.d, _mm256_cvtph_ps(loadu128(X.d)));
    _mm256_store_ps(P.dm, _mm256_cvtph_ps(loadu128(X.dmin)));
  }
}

static void panel_q5_k(const BlockQ5_Kx8* x, int64_t kc, PanelBlock* panel) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < kc; ++b) {
    const BlockQ5_Kx8& X = x[b];
    PanelBlock& P = panel[b];
#pragma GCC unroll 4
    for (int ch = 0; ch < 4; ++ch)
#pragma GCC unroll 8
      for (int l4 = 0; l4 < 8; ++l4) {
        const __m256i w = loadu256(X.qs + (8 * ch + l4) * 32);
        const __m256i h = loadu256(X.qh + 32 * l4);
        _mm256_store_si256(reinterpret_cast<__m256i*>(P.q[16 * ch + l4]),
                           _mm256_or_si256(_mm256_and_si256(w, m4), bit_to_16(h, 2 * ch)));
        _mm256_store_si256(reinterpret_cast<__m256i*>(P.q[16 * ch + 8 + l4]),
                           _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(w, 4), m4), bit_to_16(h, 2 * ch + 1)));
      }
    const Q4KScales s = q4k_scales(X.scales);
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      const __m256i sc = dup_rows16(j < 4 ? s.sc_lo : s.sc_hi, j % 4);
      const __m256i mn = _mm256_sub_epi16(_mm256_setzero_si256(), dup_rows16(j < 4 ? s.m_lo : s.m_hi, j % 4));
      _mm256_store_si256(reinterpret_cast<__m256i*>(P.sc[2 * j]), sc);
      _mm256_store_si256(reinterpret_cast<__m256i*>(P.sc[2 * j + 1]), sc);
      _mm256_store_si256(reinterpret_cast<__m256i*>(P.mn[j]), mn);
    }
    _mm256_store_ps(P.d, _mm256_cvtph_ps(loadu128(X.d)));
    _mm256_store_ps(P.dm, _mm256_cvtph_ps(loadu128(X.dmin)));
  }
}

static void panel_q6_k(const BlockQ6_Kx8* x, int64_t kc, PanelBlock* panel) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
  for (int64_t b = 0; b < kc; ++b) {
    const BlockQ6_Kx8& X = x[b];
    PanelBlock& P = panel[b];
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)
#pragma GCC unroll 8
      for (int l4 = 0; l4 < 8; ++l4) {
        const __m256i l0 = loadu256(X.q[8 * h + l4]);
        const __m256i l1 = loadu256(X.q[8 * h + l4] + 32);
        const __m256i hb = loadu256(X.q[8 * h + l4] + 64);
        // group g of 32 elements (128h + 32g + ..) -> step 32h + 8g + l4
        _mm256_store_si256(reinterpret_cast<__m256i*>(P.q[32 * h + l4]),
                           _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30)));
        _mm256_store_si256(reinterpret_cast<__m256i*>(P.q[32 * h + 8 + l4]),
                           _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30)));
        _mm256_store_si256(reinterpret_cast<__m256i*>(P.q[32 * h + 16 + l4]),
                           _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m30)));
        _mm256_store_si256(reinterpret_cast<__m256i*>(P.q[32 * h + 24 + l4]),
                           _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                           _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30)));
      }
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j)
      _mm256_store_si256(reinterpret_cast<__m256i*>(P.sc[j]), q6k_scale_dup(X.scales, j));
#pragma GCC unroll 8
    for (int p = 0; p < 8; ++p)  // offset -32 * sc * bsums
      _mm256_store_si256(reinterpret_cast<__m256i*>(P.mn[p]),
                         _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(q6k_scale_pair(X.scales, p), 5)));
    const __m256 d = _mm256_cvtph_ps(loadu128(X.d));
    _mm256_store_ps(P.d, d);
    _mm256_store_ps(P.dm, d);
  }
}

}  // namespace

void avx2_q8_k_unpack_repacked(DType t, const void* group, int64_t nb, int64_t kb0, int64_t kc,
                               PanelBlock* panel) {
  if (t == DType::Q4_K)
    panel_q4_k(static_cast<const BlockQ4_Kx8*>(group) + kb0, kc, panel);
  else if (t == DType::Q5_K)
    panel_q5_k(static_cast<const BlockQ5_Kx8*>(group) + kb0, kc, panel);
  else
    panel_q6_k(static_cast<const BlockQ6_Kx8*>(group) + kb0, kc, panel);
  (void)nb;
}

GemmFn avx2_q8_k_repacked_rows_gemm(DType t) {
  switch (t) {
    case DType::Q4_K: return q4_k_x8_rows_gemm;
    case DType::Q5_K: return q5_k_x8_rows_gemm;
    case DType::Q6_K: return q6_k_x8_rows_gemm;
    default: return nullptr;
  }
}

void register_avx2_q8_k_repack(KernelTable& t) {
  t.repack_rows[int(DType::Q4_K)] = 8;
  t.repack[int(DType::Q4_K)] = repack_q4_k;
  t.gemm_repacked[int(DType::Q4_K)] = q4_k_gemm_repacked;
  t.repack_rows[int(DType::Q5_K)] = 8;
  t.repack[int(DType::Q5_K)] = repack_q5_k;
  t.gemm_repacked[int(DType::Q5_K)] = q5_k_gemm_repacked;
  t.repack_rows[int(DType::Q6_K)] = 8;
  t.repack[int(DType::Q6_K)] = repack_q6_k;
  t.gemm_repacked[int(DType::Q6_K)] = q6_k_gemm_repacked;
}

}  // namespace hearth::kernels::x86
