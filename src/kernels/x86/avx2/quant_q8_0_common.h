// Shared internals of the AVX2 Q8_0-activation family (quant_q8_0_family.cpp: GGUF layout,
// quant_q8_0_repack.cpp: 8-row interleaved layout): per-type block decoders, the activation side
// data and the packed GEMM micro-kernel. Included only by those files; anonymous namespace only.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/x86/avx2/transpose.h"
#include "kernels/x86/x86.h"
#include "quant/blocks.h"
#include "quant/tables.h"

namespace hearth::kernels::x86 {

// quant_q8_0_repack.cpp: repack / repack_rows / gemm_repacked entries for the types whose
// 8-row interleaved layout pays off (Q4_0, Q4_1, Q8_0, IQ4_NL, MXFP4).
void register_avx2_q8_0_repacked(KernelTable& t);
// The repacked-layout GEMM of `type` (Q4_0, Q4_1, Q8_0, IQ4_NL, MXFP4; else nullptr) with the
// decode stream prefetched 4 KiB ahead instead of 1 KiB: the AVX-512 table's decode entry
// (tuned on Zen 5; quant_q8_0_repack.cpp).
GemmFn avx2_q8_0_repacked_gemm_far(DType type);

namespace {

using quant::BlockIq4Nl;
using quant::BlockMxfp4;
using quant::BlockNvfp4;
using quant::BlockQ4_0;
using quant::BlockQ4_1;
using quant::BlockQ5_0;
using quant::BlockQ5_1;
using quant::BlockQ8_0;
using quant::BlockQ8_1;

constexpr int kQK = quant::kQK;

// ---------------------------------------------------------------------------------------------
// Small helpers

static inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
static inline int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }
static inline __m256 h2f_bcast(const uint8_t* p) { return _mm256_set1_ps(_cvtsh_ss(load_u16(p))); }

static inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline float hmax_ps(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}
static inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }
// Pins a value in a register at this point: stops GCC from reassociating a chain of integer
// adds into a tree that needs every partial product live at once (which spills).
static inline void pin(__m256i& v) { asm("" : "+x"(v)); }

// 16 packed bytes -> 32 nibbles: low nibbles in bytes 0..15, high nibbles in bytes 16..31
// (Q4_0's element order: element j is the low nibble of qs[j], element j+16 the high one).
// (One broadcast load, then the upper 128-bit lane shifted right by 4 bits per dword: a byte's
// high nibble lands in its low nibble; what spills in from the next byte is masked off.)
static inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m256i x = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  const __m256i both = _mm256_srlv_epi32(x, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// The 5th bits of Q5_0 / Q5_1: byte j of the result is 0x10 where bit j of qh is set.
static inline __m256i expand_qh(const uint8_t* qh) {
  const __m256i bits = _mm256_set1_epi32(load_i32(qh));
  // byte j takes qh byte j / 8 (each 128-bit lane holds all four qh bytes after the broadcast)
  const __m256i sel = _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL,
                                        0x0101010101010101LL, 0x0000000000000000LL);
  const __m256i bytes = _mm256_shuffle_epi8(bits, sel);
  const __m256i mask = _mm256_set1_epi64x(0x8040201008040201LL);  // bit j % 8 of that byte
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, mask), mask);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

static inline __m256i broadcast_lut(const int8_t* table, int8_t add) {
  const __m128i t = _mm_add_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table)),
                                 _mm_set1_epi8(add));
  return _mm256_broadcastsi128_si256(t);
}

// ---------------------------------------------------------------------------------------------
// Per-type decoders. Each weight type describes how one 32-element chunk (aligned with one
// activation block) becomes 32 int8 values in element order:
//  - kSigned = false: unsigned values u in [0, kUMax], true level = u - kOffset. The dot with an
//    activation block y is maddubs(u, y) - kOffset * sum(y): pair sums fit int16 since
//    2 * kUMax * 128 < 32767.
//  - kSigned = true: signed levels v (Q8_0, IQ4_NL); dot = maddubs(|v|, sign(y, v)). Exact for
//    activation bytes in [-127, 127]. The quantizer emits -128 only for an all-subnormal block
//    (127 / amax overflows and _mm256_cvtps_epi32 gives INT32_MIN), whose fp16 scale is 0, so
//    the (then wrong) integer sum is multiplied by 0 exactly as the reference's is.
// Scales: kGroups scale groups per chunk (NVFP4: 2 groups of 16), scale_g(row, chunk, g) in f32;
// scale_vec(row, chunk) is the scale of each int32 lane of madd(maddubs(.), 1) (lane k covers
// elements 4k..4k+3). Types with a minimum (Q4_1 / Q5_1) add min(row, chunk) * s(activation).

