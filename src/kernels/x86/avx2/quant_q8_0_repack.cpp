// AVX2 repacked (8-row interleaved) layout for Q4_0, Q4_1, Q8_0, IQ4_NL and MXFP4 weights: the
// repack entry and gemm_repacked (decode GEMV and prefill GEMM). Same math as the GGUF-layout
// kernels in quant_q8_0_family.cpp; must match the scalar reference. Anonymous namespace only.
//
// Layout: rows in groups of 8; group g, 32-element chunk c is one "group-chunk" of 8 * block
// bytes at (g * n_chunks + c) * 8 * block_bytes (so group g starts at g * 8 * row_bytes, as the
// kernel table requires):
//   header: the 8 rows' scale fields, row-major by field (Q4_0 / IQ4_NL / Q8_0: 8 fp16 d;
//           Q4_1: 8 fp16 d then 8 fp16 m; MXFP4: 8 E8M0 bytes)
//   quants: 32-byte units; unit k holds bytes 4k..4k+3 of each row's qs, row r at 4r.
// For 4-bit types unit k (k < 4) is elements 4k..4k+3 (low nibbles) and 16+4k..16+4k+3 (high
// nibbles) of 8 rows; for Q8_0 unit k (k < 8) is elements 4k..4k+3. A single load is thus
// exactly the register the interleaved micro-kernel multiplies with a broadcast activation dword,
// and the 8 scales convert with one vcvtph2ps: per 8 rows and 32 elements the decode GEMV does
// about a third of the vector work of the GGUF-layout kernel, which is what lets one core keep
// up with memory.
#include "kernels/x86/avx2/quant_q8_0_common.h"

namespace hearth::kernels::x86 {
namespace {

// Per-type description of the repacked group-chunk on top of the block traits T.
//   kHdr: header bytes; kUnits: 32-byte quant units; k4bit: units hold two steps (lo / hi);
//   scales8 / mins8: the 8 rows' scales / minimums as f32 lanes (row r in lane r);
//   pack_header: writes the header from the 8 source blocks.
template <class T>
struct Rp;

static inline __m256 f16x8(const uint8_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

template <>
struct Rp<TQ4_0> {
  static constexpr int kHdr = 16, kUnits = 4;
  static constexpr bool k4bit = true;
  static __m256 scales8(const uint8_t* gc) { return f16x8(gc); }
  static __m256 mins8(const uint8_t*) { return _mm256_setzero_ps(); }
  static void pack_header(const uint8_t* const* blk, uint8_t* gc) {
    for (int r = 0; r < 8; ++r) std::memcpy(gc + 2 * r, blk[r] + offsetof(BlockQ4_0, d), 2);
  }
  static const uint8_t* qs(const uint8_t* b) { return b + offsetof(BlockQ4_0, qs); }
};

template <>
struct Rp<TIq4Nl> {
  static constexpr int kHdr = 16, kUnits = 4;
  static constexpr bool k4bit = true;
  static __m256 scales8(const uint8_t* gc) { return f16x8(gc); }
  static __m256 mins8(const uint8_t*) { return _mm256_setzero_ps(); }
  static void pack_header(const uint8_t* const* blk, uint8_t* gc) {
    for (int r = 0; r < 8; ++r) std::memcpy(gc + 2 * r, blk[r] + offsetof(BlockIq4Nl, d), 2);
  }
  static const uint8_t* qs(const uint8_t* b) { return b + offsetof(BlockIq4Nl, qs); }
};

template <>
struct Rp<TQ4_1> {
  static constexpr int kHdr = 32, kUnits = 4;
  static constexpr bool k4bit = true;
  static __m256 scales8(const uint8_t* gc) { return f16x8(gc); }
  static __m256 mins8(const uint8_t* gc) { return f16x8(gc + 16); }
  static void pack_header(const uint8_t* const* blk, uint8_t* gc) {
    for (int r = 0; r < 8; ++r) {
      std::memcpy(gc + 2 * r, blk[r] + offsetof(BlockQ4_1, d), 2);
      std::memcpy(gc + 16 + 2 * r, blk[r] + offsetof(BlockQ4_1, m), 2);
    }
  }
  static const uint8_t* qs(const uint8_t* b) { return b + offsetof(BlockQ4_1, qs); }
};

template <>
struct Rp<TQ8_0> {
  static constexpr int kHdr = 16, kUnits = 8;
  static constexpr bool k4bit = false;
  static __m256 scales8(const uint8_t* gc) { return f16x8(gc); }
  static __m256 mins8(const uint8_t*) { return _mm256_setzero_ps(); }
  static void pack_header(const uint8_t* const* blk, uint8_t* gc) {
    for (int r = 0; r < 8; ++r) std::memcpy(gc + 2 * r, blk[r] + offsetof(BlockQ8_0, d), 2);
  }
  static const uint8_t* qs(const uint8_t* b) { return b + offsetof(BlockQ8_0, qs); }
};

template <>
struct Rp<TMxfp4> {
  static constexpr int kHdr = 8, kUnits = 4;
  static constexpr bool k4bit = true;
  // E8M0 e -> 2^(e - 128) (ggml's halved E8M0, = kE8m0HalfValues[e]) for 8 bytes at once:
  // e >= 2 is the normal float with biased exponent e - 1; e = 1, 0 are the subnormals 2^-127
  // (bits 0x00400000) and 2^-128 (0x00200000), i.e. 0x00400000 >> (1 - e).
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
  static void pack_header(const uint8_t* const* blk, uint8_t* gc) {
    for (int r = 0; r < 8; ++r) gc[r] = blk[r][offsetof(BlockMxfp4, e)];
  }
  static const uint8_t* qs(const uint8_t* b) { return b + offsetof(BlockMxfp4, qs); }
};

// Unit k of a group-chunk as step vectors: 4-bit types give steps k (low nibbles) and k + 4
// (high nibbles), through the type's lookup table where it has one; Q8_0 gives step k.
template <class T>
static inline void decode_unit(const uint8_t* gc, int k, __m256i table, __m256i* lo, __m256i* hi) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(gc + Rp<T>::kHdr + 32 * k));
  if constexpr (Rp<T>::k4bit) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256i l = _mm256_and_si256(v, m4), h = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    if constexpr (T::kLut) {
      l = _mm256_shuffle_epi8(table, l);
      h = _mm256_shuffle_epi8(table, h);
    }
    *lo = l;
    *hi = h;
  } else {
    *lo = v;
    *hi = v;
  }
}

