// AVX2/FMA/F16C versions of the elementwise table entries. Compiled with -mavx2 -mfma -mf16c;
// only static functions here (no inline/template symbols may leak: see CMakeLists.txt).
#include <immintrin.h>

#include <cmath>

#include "kernels/x86/avx2/transpose.h"
#include "kernels/x86/x86.h"

namespace hearth::kernels::x86 {
namespace {

static float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

static void f32_to_f16_row(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = uint16_t(_cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT));
}

static void f16_to_f32_row(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  for (; i < n; ++i) y[i] = _cvtsh_ss(x[i]);
}

static float dot_f32_f16(const float* x, const uint16_t* y, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i),
                           _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i))), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8),
                           _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i + 8))), acc1);
  }
  float s = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) s += x[i] * _cvtsh_ss(y[i]);
  return s;
}

static void axpy_f16(float* y, float a, const uint16_t* x, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_cvtph_ps(_mm_loadu_si128(
                                                    reinterpret_cast<const __m128i*>(x + i))),
                                            _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * _cvtsh_ss(x[i]);
}

static void add(float* y, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] += x[i];
}

static void axpy(float* y, float a, const float* x, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

// ---- Attention blocks ----------------------------------------------------------------------
// Scores: 16 keys at a time are converted to f32 and transposed to kt[i][16] (dims in chunks of
// kScoreChunk), then a micro-kernel of up to 4 query rows x 16 keys keeps 8 accumulators: per
// dim 2 loads of kt, 4 broadcasts of q, 8 FMAs, no horizontal sums.
constexpr int64_t kScoreChunk = 256;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }  // no std:: templates here

// kt[i * 16 + c] = k[c][d0 + i] for c < 16, i < nd; keys c >= nk read as zeros.
static void load_keys_t16(const uint16_t* const* k, int64_t nk, int64_t d0, int64_t nd, float* kt) {
  for (int64_t c0 = 0; c0 < 16; c0 += 8) {
    int64_t i = 0;
    for (; i + 8 <= nd; i += 8) {
      __m256 r[8];
#pragma GCC unroll 8
      for (int c = 0; c < 8; ++c)
        r[c] = c0 + c < nk ? _mm256_cvtph_ps(_mm_loadu_si128(
                                 reinterpret_cast<const __m128i*>(k[c0 + c] + d0 + i)))
                           : _mm256_setzero_ps();
      transpose8_ps(r);
#pragma GCC unroll 8
      for (int c = 0; c < 8; ++c) _mm256_store_ps(kt + (i + c) * 16 + c0, r[c]);
    }
    for (; i < nd; ++i)
      for (int64_t c = 0; c < 8; ++c)
        kt[i * 16 + c0 + c] = c0 + c < nk ? _cvtsh_ss(k[c0 + c][d0 + i]) : 0.0f;
  }
}

// s[r][0..nv) (+)= q[r][0..nd) . kt for R rows; accumulate adds to what s holds.
template <int R>
static void scores_tile(const float* q, int64_t ldq, const float* kt, int64_t nd, float* s,
                        int64_t lds, int64_t nv, bool accumulate) {
  __m256 a0[R], a1[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) a0[r] = a1[r] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nd; ++i) {
    const __m256 k0 = _mm256_load_ps(kt + i * 16), k1 = _mm256_load_ps(kt + i * 16 + 8);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 b = _mm256_broadcast_ss(q + r * ldq + i);
      a0[r] = _mm256_fmadd_ps(b, k0, a0[r]);
      a1[r] = _mm256_fmadd_ps(b, k1, a1[r]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    float* sr = s + r * lds;
    if (nv == 16) {
      if (accumulate) {
        a0[r] = _mm256_add_ps(a0[r], _mm256_loadu_ps(sr));
        a1[r] = _mm256_add_ps(a1[r], _mm256_loadu_ps(sr + 8));
      }
      _mm256_storeu_ps(sr, a0[r]);
      _mm256_storeu_ps(sr + 8, a1[r]);
    } else {
      alignas(32) float t[16];
      _mm256_store_ps(t, a0[r]);
      _mm256_store_ps(t + 8, a1[r]);
      for (int64_t j = 0; j < nv; ++j) sr[j] = accumulate ? sr[j] + t[j] : t[j];
    }
  }
}

