// AVX-512 VNNI blocked GEMM for the repacked (8-row interleaved, quant_q8_k_repack.h) Q4_K, Q5_K
// and Q6_K layouts x Q8_K activations (prefill), and their decode GEMVs (below the GEMM). Static
// functions only (see CMakeLists.txt).
//
// Scheme (the AVX2 PanelBlock GEMM of avx2/quant_q8_k_gemm.cpp, widened and moved to VNNI):
// two repacked 8-row groups (16 weight rows) are unpacked once per cache block into Panel16:
//   q[step][row][4]    unsigned levels u of 4 consecutive elements of each of the 16 rows per
//                      zmm ("step" = 4 elements, 64 steps per super-block)
//   sc[sub][row]       int32 scale of each sub-block (Q4_K/Q5_K: 8 of 32 elements = 8 steps;
//                      Q6_K: 16 of 16 elements = 4 steps)
//   mn[pair][row][2]   int16 multipliers of the activation's bsums pair (2p, 2p+1) (Q4_K/Q5_K:
//                      of the pair (bp_2q, bp_2q+1), bp_j = bsums[2j] + bsums[2j+1], q < 4)
//   d[row], dm[row]    f32 super-block scales
// For activation row a the super-block's contribution is
//   d * d_a * sum_sub sc * sum_k u_k * a_k  +  dm * d_a * sum_pair mn . bsums
// (Q4_K/Q5_K: mn = -min, dm = dmin; Q6_K: u = q + 32 and the -32 * sc * bsums term is folded into
// the sub-block sums, which start at -32 * bsums[sub]), the reference formula with exact integer sums.
// Micro-kernel: C activation rows x 16 weight rows; per step one zmm load of the weights and C
// vpdpbusd with the 4 activation bytes as an embedded {1to16} broadcast; each sub-block's int32
// sum is multiplied by its scales (vpmulld) into the super-block's int32 total; the mins term is
// 4 vpdpwssd per activation row (Q2_K: 8). Integer sums are exact: results equal the reference up to float
// summation order.
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "kernels/x86/avx2/quant_q8_k_repack.h"
#include "kernels/x86/avx2/quant_q8_k_unpack.h"
#include "kernels/x86/avx512/quant_q8_k_avx512.h"
#include "quant/blocks.h"

// GCC 12's AVX-512 intrinsics headers trip -Wmaybe-uninitialized (their _mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace hearth::kernels::x86 {
namespace {

using namespace hearth::quant;

#define HEARTH_AI __attribute__((always_inline)) inline

struct alignas(64) Panel16 {
  uint8_t q[64][64];   // [step][row][4]
  int32_t sc[16][16];  // [sub-block][row]
  int16_t mn[8][32];   // [bsums pair][row][2]
  float d[16];
  float dm[16];
};
static_assert(sizeof(Panel16) == 5760, "Panel16 layout");

constexpr int64_t kMinRows = 4;        // activation rows from which the panel path pays off
constexpr int64_t kMinRowsNoGemv = 2;  // the same for Q5_K / Q6_K (GEMV below only at m = 1)
constexpr int64_t kKChunk = 4;         // super-blocks of a panel unpacked at a time (~23 KiB, L1)
constexpr int64_t kMBlockBytes = 896 << 10;  // activation rows per cache block (L2)
constexpr int kTileC = 8;              // activation rows per micro-kernel call

static HEARTH_AI __m512i load2x256(const void* a, const void* b) {
  const __m256i lo = _mm256_loadu_si256(static_cast<const __m256i*>(a));
  if (!b) return _mm512_zextsi256_si512(lo);
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), _mm256_loadu_si256(static_cast<const __m256i*>(b)), 1);
}
static HEARTH_AI __m512i load2x128_u8_to_32(const void* a, const void* b) {  // 8 + 8 int8 -> 16 int32
  __m128i v = _mm_loadl_epi64(static_cast<const __m128i*>(a));
  if (b) v = _mm_unpacklo_epi64(v, _mm_loadl_epi64(static_cast<const __m128i*>(b)));
  return _mm512_cvtepi8_epi32(v);
}
static HEARTH_AI __m512 load_f16x2(const uint16_t* a, const uint16_t* b) {
  __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  __m256i w = _mm256_castsi128_si256(v);
  w = _mm256_inserti128_si256(w, b ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)) : _mm_setzero_si128(), 1);
  return _mm512_cvtph_ps(w);
}
static HEARTH_AI void store(void* p, __m512i v) { _mm512_store_si512(p, v); }

// Q4_K / Q5_K scales of 16 rows: int32 lane per row holding bytes 0-3 / 4-7 / 8-11 of the
// row's packed 6-bit scales -> sc[j] and mn pairs.
static HEARTH_AI void k4_scales16(const uint8_t* sa, const uint8_t* sb, Panel16& P) {
  const __m512i a = load2x256(sa, sb ? sb : nullptr), b = load2x256(sa + 32, sb ? sb + 32 : nullptr),
                c = load2x256(sa + 64, sb ? sb + 64 : nullptr);
  const __m512i m6 = _mm512_set1_epi32(0x3F3F3F3F), m4 = _mm512_set1_epi32(0x0F0F0F0F),
                m2 = _mm512_set1_epi32(0x30303030), ff = _mm512_set1_epi32(0xFF);
  const __m512i sc_lo = _mm512_and_si512(a, m6);
  const __m512i sc_hi = _mm512_or_si512(_mm512_and_si512(c, m4), _mm512_and_si512(_mm512_srli_epi32(a, 2), m2));
  const __m512i m_lo = _mm512_and_si512(b, m6);
  const __m512i m_hi =
      _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 4), m4), _mm512_and_si512(_mm512_srli_epi32(b, 2), m2));
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) {
    const __m512i s = _mm512_and_si512(_mm512_srli_epi32(j < 4 ? sc_lo : sc_hi, 8 * (j % 4)), ff);
    store(P.sc[j], s);
  }
  // mn[q] = (-m_2q, -m_2q+1) per row, against the bsums pair sums (bp_2q, bp_2q+1) where
  // bp_j = bsums[2j] + bsums[2j+1] (the micro-kernel forms them): 4 vpdpwssd instead of 8.
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    const __m512i v = _mm512_srli_epi32(q < 2 ? m_lo : m_hi, 16 * (q % 2));
    const __m512i pair = _mm512_or_si512(_mm512_and_si512(v, ff), _mm512_slli_epi32(_mm512_and_si512(v, _mm512_set1_epi32(0xFF00)), 8));
    store(P.mn[q], _mm512_sub_epi16(_mm512_setzero_si512(), pair));
  }
}