// ---------------------------------------------------------------------------------------------
// repack: GGUF rows -> group-chunks. rows must be a multiple of 8 (the model only repacks such
// tensors); n a multiple of 32.
template <class T>
static void repack(const void* src, void* dst, int64_t rows, int64_t n) {
  const auto* s = static_cast<const uint8_t*>(src);
  auto* d = static_cast<uint8_t*>(dst);
  const int64_t nb = n / kQK;
  const size_t row_bytes = size_t(nb) * T::kBytes;
  for (int64_t g = 0; g < rows / 8; ++g) {
    for (int64_t c = 0; c < nb; ++c) {
      uint8_t* gc = d + size_t(g * nb + c) * 8 * T::kBytes;
      const uint8_t* blk[8];
      for (int r = 0; r < 8; ++r) blk[r] = s + size_t(g * 8 + r) * row_bytes + size_t(c) * T::kBytes;
      Rp<T>::pack_header(blk, gc);
      for (int k = 0; k < Rp<T>::kUnits; ++k)
        for (int r = 0; r < 8; ++r)
          std::memcpy(gc + Rp<T>::kHdr + 32 * k + 4 * r, Rp<T>::qs(blk[r]) + 4 * k, 4);
    }
  }
}

// Unpacks chunks [c0, c0 + kbn) of one repacked group into the packed-panel format of
// quant_q8_0_common.h (wq steps, wsc scales, wmin minimums) for the prefill micro-kernel.
// `rows` is always 8 here (repacked groups are full).
template <class T>
static void pack_group_rp(const uint8_t* w, size_t w_stride, int rows, int64_t c0, int kbn,
                          uint8_t* wq, float* wsc, float* wmin) {
  const __m256i table = T::lut();
  const int64_t nb = int64_t(w_stride / T::kBytes);
  (void)rows;
  (void)nb;
  for (int c = 0; c < kbn; ++c) {
    const uint8_t* gc = w + size_t(c0 + c) * 8 * T::kBytes;
    for (int k = 0; k < Rp<T>::kUnits; ++k) {
      __m256i lo, hi;
      decode_unit<T>(gc, k, table, &lo, &hi);
      _mm256_store_si256(reinterpret_cast<__m256i*>(wq + c * 256 + 32 * k), lo);
      if constexpr (Rp<T>::k4bit)
        _mm256_store_si256(reinterpret_cast<__m256i*>(wq + c * 256 + 32 * (k + 4)), hi);
    }
    _mm256_store_ps(wsc + c * 8, Rp<T>::scales8(gc));
    if constexpr (T::kMin) _mm256_store_ps(wmin + c * 8, Rp<T>::mins8(gc));
  }
}