struct TQ4_0 {
  using Act = BlockQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ4_0);
  static constexpr bool kLut = false;  // decode goes through lut()
  static constexpr bool kSigned = false, kMin = false;
  static constexpr int kOffset = 8, kUMax = 15, kGroups = 1;
  static __m256i lut() { return _mm256_setzero_si256(); }
  static const uint8_t* blk(const uint8_t* row, int64_t c) { return row + c * kBytes; }
  static __m256i decode(const uint8_t* row, int64_t c, __m256i) {
    return unpack_nibbles(blk(row, c) + offsetof(BlockQ4_0, qs));
  }
  static float scale_g(const uint8_t* row, int64_t c, int) { return h2f(load_u16(blk(row, c))); }
  static __m256 scale_vec(const uint8_t* row, int64_t c) { return h2f_bcast(blk(row, c)); }
  static float min(const uint8_t*, int64_t) { return 0.0f; }
};

struct TQ4_1 {
  using Act = BlockQ8_1;
  static constexpr size_t kBytes = sizeof(BlockQ4_1);
  static constexpr bool kLut = false;  // decode goes through lut()
  static constexpr bool kSigned = false, kMin = true;
  static constexpr int kOffset = 0, kUMax = 15, kGroups = 1;
  static __m256i lut() { return _mm256_setzero_si256(); }
  static const uint8_t* blk(const uint8_t* row, int64_t c) { return row + c * kBytes; }
  static __m256i decode(const uint8_t* row, int64_t c, __m256i) {
    return unpack_nibbles(blk(row, c) + offsetof(BlockQ4_1, qs));
  }
  static float scale_g(const uint8_t* row, int64_t c, int) { return h2f(load_u16(blk(row, c))); }
  static __m256 scale_vec(const uint8_t* row, int64_t c) { return h2f_bcast(blk(row, c)); }
  static float min(const uint8_t* row, int64_t c) {
    return h2f(load_u16(blk(row, c) + offsetof(BlockQ4_1, m)));
  }
};

struct TQ5_0 {
  using Act = BlockQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ5_0);
  static constexpr bool kLut = false;  // decode goes through lut()
  static constexpr bool kSigned = false, kMin = false;
  static constexpr int kOffset = 16, kUMax = 31, kGroups = 1;
  static __m256i lut() { return _mm256_setzero_si256(); }
  static const uint8_t* blk(const uint8_t* row, int64_t c) { return row + c * kBytes; }
  static __m256i decode(const uint8_t* row, int64_t c, __m256i) {
    const uint8_t* b = blk(row, c);
    return _mm256_or_si256(unpack_nibbles(b + offsetof(BlockQ5_0, qs)),
                           expand_qh(b + offsetof(BlockQ5_0, qh)));
  }
  static float scale_g(const uint8_t* row, int64_t c, int) { return h2f(load_u16(blk(row, c))); }
  static __m256 scale_vec(const uint8_t* row, int64_t c) { return h2f_bcast(blk(row, c)); }
  static float min(const uint8_t*, int64_t) { return 0.0f; }
};

struct TQ5_1 {
  using Act = BlockQ8_1;
  static constexpr size_t kBytes = sizeof(BlockQ5_1);
  static constexpr bool kLut = false;  // decode goes through lut()
  static constexpr bool kSigned = false, kMin = true;
  static constexpr int kOffset = 0, kUMax = 31, kGroups = 1;
  static __m256i lut() { return _mm256_setzero_si256(); }
  static const uint8_t* blk(const uint8_t* row, int64_t c) { return row + c * kBytes; }
  static __m256i decode(const uint8_t* row, int64_t c, __m256i) {
    const uint8_t* b = blk(row, c);
    return _mm256_or_si256(unpack_nibbles(b + offsetof(BlockQ5_1, qs)),
                           expand_qh(b + offsetof(BlockQ5_1, qh)));
  }
  static float scale_g(const uint8_t* row, int64_t c, int) { return h2f(load_u16(blk(row, c))); }
  static __m256 scale_vec(const uint8_t* row, int64_t c) { return h2f_bcast(blk(row, c)); }
  static float min(const uint8_t* row, int64_t c) {
    return h2f(load_u16(blk(row, c) + offsetof(BlockQ5_1, m)));
  }
};

