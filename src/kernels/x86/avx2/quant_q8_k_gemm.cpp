// AVX2 blocked GEMM for K-quant / IQ4_XS weights x Q8_K activations (prefill, many activation
// rows). Static functions only (see CMakeLists.txt). Below kPanelMinRows activation rows the
// row kernels of quant_q8_k_dot.cpp are used instead.
//
// Scheme: a panel of 8 weight rows is unpacked once per cache block into a common int8 form
//   q[step][row][4]      unsigned levels u (or, IQ4_XS, signed values), 4 consecutive
//                        elements of each of the 8 rows per 32-byte vector ("step" = 4 elements)
//   sc[sub][row][2]      int16 scale of each 16-element sub-block, duplicated for madd
//   mn[pair][row][2]     int16 multiplier of the activation's bsums (mins / level offsets)
//   d[row], dm[row]      f32 super-block scales
// so that for activation row a (Q8_K: d_a, qs, bsums) the super-block's contribution is
//   d * d_a * sum_sub sc * sum_k u_k * a_k  +  dm * d_a * sum_sub mn * bsums[sub]
// which is exactly the reference formula of every type (dot_<type> in reference/quant_dot.cpp):
//   Q4_K/Q5_K: sc = 6-bit scale, mn = -min, dm = dmin;  Q2_K: sc = low nibble, mn = -high, dm = dmin
//   Q6_K: u = q + 32, mn = -32 * sc, dm = d;  Q3_K: u = q + 4, sc signed, mn = -4 * sc, dm = d
//   IQ4_XS: signed table values, sc = ls - 32, no mn term.
// The micro-kernel broadcasts 4 activation bytes to all 8 rows (vpbroadcastd), multiplies with
// maddubs (u8 x s8 -> pairs of int16) and, because the levels are small, adds several steps in
// int16 before one madd by the scale vector (Q4_K: 8 steps = a whole 32-element sub-block;
// Q5_K/Q2_K/Q3_K: 4; Q6_K: 2 -- the most that cannot overflow int16 for |a| <= 128).
// Integer sums are exact, so results equal the reference up to float summation order.
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kernels/x86/avx2/quant_q8_k_repack.h"
#include "kernels/x86/avx2/quant_q8_k_unpack.h"
#include "kernels/x86/x86.h"
#include "quant/blocks.h"

