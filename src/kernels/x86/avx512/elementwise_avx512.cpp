// AVX-512 versions of the attention block kernels (attn_scores_f16, attn_pv_f16), of the decode
// attention rows (dot_f32_f16, axpy_f16), rmsnorm and swiglu. Compiled with the AVX-512 flags
// (CMakeLists.txt); everything here is static or in an anonymous namespace (no inline/template
// symbol may leak to AVX2 machines). f32 <-> f16 rows, add and axpy stay AVX2's (not faster in
// zmm: see below).
//
// Numerics: exact f16 -> f32 conversions and f32 FMA lanes whose only difference from the
// reference is the order (and number) of f32 roundings, as in the AVX2 kernels; rmsnorm and
// swiglu as described at their definitions.
#include <immintrin.h>
// GCC 12 warns about the self-initialised _mm512_undefined_* inside its own intrinsic headers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cstdint>

#include "kernels/kernels.h"

namespace hearth::kernels::x86 {
namespace {

#define HEARTH_AI __attribute__((always_inline)) inline

static HEARTH_AI int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Mask of the first n (<= 16) lanes.
static HEARTH_AI __mmask16 lanes(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u);
}

// 16 f16 values (the first n of them; the rest read as +0) widened to f32.
static HEARTH_AI __m512 load_f16(const uint16_t* p, __mmask16 m) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}
static HEARTH_AI __m512 load_f16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// ---- rows -----------------------------------------------------------------------------------

// f32 <-> f16 rows stay AVX2's: at the head-dim lengths the engine converts (64..128: queries,
// K/V cache stores) zmm conversions were no faster than ymm within the noise of the shared
// machine (bench F32ToF16/<isa>/128: 686-750 ns vs 686-741 ns), only ~1.3x from 4096 up.

static float dot_f32_f16(const float* x, const uint16_t* y, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), load_f16(y + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), load_f16(y + i + 16), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = lanes(n - i);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), load_f16(y + i, m), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

static void axpy_f16(float* y, float a, const uint16_t* x, int64_t n) {
  const __m512 va = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, load_f16(x + i), _mm512_loadu_ps(y + i)));
  if (i < n) {
    const __mmask16 m = lanes(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(va, load_f16(x + i, m), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

// add and axpy (f32) stay AVX2's: memory-bound at the prefill residual size (512 x 1024 floats)
// zmm was 1-2% slower even with y aligned to 64 bytes (bench AddAxpy: ~50.3-51.3 vs 49-50 us),
// 7% faster only at one 1024-float row.

// ---- rmsnorm, swiglu -------------------------------------------------------------------------

// As the reference: squares rounded to f32 (x * x), summed in double (8 double lanes, so only
// the order of the double additions differs), then the same scalar scale and the same two f32
// products per element: results equal the reference's unless the double sum's order moves
// mean across an f32 rounding boundary (<= 1 ulp of mean).
static void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512 sq = _mm512_mul_ps(v, v);
    s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(sq)));
    s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sq), 1))));
  }
  if (i < n) {
    const __m512 v = _mm512_maskz_loadu_ps(lanes(n - i), x + i);
    const __m512 sq = _mm512_mul_ps(v, v);
    s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(sq)));
    s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(sq), 1))));
  }
  const double sum = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
  const float mean = float(sum / double(n));
  const float scale = 1.0f / _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(mean + eps)));
  const __m512 vs = _mm512_set1_ps(scale);
  i = 0;
  if (w) {
    for (; i + 16 <= n; i += 16)
      _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), vs), _mm512_loadu_ps(w + i)));
    if (i < n) {
      const __mmask16 m = lanes(n - i);
      _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vs),
                                                     _mm512_maskz_loadu_ps(m, w + i)));
    }
  } else {
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), vs));
    if (i < n) {
      const __mmask16 m = lanes(n - i);
      _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vs));
    }
  }
}

// exp(t) for 16 lanes: t = n ln2 + r (two-constant Cody-Waite, |r| <= ln2/2), Cephes' degree-6
// minimax polynomial for exp(r) in FMAs, then 2^n by vscalefps (which overflows to +inf and
// underflows through the subnormals to 0 by itself). Max error ~1 ulp (measured against glibc
// expf over [-104, 89] in the test: see avx512_float_test.cpp). NaN propagates (the clamps keep
// a NaN operand), +-inf give +inf / 0.
static HEARTH_AI __m512 exp16(__m512 t) {
  t = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), t));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), t);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