struct TQ8_0 {
  using Act = BlockQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ8_0);
  static constexpr bool kLut = false;  // decode goes through lut()
  static constexpr bool kSigned = true, kMin = false;
  static constexpr int kOffset = 0, kUMax = 128, kGroups = 1;
  static __m256i lut() { return _mm256_setzero_si256(); }
  static const uint8_t* blk(const uint8_t* row, int64_t c) { return row + c * kBytes; }
  static __m256i decode(const uint8_t* row, int64_t c, __m256i) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk(row, c) + offsetof(BlockQ8_0, qs)));
  }
  static float scale_g(const uint8_t* row, int64_t c, int) { return h2f(load_u16(blk(row, c))); }
  static __m256 scale_vec(const uint8_t* row, int64_t c) { return h2f_bcast(blk(row, c)); }
  static float min(const uint8_t*, int64_t) { return 0.0f; }
};

// IQ4_NL levels are up to 127 in magnitude: signed path (|v| * sign(y, v)).
struct TIq4Nl {
  using Act = BlockQ8_0;
  static constexpr size_t kBytes = sizeof(BlockIq4Nl);
  static constexpr bool kLut = true;  // decode goes through lut()
  static constexpr bool kSigned = true, kMin = false;
  static constexpr int kOffset = 0, kUMax = 127, kGroups = 1;
  static __m256i lut() { return broadcast_lut(quant::kIq4nlValues, 0); }
  static const uint8_t* blk(const uint8_t* row, int64_t c) { return row + c * kBytes; }
  static __m256i decode(const uint8_t* row, int64_t c, __m256i table) {
    return _mm256_shuffle_epi8(table, unpack_nibbles(blk(row, c) + offsetof(BlockIq4Nl, qs)));
  }
  static float scale_g(const uint8_t* row, int64_t c, int) { return h2f(load_u16(blk(row, c))); }
  static __m256 scale_vec(const uint8_t* row, int64_t c) { return h2f_bcast(blk(row, c)); }
  static float min(const uint8_t*, int64_t) { return 0.0f; }
};

// MXFP4: doubled E2M1 levels in [-12, 12] shifted by +12 into [0, 24] by the lookup table; the
// E8M0 scale is taken pre-halved (kE8m0HalfValues) as ggml does.
struct TMxfp4 {
  using Act = BlockQ8_0;
  static constexpr size_t kBytes = sizeof(BlockMxfp4);
  static constexpr bool kLut = true;  // decode goes through lut()
  static constexpr bool kSigned = false, kMin = false;
  static constexpr int kOffset = 12, kUMax = 24, kGroups = 1;
  static __m256i lut() { return broadcast_lut(quant::kFp4Values, 12); }
  static const uint8_t* blk(const uint8_t* row, int64_t c) { return row + c * kBytes; }
  static __m256i decode(const uint8_t* row, int64_t c, __m256i table) {
    return _mm256_shuffle_epi8(table, unpack_nibbles(blk(row, c) + offsetof(BlockMxfp4, qs)));
  }
  static float scale_g(const uint8_t* row, int64_t c, int) {
    return quant::kE8m0HalfValues[blk(row, c)[0]];
  }
  static __m256 scale_vec(const uint8_t* row, int64_t c) {
    return _mm256_set1_ps(quant::kE8m0HalfValues[blk(row, c)[0]]);
  }
  static float min(const uint8_t*, int64_t) { return 0.0f; }
};