namespace hearth::kernels::x86 {

GemmFn avx2_q8_k_rows_gemm(DType t);  // quant_q8_k_dot.cpp

namespace {

using namespace hearth::quant;

#define HEARTH_AI __attribute__((always_inline)) inline

constexpr int64_t kPanelMinRows = 6;  // activation rows from which the panel path pays off
constexpr int64_t kMBlockBytes = 384 << 10;  // activation rows per cache block: ~384 KiB (L2)
constexpr int64_t kKChunk = 8;        // super-blocks of a panel unpacked at a time (~23 KiB, L1)
constexpr int kTileC = 4;             // activation rows per micro-kernel call

// One weight row's super-block in the common form, before the 8-row transpose.
struct alignas(32) RowBlock {
  uint8_t u[256];   // levels in element order
  int32_t sc[16];   // scale per 16-element sub-block, duplicated in both int16 halves
  int16_t mn[16];   // bsums multiplier per sub-block
  float d, dm;
};

static HEARTH_AI __m256i loadu256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
static HEARTH_AI __m128i loadu128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
static HEARTH_AI void storeu256(void* p, __m256i v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
static HEARTH_AI float h2f(uint16_t h) { return _cvtsh_ss(h); }

// int16 scales (16 of them, as int8 or int16 source) -> duplicated int32 pairs.
static HEARTH_AI void store_dup_scales(int32_t* dst, __m256i s16) {
  const __m256i lo = _mm256_unpacklo_epi16(s16, s16);  // [s0 s0 s1 s1 .. s3 s3 | s8 s8 .. s11 s11]
  const __m256i hi = _mm256_unpackhi_epi16(s16, s16);  // [s4 .. s7 | s12 .. s15]
  storeu256(dst, _mm256_permute2x128_si256(lo, hi, 0x20));      // s0..s7
  storeu256(dst + 8, _mm256_permute2x128_si256(lo, hi, 0x31));  // s8..s15
}

// Q4_K / Q5_K packed 6-bit scales: bytes 0-7 sc_0..7, 8-15 m_0..7 (see quant_q8_k_dot.cpp).
static HEARTH_AI __m128i unpack_scales_k4(const uint8_t* s12) {
  uint32_t a, b, c;
  std::memcpy(&a, s12, 4);
  std::memcpy(&b, s12 + 4, 4);
  std::memcpy(&c, s12 + 8, 4);
  const uint32_t m6 = 0x3F3F3F3Fu, m4 = 0x0F0F0F0Fu, m2 = 0x30303030u;
  return _mm_setr_epi32(int(a & m6), int((c & m4) | ((a >> 2) & m2)), int(b & m6),
                        int(((c >> 4) & m4) | ((b >> 2) & m2)));
}

// Q4_K / Q5_K: the 8 scale / min pairs apply to 32 elements = two 16-element sub-blocks.
static HEARTH_AI void k4_scales(RowBlock& o, const uint8_t* s12) {
  const __m128i sm = unpack_scales_k4(s12);
  // bytes sc0 sc0 sc1 sc1 .. sc7 sc7 (per 16-element sub-block) and the same for mins
  const __m128i sc16 = _mm_unpacklo_epi8(sm, sm);
  const __m128i mn16 = _mm_unpackhi_epi8(sm, sm);
  store_dup_scales(o.sc, _mm256_cvtepu8_epi16(sc16));
  storeu256(o.mn, _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_cvtepu8_epi16(mn16)));
}

static void unpack_q4_k(const void* blk, RowBlock& o) {
  const auto& x = *static_cast<const BlockQ4_K*>(blk);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  #pragma GCC unroll 64
  for (int c = 0; c < 4; ++c) {
    const __m256i q = loadu256(x.qs + 32 * c);
    storeu256(o.u + 64 * c, _mm256_and_si256(q, m4));
    storeu256(o.u + 64 * c + 32, _mm256_and_si256(_mm256_srli_epi16(q, 4), m4));
  }
  k4_scales(o, x.scales);
  o.d = h2f(x.d);
  o.dm = h2f(x.dmin);
}

static HEARTH_AI __m256i bit_to_16(__m256i h, int bit) {
  const __m256i m = _mm256_set1_epi8(0x10);
  if (bit < 4) return _mm256_and_si256(_mm256_slli_epi16(h, 4 - bit), m);
  if (bit == 4) return _mm256_and_si256(h, m);
  return _mm256_and_si256(_mm256_srli_epi16(h, bit - 4), m);
}

static void unpack_q5_k(const void* blk, RowBlock& o) {
  const auto& x = *static_cast<const BlockQ5_K*>(blk);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i h = loadu256(x.qh);
  #pragma GCC unroll 64
  for (int c = 0; c < 4; ++c) {
    const __m256i q = loadu256(x.qs + 32 * c);
    storeu256(o.u + 64 * c, _mm256_or_si256(_mm256_and_si256(q, m4), bit_to_16(h, 2 * c)));
    storeu256(o.u + 64 * c + 32,
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), bit_to_16(h, 2 * c + 1)));
  }
  k4_scales(o, x.scales);
  o.d = h2f(x.d);
  o.dm = h2f(x.dmin);
}