static void attn_scores_f16(const float* q, int64_t ldq, int64_t rows, const uint16_t* const* k,
                            int64_t nk, int64_t n, float* s, int64_t lds) {
  alignas(32) float kt[kScoreChunk * 16];
  for (int64_t j0 = 0; j0 < nk; j0 += 16) {
    const int64_t nv = min64(16, nk - j0);
    for (int64_t d0 = 0; d0 < n; d0 += kScoreChunk) {
      const int64_t nd = min64(kScoreChunk, n - d0);
      load_keys_t16(k + j0, nv, d0, nd, kt);
      const bool acc = d0 > 0;
      int64_t r = 0;
      for (; r + 4 <= rows; r += 4)
        scores_tile<4>(q + r * ldq + d0, ldq, kt, nd, s + r * lds + j0, lds, nv, acc);
      const float* qr = q + r * ldq + d0;
      float* sr = s + r * lds + j0;
      switch (rows - r) {
        case 3: scores_tile<3>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
        case 2: scores_tile<2>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
        case 1: scores_tile<1>(qr, ldq, kt, nd, sr, lds, nv, acc); break;
        default: break;
      }
    }
  }
}

// P·V: up to kPvKeys V rows are converted to f32 once (dims in chunks of kPvChunk), then a
// micro-kernel of up to 4 rows x 16 dims accumulates over the whole key block in registers (per
// key 2 loads of V, 4 broadcasts of P, 8 FMAs), so each output row is loaded and stored once per
// key block instead of once per key.
constexpr int64_t kPvKeys = 32, kPvChunk = 256, kPvLd = kPvChunk + 8;  // +8: no 1 KiB stride

template <int R, int W>
static void pv_tile(const float* p, int64_t ldp, const float* vb, int64_t nj, float* const* o,
                    int64_t d) {
  __m256 a[R][W];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int w = 0; w < W; ++w) a[r][w] = _mm256_loadu_ps(o[r] + d + 8 * w);
  for (int64_t j = 0; j < nj; ++j) {
    __m256 v[W];
#pragma GCC unroll 2
    for (int w = 0; w < W; ++w) v[w] = _mm256_loadu_ps(vb + j * kPvLd + 8 * w);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 b = _mm256_broadcast_ss(p + r * ldp + j);
#pragma GCC unroll 2
      for (int w = 0; w < W; ++w) a[r][w] = _mm256_fmadd_ps(b, v[w], a[r][w]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int w = 0; w < W; ++w) _mm256_storeu_ps(o[r] + d + 8 * w, a[r][w]);
}

template <int R>
static void pv_rows(const float* p, int64_t ldp, const float* vb, int64_t nj, float* const* o,
                    int64_t d0, int64_t nd) {
  int64_t i = 0;
  for (; i + 16 <= nd; i += 16) pv_tile<R, 2>(p, ldp, vb + i, nj, o, d0 + i);
  for (; i + 8 <= nd; i += 8) pv_tile<R, 1>(p, ldp, vb + i, nj, o, d0 + i);
  for (; i < nd; ++i)
    for (int r = 0; r < R; ++r) {
      float acc = o[r][d0 + i];
      for (int64_t j = 0; j < nj; ++j) acc += p[r * ldp + j] * vb[j * kPvLd + i];
      o[r][d0 + i] = acc;
    }
}