// NVFP4: a 64-element block covers two activation blocks; chunk c is half c % 2 of block c / 2,
// i.e. sub-blocks 2h and 2h+1 (16 elements each, UE4M3 sub-scales, pre-halved). Within sub-block s
// element j < 8 is the low nibble of qs[8s + j], element j + 8 the high nibble.
struct TNvfp4 {
  using Act = BlockQ8_0;
  static constexpr size_t kBytes = sizeof(BlockNvfp4);
  static constexpr bool kLut = true;  // decode goes through lut()
  static constexpr bool kSigned = false, kMin = false;
  static constexpr int kOffset = 12, kUMax = 24, kGroups = 2;
  static __m256i lut() { return broadcast_lut(quant::kFp4Values, 12); }
  static const uint8_t* blk(const uint8_t* row, int64_t c) { return row + (c >> 1) * kBytes; }
  static __m256i decode(const uint8_t* row, int64_t c, __m256i table) {
    const uint8_t* qs = blk(row, c) + offsetof(BlockNvfp4, qs) + 16 * (c & 1);
    // unpack_nibbles gives [lo 0..7, lo 8..15 | hi 0..7, hi 8..15] in 64-bit quarters;
    // element order is [lo 0..7, hi 0..7 | lo 8..15, hi 8..15].
    const __m256i n = _mm256_permute4x64_epi64(unpack_nibbles(qs), 0xD8);  // quarters 0,2,1,3
    return _mm256_shuffle_epi8(table, n);
  }
  static float scale_g(const uint8_t* row, int64_t c, int g) {
    return quant::kUe4m3HalfValues[blk(row, c)[offsetof(BlockNvfp4, d) + 2 * (c & 1) + g]];
  }
  static __m256 scale_vec(const uint8_t* row, int64_t c) {
    const uint8_t* d = blk(row, c) + offsetof(BlockNvfp4, d) + 2 * (c & 1);
    return _mm256_set_m128(_mm_set1_ps(quant::kUe4m3HalfValues[d[1]]),
                           _mm_set1_ps(quant::kUe4m3HalfValues[d[0]]));
  }
  static float min(const uint8_t*, int64_t) { return 0.0f; }
};

// Activation block accessors (Q8_0: d, qs; Q8_1: d, s, qs).
template <class A>
static inline const uint8_t* act_qs(const uint8_t* b) {
  return b + offsetof(A, qs);
}
static inline float act_s(const uint8_t* b) { return h2f(load_u16(b + offsetof(BlockQ8_1, s))); }

// ---------------------------------------------------------------------------------------------
// Direct kernel (decode GEMV and small m): R weight rows against one activation row.
// Implements, per row, sum over chunks c of  d_w(c) * d_y(c) * sum_j w_j(c) * y_j(c)
// (+ m_w(c) * s_y(c) for Q4_1 / Q5_1): the reference dot_<type> up to float summation order.

template <class T, int R>
static void dot_rows(int64_t nb, const uint8_t* w, size_t w_stride, const uint8_t* act,
                     float* out) {
  using Act = typename T::Act;
  const __m256i table = T::lut();
  const __m256i ones16 = _mm256_set1_epi16(1);
  const __m256i offset = _mm256_set1_epi8(int8_t(T::kOffset));
  __m256 acc[R];
  float macc[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    acc[r] = _mm256_setzero_ps();
    macc[r] = 0.0f;
  }
  for (int64_t c = 0; c < nb; ++c) {
    const uint8_t* ab = act + c * sizeof(Act);
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act_qs<Act>(ab)));
    const __m256 dy = h2f_bcast(ab);
    __m256i yoff = _mm256_setzero_si256();
    if constexpr (!T::kSigned && T::kOffset != 0) yoff = _mm256_maddubs_epi16(offset, y);
    float sy = 0.0f;
    if constexpr (T::kMin) sy = act_s(ab);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const uint8_t* row = w + r * w_stride;
      const __m256i v = T::decode(row, c, table);
      __m256i p;
      if constexpr (T::kSigned) {
        p = _mm256_maddubs_epi16(_mm256_sign_epi8(v, v), _mm256_sign_epi8(y, v));
      } else {
        p = _mm256_maddubs_epi16(v, y);
        if constexpr (T::kOffset != 0) p = _mm256_sub_epi16(p, yoff);
      }
      const __m256 f = _mm256_cvtepi32_ps(_mm256_madd_epi16(p, ones16));
      acc[r] = _mm256_fmadd_ps(f, _mm256_mul_ps(T::scale_vec(row, c), dy), acc[r]);
      if constexpr (T::kMin) macc[r] += T::min(row, c) * sy;
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) out[r] = hsum_ps(acc[r]) + macc[r];
}