static void panel_q4_k(const BlockQ4_Kx8* A, const BlockQ4_Kx8* B, int64_t kc, Panel16* panel) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int64_t b = 0; b < kc; ++b) {
    const BlockQ4_Kx8& X = A[b];
    const BlockQ4_Kx8* Y = B ? &B[b] : nullptr;
    Panel16& P = panel[b];
#pragma GCC unroll 4
    for (int ch = 0; ch < 4; ++ch)
#pragma GCC unroll 8
      for (int l4 = 0; l4 < 8; ++l4) {
        const int o = (8 * ch + l4) * 32;
        const __m512i w = load2x256(X.qs + o, Y ? Y->qs + o : nullptr);
        store(P.q[16 * ch + l4], _mm512_and_si512(w, m4));
        store(P.q[16 * ch + 8 + l4], _mm512_and_si512(_mm512_srli_epi16(w, 4), m4));
      }
    k4_scales16(X.scales, Y ? Y->scales : nullptr, P);
    _mm512_store_ps(P.d, load_f16x2(X.d, Y ? Y->d : nullptr));
    _mm512_store_ps(P.dm, load_f16x2(X.dmin, Y ? Y->dmin : nullptr));
  }
}

// Bit `bit` of every byte of h moved to bit 4 (value 16), other bits cleared.
static HEARTH_AI __m512i bit_to_16(__m512i h, int bit) {
  const __m512i m = _mm512_set1_epi8(0x10);
  if (bit < 4) return _mm512_and_si512(_mm512_slli_epi16(h, 4 - bit), m);
  if (bit == 4) return _mm512_and_si512(h, m);
  return _mm512_and_si512(_mm512_srli_epi16(h, bit - 4), m);
}

static void panel_q5_k(const BlockQ5_Kx8* A, const BlockQ5_Kx8* B, int64_t kc, Panel16* panel) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int64_t b = 0; b < kc; ++b) {
    const BlockQ5_Kx8& X = A[b];
    const BlockQ5_Kx8* Y = B ? &B[b] : nullptr;
    Panel16& P = panel[b];
#pragma GCC unroll 8
    for (int l4 = 0; l4 < 8; ++l4) {
      const __m512i h = load2x256(X.qh + 32 * l4, Y ? Y->qh + 32 * l4 : nullptr);
#pragma GCC unroll 4
      for (int ch = 0; ch < 4; ++ch) {
        const int o = (8 * ch + l4) * 32;
        const __m512i w = load2x256(X.qs + o, Y ? Y->qs + o : nullptr);
        store(P.q[16 * ch + l4], _mm512_or_si512(_mm512_and_si512(w, m4), bit_to_16(h, 2 * ch)));
        store(P.q[16 * ch + 8 + l4],
              _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(w, 4), m4), bit_to_16(h, 2 * ch + 1)));
      }
    }
    k4_scales16(X.scales, Y ? Y->scales : nullptr, P);
    _mm512_store_ps(P.d, load_f16x2(X.d, Y ? Y->d : nullptr));
    _mm512_store_ps(P.dm, load_f16x2(X.dmin, Y ? Y->dmin : nullptr));
  }
}

static void panel_q6_k(const BlockQ6_Kx8* A, const BlockQ6_Kx8* B, int64_t kc, Panel16* panel) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
  for (int64_t b = 0; b < kc; ++b) {
    const BlockQ6_Kx8& X = A[b];
    const BlockQ6_Kx8* Y = B ? &B[b] : nullptr;
    Panel16& P = panel[b];
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h)
#pragma GCC unroll 8
      for (int l4 = 0; l4 < 8; ++l4) {
        const uint8_t* xq = X.q[8 * h + l4];
        const uint8_t* yq = Y ? Y->q[8 * h + l4] : nullptr;
        const __m512i l0 = load2x256(xq, yq ? yq : nullptr);
        const __m512i l1 = load2x256(xq + 32, yq ? yq + 32 : nullptr);
        const __m512i hb = load2x256(xq + 64, yq ? yq + 64 : nullptr);
        store(P.q[32 * h + l4], _mm512_or_si512(_mm512_and_si512(l0, m4), _mm512_and_si512(_mm512_slli_epi16(hb, 4), m30)));
        store(P.q[32 * h + 8 + l4],
              _mm512_or_si512(_mm512_and_si512(l1, m4), _mm512_and_si512(_mm512_slli_epi16(hb, 2), m30)));
        store(P.q[32 * h + 16 + l4],
              _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l0, 4), m4), _mm512_and_si512(hb, m30)));
        store(P.q[32 * h + 24 + l4], _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l1, 4), m4),
                                                     _mm512_and_si512(_mm512_srli_epi16(hb, 2), m30)));
      }
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) store(P.sc[j], load2x128_u8_to_32(X.scales + 8 * j, Y ? Y->scales + 8 * j : nullptr));
    // (no mn: the micro-kernel starts each sub-block's sum at -32 * bsums)
    const __m512 d = load_f16x2(X.d, Y ? Y->d : nullptr);
    _mm512_store_ps(P.d, d);
    _mm512_store_ps(P.dm, d);
  }
}

// s += dpbusd(w, broadcast of the 4 bytes at p) / dpwssd(w, broadcast of the 2 int16 at p), with
// the broadcast embedded in the instruction ({1to16}; GCC 12 emits a separate vpbroadcastd for
// the intrinsic). The asm also keeps GCC from reassociating the accumulation chains.
static HEARTH_AI __m512i dpbusd_b(__m512i s, __m512i w, const void* p) {
  asm("vpdpbusd %[a]%{1to16%}, %[w], %[s]" : [s] "+v"(s) : [w] "v"(w), [a] "m"(*static_cast<const int32_t*>(p)));
  return s;
}
static HEARTH_AI __m512i dpwssd_b(__m512i s, __m512i w, const void* p) {
  asm("vpdpwssd %[a]%{1to16%}, %[w], %[s]" : [s] "+v"(s) : [w] "v"(w), [a] "m"(*static_cast<const int32_t*>(p)));
  return s;
}

