// AVX-512 VNNI kernels for the weight types whose activations are Q8_0 / Q8_1 (Q8_0, Q4_0, Q5_0,
// IQ4_NL, MXFP4, NVFP4 / Q4_1, Q5_1): the prefill GEMM on both the GGUF layout (`gemm`) and the
// AVX2 8-row repacked layout (`gemm_repacked`, same layout: the repack entry is inherited), the
// repacked decode kernel, and the Q8_0 / Q8_1 activation quantizers.
// Must match the scalar reference (kernels/reference/quant_dot.cpp) as the AVX2 kernels do:
// integer block sums exact, the same per-block scale products, only the float summation order
// differs. Anonymous namespace only (no weak symbols; see CMakeLists.txt).
//
// Work layout (docs/KERNELS.md, "AVX-512: Q8_0-activation family (VNNI)"):
//  - m_rows == 1 (decode), both layouts: the AVX2 kernel (the entry the table held before this
//    registration, saved and called through a pointer; on the repacked layout its variant that
//    prefetches 4 KiB ahead): end to end its single stream per thread decodes faster (Qwen3-0.6B
//    shape, 2 threads, 3 pairs, tok/s: Q8_0 54.5 -> 65.8, Q4_0 82.7 -> 96.7 with it instead of
//    gemv_rp512; MXFP4 equal);
//  - 2 <= m <= 8 on the repacked layout (small decode batches, MoE experts): a kernel with two
//    8-row groups per zmm (gemv_rp512);
//  - larger m (both layouts): per k-panel of kKB chunks (32 elements each) and panel of 32 weight rows, the
//    weights are decoded once into an L1 panel of unsigned bytes, 16 rows per zmm, 4 consecutive
//    elements per row per dword; the micro-kernel multiplies each with a broadcast activation
//    dword by vpdpbusd (u8 x s8, 4 products summed straight into int32: no int16 stage), 2 zmm
//    (32 rows) x MR activation rows of int32 accumulators per 32-element block, then one
//    cvt + mul + fma per accumulator applies the block scales d_w * d_y in f32.
//  - vpdpbusd needs the weight side unsigned: every type's levels are stored as u = level + kOff
//    (Q4_0 nibble = level + 8; MXFP4 / NVFP4 table + 12; Q5_0 + 16; Q8_0 and IQ4_NL + 128 via
//    xor 0x80 / a shifted table; Q4_1 / Q5_1 have no offset), and the int32 accumulator of
//    activation row m starts at -kOff * sum(y over the block), so it ends at the exact signed
//    dot. Activations -128 are handled exactly (no sign trick, unlike maddubs).
// GCC 12 warns that _mm512_cvtepi32_ps's _mm512_undefined_ps() pass-through is uninitialized
// (a false positive of the header's `__m512 __Y = __Y;` idiom).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <new>
#include <type_traits>

#include "kernels/x86/avx2/quant_q8_0_common.h"