// Software prefetch distance of the decode kernel (template parameter Pf): the stream is
// sequential, but on Zen 3 prefetching ~1 KiB ahead measured 10-15% faster single-threaded than
// the hardware prefetcher alone (0, 512, 1024, 2048, 4096 tried; 1024-2048 best, within noise of
// each other). On Zen 5 (the AVX-512 table's decode calls the far variant) 4 KiB was best end to
// end: Qwen3-0.6B shapes, 2 threads, 8 interleaved pairs each, decode tok/s vs 1 KiB: Q4_0
// +14%, Q8_0 +11% (6 pairs); 2 KiB -5% and 8 KiB -5% against 4 KiB. Then 6 KiB, measured on one
// 2048 x 151936 product through ops::matmul with two distances alternating in one process
// (2 threads, medians of 36 pairs): Q4_0 5-7% faster than 4 KiB (60.4 -> 63.7, 61.5 -> 64.9
// GB/s), 1-2% faster than 5 KiB, equal to 7 KiB; Q8_0 0-2%, MXFP4 1-4% faster than 4 KiB.
constexpr size_t kPrefetchBytes = 1024;
constexpr size_t kPrefetchBytesFar = 6144;

// Decode-time micro-kernel straight on the repacked layout: 8 rows (one group) x MR activation
// rows over kbn chunks; acc[m] lane r as micro_kernel in quant_q8_0_common.h. The steps of a
// block may be summed in any order (integer sums), so a 4-bit unit's two steps go together.
template <class T, int MR, size_t Pf>
static void rp_kernel(int kbn, const uint8_t* gc0, const uint8_t* const* ap, const float* dy,
                      const int32_t* offs, const float* sy, int side_stride, __m256* acc) {
  using Act = typename T::Act;
  constexpr int kMaxSteps = 32767 / (2 * T::kUMax * 128);
  // units per int16 run: a 4-bit unit adds two steps
  constexpr int kUnitsPerRun = T::kSigned ? 1 : (kMaxSteps >= 8 ? 4 : (kMaxSteps >= 4 ? 2 : 1));
  static_assert(T::kSigned || kMaxSteps >= 2, "int16 runs need at least one 4-bit unit");
  const __m256i table = T::lut();
  const __m256i ones16 = _mm256_set1_epi16(1);
  for (int c = 0; c < kbn; ++c) {
    const uint8_t* gc = gc0 + size_t(c) * 8 * T::kBytes;
    if constexpr (Pf > 0) {
      // one prefetch per cache line of the group-chunk Pf bytes ahead
      for (size_t off = 0; off < 8 * T::kBytes; off += 64)
        _mm_prefetch(reinterpret_cast<const char*>(gc + Pf + off), _MM_HINT_T0);
    }
    const size_t aoff = size_t(c) * sizeof(Act) + offsetof(Act, qs);
    __m256i i32[MR];
#pragma GCC unroll 8
    for (int k0 = 0; k0 < Rp<T>::kUnits; k0 += kUnitsPerRun) {
      if constexpr (T::kSigned) {
        __m256i lo, hi;
        decode_unit<T>(gc, k0, table, &lo, &hi);
        const __m256i alo = _mm256_sign_epi8(lo, lo);
        const __m256i ahi = _mm256_sign_epi8(hi, hi);
#pragma GCC unroll 4
        for (int m = 0; m < MR; ++m) {
          const __m256i ylo = _mm256_set1_epi32(load_i32(ap[m] + aoff + 4 * k0));
          __m256i p = _mm256_maddubs_epi16(alo, _mm256_sign_epi8(ylo, lo));
          if constexpr (Rp<T>::k4bit) {
            // |p| <= 2 * 127 * 128 per step: two steps would overflow int16, widen each
            const __m256i yhi = _mm256_set1_epi32(load_i32(ap[m] + aoff + 16 + 4 * k0));
            const __m256i q = _mm256_maddubs_epi16(ahi, _mm256_sign_epi8(yhi, hi));
            p = _mm256_add_epi32(_mm256_madd_epi16(p, ones16), _mm256_madd_epi16(q, ones16));
          } else {
            p = _mm256_madd_epi16(p, ones16);
          }
          i32[m] = k0 == 0 ? p : _mm256_add_epi32(i32[m], p);
          pin(i32[m]);
        }
      } else {
        __m256i i16[MR];
#pragma GCC unroll 4
        for (int k = k0; k < k0 + kUnitsPerRun; ++k) {
          __m256i lo, hi;
          decode_unit<T>(gc, k, table, &lo, &hi);
#pragma GCC unroll 4
          for (int m = 0; m < MR; ++m) {
            const __m256i ylo = _mm256_set1_epi32(load_i32(ap[m] + aoff + 4 * k));
            const __m256i yhi = _mm256_set1_epi32(load_i32(ap[m] + aoff + 16 + 4 * k));
            const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, ylo), _mm256_maddubs_epi16(hi, yhi));
            i16[m] = k == k0 ? p : _mm256_add_epi16(i16[m], p);
            pin(i16[m]);
          }
        }
#pragma GCC unroll 4
        for (int m = 0; m < MR; ++m) {
          const __m256i p = _mm256_madd_epi16(i16[m], ones16);
          i32[m] = k0 == 0 ? p : _mm256_add_epi32(i32[m], p);
        }
      }
    }
    const __m256 sc = Rp<T>::scales8(gc);