// C activation rows x 16 weight rows over kc super-blocks; acc[c][16] in/out (64-byte aligned).
// S = steps per sub-block (8: 32-element sub-blocks, 4: 16-element). MODE: kSep = mins term
// (vpdpwssd by mn) scaled by dm (Q4_K, Q5_K, Q2_K); kMerge = the same term added to the integer
// total before the one conversion (dm = d: Q3_K, IQ4_XS, whose offset terms are large and cancel);
// kCorr32 = Q6_K, sub-block sums start at -32 * bsums.
constexpr int kSep = 0, kMerge = 1, kCorr32 = 2;
template <int C, int S, int MODE>
static void micro(const Panel16* panel, int64_t kc, const BlockQ8_K* const* arow, float* accp) {
  for (int64_t b = 0; b < kc; ++b) {
    const Panel16& P = panel[b];
    const int8_t* aq[C];
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) aq[c] = arow[c][b].qs;
    __m512i tot[C];
#pragma GCC unroll 16
    for (int c = 0; c < C; ++c) tot[c] = _mm512_setzero_si512();
    // !SEP (Q6_K): each 16-element sub-block's sum starts at -32 * bsums[sub], so the scale
    // multiplies sum (u - 32) * a directly and no separate mins term is needed.
    alignas(64) int32_t corr[MODE == kCorr32 ? C : 1][16];
    if (MODE == kCorr32) {
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c)
        _mm512_store_si512(corr[c], _mm512_sub_epi32(_mm512_setzero_si512(),
                                                     _mm512_slli_epi32(_mm512_cvtepi16_epi32(_mm256_loadu_si256(
                                                                           reinterpret_cast<const __m256i*>(arow[c][b].bsums))),
                                                                       5)));
    }
#pragma GCC unroll 1
    for (int sub = 0; sub < 64 / S; ++sub) {
      __m512i s[C];
#pragma GCC unroll 8
      for (int t = 0; t < S; ++t) {
        const int step = sub * S + t;
        const __m512i w = _mm512_load_si512(P.q[step]);
#pragma GCC unroll 16
        for (int c = 0; c < C; ++c) {
          const __m512i s0 =
              MODE != kCorr32 ? _mm512_setzero_si512() : _mm512_set1_epi32(corr[MODE == kCorr32 ? c : 0][sub]);
          s[c] = dpbusd_b(t == 0 ? s0 : s[c], w, aq[c] + 4 * step);
        }
      }
      const __m512i scv = _mm512_load_si512(P.sc[sub]);
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) tot[c] = _mm512_add_epi32(tot[c], _mm512_mullo_epi32(s[c], scv));
    }
    const __m512 d = _mm512_load_ps(P.d);
    if (MODE == kMerge) {
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) {
        __m512i t = tot[c];
#pragma GCC unroll 8
        for (int p = 0; p < 8; ++p) t = dpwssd_b(t, _mm512_load_si512(P.mn[p]), arow[c][b].bsums + 2 * p);
        _mm512_store_ps(accp + 16 * c, _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_mul_ps(d, _mm512_set1_ps(arow[c][b].d)),
                                                       _mm512_load_ps(accp + 16 * c)));
      }
    } else if (MODE == kSep) {
      const __m512 dm = _mm512_load_ps(P.dm);
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c) {
        __m512i ms = _mm512_setzero_si512();
        if (S == 8) {  // Q4_K / Q5_K: mins per 32-element sub-block, paired bsums sums
          alignas(16) int16_t bp[8];
          _mm_store_si128(reinterpret_cast<__m128i*>(bp),
                          _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(arow[c][b].bsums)),
                                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(arow[c][b].bsums + 8))));
#pragma GCC unroll 4
          for (int q = 0; q < 4; ++q) ms = dpwssd_b(ms, _mm512_load_si512(P.mn[q]), bp + 2 * q);
        } else {
#pragma GCC unroll 8
          for (int p = 0; p < 8; ++p) ms = dpwssd_b(ms, _mm512_load_si512(P.mn[p]), arow[c][b].bsums + 2 * p);
        }
        const __m512 da = _mm512_set1_ps(arow[c][b].d);
        __m512 acc = _mm512_load_ps(accp + 16 * c);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ms), _mm512_mul_ps(dm, da), acc);
        _mm512_store_ps(accp + 16 * c, _mm512_fmadd_ps(_mm512_cvtepi32_ps(tot[c]), _mm512_mul_ps(d, da), acc));
      }
    } else {
#pragma GCC unroll 16
      for (int c = 0; c < C; ++c)
        _mm512_store_ps(accp + 16 * c, _mm512_fmadd_ps(_mm512_cvtepi32_ps(tot[c]),
                                                       _mm512_mul_ps(d, _mm512_set1_ps(arow[c][b].d)),
                                                       _mm512_load_ps(accp + 16 * c)));
    }
  }
}

using MicroFn = void (*)(const Panel16* panel, int64_t kc, const BlockQ8_K* const* arow, float* acc);

template <int S, int SEP>
struct Micros {
  static constexpr MicroFn fns[kTileC + 1] = {
      nullptr,          micro<1, S, SEP>, micro<2, S, SEP>,  micro<3, S, SEP>,  micro<4, S, SEP>,
      micro<5, S, SEP>, micro<6, S, SEP>, micro<7, S, SEP>,  micro<8, S, SEP>};
};

using PanelFn = void (*)(const void* A, const void* B, int64_t kb0, int64_t kc, Panel16* panel);

static void panel_q4_k_fn(const void* A, const void* B, int64_t kb0, int64_t kc, Panel16* panel) {
  panel_q4_k(static_cast<const BlockQ4_Kx8*>(A) + kb0, B ? static_cast<const BlockQ4_Kx8*>(B) + kb0 : nullptr, kc,
             panel);
}
static void panel_q5_k_fn(const void* A, const void* B, int64_t kb0, int64_t kc, Panel16* panel) {
  panel_q5_k(static_cast<const BlockQ5_Kx8*>(A) + kb0, B ? static_cast<const BlockQ5_Kx8*>(B) + kb0 : nullptr, kc,
             panel);
}
static void panel_q6_k_fn(const void* A, const void* B, int64_t kb0, int64_t kc, Panel16* panel) {
  panel_q6_k(static_cast<const BlockQ6_Kx8*>(A) + kb0, B ? static_cast<const BlockQ6_Kx8*>(B) + kb0 : nullptr, kc,
             panel);
}