// y = g / (1 + exp(-g)) * u with the reference's operation order (add, divide, multiply); only
// exp differs (exp16 vs glibc expf).
static HEARTH_AI __m512 swiglu16(__m512 g, __m512 u) {
  const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), g));
  return _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e)), u);
}

static void swiglu(const float* g, const float* u, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, swiglu16(_mm512_loadu_ps(g + i), _mm512_loadu_ps(u + i)));
  if (i < n) {
    const __mmask16 m = lanes(n - i);
    _mm512_mask_storeu_ps(y + i, m, swiglu16(_mm512_maskz_loadu_ps(m, g + i), _mm512_maskz_loadu_ps(m, u + i)));
  }
}

// ---- Attention blocks -----------------------------------------------------------------------
// Scores: 32 keys at a time are converted to f32 and transposed to kt[i][32] (dims in chunks of
// kScoreChunk: 16 KiB of kt, L1-resident), then micro-kernels of up to kScoreRows query rows x
// 32 keys (2 zmm per row: 2 * kScoreRows accumulators) run over the dims: per dim 2 loads of kt,
// kScoreRows broadcast loads of q (embedded in the FMAs), 2 * kScoreRows FMAs, no horizontal
// sums. Key counts <= 16 in a chunk use the 1-zmm micro-kernel.
constexpr int64_t kScoreChunk = 128;
constexpr int kScoreRows = 12;

// In place: r[c] lane i = old r[i] lane c (16x16, 64 shuffles).
static HEARTH_AI void transpose16_ps(__m512 r[16]) {
  __m512 t[16], u[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + j], 128-bit lane L: rows 4i .. 4i+3 at column 4L + j.
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    u[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    const __m512 a0 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88);
    const __m512 a1 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xDD);
    const __m512 b0 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88);
    const __m512 b1 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xDD);
    r[j] = _mm512_shuffle_f32x4(a0, b0, 0x88);
    r[8 + j] = _mm512_shuffle_f32x4(a0, b0, 0xDD);
    r[4 + j] = _mm512_shuffle_f32x4(a1, b1, 0x88);
    r[12 + j] = _mm512_shuffle_f32x4(a1, b1, 0xDD);
  }
}

// Software prefetch of elements [d0, d0 + nd) of nk f16 rows. K/V rows of one KV head are
// scattered through the cache (one row per position, other heads in between), and the
// conversion loops wait on them: issuing every line of the next chunk ahead of time overlaps
// those misses with the current chunk's arithmetic.
static HEARTH_AI void prefetch_rows(const uint16_t* const* k, int64_t nk, int64_t d0, int64_t nd) {
  for (int64_t c = 0; c < nk; ++c) {
    const char* p = reinterpret_cast<const char*>(k[c] + d0);
    const uintptr_t first = reinterpret_cast<uintptr_t>(p) & ~uintptr_t(63);
    const uintptr_t last = reinterpret_cast<uintptr_t>(p + 2 * nd - 1);
    for (uintptr_t a = first; a <= last; a += 64) _mm_prefetch(reinterpret_cast<const char*>(a), _MM_HINT_T0);
  }
}

// kt[i * 32 + c] = k[c][d0 + i] for c < 16 * halves, i < nd; keys c >= nk read as zeros.
static void load_keys_t32(const uint16_t* const* k, int64_t nk, int64_t d0, int64_t nd, int halves,
                          float* kt) {
  for (int h = 0; h < halves; ++h) {
    const int64_t c0 = 16 * h;
    for (int64_t i = 0; i < nd; i += 16) {
      const __mmask16 m = lanes(nd - i);
      __m512 r[16];
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c)
        r[c] = c0 + c < nk ? load_f16(k[c0 + c] + d0 + i, m) : _mm512_setzero_ps();
      transpose16_ps(r);
      const int64_t cnt = min64(16, nd - i);
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c)
        if (c < cnt) _mm512_store_ps(kt + (i + c) * 32 + c0, r[c]);
    }
  }
}