namespace hearth::kernels::x86 {
namespace {

// The AVX2 entries this file replaces, called for small m.
GemmFn g_avx2_gemm[kMaxTypes] = {};
GemmFn g_avx2_gemm_rp[kMaxTypes] = {};

constexpr int kNR = 32;         // weight rows per panel (2 zmm of 16 rows)
// Measured on Zen 5 (Q80/Gemm*/q8_0/1/512, CPU time): MR 3 / 4 / 5 / 6 = 5.9 / 5.6 / 5.9 / 6.7 ms
// (6 runs out of the 32 zmm), kMC 256 -> 512 and kKB 16 -> 32 about 5% each.
constexpr int kKB512 = 32;      // chunks per k-panel: 32 x 1 KiB of panel in L1 (48 KiB)
constexpr int kMC512 = 512;     // activation rows whose side data is cached per k-panel
constexpr int kMR512 = 4;       // activation rows per micro-kernel call (2 x 4 int32 + 2 x 4 f32 zmm)
// Smallest m that goes through the VNNI panel (below: the AVX2 entry).
constexpr int64_t kMinRows512 = 2;
// Repacked: the decode kernel (weights decoded once per call, MR = m) beats the panel up to m = 8
// (bench Q80SmallM, Zen 5, 1 thread, [3072 x 1024], CPU us: Q8_0 m = 6 / 8 decode kernel 92 / 110
// vs panel 123 / 132; Q4_0 74 / 98 vs 143 / 154; m = 16: panel ~210 vs ~2 x 110).
constexpr int64_t kMinRowsRepacked512 = 9;

template <class T>
constexpr int kOff = T::kSigned ? 128 : T::kOffset;

// decode T's chunk as unsigned u = level + kOff (32 bytes, element order)
template <class T>
static inline __m256i decode_u(const uint8_t* row, int64_t c, __m256i table) {
  if constexpr (std::is_same_v<T, TQ8_0>)
    return _mm256_xor_si256(T::decode(row, c, table), _mm256_set1_epi8(char(0x80)));
  else
    return T::decode(row, c, table);  // IQ4_NL: the table is pre-shifted by +128 (lut_u)
}
template <class T>
static inline __m256i lut_u() {
  if constexpr (std::is_same_v<T, TIq4Nl>) return broadcast_lut(quant::kIq4nlValues, int8_t(-128));
  else return T::lut();
}

// ---------------------------------------------------------------------------------------------
// Panel: wq[c * 1024 + s * 128 + 4 * p + i] = u of element 4s + i of panel row p, chunk c;
// wsc[(c * G + g) * 32 + p] = scale of group g; wmin[c * 32 + p] = minimum. Rows >= `rows` zero.

// 16 full rows (rows 0-15 of wg), chunk c -> the 8 step registers of one panel half: row r and
// r + 8 share a zmm (low / high 256 bits), an 8x8 dword transpose runs in both halves at once,
// and one vpermt2q per output puts the 128-bit lanes in row order.
template <class T>
__attribute__((always_inline)) static inline void pack16(const uint8_t* wg, size_t w_stride,
                                                         int64_t c, __m256i table, uint8_t* dst) {
  __m512i v[8], t[8], u[8];
#pragma GCC unroll 8
  for (int r = 0; r < 8; ++r)
    v[r] = _mm512_inserti64x4(_mm512_castsi256_si512(decode_u<T>(wg + r * w_stride, c, table)),
                              decode_u<T>(wg + (r + 8) * w_stride, c, table), 1);
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
  const __m512i hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    _mm512_store_si512(dst + j * 128, _mm512_permutex2var_epi64(u[j], lo, u[4 + j]));
    _mm512_store_si512(dst + (j + 4) * 128, _mm512_permutex2var_epi64(u[j], hi, u[4 + j]));
  }
}

template <class T>
static void pack_gguf(const uint8_t* w, size_t w_stride, int rows, int64_t c0, int kbn,
                      uint8_t* wq, float* wsc, float* wmin) {
  const __m256i table = lut_u<T>();
  for (int h = 0; h < 2; ++h) {
    if (rows < 16 * (h + 1)) continue;  // partial halves: the 8-row loop below
    const uint8_t* wg = w + size_t(16 * h) * w_stride;
    for (int c = 0; c < kbn; ++c) {
      pack16<T>(wg, w_stride, c0 + c, table, wq + c * 1024 + 64 * h);
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r) {
        const uint8_t* row = wg + r * w_stride;
        for (int g = 0; g < T::kGroups; ++g) wsc[(c * T::kGroups + g) * 32 + 16 * h + r] = T::scale_g(row, c0 + c, g);
        if constexpr (T::kMin) wmin[c * 32 + 16 * h + r] = T::min(row, c0 + c);
      }
    }
  }
  for (int q = 0; q < 4; ++q) {
    if (rows >= 16 * (q / 2 + 1)) continue;  // done by pack16
    const int rq = rows - 8 * q;  // valid rows in this group of 8
    const uint8_t* wg = w + size_t(8 * q) * w_stride;
    if (rq <= 0) {
      for (int c = 0; c < kbn; ++c) {
        for (int s = 0; s < 8; ++s)
          _mm256_store_si256(reinterpret_cast<__m256i*>(wq + c * 1024 + s * 128 + 32 * q), _mm256_setzero_si256());
        for (int g = 0; g < T::kGroups; ++g)
          _mm256_store_ps(wsc + (c * T::kGroups + g) * 32 + 8 * q, _mm256_setzero_ps());
        if constexpr (T::kMin) _mm256_store_ps(wmin + c * 32 + 8 * q, _mm256_setzero_ps());
      }
      continue;
    }
    for (int c = 0; c < kbn; ++c) {
      __m256i v[8];
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r)
        v[r] = r < rq ? decode_u<T>(wg + r * w_stride, c0 + c, table) : _mm256_setzero_si256();
      transpose8_epi32(v);
#pragma GCC unroll 8
      for (int s = 0; s < 8; ++s)
        _mm256_store_si256(reinterpret_cast<__m256i*>(wq + c * 1024 + s * 128 + 32 * q), v[s]);
      for (int g = 0; g < T::kGroups; ++g)
        for (int r = 0; r < 8; ++r)
          wsc[(c * T::kGroups + g) * 32 + 8 * q + r] = r < rq ? T::scale_g(wg + r * w_stride, c0 + c, g) : 0.0f;
      if constexpr (T::kMin)
        for (int r = 0; r < 8; ++r)
          wmin[c * 32 + 8 * q + r] = r < rq ? T::min(wg + r * w_stride, c0 + c) : 0.0f;
    }
  }
}