// ---------------------------------------------------------------------------------------------
// GGUF-layout Q2_K, Q3_K, IQ4_XS (no repacked layout): each row's super-block is unpacked into
// levels / scales / bsums multipliers (as avx2/quant_q8_k_gemm.cpp does), then 16 rows are
// gathered into a Panel16. IQ4_XS: u = value + 128 (unsigned), mn = -128 * scale.
struct alignas(64) RowLv {
  uint8_t u[256];
  int32_t sc[16];  // per sub-block of the micro-kernel (Q2_K/Q3_K: 16 of 16; IQ4_XS: 8 of 32)
  int16_t mn[16];  // per 16-element bsums
  float d, dm;
  uint8_t pad[24];
};
static_assert(sizeof(RowLv) == 384, "RowLv");

static HEARTH_AI void su256(void* p, __m256i v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }

static void row_q2_k(const void* blk, RowLv& o) {
  const auto& x = *static_cast<const BlockQ2_K*>(blk);
  q2_k_levels(x, o.u);
  __m128i sc, mn;
  q2_k_scales(x, &sc, &mn);
  _mm512_store_si512(o.sc, _mm512_cvtepu8_epi32(sc));
  su256(o.mn, _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_cvtepu8_epi16(mn)));
  o.d = _cvtsh_ss(x.d);
  o.dm = _cvtsh_ss(x.dmin);
}

static void row_q3_k(const void* blk, RowLv& o) {
  const auto& x = *static_cast<const BlockQ3_K*>(blk);
  q3_k_levels(x, o.u);  // u = q + 4
  const __m128i s8 = q3_k_scales(x);
  _mm512_store_si512(o.sc, _mm512_cvtepi8_epi32(s8));
  su256(o.mn, _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(_mm256_cvtepi8_epi16(s8), 2)));
  o.d = _cvtsh_ss(x.d);
  o.dm = o.d;
}

static void row_iq4_xs(const void* blk, RowLv& o) {
  const auto& x = *static_cast<const BlockIq4Xs*>(blk);
  // kvalues_iq4nl + 128
  iq4_xs_levels(x,
                _mm256_broadcastsi128_si256(_mm_xor_si128(
                    _mm_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113),
                    _mm_set1_epi8(char(0x80)))),
                o.u);
  const __m128i s8 = iq4_xs_scales(x);                 // 8 scales of 32
  _mm512_store_si512(o.sc, _mm512_cvtepi8_epi32(s8));  // sc[0..7] used
  // mn per 16-element bsums: -128 * scale of its 32-element sub-block
  su256(o.mn, _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(_mm256_cvtepi8_epi16(_mm_unpacklo_epi8(s8, s8)), 7)));
  o.d = _cvtsh_ss(x.d);
  o.dm = o.d;
}

using RowFn = void (*)(const void* blk, RowLv& o);

// Super-blocks [kb0, kb0 + kc) of rows w .. w + (valid - 1) * ws into panel[0 .. kc).
static void panel_rows(RowFn rowfn, size_t block_bytes, const uint8_t* w, size_t ws, int valid, int64_t kb0,
                       int64_t kc, Panel16* panel) {
  RowLv rl[16];
  for (int r = valid; r < 16; ++r) std::memset(&rl[r], 0, sizeof(RowLv));
  const __m512i vidx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                          _mm512_set1_epi32(int(sizeof(RowLv))));
  const auto* base = reinterpret_cast<const uint8_t*>(rl);
  for (int64_t b = 0; b < kc; ++b) {
    for (int r = 0; r < valid; ++r) rowfn(w + size_t(r) * ws + size_t(kb0 + b) * block_bytes, rl[r]);
    Panel16& P = panel[b];
#pragma GCC unroll 8
    for (int step = 0; step < 64; ++step)
      store(P.q[step], _mm512_i32gather_epi32(vidx, base + offsetof(RowLv, u) + 4 * step, 1));
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) store(P.sc[j], _mm512_i32gather_epi32(vidx, base + offsetof(RowLv, sc) + 4 * j, 1));
#pragma GCC unroll 8
    for (int p = 0; p < 8; ++p) store(P.mn[p], _mm512_i32gather_epi32(vidx, base + offsetof(RowLv, mn) + 4 * p, 1));
    _mm512_store_ps(P.d, _mm512_i32gather_ps(vidx, base + offsetof(RowLv, d), 1));
    _mm512_store_ps(P.dm, _mm512_i32gather_ps(vidx, base + offsetof(RowLv, dm), 1));
  }
}

using RepackFn = void (*)(const void* src, void* dst, int64_t rows, int64_t n);