#pragma GCC unroll 4
    for (int m = 0; m < MR; ++m) {
      __m256i v = i32[m];
      if constexpr (!T::kSigned && T::kOffset != 0)
        v = _mm256_sub_epi32(v, _mm256_set1_epi32(offs[m * side_stride + c]));
      const __m256 d = _mm256_mul_ps(sc, _mm256_set1_ps(dy[m * side_stride + c]));
      acc[m] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), d, acc[m]);
    }
    if constexpr (T::kMin) {
      const __m256 mv = Rp<T>::mins8(gc);
#pragma GCC unroll 4
      for (int m = 0; m < MR; ++m)
        acc[m] = _mm256_fmadd_ps(mv, _mm256_set1_ps(sy[m * side_stride + c]), acc[m]);
    }
  }
}

// Small m (decode): per k-panel of kKBD chunks, side data for all m rows, then every group of
// the thread's rows streams once through rp_kernel (activation rows in tiles of up to 4).
constexpr int kKBD = 256;  // chunks per k-panel (8192 elements)

template <class T, int MR, size_t Pf>
static void rp_tile(int kbn, const uint8_t* gc0, const uint8_t* a, size_t a_stride, int64_t m,
                    int64_t c0, const float* dy, const int32_t* offs, const float* sy,
                    bool first, float* y, int64_t ldy) {
  const uint8_t* ap[MR];
  __m256 acc[MR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    ap[i] = a + (m + i) * a_stride + c0 * sizeof(typename T::Act);
    acc[i] = _mm256_setzero_ps();
  }
  rp_kernel<T, MR, Pf>(kbn, gc0, ap, dy, offs, sy, kKBD, acc);
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    float* out = y + (m + i) * ldy;
    _mm256_storeu_ps(out, first ? acc[i] : _mm256_add_ps(_mm256_loadu_ps(out), acc[i]));
  }
}