// y[m * ldy + r] for r in [r0, r1), m in [0, m_rows): 4 rows at a time; for m_rows > 1 the same
// 4 rows are reused from L1 for every activation row.
template <class T>
static void gemm_direct(int64_t n, const uint8_t* w, size_t w_stride, int64_t r0, int64_t r1,
                        const uint8_t* a, size_t a_stride, int64_t m_rows, float* y,
                        int64_t ldy) {
  const int64_t nb = n / kQK;
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4)
    for (int64_t m = 0; m < m_rows; ++m)
      dot_rows<T, 4>(nb, w + r * w_stride, w_stride, a + m * a_stride, y + m * ldy + r);
  const int64_t rest = r1 - r;
  for (int64_t m = 0; m < m_rows && rest > 0; ++m) {
    float* out = y + m * ldy + r;
    const uint8_t* wr = w + r * w_stride;
    const uint8_t* am = a + m * a_stride;
    if (rest == 3) dot_rows<T, 3>(nb, wr, w_stride, am, out);
    else if (rest == 2) dot_rows<T, 2>(nb, wr, w_stride, am, out);
    else dot_rows<T, 1>(nb, wr, w_stride, am, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Packed GEMM (prefill).
//
// Loop nest per call (rows [r0, r1) of this thread):
//   k-panel of kKB chunks
//     m-panel of kMC activation rows: per (row, chunk) side data (d_y, kOffset * sum(y) per
//       scale group, s_y) computed once, reused by every row group
//       group of 8 weight rows: unpack + interleave the k-panel into wq (L1)
//         kMR activation rows at a time: the micro-kernel, 8 x kMR f32 accumulators
// y is written on the first k-panel and accumulated on the next ones.

// Smallest m_rows that goes through the packed panel: the GGUF-layout direct kernel decodes every
// block once per activation row, so packing (once per 8 rows and k-panel) wins from m = 2;
// the repacked layout's direct kernel decodes cheaply and wins up to m = 5 (bench, m = 2 / 4).
constexpr int64_t kPackMinRows = 2;
constexpr int64_t kPackMinRowsRepacked = 6;
constexpr int kKB = 32;              // k-panel: 32 chunks = 1024 elements (wq = 8 KiB)
constexpr int kMC = 64;              // m-panel: activation rows whose side data is cached
// Activation rows per micro-kernel call (<= 6): 8 x kMR f32 accumulators plus kMR int16 or
// int32 block accumulators must fit the 16 ymm registers with the weight and broadcast values.
template <class T>
constexpr int kMR = 4;

// Packs `rows` (<= 8) weight rows, chunks [c0, c0 + kbn), into
//   wq[c * 256 + 32 * s + 4 * r + i] = value of element 4s + i of row r, chunk c0 + c
//   wsc[(c * kGroups + g) * 8 + r] = scale of group g;  wmin[c * 8 + r] = minimum.
// Missing rows (rows < 8) are zero with zero scales.
template <class T>
static void pack_group(const uint8_t* w, size_t w_stride, int rows, int64_t c0, int kbn,
                       uint8_t* wq, float* wsc, float* wmin) {
  const __m256i table = T::lut();
  for (int c = 0; c < kbn; ++c) {
    __m256i v[8];
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r)
      v[r] = r < rows ? T::decode(w + r * w_stride, c0 + c, table) : _mm256_setzero_si256();
    transpose8_epi32(v);
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s)
      _mm256_store_si256(reinterpret_cast<__m256i*>(wq + c * 256 + 32 * s), v[s]);
    for (int g = 0; g < T::kGroups; ++g)
      for (int r = 0; r < 8; ++r)
        wsc[(c * T::kGroups + g) * 8 + r] = r < rows ? T::scale_g(w + r * w_stride, c0 + c, g) : 0.0f;
    if constexpr (T::kMin)
      for (int r = 0; r < 8; ++r) wmin[c * 8 + r] = r < rows ? T::min(w + r * w_stride, c0 + c) : 0.0f;
  }
}

// Side data of one activation row over chunks [c0, c0 + kbn):
//   dy[c] = d_y;  offs[c * kGroups + g] = kOffset * (sum of y over group g);  sy[c] = s_y.
template <class T>
static void act_side(const uint8_t* arow, int64_t c0, int kbn, float* dy, int32_t* offs,
                     float* sy) {
  using Act = typename T::Act;
  const __m256i ones8 = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int c = 0; c < kbn; ++c) {
    const uint8_t* ab = arow + (c0 + c) * sizeof(Act);
    dy[c] = h2f(load_u16(ab));
    if constexpr (T::kMin) sy[c] = act_s(ab);
    if constexpr (!T::kSigned && T::kOffset != 0) {
      const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(act_qs<Act>(ab)));
      // lane k of s32 = y[4k] + .. + y[4k+3]; group g covers lanes 4g..4g+3 when kGroups == 2
      const __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, y), ones16);
      if constexpr (T::kGroups == 1) {
        offs[c] = T::kOffset * hsum_epi32(s32);
      } else {
        __m128i lo = _mm256_castsi256_si128(s32), hi = _mm256_extracti128_si256(s32, 1);
        lo = _mm_hadd_epi32(lo, hi);  // [l01, l23, h01, h23]
        lo = _mm_hadd_epi32(lo, lo);  // [l, h, l, h]
        offs[2 * c] = T::kOffset * _mm_cvtsi128_si32(lo);
        offs[2 * c + 1] = T::kOffset * _mm_extract_epi32(lo, 1);
      }
    }
  }
}