static void unpack_q6_k(const void* blk, RowBlock& o) {
  const auto& x = *static_cast<const BlockQ6_K*>(blk);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
  #pragma GCC unroll 64
  for (int n = 0; n < 2; ++n) {
    const __m256i l0 = loadu256(x.ql + 64 * n), l1 = loadu256(x.ql + 64 * n + 32);
    const __m256i h = loadu256(x.qh + 32 * n);
    uint8_t* u = o.u + 128 * n;
    storeu256(u, _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30)));
    storeu256(u + 32, _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30)));
    storeu256(u + 64, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30)));
    storeu256(u + 96, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                      _mm256_and_si256(_mm256_srli_epi16(h, 2), m30)));
  }
  const __m256i s16 = _mm256_cvtepi8_epi16(loadu128(x.scales));
  store_dup_scales(o.sc, s16);
  storeu256(o.mn, _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(s16, 5)));
  o.d = h2f(x.d);
  o.dm = o.d;
}

static void unpack_q3_k(const void* blk, RowBlock& o) {
  const auto& x = *static_cast<const BlockQ3_K*>(blk);
  q3_k_levels(x, o.u);
  const __m256i s16 = _mm256_cvtepi8_epi16(q3_k_scales(x));
  store_dup_scales(o.sc, s16);
  storeu256(o.mn, _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(s16, 2)));
  o.d = h2f(x.d);
  o.dm = o.d;
}

static void unpack_q2_k(const void* blk, RowBlock& o) {
  const auto& x = *static_cast<const BlockQ2_K*>(blk);
  q2_k_levels(x, o.u);
  __m128i sc, mn;
  q2_k_scales(x, &sc, &mn);
  store_dup_scales(o.sc, _mm256_cvtepu8_epi16(sc));
  storeu256(o.mn, _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_cvtepu8_epi16(mn)));
  o.d = h2f(x.d);
  o.dm = h2f(x.dmin);
}

static void unpack_iq4_xs(const void* blk, RowBlock& o) {
  const auto& x = *static_cast<const BlockIq4Xs*>(blk);
  iq4_xs_levels(x, _mm256_broadcastsi128_si256(
                       _mm_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113)),
                o.u);
  // 8 sub-blocks of 32 -> 16 sub-blocks of 16 (each scale twice)
  __m128i s8 = iq4_xs_scales(x);
  s8 = _mm_unpacklo_epi8(s8, s8);
  store_dup_scales(o.sc, _mm256_cvtepi8_epi16(s8));
  storeu256(o.mn, _mm256_setzero_si256());
  o.d = h2f(x.d);
  o.dm = 0.0f;
}

using UnpackFn = void (*)(const void* blk, RowBlock& o);

// Unpack super-blocks [kb0, kb0 + kc) of weight rows r .. r+valid-1 (rows ws bytes apart) into
// panel[0 .. kc). Missing rows (valid < 8) are zero: they contribute nothing and are not stored.
static void unpack_panel(UnpackFn unpack, size_t block_bytes, const uint8_t* w, size_t ws, int valid,
                         int64_t kb0, int64_t kc, PanelBlock* panel) {
  RowBlock rb[8];
  #pragma GCC unroll 64
  for (int r = valid; r < 8; ++r) std::memset(&rb[r], 0, sizeof(RowBlock));
  for (int64_t b = 0; b < kc; ++b) {
    for (int r = 0; r < valid; ++r) unpack(w + size_t(r) * ws + size_t(kb0 + b) * block_bytes, rb[r]);
    PanelBlock& p = panel[b];
    __m256i in[8], out[8];
    #pragma GCC unroll 64
    for (int kk = 0; kk < 8; ++kk) {  // 32 elements = 8 steps
      #pragma GCC unroll 64
      for (int r = 0; r < 8; ++r) in[r] = loadu256(rb[r].u + 32 * kk);
      transpose8x8_epi32(in, out);
      #pragma GCC unroll 64
      for (int j = 0; j < 8; ++j) storeu256(p.q[8 * kk + j], out[j]);
    }
    #pragma GCC unroll 64
    for (int h = 0; h < 2; ++h) {
      #pragma GCC unroll 64
      for (int r = 0; r < 8; ++r) in[r] = loadu256(rb[r].sc + 8 * h);
      transpose8x8_epi32(in, out);
      #pragma GCC unroll 64
      for (int j = 0; j < 8; ++j) storeu256(p.sc[8 * h + j], out[j]);
    }
    #pragma GCC unroll 64
    for (int r = 0; r < 8; ++r) in[r] = loadu256(rb[r].mn);
    transpose8x8_epi32(in, out);
    #pragma GCC unroll 64
    for (int j = 0; j < 8; ++j) storeu256(p.mn[j], out[j]);
    #pragma GCC unroll 64
    for (int r = 0; r < 8; ++r) p.d[r] = rb[r].d, p.dm[r] = rb[r].dm;
  }
}