// s[r][0..nv) (+)= q[r][0..nd) . kt for R rows, W zmm of keys (W = 1: nv <= 16).
template <int R, int W>
static void scores_tile(const float* q, int64_t ldq, const float* kt, int64_t nd, float* s,
                        int64_t lds, int64_t nv, bool accumulate) {
  __m512 a[R][W];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int w = 0; w < W; ++w) a[r][w] = _mm512_setzero_ps();
  for (int64_t i = 0; i < nd; ++i) {
    __m512 kv[W];
#pragma GCC unroll 2
    for (int w = 0; w < W; ++w) kv[w] = _mm512_load_ps(kt + i * 32 + 16 * w);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 b = _mm512_set1_ps(q[r * ldq + i]);
#pragma GCC unroll 2
      for (int w = 0; w < W; ++w) a[r][w] = _mm512_fmadd_ps(b, kv[w], a[r][w]);
    }
  }
  __mmask16 m[W];
#pragma GCC unroll 2
  for (int w = 0; w < W; ++w) m[w] = lanes(nv - 16 * w);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int w = 0; w < W; ++w) {
      float* sr = s + r * lds + 16 * w;
      __m512 v = a[r][w];
      if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m[w], sr));
      _mm512_mask_storeu_ps(sr, m[w], v);
    }
}

template <int W>
static void scores_rows(const float* q, int64_t ldq, int64_t rows, const float* kt, int64_t nd,
                        float* s, int64_t lds, int64_t nv, bool acc) {
  int64_t r = 0;
  for (; r + kScoreRows <= rows; r += kScoreRows)
    scores_tile<kScoreRows, W>(q + r * ldq, ldq, kt, nd, s + r * lds, lds, nv, acc);
  const float* qr = q + r * ldq;
  float* sr = s + r * lds;
  switch (rows - r) {
    case 11: scores_tile<11, W>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
    case 10: scores_tile<10, W>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
    case 9: scores_tile<9, W>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
    case 8: scores_tile<8, W>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
    case 7: scores_tile<7, W>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
    case 6: scores_tile<6, W>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
    case 5: scores_tile<5, W>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
    case 4: scores_tile<4, W>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
    case 3: scores_tile<3, W>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
    case 2: scores_tile<2, W>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
    case 1: scores_tile<1, W>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
    default: break;
  }
}

// P·V micro-kernel steps shared by the prefill (f32 block) and decode (direct f16) tiles:
// the rows' dims [d, d + 16 W) loaded (masked to nd_left), a[r][w] += p[r][j] * x[w] per key,
// then stored.
template <int R, int W>
static HEARTH_AI void pv_load(float* const* o, int64_t d, int64_t nd_left, __mmask16 (&m)[W], __m512 (&a)[R][W]) {
#pragma GCC unroll 8
  for (int w = 0; w < W; ++w) m[w] = lanes(nd_left - 16 * w);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int w = 0; w < W; ++w) a[r][w] = _mm512_maskz_loadu_ps(m[w], o[r] + d + 16 * w);
}

template <int R, int W>
static HEARTH_AI void pv_fma(__m512 (&a)[R][W], const float* p, int64_t ldp, int64_t j, const __m512 (&x)[W]) {
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const __m512 b = _mm512_set1_ps(p[r * ldp + j]);
#pragma GCC unroll 8
    for (int w = 0; w < W; ++w) a[r][w] = _mm512_fmadd_ps(b, x[w], a[r][w]);
  }
}

template <int R, int W>
static HEARTH_AI void pv_store(float* const* o, int64_t d, const __mmask16 (&m)[W], const __m512 (&a)[R][W]) {
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int w = 0; w < W; ++w) _mm512_mask_storeu_ps(o[r] + d + 16 * w, m[w], a[r][w]);
}

