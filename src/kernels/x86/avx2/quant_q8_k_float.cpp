// AVX2/FMA matrix kernels for F32 / F16 / BF16 weights with activations of the same type
// (vec_dot and gemm). Weights are widened to f32 in registers; sums are f32 FMA lanes.
// Static functions only (see CMakeLists.txt); matches kernels/reference dot_f32/f16/bf16 up to
// float summation order (the reference sums exact-or-rounded products in double).
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kernels/x86/x86.h"

namespace hearth::kernels::x86 {
namespace {

#define HEARTH_AI __attribute__((always_inline)) inline

enum Kind { kF32 = 0, kF16 = 1, kBF16 = 2 };

static HEARTH_AI float hsum8(__m256 v) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

// Horizontal sums of 4 vectors -> one __m128 [sum(a) sum(b) sum(c) sum(d)].
static HEARTH_AI __m128 hsum4x8(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 ab = _mm256_hadd_ps(a, b), cd = _mm256_hadd_ps(c, d);
  const __m256 abcd = _mm256_hadd_ps(ab, cd);
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

// 8 elements at index k of a row of `kind`, widened to f32.
static HEARTH_AI __m256 load8(const void* p, int64_t k, int kind) {
  if (kind == kF32) return _mm256_loadu_ps(static_cast<const float*>(p) + k);
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + k));
  if (kind == kF16) return _mm256_cvtph_ps(h);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

static HEARTH_AI float load1(const void* p, int64_t k, int kind) {
  if (kind == kF32) return static_cast<const float*>(p)[k];
  const uint16_t h = static_cast<const uint16_t*>(p)[k];
  if (kind == kF16) return _cvtsh_ss(h);
  const uint32_t u = uint32_t(h) << 16;  // bf16 -> f32 (no call into core/fp16.h's inline code)
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

static HEARTH_AI size_t elem_size(int kind) { return kind == kF32 ? 4 : 2; }

// out[r] = dot(W row r, a) for R rows ws bytes apart (R = 1 in every instance), 2 accumulators
// per row.
static HEARTH_AI void rows_float(int64_t n, const uint8_t* w, size_t ws, const void* a, float* out,
                                 const int R, const int kind) {
  __m256 acc[4][2];
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) {
    // ~2 KiB ahead in each row (prefetches past the end of the matrix are harmless)
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      _mm_prefetch(reinterpret_cast<const char*>(w + size_t(r) * ws) + k * elem_size(kind) + 2048, _MM_HINT_T0);
    const __m256 a0 = load8(a, k, kind), a1 = load8(a, k + 8, kind);
    #pragma GCC unroll 64
    for (int r = 0; r < R; ++r) {
      const void* wr = w + size_t(r) * ws;
      acc[r][0] = _mm256_fmadd_ps(load8(wr, k, kind), a0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(load8(wr, k + 8, kind), a1, acc[r][1]);
    }
  }
  for (; k + 8 <= n; k += 8) {
    const __m256 a0 = load8(a, k, kind);
    #pragma GCC unroll 64
    for (int r = 0; r < R; ++r) acc[r][0] = _mm256_fmadd_ps(load8(w + size_t(r) * ws, k, kind), a0, acc[r][0]);
  }
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r) {
    float s = hsum8(_mm256_add_ps(acc[r][0], acc[r][1]));
    for (int64_t j = k; j < n; ++j) s += load1(w + size_t(r) * ws, j, kind) * load1(a, j, kind);
    out[r] = s;
  }
}

// Few activation rows: one weight row at a time against every activation row (the row stays in
// L1 across m, so weights are read from memory once). A single sequential stream per thread
// keeps the hardware prefetcher ahead: 4 interleaved rows were ~35% slower from DRAM at K = 1024.
static HEARTH_AI void gemm_rows_float(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,
                                      const void* a, size_t a_stride, int64_t m_rows, float* y,
                                      int64_t ldy, const int kind) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t m = 0; m < m_rows; ++m)
      rows_float(n, wb + size_t(r) * w_stride, w_stride, ab + size_t(m) * a_stride, y + m * ldy + r, 1, kind);
}

// Register tile: 4 weight rows x 3 activation rows (12 accumulators), over k in steps of 8.
// a: f32 activation panel rows lda floats apart. Columns k >= n8 (the tail) are added scalar.
static HEARTH_AI void tile_float(int64_t n, const uint8_t* w, size_t ws, const float* a, int64_t lda,
                                 float* y, int64_t ldy, const int R, const int C, const int kind) {
  __m256 acc[4][3];
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 64
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  const int64_t n8 = n & ~int64_t(7);
  for (int64_t k = 0; k < n8; k += 8) {
    __m256 av[3];
    #pragma GCC unroll 64
    for (int c = 0; c < C; ++c) av[c] = _mm256_loadu_ps(a + c * lda + k);
    #pragma GCC unroll 64
    for (int r = 0; r < R; ++r) {
      const __m256 wv = load8(w + size_t(r) * ws, k, kind);
      #pragma GCC unroll 64
      for (int c = 0; c < C; ++c) acc[r][c] = _mm256_fmadd_ps(wv, av[c], acc[r][c]);
    }
  }
  #pragma GCC unroll 64
  for (int c = 0; c < C; ++c) {
    float out[4];
    if (R == 4) {
      _mm_storeu_ps(out, hsum4x8(acc[0][c], acc[1][c], acc[2][c], acc[3][c]));
    } else {
      #pragma GCC unroll 64
      for (int r = 0; r < R; ++r) out[r] = hsum8(acc[r][c]);
    }
    #pragma GCC unroll 64
    for (int r = 0; r < R; ++r) {
      float s = out[r];
      for (int64_t j = n8; j < n; ++j) s += load1(w + size_t(r) * ws, j, kind) * a[c * lda + j];
      y[c * ldy + r] = s;
    }
  }
}