// Weights in the repacked layout (repack == nullptr; r0, r1 multiples of 8) or in the GGUF
// layout (repack = the AVX2 8-row repack of the type, block_bytes its block size; any r0, r1):
// then each K chunk of 8 rows is copied (missing rows zero: zero blocks contribute nothing) and
// repacked into a small buffer before the panel unpack.
static void gemm_panels(PanelFn unpack, const MicroFn* micros, RepackFn repack, RowFn rowfn, size_t block_bytes, int64_t n,
                        const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a, size_t a_stride,
                        int64_t m_rows, float* y, int64_t ldy) {
  const int64_t nb = n / kQK_K;
  const int64_t kchunk = nb < kKChunk ? nb : kKChunk;
  alignas(64) Panel16 panel[kKChunk];
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  alignas(64) float acc[kTileC * 16];
  // GGUF layout only: one group's K chunk before and after the repack (Q6_K: 8 x 4 x 210 bytes)
  alignas(64) uint8_t src[8 * kKChunk * 256];
  alignas(64) uint8_t packed[2][8 * kKChunk * 256];
  int64_t mblock = kMBlockBytes / (a_stride > 0 ? int64_t(a_stride) : 1) / kTileC * kTileC;
  mblock = mblock < 16 ? 16 : (mblock > 512 ? 512 : mblock);
  for (int64_t m0 = 0; m0 < m_rows; m0 += mblock) {
    const int64_t mb = m_rows - m0 < mblock ? m_rows - m0 : mblock;
    for (int64_t r = r0; r < r1; r += 16) {
      const int valid = int(r1 - r < 16 ? r1 - r : 16);  // repacked: 8 or 16
      const __mmask16 vmask = valid >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << valid) - 1);
      const uint8_t* ga = wb + size_t(r) * w_stride;
      const uint8_t* gb = valid > 8 ? wb + size_t(r + 8) * w_stride : nullptr;
      for (int64_t kb0 = 0; kb0 < nb; kb0 += kchunk) {
        const int64_t kc = nb - kb0 < kchunk ? nb - kb0 : kchunk;
        if (rowfn) {
          panel_rows(rowfn, block_bytes, ga, w_stride, valid, kb0, kc, panel);
        } else if (repack) {
          const size_t cb = size_t(kc) * block_bytes;  // one row's chunk
          const uint8_t* gp[2] = {nullptr, nullptr};
          for (int g = 0; g < 2; ++g) {
            const int rows_g = valid - 8 * g < 8 ? valid - 8 * g : 8;
            if (rows_g <= 0) break;
            for (int i = 0; i < 8; ++i) {
              if (i < rows_g)
                std::memcpy(src + size_t(i) * cb, wb + size_t(r + 8 * g + i) * w_stride + size_t(kb0) * block_bytes, cb);
              else
                std::memset(src + size_t(i) * cb, 0, cb);
            }
            repack(src, packed[g], 8, kc * kQK_K);
            gp[g] = packed[g];
          }
          unpack(gp[0], gp[1], 0, kc, panel);
        } else {
          unpack(ga, gb, kb0, kc, panel);
        }
        for (int64_t m = m0; m < m0 + mb; m += kTileC) {
          const int C = int(m0 + mb - m < kTileC ? m0 + mb - m : kTileC);
          const BlockQ8_K* arow[kTileC];
          for (int c = 0; c < C; ++c) {
            arow[c] = reinterpret_cast<const BlockQ8_K*>(ab + size_t(m + c) * a_stride) + kb0;
            float* yr = y + (m + c) * ldy + r;
            const __m512 prev = kb0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(vmask, yr);
            _mm512_store_ps(acc + 16 * c, prev);
          }
          micros[C](panel, kc, arow, acc);
          for (int c = 0; c < C; ++c)
            _mm512_mask_storeu_ps(y + (m + c) * ldy + r, vmask, _mm512_load_ps(acc + 16 * c));
        }
      }
    }
  }
}


// ---------------------------------------------------------------------------------------------
// GEMV / few activation rows (Q4_K: m < kMinRows; Q5_K, Q6_K: m = 1): the weights are unpacked
// in registers as they stream by (no panel), C <= 3 activation rows share each weight load, one
// 8-row group per pass (one read stream per thread), software prefetch a few super-blocks ahead.
// The prefetch distance decides the DRAM rate with 2 threads: an earlier one-group Q6_K kernel
// prefetching 2 blocks ahead was ~15% slower than the AVX2 row kernel; at 4 blocks this one is
// ~1.3x faster (docs/KERNELS.md). Distances measured on a 2048 x 151936 product (an output
// head) through ops::matmul, 2 threads, two distances alternating in one process:
// Q4_K (1152 B per group block): 6 blocks (6.75 KiB); 2 blocks were 5-8% slower (58.6 -> 63.2,
// 65.6 -> 71.5 GB/s), 3 and 4 between, 8 and 12 1-5% slower than 6.
constexpr int kPrefetchBlocks = 6;
// Q6_K (1680 B): 4 blocks (6.6 KiB); 2 blocks were 7-8% slower, 3 1-4%, 6 5-6%, 8 7-8%.
constexpr int kPrefetchBlocksQ6 = 4;
// Q5_K (1408 B): 3 blocks (4.1 KiB); 2-4 within 1-2% of each other, 5 and 6 3-6% slower.
constexpr int kPrefetchBlocksQ5 = 3;

// Bit `bit` of every byte of h moved to bit 4 (other bits: garbage, masked by the caller). The
// 16-bit shifts move bits across the byte boundary only into positions other than 4.
static HEARTH_AI __m512i bit_to_4(__m512i h, int bit) {
  if (bit < 4) return _mm512_slli_epi16(h, 4 - bit);
  if (bit == 4) return h;
  return _mm512_srli_epi16(h, bit - 4);
}

static HEARTH_AI void prefetch_bytes(const void* p, int bytes) {
  const char* c = static_cast<const char*>(p);
#pragma GCC unroll 32
  for (int i = 0; i < bytes; i += 64) _mm_prefetch(c + i, _MM_HINT_T0);
}

// One 8-row group per pass (a single read stream per thread): a zmm holds steps l4 and l4 + 1
// of the 8 rows, so the activation operand is [4 bytes of step l4] x 8 | [step l4 + 1] x 8,
// precomputed once per call ("doubled" activations, 8 bytes per element pair -> 64 bytes).
// The two 256-bit halves (same rows, same sub-block) are added at the end.
static HEARTH_AI void double_acts(const BlockQ8_K* a, int64_t nb, uint8_t* dst) {
  const __m512i idx = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  for (int64_t b = 0; b < nb; ++b)
#pragma GCC unroll 32
    for (int p = 0; p < 32; ++p) {
      const __m512i v = _mm512_castsi128_si512(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a[b].qs + 8 * p)));
      _mm512_store_si512(dst + (b * 32 + p) * 64, _mm512_permutexvar_epi32(idx, v));
    }
}