// ---- Few query rows (decode) ----------------------------------------------------------------
// Decode attends one token: the query rows of a tile are the few heads sharing a KV head (1-8),
// while the keys are the whole context, streamed once from DRAM. Converting and transposing K/V
// into f32 blocks (as the kernels above do for prefill) costs more than the products at these
// row counts, so up to kDirectRows rows use kernels that read the f16 rows directly:
// - scores: 4 keys x up to 4 rows of 16-lane FMA accumulators over the head dim, then a shuffle
//   tree folds the 4 accumulators of a row into one 128-bit lane group (no per-key horizontal
//   sum); rows beyond 4 re-read the same 32-key block from L1.
// - P·V: accumulators in registers over a block of 32 keys, one broadcast of p per row and key:
//   1-2 rows x the head dim (up to 8 zmm per row); 3-4 rows x 64 dims, 5-8 rows x 32 dims per
//   pass over the block (later passes read it from L1), so a V row is converted once per pass
//   for all rows: cached, per key at head dim 128, 8 rows 48-49 -> 41-43 cycles, 6 rows 37 ->
//   31, 4 rows 26-27 -> 21-22 against pairs of rows over the whole head (docs/KERNELS.md). (Scores of 5-8 rows as 2 keys x
//   all rows, converting each K row once instead of twice, measured no faster than two 4-row
//   passes: ~50 cycles per key at 8 rows, bound by the 64 FMAs and the sum trees.)
// K/V rows of one KV head are contiguous only across cache blocks allocated in order, and the
// hardware prefetchers restart where they are not: rows kAhead keys ahead are prefetched (into
// L1) while the current ones are used (measured before the head-major cache; on it 16-96 keys
// ahead are equal, docs/KERNELS.md).
// Qwen3-0.6B Q4_0 decode after 1024 tokens, 2 threads, 4 pairs each: 48 keys (12 KiB of rows at
// head dim 128) +4% over 24; 64 and 96 no better than 48; prefetching into L2 (T1) 5% slower.
constexpr int64_t kDirectRows = 8;
constexpr int64_t kDirectKeys = 32;
constexpr int64_t kAhead = 48;

// [sum(a0), sum(a1), sum(a2), sum(a3)] of four 16-lane accumulators: per 128-bit lane group
// [a0+a2, a1+a3, ...] pairs, then [a0, a1, a2, a3] partials, then the sum over the four lane
// groups (every group ends up with the totals; the low one is returned).
static HEARTH_AI __m128 sum4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  const __m512 t01 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
  const __m512 t23 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
  const __m512d d01 = _mm512_castps_pd(t01), d23 = _mm512_castps_pd(t23);
  __m512 t = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(d01, d23)),
                           _mm512_castpd_ps(_mm512_unpackhi_pd(d01, d23)));
  t = _mm512_add_ps(t, _mm512_shuffle_f32x4(t, t, _MM_SHUFFLE(1, 0, 3, 2)));
  t = _mm512_add_ps(t, _mm512_shuffle_f32x4(t, t, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm512_castps512_ps128(t);
}

// Scores of R rows x 4 keys (kr: the 4 rows of K; nv <= 4 of them stored).
template <int R>
static HEARTH_AI void scores4(const float* q, int64_t ldq, const uint16_t* const kr[4], int64_t n,
                              float* s, int64_t lds, int nv) {
  __m512 a[R][4];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) a[r][c] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 kv[4];
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) kv[c] = load_f16(kr[c] + i);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 qv = _mm512_loadu_ps(q + r * ldq + i);
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) a[r][c] = _mm512_fmadd_ps(qv, kv[c], a[r][c]);
    }
  }
  if (i < n) {
    const __mmask16 m = lanes(n - i);
    __m512 kv[4];
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) kv[c] = load_f16(kr[c] + i, m);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 qv = _mm512_maskz_loadu_ps(m, q + r * ldq + i);
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) a[r][c] = _mm512_fmadd_ps(qv, kv[c], a[r][c]);
    }
  }
  const __mmask8 sm = __mmask8((1u << nv) - 1u);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
    _mm_mask_storeu_ps(s + r * lds, sm, sum4(a[r][0], a[r][1], a[r][2], a[r][3]));
}

// Scores of R rows for keys [j0, j1) of k[0..nk); prefetches kAhead keys ahead when asked.
template <int R>
static void scores_direct_rows(const float* q, int64_t ldq, const uint16_t* const* k, int64_t j0,
                               int64_t j1, int64_t nk, int64_t n, float* s, int64_t lds,
                               bool prefetch) {
  for (int64_t j = j0; j < j1; j += 4) {
    const int nv = int(min64(4, j1 - j));
    if (prefetch && j + kAhead < nk) prefetch_rows(k + j + kAhead, min64(4, nk - j - kAhead), 0, n);
    const uint16_t* kr[4];
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) kr[c] = k[j + (c < nv ? c : nv - 1)];
    scores4<R>(q, ldq, kr, n, s + j, lds, nv);
  }
}