// Repacked layout (quant_q8_0_repack.cpp): group-chunk = header + 32-byte units, unit k = bytes
// 4k..4k+3 of the 8 rows' qs. Types: Q4_0, Q4_1, Q8_0, IQ4_NL, MXFP4.
template <class T>
struct Rp512;
static inline __m256 f16x8(const uint8_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
template <>
struct Rp512<TQ4_0> {
  static constexpr int kHdr = 16, kUnits = 4;
  static __m256 scales8(const uint8_t* gc) { return f16x8(gc); }
  static __m256 mins8(const uint8_t*) { return _mm256_setzero_ps(); }
};
template <>
struct Rp512<TIq4Nl> {
  static constexpr int kHdr = 16, kUnits = 4;
  static __m256 scales8(const uint8_t* gc) { return f16x8(gc); }
  static __m256 mins8(const uint8_t*) { return _mm256_setzero_ps(); }
};
template <>
struct Rp512<TQ4_1> {
  static constexpr int kHdr = 32, kUnits = 4;
  static __m256 scales8(const uint8_t* gc) { return f16x8(gc); }
  static __m256 mins8(const uint8_t* gc) { return f16x8(gc + 16); }
};
template <>
struct Rp512<TQ8_0> {
  static constexpr int kHdr = 16, kUnits = 8;
  static __m256 scales8(const uint8_t* gc) { return f16x8(gc); }
  static __m256 mins8(const uint8_t*) { return _mm256_setzero_ps(); }
};
template <>
struct Rp512<TMxfp4> {
  static constexpr int kHdr = 8, kUnits = 4;
  // E8M0 e -> 2^(e - 128) = kE8m0HalfValues[e] (see quant_q8_0_repack.cpp)
  static __m256 scales8(const uint8_t* gc) {
    uint64_t e8;
    std::memcpy(&e8, gc, 8);
    const __m256i e = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(int64_t(e8)));
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i normal = _mm256_slli_epi32(_mm256_sub_epi32(e, one), 23);
    const __m256i sub = _mm256_srlv_epi32(_mm256_set1_epi32(0x00400000), _mm256_sub_epi32(one, e));
    const __m256i is_normal = _mm256_cmpgt_epi32(e, one);
    return _mm256_castsi256_ps(_mm256_blendv_epi8(sub, normal, is_normal));
  }
  static __m256 mins8(const uint8_t*) { return _mm256_setzero_ps(); }
};

// w points at the first of the 4 repacked groups; w_stride = row bytes (group q at 8q rows).
template <class T>
static void pack_rp(const uint8_t* w, size_t w_stride, int rows, int64_t c0, int kbn,
                    uint8_t* wq, float* wsc, float* wmin) {
  using R = Rp512<T>;
  const __m256i table = lut_u<T>();
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int q = 0; q < 4; ++q) {
    if (8 * q >= rows) {
      for (int c = 0; c < kbn; ++c) {
        for (int s = 0; s < 8; ++s)
          _mm256_store_si256(reinterpret_cast<__m256i*>(wq + c * 1024 + s * 128 + 32 * q), _mm256_setzero_si256());
        _mm256_store_ps(wsc + c * 32 + 8 * q, _mm256_setzero_ps());
        if constexpr (T::kMin) _mm256_store_ps(wmin + c * 32 + 8 * q, _mm256_setzero_ps());
      }
      continue;
    }
    const uint8_t* g0 = w + size_t(8 * q) * w_stride + size_t(c0) * 8 * T::kBytes;
    for (int c = 0; c < kbn; ++c) {
      const uint8_t* gc = g0 + size_t(c) * 8 * T::kBytes;
      uint8_t* dst = wq + c * 1024 + 32 * q;
#pragma GCC unroll 8
      for (int k = 0; k < R::kUnits; ++k) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(gc + R::kHdr + 32 * k));
        if constexpr (R::kUnits == 8) {
          _mm256_store_si256(reinterpret_cast<__m256i*>(dst + k * 128),
                             _mm256_xor_si256(v, _mm256_set1_epi8(char(0x80))));
        } else {
          __m256i l = _mm256_and_si256(v, m4), h = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
          if constexpr (T::kLut) {
            l = _mm256_shuffle_epi8(table, l);
            h = _mm256_shuffle_epi8(table, h);
          }
          _mm256_store_si256(reinterpret_cast<__m256i*>(dst + k * 128), l);
          _mm256_store_si256(reinterpret_cast<__m256i*>(dst + (k + 4) * 128), h);
        }
      }
      _mm256_store_ps(wsc + c * 32 + 8 * q, R::scales8(gc));
      if constexpr (T::kMin) _mm256_store_ps(wmin + c * 32 + 8 * q, R::mins8(gc));
    }
  }
}