// Register barrier: stops GCC from reassociating an accumulation chain into a tree of
// independent products (which needs a register per product and spills the tile).
static HEARTH_AI void keep(__m256i& v) { asm("" : "+x"(v)); }

static HEARTH_AI __m256i bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Micro-kernel: C activation rows x the panel's 8 weight rows over kc super-blocks.
// acc[c * 8 + r] += sum over the super-blocks (in/out, 32-byte aligned). G = steps added in int16 per madd
// (a multiple of 2 dividing 8 for the unsigned kinds); G = 0 selects the signed IQ4_XS form.
static HEARTH_AI void micro(const PanelBlock* panel, int64_t kc, const BlockQ8_K* const* arow,
                            float* acc, const int C, const int G, const bool mins) {
  for (int64_t b = 0; b < kc; ++b) {
    const PanelBlock& P = panel[b];
    const int8_t* aq[kTileC];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) aq[c] = arow[c][b].qs;
    __m256i isum[kTileC];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) isum[c] = _mm256_setzero_si256();
    // The sub-block loop stays rolled: unrolled, the compiler hoists loads across it and
    // spills most of the 16 ymm registers (measured 2x slower).
    if (G == 0) {
      // IQ4_XS: signed weights; maddubs(|w|, sign(a, w)), pair sums <= 2 * 127 * 127 -> madd now
#pragma GCC unroll 1
      for (int sub = 0; sub < 16; ++sub) {
        const __m256i scv = _mm256_load_si256(reinterpret_cast<const __m256i*>(P.sc[sub]));
#pragma GCC unroll 4
        for (int t = 0; t < 4; ++t) {
          const int step = 4 * sub + t;
          const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(P.q[step]));
          const __m256i aw = _mm256_sign_epi8(w, w);
#pragma GCC unroll 4
          for (int c = 0; c < C; ++c) {
            const __m256i p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(bcast4(aq[c] + 4 * step), w));
            isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(p, scv));
            keep(isum[c]);
          }
        }
      }
    } else {
#pragma GCC unroll 1
      for (int g = 0; g < 64 / G; ++g) {
        __m256i s16[kTileC];
#pragma GCC unroll 8
        for (int t = 0; t < G; ++t) {
          const int step = g * G + t;
          const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(P.q[step]));
#pragma GCC unroll 4
          for (int c = 0; c < C; ++c) {
            const __m256i p = _mm256_maddubs_epi16(w, bcast4(aq[c] + 4 * step));
            s16[c] = t == 0 ? p : _mm256_add_epi16(s16[c], p);
            keep(s16[c]);
          }
        }
        const __m256i scv = _mm256_load_si256(reinterpret_cast<const __m256i*>(P.sc[(g * G) / 4]));
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(s16[c], scv));
      }
    }
    const __m256 d = _mm256_load_ps(P.d);
    if (mins) {
      const __m256 dm = _mm256_load_ps(P.dm);
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        __m256i msum = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int p = 0; p < 8; ++p) {
          int32_t bs;
          std::memcpy(&bs, arow[c][b].bsums + 2 * p, 4);
          msum = _mm256_add_epi32(msum, _mm256_madd_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(P.mn[p])),
                                                          _mm256_set1_epi32(bs)));
        }
        const __m256 da = _mm256_set1_ps(arow[c][b].d);
        __m256 f = _mm256_load_ps(acc + 8 * c);
        f = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dm, da), f);
        f = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(d, da), f);
        _mm256_store_ps(acc + 8 * c, f);
      }
    } else {
#pragma GCC unroll 4
      for (int c = 0; c < C; ++c) {
        const __m256 f = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_mul_ps(d, _mm256_set1_ps(arow[c][b].d)),
                                         _mm256_load_ps(acc + 8 * c));
        _mm256_store_ps(acc + 8 * c, f);
      }
    }
  }
}