static void scores_direct(const float* q, int64_t ldq, int64_t rows, const uint16_t* const* k,
                          int64_t nk, int64_t n, float* s, int64_t lds) {
  prefetch_rows(k, min64(kAhead, nk), 0, n);
  for (int64_t j0 = 0; j0 < nk; j0 += kDirectKeys) {
    const int64_t j1 = min64(nk, j0 + kDirectKeys);
    for (int64_t r = 0; r < rows; r += 4) {
      const float* qr = q + r * ldq;
      float* sr = s + r * lds;
      const bool pf = r == 0;
      switch (min64(4, rows - r)) {
        case 4: scores_direct_rows<4>(qr, ldq, k, j0, j1, nk, n, sr, lds, pf); break;
        case 3: scores_direct_rows<3>(qr, ldq, k, j0, j1, nk, n, sr, lds, pf); break;
        case 2: scores_direct_rows<2>(qr, ldq, k, j0, j1, nk, n, sr, lds, pf); break;
        default: scores_direct_rows<1>(qr, ldq, k, j0, j1, nk, n, sr, lds, pf); break;
      }
    }
  }
}

// o[r][d .. d + 16 W) (masked to nd_left dims) += sum_{j in [j0, j1)} p[r][j] v[j] for R rows.
template <int R, int W>
static void pv_direct_tile(const float* p, int64_t ldp, const uint16_t* const* v, int64_t j0,
                           int64_t j1, int64_t nk, int64_t n, float* const* o, int64_t d,
                           int64_t nd_left, bool prefetch) {
  __mmask16 m[W];
  __m512 a[R][W];
  pv_load<R, W>(o, d, nd_left, m, a);
  const bool full = nd_left >= 16 * W;
  for (int64_t j = j0; j < j1; ++j) {
    if (prefetch && j + kAhead < nk) prefetch_rows(v + j + kAhead, 1, 0, n);
    const uint16_t* vr = v[j] + d;
    __m512 x[W];
    if (full) {
#pragma GCC unroll 8
      for (int w = 0; w < W; ++w) x[w] = load_f16(vr + 16 * w);
    } else {
#pragma GCC unroll 8
      for (int w = 0; w < W; ++w) x[w] = load_f16(vr + 16 * w, m[w]);
    }
    pv_fma<R, W>(a, p, ldp, j, x);
  }
  pv_store<R, W>(o, d, m, a);
}

template <int R>
static void pv_direct_rows(const float* p, int64_t ldp, const uint16_t* const* v, int64_t j0,
                           int64_t j1, int64_t nk, int64_t n, float* const* o, bool prefetch) {
  for (int64_t d = 0; d < n; d += 128) {
    const int64_t left = n - d;
    const bool pf = prefetch && d == 0;
    switch (min64(8, (left + 15) / 16)) {  // zmm per row: every one has >= 1 live dim
      case 8: pv_direct_tile<R, 8>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
      case 7: pv_direct_tile<R, 7>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
      case 6: pv_direct_tile<R, 6>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
      case 5: pv_direct_tile<R, 5>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
      case 4: pv_direct_tile<R, 4>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
      case 3: pv_direct_tile<R, 3>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
      case 2: pv_direct_tile<R, 2>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
      default: pv_direct_tile<R, 1>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
    }
  }
}

// All R (3..8) rows at once over dims in chunks of 16 W (R x W <= 16 accumulators: W = 4 up to 4
// rows, 2 up to 8), so each V row is converted once per chunk for every row instead of once per
// pair of rows over the whole head; the chunks after the first re-read the 32-key block from L1.
template <int R, int W>
static void pv_direct_cols(const float* p, int64_t ldp, const uint16_t* const* v, int64_t j0,
                           int64_t j1, int64_t nk, int64_t n, float* const* o) {
  for (int64_t d = 0; d < n; d += 16 * W) {
    const int64_t left = n - d;
    const bool pf = d == 0;
    switch (min64(W, (left + 15) / 16)) {  // zmm per row: every one has >= 1 live dim
      case 4: if constexpr (W >= 4) pv_direct_tile<R, 4>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
      case 3: if constexpr (W >= 3) pv_direct_tile<R, 3>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
      case 2: pv_direct_tile<R, 2>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
      default: pv_direct_tile<R, 1>(p, ldp, v, j0, j1, nk, n, o, d, left, pf); break;
    }
  }
}