// Side data of one activation row over chunks [c0, c0 + kbn):
//   dy[c] = d_y;  noff[c * G + g] = -kOff * (sum of y over group g);  sy[c] = s_y.
template <class T>
static void act_side512(const uint8_t* arow, int64_t c0, int kbn, float* dy, int32_t* noff,
                        float* sy) {
  using Act = typename T::Act;
  const __m256i ones8 = _mm256_set1_epi8(1);
  for (int c = 0; c < kbn; ++c) {
    const uint8_t* ab = arow + (c0 + c) * sizeof(Act);
    dy[c] = h2f(load_u16(ab));
    if constexpr (T::kMin) sy[c] = act_s(ab);
    if constexpr (kOff<T> != 0) {
      const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act_qs<Act>(ab)));
      // lane k = y[4k] + .. + y[4k+3] (dpbusd of ones with y)
      const __m256i s32 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones8, y);
      if constexpr (T::kGroups == 1) {
        noff[c] = -kOff<T> * hsum_epi32(s32);
      } else {
        __m128i lo = _mm256_castsi256_si128(s32), hi = _mm256_extracti128_si256(s32, 1);
        lo = _mm_hadd_epi32(lo, hi);  // [l01, l23, h01, h23]
        lo = _mm_hadd_epi32(lo, lo);  // [l, h, l, h]
        noff[2 * c] = -kOff<T> * _mm_cvtsi128_si32(lo);
        noff[2 * c + 1] = -kOff<T> * _mm_extract_epi32(lo, 1);
      }
    }
  }
}

static inline void pin512(__m512i& v) { asm("" : "+v"(v)); }

// 32 panel rows x MR activation rows over kbn chunks: acc[2m + j] lane l (row 16j + l) +=
// sum over chunks / groups of (d_w * d_y) * (exact int dot) (+ min * s_y).
template <class T, int MR>
__attribute__((always_inline)) static inline void micro512(
    int kbn, const uint8_t* wq, const float* wsc, const float* wmin, const uint8_t* const* ap,
    const float* dy, const int32_t* noff, const float* sy, int side_stride, __m512* acc) {
  using Act = typename T::Act;
  constexpr int G = T::kGroups;
  constexpr int kSteps = 8 / G;
  for (int c = 0; c < kbn; ++c) {
    const uint8_t* wb = wq + c * 1024;
    const size_t aoff = size_t(c) * sizeof(Act) + offsetof(Act, qs);
#pragma GCC unroll 2
    for (int g = 0; g < G; ++g) {
      __m512i i32[2 * MR];
#pragma GCC unroll 8
      for (int m = 0; m < MR; ++m) {
        const __m512i init = kOff<T> != 0 ? _mm512_set1_epi32(noff[m * side_stride * G + c * G + g])
                                          : _mm512_setzero_si512();
        i32[2 * m] = init;
        i32[2 * m + 1] = init;
      }
#pragma GCC unroll 8
      for (int s0 = 0; s0 < kSteps; ++s0) {
        const int s = g * kSteps + s0;
        const __m512i w0 = _mm512_load_si512(wb + s * 128);
        const __m512i w1 = _mm512_load_si512(wb + s * 128 + 64);
#pragma GCC unroll 8
        for (int m = 0; m < MR; ++m) {
          const __m512i yb = _mm512_set1_epi32(load_i32(ap[m] + aoff + 4 * s));
          i32[2 * m] = _mm512_dpbusd_epi32(i32[2 * m], w0, yb);
          i32[2 * m + 1] = _mm512_dpbusd_epi32(i32[2 * m + 1], w1, yb);
        }
      }
      const __m512 sc0 = _mm512_load_ps(wsc + (c * G + g) * 32);
      const __m512 sc1 = _mm512_load_ps(wsc + (c * G + g) * 32 + 16);
#pragma GCC unroll 8
      for (int m = 0; m < MR; ++m) {
        const __m512 d = _mm512_set1_ps(dy[m * side_stride + c]);
        acc[2 * m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i32[2 * m]), _mm512_mul_ps(sc0, d), acc[2 * m]);
        acc[2 * m + 1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i32[2 * m + 1]), _mm512_mul_ps(sc1, d), acc[2 * m + 1]);
      }
    }
    if constexpr (T::kMin) {
      const __m512 mv0 = _mm512_load_ps(wmin + c * 32), mv1 = _mm512_load_ps(wmin + c * 32 + 16);
#pragma GCC unroll 8
      for (int m = 0; m < MR; ++m) {
        const __m512 sv = _mm512_set1_ps(sy[m * side_stride + c]);
        acc[2 * m] = _mm512_fmadd_ps(mv0, sv, acc[2 * m]);
        acc[2 * m + 1] = _mm512_fmadd_ps(mv1, sv, acc[2 * m + 1]);
      }
    }
  }
}