using MicroFn = void (*)(const PanelBlock* panel, int64_t kc, const BlockQ8_K* const* arow, float* acc);

#define HEARTH_MICRO(NAME, G, MINS)                                                                     \
  static void NAME##_c1(const PanelBlock* p, int64_t kc, const BlockQ8_K* const* a, float* acc) { micro(p, kc, a, acc, 1, G, MINS); } \
  static void NAME##_c2(const PanelBlock* p, int64_t kc, const BlockQ8_K* const* a, float* acc) { micro(p, kc, a, acc, 2, G, MINS); } \
  static void NAME##_c3(const PanelBlock* p, int64_t kc, const BlockQ8_K* const* a, float* acc) { micro(p, kc, a, acc, 3, G, MINS); } \
  static void NAME##_c4(const PanelBlock* p, int64_t kc, const BlockQ8_K* const* a, float* acc) { micro(p, kc, a, acc, 4, G, MINS); } \
  static const MicroFn NAME##_fns[5] = {nullptr, NAME##_c1, NAME##_c2, NAME##_c3, NAME##_c4};

HEARTH_MICRO(g8, 8, true)    // Q4_K: levels <= 15, 8 steps of pairs <= 3840 fit int16
HEARTH_MICRO(g4, 4, true)    // Q5_K (<= 31), Q3_K (<= 7, 16-element sub-blocks), Q2_K
HEARTH_MICRO(g2, 2, true)    // Q6_K: levels <= 63, pairs <= 16128: two steps
HEARTH_MICRO(gs, 0, false)   // IQ4_XS: signed

struct TypeKernels {
  DType type;
  bool repacked;         // weights in the 8-row interleaved layout (quant_q8_k_repack.h)
  UnpackFn unpack;       // GGUF layout: one row's super-block
  size_t block_bytes;
  const MicroFn* micro;  // indexed by C
  GemmFn rows;           // few activation rows (and the fallback)
};