static void pv_direct(const float* p, int64_t ldp, int64_t rows, const uint16_t* const* v,
                      int64_t nk, int64_t n, float* const* o) {
  prefetch_rows(v, min64(kAhead, nk), 0, n);
  for (int64_t j0 = 0; j0 < nk; j0 += kDirectKeys) {
    const int64_t j1 = min64(nk, j0 + kDirectKeys);
    switch (rows) {
      case 1: pv_direct_rows<1>(p, ldp, v, j0, j1, nk, n, o, true); break;
      case 2: pv_direct_rows<2>(p, ldp, v, j0, j1, nk, n, o, true); break;
      case 3: pv_direct_cols<3, 4>(p, ldp, v, j0, j1, nk, n, o); break;
      case 4: pv_direct_cols<4, 4>(p, ldp, v, j0, j1, nk, n, o); break;
      case 5: pv_direct_cols<5, 2>(p, ldp, v, j0, j1, nk, n, o); break;
      case 6: pv_direct_cols<6, 2>(p, ldp, v, j0, j1, nk, n, o); break;
      case 7: pv_direct_cols<7, 2>(p, ldp, v, j0, j1, nk, n, o); break;
      default: pv_direct_cols<8, 2>(p, ldp, v, j0, j1, nk, n, o); break;
    }
  }
}

static void attn_scores_f16(const float* q, int64_t ldq, int64_t rows, const uint16_t* const* k,
                            int64_t nk, int64_t n, float* s, int64_t lds) {
  if (rows <= kDirectRows) {
    scores_direct(q, ldq, rows, k, nk, n, s, lds);
    return;
  }
  alignas(64) float kt[kScoreChunk * 32];
  prefetch_rows(k, min64(32, nk), 0, min64(kScoreChunk, n));
  for (int64_t j0 = 0; j0 < nk; j0 += 32) {
    const int64_t nv = min64(32, nk - j0);
    for (int64_t d0 = 0; d0 < n; d0 += kScoreChunk) {
      const int64_t nd = min64(kScoreChunk, n - d0);
      const bool acc = d0 > 0;
      // The next (keys, dims) chunk's rows, while this one is converted and used.
      if (d0 + kScoreChunk < n) prefetch_rows(k + j0, nv, d0 + kScoreChunk, min64(kScoreChunk, n - d0 - kScoreChunk));
      else if (j0 + 32 < nk) prefetch_rows(k + j0 + 32, min64(32, nk - j0 - 32), 0, min64(kScoreChunk, n));
      if (nv > 16) {
        load_keys_t32(k + j0, nv, d0, nd, 2, kt);
        scores_rows<2>(q + d0, ldq, rows, kt, nd, s + j0, lds, nv, acc);
      } else {
        load_keys_t32(k + j0, nv, d0, nd, 1, kt);
        scores_rows<1>(q + d0, ldq, rows, kt, nd, s + j0, lds, nv, acc);
      }
    }
  }
}

// P·V: up to kPvKeys V rows are converted to f32 once (dims in chunks of kPvChunk: 36 KiB, in
// L1), then micro-kernels of up to kPvRows rows x 64 dims (4 zmm per row) accumulate over the
// key block in registers: per key 4 loads of V, kPvRows broadcast loads of P, 4 * kPvRows FMAs.
// Each output row is loaded and stored once per key block; dim tails use masked loads/stores.
// 4 rows x 64 keys measured ~5% faster than 6 or 8 rows and than 32-key blocks (32 rows = 8
// tiles with no row tail; o reloaded once per 64 keys).
constexpr int64_t kPvKeys = 64, kPvChunk = 128, kPvLd = kPvChunk + 16;  // +16: no 512 B stride
constexpr int kPvRows = 4;