template <class T, int MR>
static void tile512(int kbn, const uint8_t* wq, const float* wsc, const float* wmin,
                    const uint8_t* a, size_t a_stride, int64_t m, int64_t c0, const float* dy,
                    const int32_t* noff, const float* sy, bool first, int rows, float* y,
                    int64_t ldy) {
  const uint8_t* ap[MR];
  __m512 acc[2 * MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    ap[i] = a + (m + i) * a_stride + c0 * sizeof(typename T::Act);
    acc[2 * i] = _mm512_setzero_ps();
    acc[2 * i + 1] = _mm512_setzero_ps();
  }
  micro512<T, MR>(kbn, wq, wsc, wmin, ap, dy, noff, sy, kKB512, acc);
  const __mmask16 k0 = rows >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << rows) - 1);
  const __mmask16 k1 = rows >= 32 ? __mmask16(0xFFFF) : rows <= 16 ? __mmask16(0) : __mmask16((1u << (rows - 16)) - 1);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    float* out = y + (m + i) * ldy;
    if (rows == 32) {
      if (first) {
        _mm512_storeu_ps(out, acc[2 * i]);
        _mm512_storeu_ps(out + 16, acc[2 * i + 1]);
      } else {
        _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), acc[2 * i]));
        _mm512_storeu_ps(out + 16, _mm512_add_ps(_mm512_loadu_ps(out + 16), acc[2 * i + 1]));
      }
    } else {
      __m512 v0 = acc[2 * i], v1 = acc[2 * i + 1];
      if (!first) {
        v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(k0, out), v0);
        v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(k1, out + 16), v1);
      }
      _mm512_mask_storeu_ps(out, k0, v0);
      _mm512_mask_storeu_ps(out + 16, k1, v1);
    }
  }
}

constexpr size_t kWqBytes = size_t(kKB512) * 1024;
constexpr size_t kScratchBytes = kWqBytes + sizeof(float) * (kKB512 * 2 * 32 + kKB512 * 32 +
                                                             2 * kMC512 * kKB512) +
                                 sizeof(int32_t) * kMC512 * kKB512 * 2;

// Per-thread scratch, allocated on first use and freed at thread exit. Plain operator new /
// delete (no std::vector: its out-of-line members would be weak symbols compiled for AVX-512).
struct Scratch {
  uint8_t* p = nullptr;
  ~Scratch() {
    if (p) ::operator delete(p, std::align_val_t(64));
  }
};
static uint8_t* scratch() {
  static thread_local Scratch s;
  if (!s.p) s.p = static_cast<uint8_t*>(::operator new(kScratchBytes, std::align_val_t(64)));
  return s.p;
}

template <class T, bool kRp>
static void gemm_panel(int64_t n, const uint8_t* w, size_t w_stride, int64_t r0, int64_t r1,
                       const uint8_t* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  constexpr int G = T::kGroups;
  const int64_t nb = n / kQK;
  // one per-thread scratch area (~330 KiB, shared by every type): too large for the stack
  uint8_t* base = scratch();
  uint8_t* wq = base;                                           // [kKB][8 steps][32 rows][4]
  float* wsc = reinterpret_cast<float*>(base + kWqBytes);       // [kKB][G][32 rows]
  float* wmin = wsc + kKB512 * 2 * 32;                          // [kKB][32 rows]
  float* dy = wmin + kKB512 * 32;                               // [kMC][kKB]
  float* sy = dy + kMC512 * kKB512;                             // [kMC][kKB]
  int32_t* noff = reinterpret_cast<int32_t*>(sy + kMC512 * kKB512);  // [kMC][kKB][G]
  for (int64_t c0 = 0; c0 < nb; c0 += kKB512) {
    const int kbn = int(min_i64(kKB512, nb - c0));
    const bool first = c0 == 0;
    for (int64_t m0 = 0; m0 < m_rows; m0 += kMC512) {
      const int mc = int(min_i64(kMC512, m_rows - m0));
      for (int i = 0; i < mc; ++i)
        act_side512<T>(a + (m0 + i) * a_stride, c0, kbn, dy + i * kKB512, noff + i * kKB512 * G,
                       T::kMin ? sy + i * kKB512 : sy);
      for (int64_t g0 = r0; g0 < r1; g0 += kNR) {
        const int rows = int(min_i64(kNR, r1 - g0));
        if constexpr (kRp)
          pack_rp<T>(w + g0 * w_stride, w_stride, rows, c0, kbn, wq, wsc, wmin);
        else
          pack_gguf<T>(w + g0 * w_stride, w_stride, rows, c0, kbn, wq, wsc, wmin);
        float* yg = y + g0;
        for (int i = 0; i < mc;) {
          const int mr = int(min_i64(kMR512, mc - i));
          const float* dyi = dy + i * kKB512;
          const int32_t* noi = noff + i * kKB512 * G;
          const float* syi = T::kMin ? sy + i * kKB512 : sy;
#define HEARTH_TILE(MR)                                                                          \
  case MR:                                                                                       \
    tile512<T, MR>(kbn, wq, wsc, wmin, a, a_stride, m0 + i, c0, dyi, noi, syi, first, rows, yg, \
                   ldy);                                                                         \
    break;
          switch (mr) {
            HEARTH_TILE(1) HEARTH_TILE(2) HEARTH_TILE(3) HEARTH_TILE(4) HEARTH_TILE(5) HEARTH_TILE(6)
            default: break;
          }
#undef HEARTH_TILE
          i += mr;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decode / small m on the repacked layout: two 8-row groups side by side in one zmm (group A's
// unit k in the low 256 bits, group B's in the high ones; rows g0..g0+15 in lane order), so a
// broadcast activation dword feeds 16 rows per vpdpbusd; MR (<= 8) activation rows share each
// decoded weight register. A thread's odd last group goes to the AVX2 entry.

constexpr int kKBD512 = 256;  // chunks per k-panel of side data
// Prefetch distance per stream, as the AVX2 decode kernel (quant_q8_0_repack.cpp).
constexpr size_t kPrefetch512 = 1024;

template <class T>
static inline __m512i load2(const uint8_t* a, const uint8_t* b) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a))),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b)), 1);
}