static void attn_pv_f16(const float* p, int64_t ldp, int64_t rows, const uint16_t* const* v,
                        int64_t nk, int64_t n, float* const* o) {
  alignas(32) float vb[kPvKeys * kPvLd];
  for (int64_t d0 = 0; d0 < n; d0 += kPvChunk) {
    const int64_t nd = min64(kPvChunk, n - d0);
    for (int64_t j0 = 0; j0 < nk; j0 += kPvKeys) {
      const int64_t nj = min64(kPvKeys, nk - j0);
      for (int64_t j = 0; j < nj; ++j) f16_to_f32_row(v[j0 + j] + d0, vb + j * kPvLd, nd);
      int64_t r = 0;
      for (; r + 4 <= rows; r += 4) pv_rows<4>(p + r * ldp + j0, ldp, vb, nj, o + r, d0, nd);
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

// exp(x) for x <= 88: Cody-Waite reduction x = n ln2 + r (|r| <= ln2/2, ln2 split in two so
// n * ln2_hi is exact), e^r = 1 + r + r^2 P(r) with Cephes' degree-5 minimax P (relative error
// ~1e-7, about 1 ulp), then 2^n by adding n to the exponent field. Inputs below -86.5 give 0
// (results under 3e-38, which no caller can tell from 0 after an f16 rounding).
static inline __m256 exp_ps(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-86.5f);
  const __m256 underflow = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.0f)), lo);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
  const __m256 out = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(y), e));
  return _mm256_andnot_ps(underflow, out);
}

// attn_softmax (kernels.h): three passes over the row, 8 lanes; the exp sum is accumulated in
// double lanes like the reference's double sum.
static void attn_softmax(float* s, int64_t n, float scale, float sink) {
  const __m256 vs = _mm256_set1_ps(scale);
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 z = _mm256_mul_ps(_mm256_loadu_ps(s + i), vs);
    _mm256_storeu_ps(s + i, z);
    vmax = _mm256_max_ps(vmax, z);
  }
  float mx = sink;
  for (; i < n; ++i) {
    s[i] *= scale;
    mx = s[i] > mx ? s[i] : mx;
  }
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  mx = _mm_cvtss_f32(m4) > mx ? _mm_cvtss_f32(m4) : mx;
  const __m256 vmx = _mm256_set1_ps(mx);
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(s + i), vmx));
    _mm256_storeu_ps(s + i, e);
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  if (i < n) {  // tail: padded with -inf, whose exp is 0
    alignas(32) float t[8];
    for (int j = 0; j < 8; ++j) t[j] = i + j < n ? s[i + j] : -INFINITY;
    const __m256 e = exp_ps(_mm256_sub_ps(_mm256_load_ps(t), vmx));
    _mm256_store_ps(t, e);
    for (int64_t j = 0; i + j < n; ++j) s[i + j] = t[j];
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  alignas(32) double d[4];
  _mm256_store_pd(d, _mm256_add_pd(acc0, acc1));
  double sum = sink == -INFINITY ? 0.0 : std::exp(double(sink - mx));
  sum += (d[0] + d[1]) + (d[2] + d[3]);
  const float inv = float(1.0 / sum);
  const __m256 vinv = _mm256_set1_ps(inv);
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(s + i), vinv);
    _mm256_storeu_ps(s + i, _mm256_cvtph_ps(_mm256_cvtps_ph(p, _MM_FROUND_TO_NEAREST_INT)));
  }
  for (; i < n; ++i) s[i] = _cvtsh_ss(_cvtss_sh(s[i] * inv, _MM_FROUND_TO_NEAREST_INT));
}

void register_avx2(KernelTable& t) {
  register_avx2_q8_0_family(t);
  register_avx2_q8_k_family(t);
  t.f32_to_f16 = f32_to_f16_row;
  t.f16_to_f32 = f16_to_f32_row;
  t.dot_f32_f16 = dot_f32_f16;
  t.axpy_f16 = axpy_f16;
  t.attn_scores_f16 = attn_scores_f16;
  t.attn_pv_f16 = attn_pv_f16;
  t.attn_softmax = attn_softmax;
  t.add = add;
  t.axpy = axpy;
}

}  // namespace hearth::kernels::x86