// Q5_K (Block = BlockQ5_Kx8) is the same kernel plus the 5th bits: qh of steps l4, l4 + 1 are
// the 64 contiguous bytes at qh + 32 * l4, matching the zmm's halves, and bit 2ch (low nibbles)
// / 2ch + 1 (high nibbles) of each byte becomes the level's bit 4 (levels <= 31).
template <class Block, int C>
static void group1_q45_k(int64_t nb, const Block* x, const BlockQ8_K* const* a, const uint8_t* const* ad,
                         float* out, int64_t ldo) {
  constexpr bool kQ5 = std::is_same_v<Block, BlockQ5_Kx8>;
  constexpr int kAhead = kQ5 ? kPrefetchBlocksQ5 : kPrefetchBlocks;
  const __m512i m4 = _mm512_set1_epi8(0x0F), m10 = _mm512_set1_epi8(0x10);
  const __m512i m6 = _mm512_set1_epi32(0x3F3F3F3F), m4d = _mm512_set1_epi32(0x0F0F0F0F),
                m2 = _mm512_set1_epi32(0x30303030), ff = _mm512_set1_epi32(0xFF), lo16 = _mm512_set1_epi32(0x00FF00FF);
  __m512 acc[C], accm[C];
#pragma GCC unroll 4
  for (int c = 0; c < C; ++c) acc[c] = _mm512_setzero_ps(), accm[c] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const Block& X = x[b];
    prefetch_bytes(&x[b + kAhead], int(sizeof(Block)));
    // scales of the 8 rows, duplicated into both halves
    const __m512i sa = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(X.scales)));
    const __m512i sb = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(X.scales + 32)));
    const __m512i sc2 = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(X.scales + 64)));
    const __m512i sc_lo = _mm512_and_si512(sa, m6);
    const __m512i sc_hi = _mm512_or_si512(_mm512_and_si512(sc2, m4d), _mm512_and_si512(_mm512_srli_epi32(sa, 2), m2));
    const __m512i m_lo = _mm512_and_si512(sb, m6);
    const __m512i m_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(sc2, 4), m4d),
                                         _mm512_and_si512(_mm512_srli_epi32(sb, 2), m2));
    // mins only in the low half (the halves are summed at the end)
    const __mmask16 lo8 = 0x00FF;
    const __m512i mp0 = _mm512_maskz_and_epi32(lo8, m_lo, lo16);
    const __m512i mp1 = _mm512_maskz_and_epi32(lo8, _mm512_srli_epi32(m_lo, 8), lo16);
    const __m512i mp2 = _mm512_maskz_and_epi32(lo8, m_hi, lo16);
    const __m512i mp3 = _mm512_maskz_and_epi32(lo8, _mm512_srli_epi32(m_hi, 8), lo16);
    const __m512 d = _mm512_cvtph_ps(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(X.d))));
    const __m512 dmin =
        _mm512_cvtph_ps(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(X.dmin))));
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const BlockQ8_K& y = a[c][b];
      const uint8_t* yd = ad[c] + b * 32 * 64;  // doubled activations of this super-block
      const __m128i bp = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y.bsums)),
                                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(y.bsums + 8)));
      alignas(16) int16_t bq[8];
      _mm_store_si128(reinterpret_cast<__m128i*>(bq),
                      _mm_shuffle_epi8(bp, _mm_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15)));
      __m512i ms = dpwssd_b(_mm512_setzero_si512(), mp0, bq);
      ms = dpwssd_b(ms, mp1, bq + 2);
      ms = dpwssd_b(ms, mp2, bq + 4);
      ms = dpwssd_b(ms, mp3, bq + 6);
      __m512i tot = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int ch = 0; ch < 4; ++ch) {
        __m512i slo = _mm512_setzero_si512(), shi = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int l2 = 0; l2 < 4; ++l2) {  // steps l4 = 2 * l2, 2 * l2 + 1
          const __m512i w = _mm512_loadu_si512(X.qs + (8 * ch + 2 * l2) * 32);
          __m512i lo, hi;
          if constexpr (kQ5) {
            // 0xEA: (A & B) | C
            const __m512i h = _mm512_loadu_si512(X.qh + 64 * l2);
            lo = _mm512_ternarylogic_epi32(w, m4, _mm512_and_si512(bit_to_4(h, 2 * ch), m10), 0xEA);
            hi = _mm512_ternarylogic_epi32(_mm512_srli_epi16(w, 4), m4, _mm512_and_si512(bit_to_4(h, 2 * ch + 1), m10), 0xEA);
          } else {
            lo = _mm512_and_si512(w, m4);
            hi = _mm512_and_si512(_mm512_srli_epi16(w, 4), m4);
          }
          // elements 64ch + 8 l2 .. +7 (pair index 16ch + 2 l2... in 8-byte units: (64ch + 8 l2) / 8)
          slo = _mm512_dpbusd_epi32(slo, lo, _mm512_load_si512(yd + (8 * ch + l2) * 64));
          shi = _mm512_dpbusd_epi32(shi, hi, _mm512_load_si512(yd + (8 * ch + 4 + l2) * 64));
        }
        const __m512i sv = ch < 2 ? sc_lo : sc_hi;
        const __m512i s0 = _mm512_and_si512(_mm512_srli_epi32(sv, 16 * (ch % 2)), ff);
        const __m512i s1 = _mm512_and_si512(_mm512_srli_epi32(sv, 16 * (ch % 2) + 8), ff);
        tot = _mm512_add_epi32(tot, _mm512_mullo_epi32(slo, s0));
        tot = _mm512_add_epi32(tot, _mm512_mullo_epi32(shi, s1));
      }
      const __m512 da = _mm512_set1_ps(y.d);
      acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(tot), _mm512_mul_ps(d, da), acc[c]);
      accm[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ms), _mm512_mul_ps(dmin, da), accm[c]);
    }
  }
#pragma GCC unroll 4
  for (int c = 0; c < C; ++c) {
    const __m512 r = _mm512_sub_ps(acc[c], accm[c]);
    _mm256_storeu_ps(out + c * ldo, _mm256_add_ps(_mm512_castps512_ps256(r), _mm512_extractf32x8_ps(r, 1)));
  }
}


// Q6_K, one 8-row group per pass as for Q4_K: a zmm holds ql parts 0 and 1 of step s (the 64
// contiguous bytes of the step), the step's qh duplicated into both halves and shifted per half
// (vpsllvw / vpsrlvw: part 0 takes qh bits 0-1 / 4-5, part 1 bits 2-3 / 6-7), so
//   ua = [g0 | g1] = (ql & 15) | (qh << {4 | 2} & 0x30),
//   ub = [g2 | g3] = (ql >> 4 & 15) | (qh >> {0 | 2} & 0x30)
// are the unsigned levels u = q + 32 of element groups g (elements 32g + 4 l4 .. +3 of the half
// n) and vpdpbusd takes them against doubled activations [group g x 8 | group g + 1 x 8]
// (double_acts_q6). Sub-block of group g at step l4: j = 8n + 2g + (l4 >= 4); the int32 sums of
// 4 steps (<= 4 * 4 * 63 * 128) are multiplied by their sub-block's scale per row, and
// -32 * sum_j sc_j * bsums_j removes the offset, as in the AVX2 row kernel.
static HEARTH_AI void double_acts_q6(const BlockQ8_K* a, int64_t nb, uint8_t* dst) {
  for (int64_t b = 0; b < nb; ++b)
#pragma GCC unroll 16
    for (int st = 0; st < 16; ++st) {
      const int n = st / 8, l4 = st % 8;
#pragma GCC unroll 2
      for (int pi = 0; pi < 2; ++pi) {
        const int8_t* y = a[b].qs + 128 * n + 64 * pi + 4 * l4;
        int32_t lo, hi;
        std::memcpy(&lo, y, 4);
        std::memcpy(&hi, y + 32, 4);
        const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(lo)), _mm256_set1_epi32(hi), 1);
        _mm512_store_si512(dst + ((b * 16 + st) * 2 + pi) * 64, v);
      }
    }
}