template <class T, int MR>
static void rp_gemv(int kbn, const uint8_t* ga, const uint8_t* gb, const uint8_t* const* ap,
                    const float* dy, const int32_t* noff, const float* sy, int side_stride,
                    __m512* acc) {
  using R = Rp512<T>;
  using Act = typename T::Act;
  constexpr size_t kGc = 8 * T::kBytes;  // bytes of one group-chunk
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i table = _mm512_broadcast_i32x4(_mm256_castsi256_si128(lut_u<T>()));
  for (int c = 0; c < kbn; ++c) {
    const uint8_t* ca = ga + size_t(c) * kGc;
    const uint8_t* cb = gb + size_t(c) * kGc;
    if constexpr (kPrefetch512 > 0) {
      for (size_t off = 0; off < kGc; off += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(ca + kPrefetch512 + off), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(cb + kPrefetch512 + off), _MM_HINT_T0);
      }
    }
    const size_t aoff = size_t(c) * sizeof(Act) + offsetof(Act, qs);
    __m512i i32[MR];
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m)
      i32[m] = kOff<T> != 0 ? _mm512_set1_epi32(noff[m * side_stride + c]) : _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int k = 0; k < R::kUnits; ++k) {
      const __m512i v = load2<T>(ca + R::kHdr + 32 * k, cb + R::kHdr + 32 * k);
      if constexpr (R::kUnits == 8) {
        const __m512i u = _mm512_xor_si512(v, _mm512_set1_epi8(char(0x80)));
#pragma GCC unroll 8
        for (int m = 0; m < MR; ++m)
          i32[m] = _mm512_dpbusd_epi32(i32[m], u, _mm512_set1_epi32(load_i32(ap[m] + aoff + 4 * k)));
      } else {
        __m512i l = _mm512_and_si512(v, m4), h = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        if constexpr (T::kLut) {
          l = _mm512_shuffle_epi8(table, l);
          h = _mm512_shuffle_epi8(table, h);
        }
#pragma GCC unroll 8
        for (int m = 0; m < MR; ++m) {
          i32[m] = _mm512_dpbusd_epi32(i32[m], l, _mm512_set1_epi32(load_i32(ap[m] + aoff + 4 * k)));
          i32[m] = _mm512_dpbusd_epi32(i32[m], h, _mm512_set1_epi32(load_i32(ap[m] + aoff + 16 + 4 * k)));
        }
      }
    }
    const __m512 sc = _mm512_insertf32x8(_mm512_castps256_ps512(R::scales8(ca)), R::scales8(cb), 1);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      const __m512 d = _mm512_mul_ps(sc, _mm512_set1_ps(dy[m * side_stride + c]));
      acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i32[m]), d, acc[m]);
    }
    if constexpr (T::kMin) {
      const __m512 mv = _mm512_insertf32x8(_mm512_castps256_ps512(R::mins8(ca)), R::mins8(cb), 1);
#pragma GCC unroll 8
      for (int m = 0; m < MR; ++m)
        acc[m] = _mm512_fmadd_ps(mv, _mm512_set1_ps(sy[m * side_stride + c]), acc[m]);
    }
  }
}

