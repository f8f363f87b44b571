// The kernel table: every numeric operation the model code needs, one function pointer each.
// reference/ is the scalar definition (the test oracle); x86/<isa>/ implement the same entries.
// Model code never calls an ISA directly; dispatch.cpp picks one table per process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace hearth::kernels {

constexpr int kMaxTypes = 64;  // DType ids < 48 are ggml's; >= 48 are Hearth-internal layouts

// The activation format a weight type's dot product consumes (ggml's vec_dot_type):
// F32->F32, F16->F16, BF16->BF16, Q4_0/Q5_0/Q8_0/IQ4_NL/MXFP4/NVFP4->Q8_0, Q4_1/Q5_1->Q8_1,
// K-quants and IQ4_XS->Q8_K.
DType act_type(DType weight);

// Quantize one activation row of n floats into `t`'s activation format.
using QuantizeActFn = void (*)(const float* x, void* y, int64_t n);
// Dot product of one weight row and one activation row of n elements.
using VecDotFn = float (*)(int64_t n, const void* w, const void* a);
// y[m * ldy + r] = dot(W row r, A row m) for r in [r0, r1), m in [0, m_rows):
// W rows are w_stride bytes apart, activation rows a_stride bytes apart. n elements per row.
using GemmFn = void (*)(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1,
                        const void* a, size_t a_stride, int64_t m_rows, float* y, int64_t ldy);

struct KernelTable {
  const char* name = "";  // "scalar", "avx2", "avx512", "amx"
  QuantizeActFn quantize_act[kMaxTypes] = {};  // indexed by the *activation* type id
  VecDotFn vec_dot[kMaxTypes] = {};            // indexed by the weight type id
  GemmFn gemm[kMaxTypes] = {};                 // indexed by the weight type id

  // Optional repacked weight layouts (indexed by the weight type id). repack[t] rewrites `rows`
  // rows of n elements from the GGUF layout into a layout of the SAME byte size in which rows
  // come in groups of repack_rows[t] (e.g. interleaved blocks of 8 rows); gemm_repacked[t]
  // reads it with the same contract as gemm[t], except that r0 and r1 are multiples of
  // repack_rows[t] and w_stride is still row_bytes(t, n) (group g starts at g*group*w_stride).
  // The model repacks a tensor at load only when its row count is a multiple of the group.
  int32_t repack_rows[kMaxTypes] = {};
  void (*repack[kMaxTypes])(const void* src, void* dst, int64_t rows, int64_t n) = {};
  GemmFn gemm_repacked[kMaxTypes] = {};

  // y = x / sqrt(mean(x^2) + eps) * w   (w may be null: unweighted), n floats
  void (*rmsnorm)(const float* x, const float* w, float* y, int64_t n, float eps) = nullptr;
  // y = silu(g) * u, n floats (SwiGLU)
  void (*swiglu)(const float* g, const float* u, float* y, int64_t n) = nullptr;
  // y += x, n floats
  void (*add)(float* y, const float* x, int64_t n) = nullptr;
  // y += a * x
  void (*axpy)(float* y, float a, const float* x, int64_t n) = nullptr;
  // in-place softmax of n floats; returns nothing
  void (*softmax)(float* x, int64_t n) = nullptr;
  // One attention row's softmax, in place (llama.cpp's soft_max with an F16 KV cache, whose
  // P·V product converts P to f16): with z_j = s[j] * scale (f32 product),
  // mx = max(sink, max_j z_j), e_j = exp(z_j - mx), sum = exp(sink - mx) + sum_j e_j (double),
  // s[j] = f16 rounding of e_j * float(1 / sum), kept as f32. sink = -inf when there is none.
  // The reference uses libm's expf per element; SIMD versions a polynomial exp within a few
  // ulp of it (as llama.cpp's ggml_v_expf), flushing results below 2^-126 to 0.
  void (*attn_softmax)(float* s, int64_t n, float scale, float sink) = nullptr;
  // f32 <-> f16 rows
  void (*f32_to_f16)(const float* x, uint16_t* y, int64_t n) = nullptr;
  void (*f16_to_f32)(const uint16_t* x, float* y, int64_t n) = nullptr;
  // dot of an f32 row with an f16 row (attention scores against an F16 KV cache)
  float (*dot_f32_f16)(const float* x, const uint16_t* y, int64_t n) = nullptr;
  // y += a * f16 row (attention values from an F16 KV cache)
  void (*axpy_f16)(float* y, float a, const uint16_t* x, int64_t n) = nullptr;
  // Attention blocks against an F16 KV cache (many query rows x a block of keys; K/V rows are
  // given by pointer because a paged cache is not one strided array). Implementations convert
  // each K/V row to f32 once per call, not once per query row; callers pass blocks of a few dozen
  // keys so the converted block stays in cache.
  // Scores: s[r * lds + j] = sum_i q[r * ldq + i] * k[j][i], r < rows, j < nk, i < n.
  void (*attn_scores_f16)(const float* q, int64_t ldq, int64_t rows, const uint16_t* const* k,
                          int64_t nk, int64_t n, float* s, int64_t lds) = nullptr;
  // P·V: o[r][i] += sum_j p[r * ldp + j] * v[j][i], r < rows, j < nk, i < n (f32 accumulation;
  // every p is used, so masked keys need p = 0).
  void (*attn_pv_f16)(const float* p, int64_t ldp, int64_t rows, const uint16_t* const* v,
                      int64_t nk, int64_t n, float* const* o) = nullptr;
  // The fewest query rows for which callers should use the two block kernels above rather than
  // per-row dot_f32_f16 / axpy_f16 loops (the block kernels convert and transpose each K/V row
  // once per call, which pays off over fewer rows the wider the registers are).
  int32_t attn_block_rows = 4;
};

// Scalar reference table: always available, obviously correct, slow.
const KernelTable& reference_table();
// Every table this CPU can run, weakest first (reference first). For tests.
std::vector<const KernelTable*> available_tables();
// The table used by the engine: the best available, capped by HEARTH_ISA if set.
const KernelTable& active_table();

}  // namespace hearth::kernels