template <int R, int W>
static void pv_tile(const float* p, int64_t ldp, const float* vb, int64_t nj, float* const* o,
                    int64_t d, int64_t nd_left) {
  __mmask16 m[W];
  __m512 a[R][W];
  pv_load<R, W>(o, d, nd_left, m, a);
  for (int64_t j = 0; j < nj; ++j) {
    __m512 v[W];
#pragma GCC unroll 4
    for (int w = 0; w < W; ++w) v[w] = _mm512_load_ps(vb + j * kPvLd + 16 * w);
    pv_fma<R, W>(a, p, ldp, j, v);
  }
  pv_store<R, W>(o, d, m, a);
}

template <int R>
static void pv_rows(const float* p, int64_t ldp, const float* vb, int64_t nj, float* const* o,
                    int64_t d0, int64_t nd) {
  int64_t i = 0;
  for (; i + 64 <= nd; i += 64) pv_tile<R, 4>(p, ldp, vb + i, nj, o, d0 + i, 64);
  const int64_t left = nd - i;
  if (left > 48) pv_tile<R, 4>(p, ldp, vb + i, nj, o, d0 + i, left);
  else if (left > 32) pv_tile<R, 3>(p, ldp, vb + i, nj, o, d0 + i, left);
  else if (left > 16) pv_tile<R, 2>(p, ldp, vb + i, nj, o, d0 + i, left);
  else if (left > 0) pv_tile<R, 1>(p, ldp, vb + i, nj, o, d0 + i, left);
}

static void attn_pv_f16(const float* p, int64_t ldp, int64_t rows, const uint16_t* const* v,
                        int64_t nk, int64_t n, float* const* o) {
  if (rows <= kDirectRows) {
    pv_direct(p, ldp, rows, v, nk, n, o);
    return;
  }
  alignas(64) float vb[kPvKeys * kPvLd];
  for (int64_t d0 = 0; d0 < n; d0 += kPvChunk) {
    const int64_t nd = min64(kPvChunk, n - d0);
    if (d0 == 0) prefetch_rows(v, min64(kPvKeys, nk), 0, nd);
    for (int64_t j0 = 0; j0 < nk; j0 += kPvKeys) {
      const int64_t nj = min64(kPvKeys, nk - j0);
      if (j0 + kPvKeys < nk) prefetch_rows(v + j0 + kPvKeys, min64(kPvKeys, nk - j0 - kPvKeys), d0, nd);
      else if (d0 + kPvChunk < n) prefetch_rows(v, min64(kPvKeys, nk), d0 + kPvChunk, min64(kPvChunk, n - d0 - kPvChunk));
      for (int64_t j = 0; j < nj; ++j) {
        const uint16_t* src = v[j0 + j] + d0;
        float* dst = vb + j * kPvLd;
        for (int64_t i = 0; i < nd; i += 16) _mm512_store_ps(dst + i, load_f16(src + i, lanes(nd - i)));
      }
      int64_t r = 0;
      for (; r + kPvRows <= rows; r += kPvRows) pv_rows<kPvRows>(p + r * ldp + j0, ldp, vb, nj, o + r, d0, nd);
      const float* pr = p + r * ldp + j0;
      switch (rows - r) {
        case 3: pv_rows<3>(pr, ldp, vb, nj, o + r, d0, nd); break;
        case 2: pv_rows<2>(pr, ldp, vb, nj, o + r, d0, nd); break;
        case 1: pv_rows<1>(pr, ldp, vb, nj, o + r, d0, nd); break;
        default: break;
      }
    }
  }
}

}  // namespace

// Declared in float_family.cpp (this directory's registration).
void register_avx512_elementwise(KernelTable& t) {
  t.dot_f32_f16 = dot_f32_f16;
  t.axpy_f16 = axpy_f16;
  t.attn_scores_f16 = attn_scores_f16;
  t.attn_pv_f16 = attn_pv_f16;
  // Up to kDirectRows rows the block kernels read f16 directly (decode), so they beat the
  // per-row dot/axpy loops from one row up. With AVX2 they lose at 2 rows (60.9 -> 55.9 tok/s),
  // so AVX2 keeps 4.
  t.attn_block_rows = 1;
  t.rmsnorm = rmsnorm;
  t.swiglu = swiglu;
}

}  // namespace hearth::kernels::x86