// int32 [sc[j][row] x 8 | sc[j + 2][row] x 8]
static HEARTH_AI __m512i q6k_scales_j_j2(const int8_t* scales, int j) {
  const __m128i lo = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(scales + 8 * j));
  const __m128i hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(scales + 8 * j + 16));
  return _mm512_cvtepi8_epi32(_mm_unpacklo_epi64(lo, hi));
}

template <int C>
static void group1_q6_k(int64_t nb, const BlockQ6_Kx8* x, const BlockQ8_K* const* a, const uint8_t* const* ad,
                        float* out, int64_t ldo) {
  const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
  // per-16-bit-lane shift counts: low half (part 0) / high half (part 1)
  const __m512i sh_a = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  const __m512i sh_b = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  __m256 acc[C];
#pragma GCC unroll 4
  for (int c = 0; c < C; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const BlockQ6_Kx8& X = x[b];
    prefetch_bytes(&x[b + kPrefetchBlocksQ6], int(sizeof(BlockQ6_Kx8)));
    __m512i tot[C];
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) tot[c] = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int n = 0; n < 2; ++n) {
#pragma GCC unroll 2
      for (int half4 = 0; half4 < 2; ++half4) {
        __m512i sa[C], sb[C];
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) sa[c] = _mm512_setzero_si512(), sb[c] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int l = 0; l < 4; ++l) {
          const int st = 8 * n + 4 * half4 + l;
          const __m512i w = _mm512_loadu_si512(X.q[st]);
          const __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(X.q[st] + 64)));
          // 0xEA: (A & B) | C... here A = ql bits, B = m4, C = high bits already masked
          const __m512i ua = _mm512_ternarylogic_epi32(w, m4, _mm512_and_si512(_mm512_sllv_epi16(hb, sh_a), m30), 0xEA);
          const __m512i ub = _mm512_ternarylogic_epi32(_mm512_srli_epi16(w, 4), m4,
                                                       _mm512_and_si512(_mm512_srlv_epi16(hb, sh_b), m30), 0xEA);
#pragma GCC unroll 4
          for (int c = 0; c < C; ++c) {
            const uint8_t* yd = ad[c] + (b * 16 + st) * 2 * 64;
            sa[c] = _mm512_dpbusd_epi32(sa[c], ua, _mm512_load_si512(yd));
            sb[c] = _mm512_dpbusd_epi32(sb[c], ub, _mm512_load_si512(yd + 64));
          }
        }
        const int j0 = 8 * n + half4;  // g0's sub-block; g1: +2, g2: +4, g3: +6
        const __m512i sca = q6k_scales_j_j2(X.scales, j0), scb = q6k_scales_j_j2(X.scales, j0 + 4);
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c)
          tot[c] = _mm512_add_epi32(tot[c], _mm512_add_epi32(_mm512_mullo_epi32(sa[c], sca), _mm512_mullo_epi32(sb[c], scb)));
      }
    }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(X.d)));
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) {
      const BlockQ8_K& y = a[c][b];
      const __m256i corr = q6k_scaled_bsums(X, y.bsums);
      const __m256i isum = _mm256_sub_epi32(
          _mm256_add_epi32(_mm512_castsi512_si256(tot[c]), _mm512_extracti64x4_epi64(tot[c], 1)), _mm256_slli_epi32(corr, 5));
      acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, _mm256_set1_ps(y.d)), acc[c]);
    }
  }
#pragma GCC unroll 4
  for (int c = 0; c < C; ++c) _mm256_storeu_ps(out + c * ldo, acc[c]);
}

using DoubleFn = void (*)(const BlockQ8_K* a, int64_t nb, uint8_t* dst);
using Group1Fn = void (*)(int64_t nb, const void* x, const BlockQ8_K* const* a, const uint8_t* const* ad, float* out,
                          int64_t ldo);

template <int C>
static void g1_q4(int64_t nb, const void* x, const BlockQ8_K* const* a, const uint8_t* const* ad, float* out,
                  int64_t ldo) {
  group1_q45_k<BlockQ4_Kx8, C>(nb, static_cast<const BlockQ4_Kx8*>(x), a, ad, out, ldo);
}
template <int C>
static void g1_q5(int64_t nb, const void* x, const BlockQ8_K* const* a, const uint8_t* const* ad, float* out,
                  int64_t ldo) {
  group1_q45_k<BlockQ5_Kx8, C>(nb, static_cast<const BlockQ5_Kx8*>(x), a, ad, out, ldo);
}
static const Group1Fn kG1Q5[4] = {nullptr, g1_q5<1>, g1_q5<2>, g1_q5<3>};
static void dbl_q4(const BlockQ8_K* a, int64_t nb, uint8_t* dst) { double_acts(a, nb, dst); }
static const Group1Fn kG1Q4[4] = {nullptr, g1_q4<1>, g1_q4<2>, g1_q4<3>};
template <int C>
static void g1_q6(int64_t nb, const void* x, const BlockQ8_K* const* a, const uint8_t* const* ad, float* out,
                  int64_t ldo) {
  group1_q6_k<C>(nb, static_cast<const BlockQ6_Kx8*>(x), a, ad, out, ldo);
}
static void dbl_q6(const BlockQ8_K* a, int64_t nb, uint8_t* dst) { double_acts_q6(a, nb, dst); }
static const Group1Fn kG1Q6[4] = {nullptr, g1_q6<1>, g1_q6<2>, g1_q6<3>};

struct RowsBuf {
  uint8_t* p = nullptr;
  size_t cap = 0;
  ~RowsBuf() { std::free(p); }
};