template <class T, int MR>
static void gemv_rp512(int64_t n, const uint8_t* w, size_t w_stride, int64_t r0, int64_t r1,
                       const uint8_t* a, size_t a_stride, float* y, int64_t ldy) {
  const int64_t nb = n / kQK;
  static_assert(MR * kKBD512 <= kMC512 * kKB512, "side data fits the scratch area");
  uint8_t* base = scratch();
  float* dy = reinterpret_cast<float*>(base + kWqBytes) + kKB512 * 3 * 32;
  float* sy = dy + kMC512 * kKB512;
  int32_t* noff = reinterpret_cast<int32_t*>(sy + kMC512 * kKB512);
  for (int64_t c0 = 0; c0 < nb; c0 += kKBD512) {
    const int kbn = int(min_i64(kKBD512, nb - c0));
    const bool first = c0 == 0;
    const uint8_t* ap[MR];
    for (int i = 0; i < MR; ++i) {
      act_side512<T>(a + i * a_stride, c0, kbn, dy + i * kKBD512, noff + i * kKBD512,
                     T::kMin ? sy + i * kKBD512 : sy);
      ap[i] = a + i * a_stride + c0 * sizeof(typename T::Act);
    }
    for (int64_t g0 = r0; g0 + 16 <= r1; g0 += 16) {
      const uint8_t* ga = w + g0 * w_stride + size_t(c0) * 8 * T::kBytes;
      __m512 acc[MR];
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) acc[i] = _mm512_setzero_ps();
      rp_gemv<T, MR>(kbn, ga, ga + 8 * w_stride, ap, dy, noff, sy, kKBD512, acc);
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        float* out = y + i * ldy + g0;
        _mm512_storeu_ps(out, first ? acc[i] : _mm512_add_ps(_mm512_loadu_ps(out), acc[i]));
      }
    }
  }
}

template <class T, DType kType>
static void gemm512(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,
                    const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (r0 >= r1 || m_rows <= 0) return;
  if (m_rows < kMinRows512) {
    g_avx2_gemm[int(kType)](n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
    return;
  }
  gemm_panel<T, false>(n, static_cast<const uint8_t*>(w), w_stride, r0, r1,
                       static_cast<const uint8_t*>(a), a_stride, m_rows, y, ldy);
}

template <class T, DType kType>
static void gemm_rp512(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,
                       const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  if (r0 >= r1 || m_rows <= 0) return;
  if (m_rows == 1) {  // decode: the AVX2 kernel streams faster end to end (see register below)
    g_avx2_gemm_rp[int(kType)](n, w, w_stride, r0, r1, a, a_stride, m_rows, y, ldy);
    return;
  }
  if (m_rows < kMinRowsRepacked512) {
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* ab = static_cast<const uint8_t*>(a);
    const int64_t r16 = r0 + (r1 - r0) / 16 * 16;  // pairs of groups; an odd last group: AVX2
    if (r16 > r0) {
      switch (m_rows) {
        case 1: gemv_rp512<T, 1>(n, wb, w_stride, r0, r16, ab, a_stride, y, ldy); break;
        case 2: gemv_rp512<T, 2>(n, wb, w_stride, r0, r16, ab, a_stride, y, ldy); break;
        case 3: gemv_rp512<T, 3>(n, wb, w_stride, r0, r16, ab, a_stride, y, ldy); break;
        case 4: gemv_rp512<T, 4>(n, wb, w_stride, r0, r16, ab, a_stride, y, ldy); break;
        case 5: gemv_rp512<T, 5>(n, wb, w_stride, r0, r16, ab, a_stride, y, ldy); break;
        case 6: gemv_rp512<T, 6>(n, wb, w_stride, r0, r16, ab, a_stride, y, ldy); break;
        case 7: gemv_rp512<T, 7>(n, wb, w_stride, r0, r16, ab, a_stride, y, ldy); break;
        default: gemv_rp512<T, 8>(n, wb, w_stride, r0, r16, ab, a_stride, y, ldy); break;
      }
    }
    if (r16 < r1) g_avx2_gemm_rp[int(kType)](n, w, w_stride, r16, r1, a, a_stride, m_rows, y, ldy);
    return;
  }
  gemm_panel<T, true>(n, static_cast<const uint8_t*>(w), w_stride, r0, r1,
                      static_cast<const uint8_t*>(a), a_stride, m_rows, y, ldy);
}

// ---------------------------------------------------------------------------------------------
// Activation quantizers, bit-exact with the reference act_q8_0 / act_q8_1 and the AVX2 ones:
// the same max-of-|x| order (NaN propagation of maxps depends on it), d = amax / 127,
// q = round-to-nearest-even(x * (127 / amax)) via cvtps2dq with embedded rounding, saturated to
// int8 by vpmovsdb (INT32_MIN from an overflowing product -> -128, as packssdw + packsswb);
// Q8_1's s uses the wrapping int32 sum of the unsaturated quants.
static inline __m128i quantize16(__m512 v, __m512 id, __m512i* i32) {
  *i32 = _mm512_cvt_roundps_epi32(_mm512_mul_ps(v, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return _mm512_cvtsepi32_epi8(*i32);
}

static inline void quantize_block512(const float* x, float* d_out, __m128i* q0, __m128i* q1,
                                     __m512i* sum32) {
  const __m512 v01 = _mm512_loadu_ps(x), v23 = _mm512_loadu_ps(x + 16);
  const __m512 a01 = _mm512_abs_ps(v01), a23 = _mm512_abs_ps(v23);
  // AVX2 order: max(max(|v0|, |v1|), max(|v2|, |v3|)) on 8-float halves, then hmax_ps
  const __m256 m01 = _mm256_max_ps(_mm512_castps512_ps256(a01), _mm512_extractf32x8_ps(a01, 1));
  const __m256 m23 = _mm256_max_ps(_mm512_castps512_ps256(a23), _mm512_extractf32x8_ps(a23, 1));
  const float amax = hmax_ps(_mm256_max_ps(m01, m23));
  *d_out = amax / 127.0f;
  const __m512 id = _mm512_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
  __m512i i0, i1;
  *q0 = quantize16(v01, id, &i0);
  *q1 = quantize16(v23, id, &i1);
  *sum32 = _mm512_add_epi32(i0, i1);
}

static void act_q8_0_512(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint8_t*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i) {
    uint8_t* b = y + i * sizeof(BlockQ8_0);
    float d;
    __m128i q0, q1;
    __m512i sum32;
    quantize_block512(x + i * kQK, &d, &q0, &q1, &sum32);
    const uint16_t h = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    std::memcpy(b + offsetof(BlockQ8_0, d), &h, 2);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b + offsetof(BlockQ8_0, qs)), q0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b + offsetof(BlockQ8_0, qs) + 16), q1);
  }
}