template <class T, size_t Pf>
static void gemm_rp_small(int64_t n, const uint8_t* w, size_t w_stride, int64_t r0, int64_t r1,
                          const uint8_t* a, size_t a_stride, int64_t m_rows, float* y,
                          int64_t ldy) {
  static_assert(kPackMinRowsRepacked <= 9, "side buffers hold up to 8 activation rows");
  const int64_t nb = n / kQK;
  float dy[8 * kKBD];        // [m][kKBD]
  int32_t offs[8 * kKBD];    // [m][kKBD]
  float sy[T::kMin ? 8 * kKBD : 1];
  for (int64_t c0 = 0; c0 < nb; c0 += kKBD) {
    const int kbn = int(min_i64(kKBD, nb - c0));
    const bool first = c0 == 0;
    for (int64_t i = 0; i < m_rows; ++i)
      act_side<T>(a + i * a_stride, c0, kbn, dy + i * kKBD, offs + i * kKBD,
                  T::kMin ? sy + i * kKBD : sy);
    for (int64_t g0 = r0; g0 < r1; g0 += 8) {
      const uint8_t* gc0 = w + g0 * w_stride + size_t(c0) * 8 * T::kBytes;
      for (int64_t i = 0; i < m_rows;) {
        const int mr = int(min_i64(4, m_rows - i));
        const float* syi = T::kMin ? sy + i * kKBD : sy;
        if (mr == 4)
          rp_tile<T, 4, Pf>(kbn, gc0, a, a_stride, i, c0, dy + i * kKBD, offs + i * kKBD, syi, first, y + g0, ldy);
        else if (mr == 3)
          rp_tile<T, 3, Pf>(kbn, gc0, a, a_stride, i, c0, dy + i * kKBD, offs + i * kKBD, syi, first, y + g0, ldy);
        else if (mr == 2)
          rp_tile<T, 2, Pf>(kbn, gc0, a, a_stride, i, c0, dy + i * kKBD, offs + i * kKBD, syi, first, y + g0, ldy);
        else
          rp_tile<T, 1, Pf>(kbn, gc0, a, a_stride, i, c0, dy + i * kKBD, offs + i * kKBD, syi, first, y + g0, ldy);
        i += mr;
      }
    }
  }
}

template <class T, size_t Pf = kPrefetchBytes>
static void gemm_repacked(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,
                          const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  if (r0 >= r1 || m_rows <= 0) return;
  if (m_rows < kPackMinRowsRepacked)
    gemm_rp_small<T, Pf>(n, wb, w_stride, r0, r1, ab, a_stride, m_rows, y, ldy);
  else
    gemm_packed<T>(n, wb, w_stride, r0, r1, ab, a_stride, m_rows, y, ldy, pack_group_rp<T>);
}

template <class T>
static void set_repacked(KernelTable& t, DType type) {
  t.repack_rows[int(type)] = 8;
  t.repack[int(type)] = repack<T>;
  t.gemm_repacked[int(type)] = gemm_repacked<T>;
}

}  // namespace

GemmFn avx2_q8_0_repacked_gemm_far(DType type) {
  switch (type) {
    case DType::Q4_0: return gemm_repacked<TQ4_0, kPrefetchBytesFar>;
    case DType::Q4_1: return gemm_repacked<TQ4_1, kPrefetchBytesFar>;
    case DType::Q8_0: return gemm_repacked<TQ8_0, kPrefetchBytesFar>;
    case DType::IQ4_NL: return gemm_repacked<TIq4Nl, kPrefetchBytesFar>;
    case DType::MXFP4: return gemm_repacked<TMxfp4, kPrefetchBytesFar>;
    default: return nullptr;
  }
}

void register_avx2_q8_0_repacked(KernelTable& t) {
  set_repacked<TQ4_0>(t, DType::Q4_0);
  set_repacked<TQ4_1>(t, DType::Q4_1);
  set_repacked<TQ8_0>(t, DType::Q8_0);
  set_repacked<TIq4Nl>(t, DType::IQ4_NL);
  set_repacked<TMxfp4>(t, DType::MXFP4);
}

}  // namespace hearth::kernels::x86