// The micro-kernel: 8 packed weight rows x MR activation rows over kbn chunks.
// acc[m] lane r += sum over chunks and groups of (d_w[r] * d_y[m]) * (int dot of group)
//                  (+ min[r] * s_y[m]).
// Unsigned types accumulate maddubs results in int16 for kSteps steps of 4 elements (kSteps
// pair sums of at most 2 * kUMax * 128 per int16 lane stay below 32767), then widen with madd.
template <class T, int MR>
static void micro_kernel(int kbn, const uint8_t* wq, const float* wsc, const float* wmin,
                         const uint8_t* const* ap, const float* dy, const int32_t* offs,
                         const float* sy, int side_stride, __m256* acc) {
  using Act = typename T::Act;
  constexpr int kStepsPerGroup = 8 / T::kGroups;
  // Largest number of 4-element steps whose int16 sums cannot overflow: each step adds one
  // maddubs pair sum <= 2 * kUMax * 128 to an int16 lane.
  constexpr int kMaxSteps = 32767 / (2 * T::kUMax * 128);
  constexpr int kSteps = T::kSigned ? 1 : (kMaxSteps >= kStepsPerGroup ? kStepsPerGroup
                                           : (kMaxSteps >= 4 ? 4 : (kMaxSteps >= 2 ? 2 : 1)));
  static_assert(kStepsPerGroup % kSteps == 0, "steps per madd must divide a scale group");
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int c = 0; c < kbn; ++c) {
    const uint8_t* wb = wq + c * 256;
    const size_t aoff = size_t(c) * sizeof(Act) + offsetof(Act, qs);
#pragma GCC unroll 2
    for (int g = 0; g < T::kGroups; ++g) {
      __m256i i32[MR];
#pragma GCC unroll 8
      for (int s0 = 0; s0 < kStepsPerGroup; s0 += kSteps) {
        const int sb = g * kStepsPerGroup + s0;
        if constexpr (T::kSigned) {
          const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(wb + 32 * sb));
          const __m256i av = _mm256_sign_epi8(v, v);
#pragma GCC unroll 4
          for (int m = 0; m < MR; ++m) {
            const __m256i yb = _mm256_set1_epi32(load_i32(ap[m] + aoff + 4 * sb));
            const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(av, _mm256_sign_epi8(yb, v)), ones16);
            i32[m] = s0 == 0 ? p : _mm256_add_epi32(i32[m], p);
            pin(i32[m]);
          }
        } else {
          __m256i i16[MR];
#pragma GCC unroll 8
          for (int s = 0; s < kSteps; ++s) {
            const __m256i u = _mm256_load_si256(reinterpret_cast<const __m256i*>(wb + 32 * (sb + s)));
#pragma GCC unroll 4
            for (int m = 0; m < MR; ++m) {
              const __m256i yb = _mm256_set1_epi32(load_i32(ap[m] + aoff + 4 * (sb + s)));
              const __m256i p = _mm256_maddubs_epi16(u, yb);
              i16[m] = s == 0 ? p : _mm256_add_epi16(i16[m], p);
              pin(i16[m]);
            }
          }
#pragma GCC unroll 4
          for (int m = 0; m < MR; ++m) {
            const __m256i p = _mm256_madd_epi16(i16[m], ones16);
            i32[m] = s0 == 0 ? p : _mm256_add_epi32(i32[m], p);
          }
        }
      }
      const __m256 sc = _mm256_load_ps(wsc + (c * T::kGroups + g) * 8);
