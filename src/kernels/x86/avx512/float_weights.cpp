// AVX-512 matrix kernels for F32 / F16 / BF16 weights with activations of the same type
// (vec_dot and gemm), the zmm version of avx2/quant_q8_k_float.cpp. F32 and F16 are widened to
// f32 in registers (_mm512_cvtph_ps) and summed in f32 FMA lanes; BF16 pairs are multiplied and
// summed by _mm512_dpbf16_ps straight from memory (registered only when the CPU has AVX512-BF16).
// Static functions only (see CMakeLists.txt). Matches kernels/reference dot_f32/f16/bf16 up to
// float summation order (the reference sums exact-or-rounded products in double).
//
// vdpbf16ps: each bf16 x bf16 product is exact in f32 (8-bit significands); the two products of
// a pair are added to the f32 lane one after the other with round-to-nearest-even, as the
// reference's double sum is rounded once; it treats denormal inputs as zero and flushes
// denormal results (|x| < 2^-126), i.e. absolute differences below 2^-126 * max|a|, far under
// the test bound's 1e-30 floor for any |a| < 1e7.
#include <immintrin.h>
// GCC 12 warns about the self-initialised _mm512_undefined_* inside its own intrinsic headers.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/cpu_features.h"
#include "kernels/x86/x86.h"

namespace hearth::kernels::x86 {
namespace {

#define HEARTH_AI __attribute__((always_inline)) inline

enum Kind { kF32 = 0, kF16 = 1, kBF16 = 2 };

static HEARTH_AI __mmask16 lanes16(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u);
}
static HEARTH_AI __mmask32 lanes32(int64_t n) {
  return n >= 32 ? __mmask32(0xFFFFFFFFu) : __mmask32((1u << n) - 1u);
}

// 16 elements at index k of a row of `kind` (F32 or F16), widened to f32; masked: the first
// lanes of m, zeros elsewhere.
static HEARTH_AI __m512 load16(const void* p, int64_t k, int kind) {
  if (kind == kF32) return _mm512_loadu_ps(static_cast<const float*>(p) + k);
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(p) + k)));
}
static HEARTH_AI __m512 load16m(const void* p, int64_t k, int kind, __mmask16 m) {
  if (kind == kF32) return _mm512_maskz_loadu_ps(m, static_cast<const float*>(p) + k);
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + k));
}
// 32 bf16 at index k.
static HEARTH_AI __m512bh load32bh(const void* p, int64_t k) {
  return (__m512bh)_mm512_loadu_si512(static_cast<const uint16_t*>(p) + k);
}
static HEARTH_AI __m512bh load32bhm(const void* p, int64_t k, __mmask32 m) {
  return (__m512bh)_mm512_maskz_loadu_epi16(m, static_cast<const uint16_t*>(p) + k);
}

static HEARTH_AI size_t elem_size(int kind) { return kind == kF32 ? 4 : 2; }

// dot(W row, a): 2 accumulators (32 elements per step), ~2 KiB prefetch ahead in the row.
static HEARTH_AI float row_dot(int64_t n, const void* w, const void* a, const int kind) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  const char* wc = static_cast<const char*>(w);
  if (kind == kBF16) {
    int64_t k = 0;
    for (; k + 64 <= n; k += 64) {
      _mm_prefetch(wc + k * 2 + 2048, _MM_HINT_T0);
      acc0 = _mm512_dpbf16_ps(acc0, load32bh(w, k), load32bh(a, k));
      acc1 = _mm512_dpbf16_ps(acc1, load32bh(w, k + 32), load32bh(a, k + 32));
    }
    for (; k < n; k += 32) {
      const __mmask32 m = lanes32(n - k);
      acc0 = _mm512_dpbf16_ps(acc0, load32bhm(w, k, m), load32bhm(a, k, m));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  }
  int64_t k = 0;
  for (; k + 32 <= n; k += 32) {
    _mm_prefetch(wc + k * int64_t(elem_size(kind)) + 2048, _MM_HINT_T0);
    acc0 = _mm512_fmadd_ps(load16(w, k, kind), load16(a, k, kind), acc0);
    acc1 = _mm512_fmadd_ps(load16(w, k + 16, kind), load16(a, k + 16, kind), acc1);
  }
  for (; k < n; k += 16) {
    const __mmask16 m = lanes16(n - k);
    acc0 = _mm512_fmadd_ps(load16m(w, k, kind, m), load16m(a, k, kind, m), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

// Few activation rows: one weight row at a time against every activation row (the weight row
// stays in L1 across m; one sequential stream per thread for the prefetcher).
static HEARTH_AI void gemm_rows(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,
                                const void* a, size_t a_stride, int64_t m_rows, float* y,
                                int64_t ldy, const int kind) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t m = 0; m < m_rows; ++m)
      y[m * ldy + r] = row_dot(n, wb + size_t(r) * w_stride, ab + size_t(m) * a_stride, kind);
}

// Register tile: R weight rows x C activation rows (R * C zmm accumulators) over k.
// F32/F16: a is an f32 panel (rows lda floats apart, zero-padded to lda, a multiple of 16);
// weights widened in registers, masked at the tail. BF16: a is the raw bf16 rows (a_stride
// bytes apart), 32 elements per dpbf16 step, masked tail.
template <int R, int C, int K>
static void tile(int64_t n, const uint8_t* w, size_t ws, const void* a, size_t a_stride, float* y,
                 int64_t ldy) {
  __m512 acc[R][C];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  const auto* ab = static_cast<const uint8_t*>(a);
  if (K == kBF16) {
    int64_t k = 0;
    for (; k < n; k += 32) {
      const __mmask32 m = lanes32(n - k);
      __m512bh av[C];
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) av[c] = load32bhm(ab + size_t(c) * a_stride, k, m);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512bh wv = load32bhm(w + size_t(r) * ws, k, m);
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], wv, av[c]);
      }
    }
  } else {
    const float* af = static_cast<const float*>(a);
    const int64_t lda = int64_t(a_stride / sizeof(float));
    for (int64_t k = 0; k < n; k += 16) {
      const __mmask16 m = lanes16(n - k);
      __m512 av[C];
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) av[c] = _mm512_load_ps(af + c * lda + k);  // padded with zeros
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m512 wv = load16m(w + size_t(r) * ws, k, K, m);
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) acc[r][c] = _mm512_fmadd_ps(wv, av[c], acc[r][c]);
      }
    }
  }
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c)
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) y[c * ldy + r] = _mm512_reduce_add_ps(acc[r][c]);
}