static void gemm_panels(const TypeKernels& tk, int64_t n, const void* w, size_t w_stride, int64_t r0,
                        int64_t r1, const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  const int64_t nb = n / kQK_K;
  const int64_t kchunk = nb < kKChunk ? nb : kKChunk;
  // [kchunk] unpacked super-blocks of the current 8-row panel
  auto* panel = static_cast<PanelBlock*>(std::aligned_alloc(32, size_t(kchunk) * sizeof(PanelBlock)));
  if (!panel) return tk.rows(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  alignas(32) float acc[kTileC * 8];
  // Every panel sweeps the whole block of activation rows, so the block should stay in L2;
  // bigger blocks mean fewer re-unpacks of each panel (one per block).
  int64_t mblock = kMBlockBytes / (a_stride > 0 ? int64_t(a_stride) : 1) / kTileC * kTileC;
  mblock = mblock < 16 ? 16 : (mblock > 256 ? 256 : mblock);
  for (int64_t m0 = 0; m0 < m_rows; m0 += mblock) {
    const int64_t mb = m_rows - m0 < mblock ? m_rows - m0 : mblock;
    for (int64_t r = r0; r < r1; r += 8) {
      const int valid = int(r1 - r < 8 ? r1 - r : 8);
      for (int64_t kb0 = 0; kb0 < nb; kb0 += kchunk) {
        const int64_t kc = nb - kb0 < kchunk ? nb - kb0 : kchunk;
        if (tk.repacked)
          avx2_q8_k_unpack_repacked(tk.type, wb + size_t(r) * w_stride, nb, kb0, kc, panel);
        else
          unpack_panel(tk.unpack, tk.block_bytes, wb + size_t(r) * w_stride, w_stride, valid, kb0, kc, panel);
        for (int64_t m = m0; m < m0 + mb; m += kTileC) {
          const int C = int(m0 + mb - m < kTileC ? m0 + mb - m : kTileC);
          const BlockQ8_K* arow[kTileC];
          #pragma GCC unroll 64
          for (int c = 0; c < C; ++c) {
            arow[c] = reinterpret_cast<const BlockQ8_K*>(ab + size_t(m + c) * a_stride) + kb0;
            float* yr = y + (m + c) * ldy + r;
            #pragma GCC unroll 64
            for (int i = 0; i < 8; ++i) acc[8 * c + i] = (kb0 == 0 || i >= valid) ? 0.0f : yr[i];
          }
          tk.micro[C](panel, kc, arow, acc);
          #pragma GCC unroll 64
          for (int c = 0; c < C; ++c) {
            float* yr = y + (m + c) * ldy + r;
            if (valid == 8)
              _mm256_storeu_ps(yr, _mm256_load_ps(acc + 8 * c));
            else
              for (int i = 0; i < valid; ++i) yr[i] = acc[8 * c + i];
          }
        }
      }
    }
  }
  std::free(panel);
}

static void gemm_entry(DType t, UnpackFn unpack, size_t block_bytes, const MicroFn* micro, int64_t n,
                       const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                       size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  const TypeKernels tk = {t, false, unpack, block_bytes, micro, avx2_q8_k_rows_gemm(t)};
  if (m_rows < kPanelMinRows) return tk.rows(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  gemm_panels(tk, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
}

#define HEARTH_PANEL_GEMM(NAME, TYPE, BLOCK, MICRO)                                                    \
  static void NAME##_gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,          \
                          const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {    \
    gemm_entry(DType::TYPE, unpack_##NAME, sizeof(BLOCK), MICRO##_fns, n, w, w_stride, r0, r1, a,     \
               a_stride, m_rows, y, ldy);                                                             \
  }

HEARTH_PANEL_GEMM(q2_k, Q2_K, BlockQ2_K, g4)
HEARTH_PANEL_GEMM(q3_k, Q3_K, BlockQ3_K, g4)
HEARTH_PANEL_GEMM(q4_k, Q4_K, BlockQ4_K, g8)
HEARTH_PANEL_GEMM(q5_k, Q5_K, BlockQ5_K, g4)
HEARTH_PANEL_GEMM(q6_k, Q6_K, BlockQ6_K, g2)
HEARTH_PANEL_GEMM(iq4_xs, IQ4_XS, BlockIq4Xs, gs)

}  // namespace

void avx2_q8_k_panel_gemm_repacked(DType t, int64_t n, const void* w, size_t w_stride, int64_t r0,
                                   int64_t r1, const void* a, size_t a_stride, int64_t m_rows,
                                   float* y, int64_t ldy) {
  // int16 steps per madd as in the GGUF-layout instances below
  const MicroFn* micro = t == DType::Q6_K ? g2_fns : (t == DType::Q5_K ? g4_fns : g8_fns);
  const TypeKernels tk = {t, true, nullptr, 0, micro, avx2_q8_k_repacked_rows_gemm(t)};
  gemm_panels(tk, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
}

void register_avx2_q8_k_gemm(KernelTable& t) {
  t.gemm[int(DType::Q2_K)] = q2_k_gemm;
  t.gemm[int(DType::Q3_K)] = q3_k_gemm;
  t.gemm[int(DType::Q4_K)] = q4_k_gemm;
  t.gemm[int(DType::Q5_K)] = q5_k_gemm;
  t.gemm[int(DType::Q6_K)] = q6_k_gemm;
  t.gemm[int(DType::IQ4_XS)] = iq4_xs_gemm;
}

}  // namespace hearth::kernels::x86
