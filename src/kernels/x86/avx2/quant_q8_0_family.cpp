// AVX2 kernels for the weight types whose activations are Q8_0 / Q8_1 (Q8_0, Q4_0, Q5_0, IQ4_NL,
// MXFP4, NVFP4 / Q4_1, Q5_1) on the GGUF layout, and the Q8_0 / Q8_1 activation quantizers.
// Must match the scalar reference (kernels/reference/quant_dot.cpp); anonymous namespace only.
//
// Layout of the work (see docs/KERNELS.md, "AVX2: Q8_0-activation family"):
//  - m_rows == 1 (decode): a direct kernel streams 4 weight rows at a time straight from the
//    GGUF layout and dots each 32-element block with the activation block (memory-bound);
//  - m_rows >= kPackMinRows (2; prefill and small batches): weights are unpacked per group of 8 rows and a k-panel
//    into an L1-resident buffer of int8 values interleaved 4 bytes per row (one 256-bit register
//    = 4 consecutive elements of 8 rows); each activation's 4 bytes are broadcast and multiplied
//    with _mm256_maddubs_epi16, so one register of int16/int32 lanes holds 8 rows' partial dots
//    and the per-block scales apply once per block to 8 rows at a time.
#include "kernels/x86/avx2/quant_q8_0_common.h"

namespace hearth::kernels::x86 {
namespace {

template <class T>
static void gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,
                 const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  if (r0 >= r1 || m_rows <= 0) return;
  if (m_rows < kPackMinRows)
    gemm_direct<T>(n, wb, w_stride, r0, r1, ab, a_stride, m_rows, y, ldy);
  else
    gemm_packed<T>(n, wb, w_stride, r0, r1, ab, a_stride, m_rows, y, ldy, pack_group<T>);
}

template <class T>
static float vec_dot(int64_t n, const void* w, const void* a) {
  float out;
  dot_rows<T, 1>(n / kQK, static_cast<const uint8_t*>(w), 0, static_cast<const uint8_t*>(a), &out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Activation quantizers, bit-exact with reference act_q8_0 / act_q8_1 (llama.cpp's AVX2
// quantize_row_q8_0 / q8_1): amax = max |x|, d = amax / 127 stored as fp16 (round to nearest
// even, as F16C does), q = round-to-nearest-even(x * (127 / amax)) (0 when amax == 0),
// saturated to int8; Q8_1 also stores s = fp16(d * sum(q)) with the unrounded f32 d.

// Returns the 32 int8 quants; *sum32 gets the lane sums of the int32 quants before the int8
// packing saturates them (wrapping adds, as llama.cpp's Q8_1 sum: an all-subnormal block has
// 32 x INT32_MIN, summing to 0).
static inline __m256i quantize_block(const float* x, float* d_out, __m256i* sum32) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
  const __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
  __m256 mx = _mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1));
  mx = _mm256_max_ps(mx, _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
  const float amax = hmax_ps(mx);
  *d_out = amax / 127.0f;
  const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
  constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, id), kRound));
  const __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, id), kRound));
  const __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, id), kRound));
  const __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, id), kRound));
  *sum32 = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
  // packs work per 128-bit lane: the dwords come out in order 0,4,1,5,2,6,3,7 -> permute back
  const __m256i p16a = _mm256_packs_epi32(i0, i1), p16b = _mm256_packs_epi32(i2, i3);
  const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
  return _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static void act_q8_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint8_t*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i) {
    uint8_t* b = y + i * sizeof(BlockQ8_0);
    float d;
    __m256i sum32;
    const __m256i q = quantize_block(x + i * kQK, &d, &sum32);
    const uint16_t h = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    std::memcpy(b + offsetof(BlockQ8_0, d), &h, 2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b + offsetof(BlockQ8_0, qs)), q);
  }
}

static void act_q8_1(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<uint8_t*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i) {
    uint8_t* b = y + i * sizeof(BlockQ8_1);
    float d;
    __m256i sum32;
    const __m256i q = quantize_block(x + i * kQK, &d, &sum32);
    const int32_t sum = hsum_epi32(sum32);
    const uint16_t h = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    const uint16_t s = _cvtss_sh(d * float(sum), _MM_FROUND_TO_NEAREST_INT);
    std::memcpy(b + offsetof(BlockQ8_1, d), &h, 2);
    std::memcpy(b + offsetof(BlockQ8_1, s), &s, 2);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(b + offsetof(BlockQ8_1, qs)), q);
  }
}

template <class T>
static void set_weight(KernelTable& t, DType type) {
  t.vec_dot[int(type)] = vec_dot<T>;
  t.gemm[int(type)] = gemm<T>;
}

}  // namespace

void register_avx2_q8_0_family(KernelTable& t) {
  t.quantize_act[int(DType::Q8_0)] = act_q8_0;
  t.quantize_act[int(DType::Q8_1)] = act_q8_1;
  set_weight<TQ4_0>(t, DType::Q4_0);
  set_weight<TQ4_1>(t, DType::Q4_1);
  set_weight<TQ5_0>(t, DType::Q5_0);
  set_weight<TQ5_1>(t, DType::Q5_1);
  set_weight<TQ8_0>(t, DType::Q8_0);
  set_weight<TIq4Nl>(t, DType::IQ4_NL);
  set_weight<TMxfp4>(t, DType::MXFP4);
  set_weight<TNvfp4>(t, DType::NVFP4);
  register_avx2_q8_0_repacked(t);
}

}  // namespace hearth::kernels::x86