static void tile_4x3(int64_t n, const uint8_t* w, size_t ws, const float* a, int64_t lda, float* y, int64_t ldy, int kind) {
  switch (kind) {
    case kF32: tile_float(n, w, ws, a, lda, y, ldy, 4, 3, kF32); break;
    case kF16: tile_float(n, w, ws, a, lda, y, ldy, 4, 3, kF16); break;
    default: tile_float(n, w, ws, a, lda, y, ldy, 4, 3, kBF16); break;
  }
}

// Edge tiles (fewer rows or activation rows): R in 1..4, C in 1..3, not hot.
static void tile_edge(int64_t n, const uint8_t* w, size_t ws, const float* a, int64_t lda, float* y,
                      int64_t ldy, int R, int C, int kind) {
  #pragma GCC unroll 64
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 64
    for (int c = 0; c < C; ++c) {
      switch (kind) {
        case kF32: tile_float(n, w + size_t(r) * ws, ws, a + c * lda, lda, y + c * ldy + r, ldy, 1, 1, kF32); break;
        case kF16: tile_float(n, w + size_t(r) * ws, ws, a + c * lda, lda, y + c * ldy + r, ldy, 1, 1, kF16); break;
        default: tile_float(n, w + size_t(r) * ws, ws, a + c * lda, lda, y + c * ldy + r, ldy, 1, 1, kBF16); break;
      }
    }
}

constexpr int64_t kFloatRowsThreshold = 4;  // below this many activation rows: row kernels
constexpr int64_t kFloatMBlock = 48;        // activation rows per cache block (multiple of 3)

// Many activation rows: widen a block of activation rows to f32 once (lda = n rounded up),
// then 4x3 register tiles; the m-block stays in L2 while the thread's weight rows stream by.
static void gemm_float(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,
                       const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy, int kind) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  const int64_t lda = (n + 7) & ~int64_t(7);
  const int64_t mb_max = m_rows < kFloatMBlock ? m_rows : kFloatMBlock;
  // [mb_max, lda] f32 activation block
  auto* buf = static_cast<float*>(std::malloc(size_t(mb_max * lda) * sizeof(float)));
  if (!buf) return gemm_rows_float(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy, kind);
  for (int64_t m0 = 0; m0 < m_rows; m0 += kFloatMBlock) {
    const int64_t mb = m_rows - m0 < kFloatMBlock ? m_rows - m0 : kFloatMBlock;
    for (int64_t m = 0; m < mb; ++m) {
      const void* src = ab + size_t(m0 + m) * a_stride;
      float* dst = buf + m * lda;
      int64_t k = 0;
      for (; k + 8 <= n; k += 8) _mm256_storeu_ps(dst + k, load8(src, k, kind));
      for (; k < n; ++k) dst[k] = load1(src, k, kind);
    }
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
      int64_t m = 0;
      for (; m + 3 <= mb; m += 3)
        tile_4x3(n, wb + size_t(r) * w_stride, w_stride, buf + m * lda, lda, y + (m0 + m) * ldy + r, ldy, kind);
      if (m < mb)
        tile_edge(n, wb + size_t(r) * w_stride, w_stride, buf + m * lda, lda, y + (m0 + m) * ldy + r, ldy, 4, int(mb - m), kind);
    }
    if (r < r1)
      for (int64_t m = 0; m < mb; m += 3)
        tile_edge(n, wb + size_t(r) * w_stride, w_stride, buf + m * lda, lda, y + (m0 + m) * ldy + r, ldy,
                  int(r1 - r), int(mb - m < 3 ? mb - m : 3), kind);
  }
  std::free(buf);
}

#define HEARTH_FLOAT_ENTRIES(T, KIND)                                                            \
  static float T##_dot(int64_t n, const void* w, const void* a) {                               \
    float r;                                                                                     \
    rows_float(n, static_cast<const uint8_t*>(w), 0, a, &r, 1, KIND);                            \
    return r;                                                                                    \
  }                                                                                              \
  static void T##_gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,       \
                       const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {  \
    if (m_rows < kFloatRowsThreshold)                                                            \
      gemm_rows_float(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy, KIND);                \
    else                                                                                         \
      gemm_float(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy, KIND);                     \
  }

HEARTH_FLOAT_ENTRIES(f32, kF32)
HEARTH_FLOAT_ENTRIES(f16, kF16)
HEARTH_FLOAT_ENTRIES(bf16, kBF16)

}  // namespace

void register_avx2_q8_k_float(KernelTable& t) {
  t.vec_dot[int(DType::F32)] = f32_dot;
  t.vec_dot[int(DType::F16)] = f16_dot;
  t.vec_dot[int(DType::BF16)] = bf16_dot;
  t.gemm[int(DType::F32)] = f32_gemm;
  t.gemm[int(DType::F16)] = f16_gemm;
  t.gemm[int(DType::BF16)] = bf16_gemm;
}

}  // namespace hearth::kernels::x86