static void act_q8_1_512(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint8_t*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i) {
    uint8_t* b = y + i * sizeof(BlockQ8_1);
    float d;
    __m128i q0, q1;
    __m512i sum32;
    quantize_block512(x + i * kQK, &d, &q0, &q1, &sum32);
    const int32_t sum = _mm512_reduce_add_epi32(sum32);
    const uint16_t h = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    const uint16_t s = _cvtss_sh(d * float(sum), _MM_FROUND_TO_NEAREST_INT);
    std::memcpy(b + offsetof(BlockQ8_1, d), &h, 2);
    std::memcpy(b + offsetof(BlockQ8_1, s), &s, 2);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b + offsetof(BlockQ8_1, qs)), q0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b + offsetof(BlockQ8_1, qs) + 16), q1);
  }
}

template <class T, DType kType>
static void set_gemm(KernelTable& t) {
  if (!t.gemm[int(kType)] || t.gemm[int(kType)] == gemm512<T, kType>) return;  // idempotent
  g_avx2_gemm[int(kType)] = t.gemm[int(kType)];
  t.gemm[int(kType)] = gemm512<T, kType>;
}

template <class T, DType kType>
static void set_gemm_rp(KernelTable& t) {
  // only over the AVX2 repacked layout this file reads (8 rows interleaved by 4 bytes)
  if (!t.gemm_repacked[int(kType)] || t.repack_rows[int(kType)] != 8 ||
      t.gemm_repacked[int(kType)] == gemm_rp512<T, kType>)
    return;
  const GemmFn far = avx2_q8_0_repacked_gemm_far(kType);
  g_avx2_gemm_rp[int(kType)] = far ? far : t.gemm_repacked[int(kType)];
  t.gemm_repacked[int(kType)] = gemm_rp512<T, kType>;
}

}  // namespace

void register_avx512_q8_0_family(KernelTable& t) {
  t.quantize_act[int(DType::Q8_0)] = act_q8_0_512;
  t.quantize_act[int(DType::Q8_1)] = act_q8_1_512;
  set_gemm<TQ8_0, DType::Q8_0>(t);
  set_gemm<TQ4_0, DType::Q4_0>(t);
  set_gemm<TMxfp4, DType::MXFP4>(t);
  set_gemm<TQ5_0, DType::Q5_0>(t);
  set_gemm<TIq4Nl, DType::IQ4_NL>(t);
  set_gemm<TNvfp4, DType::NVFP4>(t);
  set_gemm<TQ4_1, DType::Q4_1>(t);
  set_gemm<TQ5_1, DType::Q5_1>(t);
  set_gemm_rp<TQ8_0, DType::Q8_0>(t);
  set_gemm_rp<TQ4_0, DType::Q4_0>(t);
  set_gemm_rp<TMxfp4, DType::MXFP4>(t);
  set_gemm_rp<TIq4Nl, DType::IQ4_NL>(t);
  set_gemm_rp<TQ4_1, DType::Q4_1>(t);
}

}  // namespace hearth::kernels::x86