constexpr int kTR = 4, kTC = 6;          // main register tile: 4 weight rows x 6 activation rows
constexpr int64_t kRowsThreshold = 4;    // below this many activation rows: row kernels
constexpr int64_t kMBlock = 48;          // activation rows per cache block (multiple of kTC)

template <int K>
static void tile_any(int R, int C, int64_t n, const uint8_t* w, size_t ws, const void* a,
                     size_t as, float* y, int64_t ldy) {
  if (R == kTR && C == kTC) return tile<kTR, kTC, K>(n, w, ws, a, as, y, ldy);
  // Edges: R in 1..4 by C in 1..6, as 1-row strips of up to 6 activation rows.
  for (int r = 0; r < R; ++r) {
    const uint8_t* wr = w + size_t(r) * ws;
    float* yr = y + r;
    switch (C) {
      case 6: tile<1, 6, K>(n, wr, ws, a, as, yr, ldy); break;
      case 5: tile<1, 5, K>(n, wr, ws, a, as, yr, ldy); break;
      case 4: tile<1, 4, K>(n, wr, ws, a, as, yr, ldy); break;
      case 3: tile<1, 3, K>(n, wr, ws, a, as, yr, ldy); break;
      case 2: tile<1, 2, K>(n, wr, ws, a, as, yr, ldy); break;
      default: tile<1, 1, K>(n, wr, ws, a, as, yr, ldy); break;
    }
  }
}

// Many activation rows: (F32/F16) widen a block of activation rows to an f32 panel once, then
// kTR x kTC register tiles; the m-block stays in L2 while the thread's weight rows stream by.
template <int K>
static void gemm_tiled(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,
                       const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  const int64_t lda = (n + 15) & ~int64_t(15);
  float* buf = nullptr;
  if (K != kBF16) {
    const int64_t mb_max = m_rows < kMBlock ? m_rows : kMBlock;
    buf = static_cast<float*>(std::aligned_alloc(64, size_t(mb_max * lda) * sizeof(float)));
    if (!buf) return gemm_rows(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy, K);
  }
  for (int64_t m0 = 0; m0 < m_rows; m0 += kMBlock) {
    const int64_t mb = m_rows - m0 < kMBlock ? m_rows - m0 : kMBlock;
    const void* panel;
    size_t ps;
    if (K == kBF16) {
      panel = ab + size_t(m0) * a_stride;
      ps = a_stride;
    } else {
      for (int64_t m = 0; m < mb; ++m) {
        const void* src = ab + size_t(m0 + m) * a_stride;
        float* dst = buf + m * lda;
        for (int64_t k = 0; k < lda; k += 16) _mm512_store_ps(dst + k, load16m(src, k, K, lanes16(n - k)));
      }
      panel = buf;
      ps = size_t(lda) * sizeof(float);
    }
    const auto* pb = static_cast<const uint8_t*>(panel);
    for (int64_t r = r0; r < r1; r += kTR) {
      const int R = int(r1 - r < kTR ? r1 - r : kTR);
      for (int64_t m = 0; m < mb; m += kTC) {
        const int C = int(mb - m < kTC ? mb - m : kTC);
        tile_any<K>(R, C, n, wb + size_t(r) * w_stride, w_stride, pb + size_t(m) * ps, ps,
                    y + (m0 + m) * ldy + r, ldy);
      }
    }
  }
  std::free(buf);
}

#define HEARTH_FLOAT_ENTRIES(T, KIND)                                                            \
  static float T##_dot(int64_t n, const void* w, const void* a) { return row_dot(n, w, a, KIND); } \
  static void T##_gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,       \
                       const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {  \
    if (m_rows < kRowsThreshold)                                                                 \
      gemm_rows(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy, KIND);                      \
    else                                                                                         \
      gemm_tiled<KIND>(n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);                     \
  }

HEARTH_FLOAT_ENTRIES(f32, kF32)
HEARTH_FLOAT_ENTRIES(f16, kF16)
HEARTH_FLOAT_ENTRIES(bf16, kBF16)

}  // namespace

// Declared in float_family.cpp.
void register_avx512_float_weights(KernelTable& t) {
  t.vec_dot[int(DType::F32)] = f32_dot;
  t.vec_dot[int(DType::F16)] = f16_dot;
  t.gemm[int(DType::F32)] = f32_gemm;
  t.gemm[int(DType::F16)] = f16_gemm;
  if (cpu_features().avx512bf16) {
    t.vec_dot[int(DType::BF16)] = bf16_dot;
    t.gemm[int(DType::BF16)] = bf16_gemm;
  }
}

}  // namespace hearth::kernels::x86