#pragma GCC unroll 4
      for (int m = 0; m < MR; ++m) {
        __m256i v = i32[m];
        if constexpr (!T::kSigned && T::kOffset != 0)
          v = _mm256_sub_epi32(v, _mm256_set1_epi32(offs[m * side_stride * T::kGroups + c * T::kGroups + g]));
        const __m256 d = _mm256_mul_ps(sc, _mm256_set1_ps(dy[m * side_stride + c]));
        acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), d, acc[m]);
      }
    }
    if constexpr (T::kMin) {
      const __m256 mv = _mm256_load_ps(wmin + c * 8);
#pragma GCC unroll 4
      for (int m = 0; m < MR; ++m)
        acc[m] = _mm256_fmadd_ps(mv, _mm256_set1_ps(sy[m * side_stride + c]), acc[m]);
    }
  }
}

template <class T, int MR>
static void micro_tile(int kbn, const uint8_t* wq, const float* wsc, const float* wmin,
                       const uint8_t* a, size_t a_stride, int64_t m, int64_t c0,
                       const float* dy, const int32_t* offs, const float* sy, bool first,
                       int rows, float* y, int64_t ldy) {
  const uint8_t* ap[MR];
  __m256 acc[MR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    ap[i] = a + (m + i) * a_stride + c0 * sizeof(typename T::Act);
    acc[i] = _mm256_setzero_ps();
  }
  micro_kernel<T, MR>(kbn, wq, wsc, wmin, ap, dy, offs, sy, kKB, acc);
  for (int i = 0; i < MR; ++i) {
    float* out = y + (m + i) * ldy;
    if (rows == 8) {
      const __m256 v = first ? acc[i] : _mm256_add_ps(_mm256_loadu_ps(out), acc[i]);
      _mm256_storeu_ps(out, v);
    } else {
      alignas(32) float tmp[8];
      _mm256_store_ps(tmp, acc[i]);
      for (int r = 0; r < rows; ++r) out[r] = first ? tmp[r] : out[r] + tmp[r];
    }
  }
}

// Pack(w, w_stride, rows, c0, kbn, wq, wsc, wmin) fills the panel of 8 rows starting at w (the
// GGUF layout: pack_group; a repacked group: quant_q8_0_repack.cpp).
template <class T, class Pack>
static void gemm_packed(int64_t n, const uint8_t* w, size_t w_stride, int64_t r0, int64_t r1,
                        const uint8_t* a, size_t a_stride, int64_t m_rows, float* y,
                        int64_t ldy, Pack pack) {
  const int64_t nb = n / kQK;
  alignas(32) uint8_t wq[kKB * 256];               // [kbn][8 steps][8 rows][4] int8
  alignas(32) float wsc[kKB * T::kGroups * 8];     // [kbn][groups][8 rows]
  alignas(32) float wmin[T::kMin ? kKB * 8 : 8];   // [kbn][8 rows]
  float dy[kMC * kKB];                             // [kMC][kKB]
  int32_t offs[kMC * kKB * T::kGroups];            // [kMC][kKB][groups]
  float sy[T::kMin ? kMC * kKB : 1];               // [kMC][kKB]
  for (int64_t c0 = 0; c0 < nb; c0 += kKB) {
    const int kbn = int(min_i64(kKB, nb - c0));
    const bool first = c0 == 0;
    for (int64_t m0 = 0; m0 < m_rows; m0 += kMC) {
      const int mc = int(min_i64(kMC, m_rows - m0));
      for (int i = 0; i < mc; ++i)
        act_side<T>(a + (m0 + i) * a_stride, c0, kbn, dy + i * kKB,
                    offs + i * kKB * T::kGroups, T::kMin ? sy + i * kKB : sy);
      for (int64_t g0 = r0; g0 < r1; g0 += 8) {
        const int rows = int(min_i64(8, r1 - g0));
        pack(w + g0 * w_stride, w_stride, rows, c0, kbn, wq, wsc, wmin);
        float* yg = y + g0;
        for (int i = 0; i < mc;) {
          const int mr = int(min_i64(kMR<T>, mc - i));
          const float* dyi = dy + i * kKB;
          const int32_t* offi = offs + i * kKB * T::kGroups;
          const float* syi = T::kMin ? sy + i * kKB : sy;
#define HEARTH_TILE(MR)                                                                       \
  case MR:                                                                                    \
    micro_tile<T, MR>(kbn, wq, wsc, wmin, a, a_stride, m0 + i, c0, dyi, offi, syi, first, rows, \
                      yg, ldy);                                                               \
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

}  // namespace
}  // namespace hearth::kernels::x86