static void rows1(DType t, DoubleFn dbl, const Group1Fn* g1, int64_t n, const void* w, size_t w_stride, int64_t r0,
                  int64_t r1, const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  const int64_t nb = n / kQK_K;
  const size_t per_row = size_t(nb) * 32 * 64;
  // Per-thread buffer of doubled activations, freed at thread exit (the holder's destructor).
  static thread_local RowsBuf rb;
  uint8_t*& buf = rb.p;
  size_t& cap = rb.cap;
  const size_t need = per_row * 3;
  if (cap < need) {
    std::free(buf);
    buf = static_cast<uint8_t*>(std::aligned_alloc(64, need));
    cap = buf ? need : 0;
    if (!buf) return avx2_q8_k_repacked_rows_gemm(t)(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  }
  const auto* ab = static_cast<const uint8_t*>(a);
  const auto* wb = static_cast<const uint8_t*>(w);
  for (int64_t m = 0; m < m_rows; m += 3) {
    const int C = int(m_rows - m < 3 ? m_rows - m : 3);
    const BlockQ8_K* ar[3];
    const uint8_t* ad[3];
    for (int c = 0; c < C; ++c) {
      ar[c] = reinterpret_cast<const BlockQ8_K*>(ab + size_t(m + c) * a_stride);
      dbl(ar[c], nb, buf + per_row * size_t(c));
      ad[c] = buf + per_row * size_t(c);
    }
    for (int64_t r = r0; r < r1; r += 8) g1[C](nb, wb + size_t(r) * w_stride, ar, ad, y + m * ldy + r, ldy);
  }
}

static void q4_k_gemm_repacked(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                               size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kMinRows)
    return rows1(DType::Q4_K, dbl_q4, kG1Q4, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  gemm_panels(panel_q4_k_fn, Micros<8, kSep>::fns, nullptr, nullptr, 0, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
}
static void q5_k_gemm_repacked(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                               size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kMinRowsNoGemv)
    return rows1(DType::Q5_K, dbl_q4, kG1Q5, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  gemm_panels(panel_q5_k_fn, Micros<8, kSep>::fns, nullptr, nullptr, 0, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
}
static void q6_k_gemm_repacked(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                               size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kMinRowsNoGemv)
    return rows1(DType::Q6_K, dbl_q6, kG1Q6, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  gemm_panels(panel_q6_k_fn, Micros<4, kCorr32>::fns, nullptr, nullptr, 0, n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
}

// GGUF-layout gemm: the AVX2 entries (few activation rows) and repacks, captured at registration.
static GemmFn g_avx2_gemm[3];
static RepackFn g_repack[3];

static void q4_k_gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                      size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kMinRows) return g_avx2_gemm[0](n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  gemm_panels(panel_q4_k_fn, Micros<8, kSep>::fns, g_repack[0], nullptr, sizeof(BlockQ4_K), n, w, w_stride, r0, r1, a,
              a_stride, m_rows, y, ldy);
}
static void q5_k_gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                      size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kMinRows) return g_avx2_gemm[1](n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  gemm_panels(panel_q5_k_fn, Micros<8, kSep>::fns, g_repack[1], nullptr, sizeof(BlockQ5_K), n, w, w_stride, r0, r1, a,
              a_stride, m_rows, y, ldy);
}
static void q6_k_gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                      size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kMinRows) return g_avx2_gemm[2](n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  gemm_panels(panel_q6_k_fn, Micros<4, kCorr32>::fns, g_repack[2], nullptr, sizeof(BlockQ6_K), n, w, w_stride, r0, r1, a,
              a_stride, m_rows, y, ldy);
}

static GemmFn g_avx2_gemm_rows[3];  // Q2_K, Q3_K, IQ4_XS
static void q2_k_gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                      size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kMinRows) return g_avx2_gemm_rows[0](n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  gemm_panels(nullptr, Micros<4, kSep>::fns, nullptr, row_q2_k, sizeof(BlockQ2_K), n, w, w_stride, r0, r1, a,
              a_stride, m_rows, y, ldy);
}
static void q3_k_gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                      size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kMinRows) return g_avx2_gemm_rows[1](n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  gemm_panels(nullptr, Micros<4, kMerge>::fns, nullptr, row_q3_k, sizeof(BlockQ3_K), n, w, w_stride, r0, r1, a,
              a_stride, m_rows, y, ldy);
}
static void iq4_xs_gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
                        size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (m_rows < kMinRows) return g_avx2_gemm_rows[2](n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
  gemm_panels(nullptr, Micros<8, kMerge>::fns, nullptr, row_iq4_xs, sizeof(BlockIq4Xs), n, w, w_stride, r0, r1, a,
              a_stride, m_rows, y, ldy);
}

}  // namespace

void register_avx512_q8_k_gemm(KernelTable& t) {
  {
    const DType types[3] = {DType::Q2_K, DType::Q3_K, DType::IQ4_XS};
    const GemmFn mine[3] = {q2_k_gemm, q3_k_gemm, iq4_xs_gemm};
    for (int i = 0; i < 3; ++i) {
      const int ti = int(types[i]);
      if (t.gemm[ti] && t.gemm[ti] != mine[i]) {
        g_avx2_gemm_rows[i] = t.gemm[ti];
        t.gemm[ti] = mine[i];
      }
    }
  }
  // GGUF layout: needs the inherited AVX2 8-row repacks and gemm entries.
  const DType types[3] = {DType::Q4_K, DType::Q5_K, DType::Q6_K};
  const GemmFn mine[3] = {q4_k_gemm, q5_k_gemm, q6_k_gemm};
  for (int i = 0; i < 3; ++i) {
    const int ti = int(types[i]);
    if (t.repack[ti] && t.repack_rows[ti] == 8 && t.gemm[ti] && t.gemm[ti] != mine[i]) {
      g_avx2_gemm[i] = t.gemm[ti];
      g_repack[i] = t.repack[ti];
      t.gemm[ti] = mine[i];
    }
  }
  // Same 8-row repacked layout as AVX2 (repack / repack_rows inherited).
  t.gemm_repacked[int(DType::Q4_K)] = q4_k_gemm_repacked;
  t.gemm_repacked[int(DType::Q5_K)] = q5_k_gemm_repacked;
  t.gemm_repacked[int(DType::Q6_K)] = q6_k_gemm_repacked;
}

}  // namespace hearth::kernels::x86
