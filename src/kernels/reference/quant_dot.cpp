// Scalar reference for the quantized entries of the kernel table: activation quantizers, the
// dot product of one weight row with one activation row per weight type, and gemm as a loop
// over it. Mirrors ggml's generic (non-SIMD) C code so results match it to rounding; no SIMD.
//
// Dot products follow ggml_vec_dot_*_generic exactly: integer sums per (sub-)block, then the
// same float operations in the same order (including the 8-lane float sums of Q3_K..Q6_K).
// This file must be compiled without FMA contraction (baseline flags), like quant/quant.cpp.
#include <climits>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/reference/reference.h"
#include "quant/blocks.h"
#include "quant/quant.h"
#include "quant/tables.h"

namespace hearth::kernels::reference {
namespace {

using namespace hearth::quant;  // block structs and tables

inline float h2f(uint16_t h) { return f16_to_f32(h); }

// ---------------------------------------------------------------------------------------------
// Activation quantizers: the from_float of each vec_dot type in llama.cpp's x86 CPU backend
// (libggml-cpu-haswell). n must be a multiple of the activation block size.

void act_f32(const float* x, void* y, int64_t n) { std::memcpy(y, x, size_t(n) * sizeof(float)); }

// F16C _mm256_cvtps_ph with round-to-nearest-even (ggml_cpu_fp32_to_fp16).
void act_f16(const float* x, void* y, int64_t n) {
  auto* h = static_cast<uint16_t*>(y);
  for (int64_t i = 0; i < n; ++i) h[i] = f32_to_f16(x[i]);
}

void act_bf16(const float* x, void* y, int64_t n) {
  auto* h = static_cast<uint16_t*>(y);
  for (int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(x[i]);
}

// llama.cpp's AVX2 quantize_row_q8_0 / q8_1 differ from the reference quantizer of model files
// (quant::quantize_row): the multiplier is id = 127 / amax (not 1 / (amax / 127)) and rounding
// is _mm256_round_ps(_MM_ROUND_NEAREST), i.e. ties to even (not roundf's ties away from zero).
// _mm256_cvtps_epi32 turns NaN and out-of-range values into INT32_MIN (this happens when
// 127 / amax overflows for an all-subnormal block: x * inf). Returns that int32.
inline int32_t round_even_i32(float v) {
  const float r = std::nearbyint(v);  // default rounding mode: nearest, ties to even
  if (!(r >= -2147483648.0f && r < 2147483648.0f)) return INT32_MIN;
  return int32_t(r);
}

// One 32-element block; returns the f32 scale d (before its fp16 rounding) and the sum of the
// int32 quants *before* the int8 packing saturates them, wrapping like the AVX2 int32 adds
// (an all-subnormal block has 32 x INT32_MIN, which sums to 0).
float act_q8_block(const float* x, uint16_t* d_out, int8_t* qs, int32_t* sum_out) {
  float amax = 0.0f;
  for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  *d_out = f32_to_f16(d);
  const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
  uint32_t sum = 0;
  for (int j = 0; j < kQK; ++j) {
    const int32_t q = round_even_i32(x[j] * id);
    qs[j] = int8_t(q > 127 ? 127 : (q < -128 ? -128 : q));  // packs_epi32 / packs_epi16
    sum += uint32_t(q);
  }
  *sum_out = int32_t(sum);
  return d;
}

void act_q8_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(vy);
  int32_t sum;
  for (int64_t i = 0; i < n / kQK; ++i) act_q8_block(x + i * kQK, &y[i].d, y[i].qs, &sum);
}

// Q8_1 adds s = fp16(d * sum(qs)) with the unrounded f32 d, as the AVX2 code does.
void act_q8_1(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i) {
    int32_t sum;
    const float d = act_q8_block(x + i * kQK, &y[i].d, y[i].qs, &sum);
    y[i].s = f32_to_f16(d * float(sum));
  }
}

// x86 quantize_row_q8_K is the reference quantizer.
void act_q8_k(const float* x, void* y, int64_t n) { quantize_row(DType::Q8_K, x, y, n); }

// ---------------------------------------------------------------------------------------------
// Dot products (ggml_vec_dot_<w>_<a>_generic). w: weight row, a: activation row, n elements.

float dot_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(x[i] * y[i]);
  return float(sum);
}

float dot_f16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(f16_to_f32(x[i]) * f16_to_f32(y[i]));
  return float(sum);
}

float dot_bf16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(bf16_to_f32(x[i]) * bf16_to_f32(y[i]));
  return float(sum);
}

float dot_q4_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      sumi0 += ((x[ib].qs[j] & 0xF) - 8) * y[ib].qs[j];
      sumi1 += ((x[ib].qs[j] >> 4) - 8) * y[ib].qs[j + kQK / 2];
    }
    sumf += float(sumi0 + sumi1) * h2f(x[ib].d) * h2f(y[ib].d);
  }
  return sumf;
}

float dot_q4_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      sumi0 += (x[ib].qs[j] & 0xF) * y[ib].qs[j];
      sumi1 += (x[ib].qs[j] >> 4) * y[ib].qs[j + kQK / 2];
    }
    // The minimum's contribution m * sum(a) comes from the activation's precomputed s.
    sumf += (h2f(x[ib].d) * h2f(y[ib].d)) * float(sumi0 + sumi1) + h2f(x[ib].m) * h2f(y[ib].s);
  }
  return sumf;
}

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

float dot_q5_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    const uint32_t qh = load_u32(x[ib].qh);
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int x0 = ((x[ib].qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16;
      const int x1 = ((x[ib].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
      sumi0 += x0 * y[ib].qs[j];
      sumi1 += x1 * y[ib].qs[j + kQK / 2];
    }
    sumf += (h2f(x[ib].d) * h2f(y[ib].d)) * float(sumi0 + sumi1);
  }
  return sumf;
}

float dot_q5_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    const uint32_t qh = load_u32(x[ib].qh);
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int x0 = (x[ib].qs[j] & 0xF) | (((qh >> j) & 1) << 4);
      const int x1 = (x[ib].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      sumi0 += x0 * y[ib].qs[j];
      sumi1 += x1 * y[ib].qs[j + kQK / 2];
    }
    sumf += (h2f(x[ib].d) * h2f(y[ib].d)) * float(sumi0 + sumi1) + h2f(x[ib].m) * h2f(y[ib].s);
  }
  return sumf;
}

float dot_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    int sumi = 0;
    for (int j = 0; j < kQK; ++j) sumi += x[ib].qs[j] * y[ib].qs[j];
    sumf += float(sumi) * (h2f(x[ib].d) * h2f(y[ib].d));
  }
  return sumf;
}

float dot_mxfp4(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockMxfp4*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    const float d = h2f(y[ib].d) * e8m0_to_f32_half(x[ib].e);
    int sumi1 = 0, sumi2 = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      sumi1 += y[ib].qs[j] * kFp4Values[x[ib].qs[j] & 0xF];
      sumi2 += y[ib].qs[j + kQK / 2] * kFp4Values[x[ib].qs[j] >> 4];
    }
    sumf += d * float(sumi1 + sumi2);
  }
  return sumf;
}

// One NVFP4 block (64) spans two Q8_0 blocks; each 16-element sub-block has its own scale.
float dot_nvfp4(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockNvfp4*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < n / kQKNvfp4; ++ib) {
    for (int s = 0; s < 4; ++s) {
      const float d = ue4m3_to_f32_half(x[ib].d[s]);
      const BlockQ8_0& yb = y[2 * ib + s / 2];
      const int off = (s % 2) * kQKNvfp4Sub;
      const float dy = h2f(yb.d);
      int sumi_lo = 0, sumi_hi = 0;
      for (int j = 0; j < kQKNvfp4Sub / 2; ++j) {
        const uint8_t q = x[ib].qs[s * (kQKNvfp4Sub / 2) + j];
        sumi_lo += yb.qs[off + j] * kFp4Values[q & 0xF];
        sumi_hi += yb.qs[off + j + kQKNvfp4Sub / 2] * kFp4Values[q >> 4];
      }
      sumf += dy * d * float(sumi_lo + sumi_hi);
    }
  }
  return sumf;
}

float dot_iq4_nl(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIq4Nl*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sumf = 0.0f;
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    const float d = h2f(y[ib].d) * h2f(x[ib].d);
    int sumi1 = 0, sumi2 = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      sumi1 += y[ib].qs[j] * kIq4nlValues[x[ib].qs[j] & 0xF];
      sumi2 += y[ib].qs[j + kQK / 2] * kIq4nlValues[x[ib].qs[j] >> 4];
    }
    sumf += d * float(sumi1 + sumi2);
  }
  return sumf;
}

float dot_q2_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* sc = x[i].scales;
    // The mins' contribution uses the activation's 16-element sums.
    int summs = 0;
    for (int j = 0; j < 16; ++j) summs += y[i].bsums[j] * (sc[j] >> 4);
    const float dall = y[i].d * h2f(x[i].d);
    const float dmin = y[i].d * h2f(x[i].dmin);
    const int8_t* q8 = y[i].qs;
    int isum = 0, is = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* q2 = x[i].qs + 32 * half;
      for (int shift = 0; shift < 8; shift += 2, q8 += 32) {
        for (int part = 0; part < 2; ++part) {
          int isuml = 0;
          for (int l = 16 * part; l < 16 * part + 16; ++l) isuml += q8[l] * ((q2[l] >> shift) & 3);
          isum += (sc[is++] & 0xF) * isuml;
        }
      }
    }
    sumf += dall * float(isum) - dmin * float(summs);
  }
  return sumf;
}

// The K-quant dot products below accumulate scale * q8 * q in 8 int32 lanes (element index
// mod 8) per super-block, then add d * lane into 8 float lanes, summed at the very end: the
// shape of ggml's generic code, kept so the float rounding matches it.
float finish_lanes(float sumf, const float* sums) {
  for (int l = 0; l < 8; ++l) sumf += sums[l];
  return sumf;
}

// aux32[l] += scale * q8[k] * a[k] for the 16 elements k of one scale group starting at a / q8.
inline void accumulate16(int32_t* aux32, int scale, const int8_t* q8, const int8_t* a) {
  for (int half = 0; half < 2; ++half)
    for (int l = 0; l < 8; ++l) aux32[l] += scale * (q8[8 * half + l] * a[8 * half + l]);
}

float dot_q3_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sums[8] = {};
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];  // signed 3-bit values in element order
    int8_t* p = q;
    uint8_t m = 1;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* q3 = x[i].qs + 32 * half;
      for (int shift = 0; shift < 8; shift += 2, m = uint8_t(m << 1), p += 32)
        for (int l = 0; l < 32; ++l) p[l] = int8_t(((q3[l] >> shift) & 3) - ((x[i].hmask[l] & m) ? 0 : 4));
    }
    int sc[16];
    for (int j = 0; j < 16; ++j) {
      const int lo = j < 8 ? (x[i].scales[j] & 0xF) : (x[i].scales[j - 8] >> 4);
      const int hi = (x[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3;
      sc[j] = (lo | (hi << 4)) - 32;
    }
    int32_t aux32[8] = {};
    for (int j = 0; j < 16; ++j) accumulate16(aux32, sc[j], y[i].qs + 16 * j, q + 16 * j);
    const float d = h2f(x[i].d) * y[i].d;
    for (int l = 0; l < 8; ++l) sums[l] += d * float(aux32[l]);
  }
  return finish_lanes(0.0f, sums);
}

// Adds one Q4_K / Q5_K super-block (unsigned levels q[256], 8 packed (scale, min) pairs) to the
// float lanes; the mins' contribution dmin * sum(m_j * bsums) goes straight into sumf.
void add_q45_k_block(const int8_t* q, const uint8_t* s12, uint16_t d16, uint16_t dmin16,
                     const BlockQ8_K& y, float* sums, float& sumf) {
  uint8_t sc[8], mn[8];
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      sc[j] = s12[j] & 63;
      mn[j] = s12[j + 4] & 63;
    } else {
      sc[j] = uint8_t((s12[j + 4] & 0xF) | ((s12[j - 4] >> 6) << 4));
      mn[j] = uint8_t((s12[j + 4] >> 4) | ((s12[j] >> 6) << 4));
    }
  }
  int sumi = 0;
  for (int j = 0; j < 16; ++j) sumi += y.bsums[j] * mn[j / 2];
  int32_t aux32[8] = {};
  for (int j = 0; j < 8; ++j) {
    accumulate16(aux32, sc[j], y.qs + 32 * j, q + 32 * j);
    accumulate16(aux32, sc[j], y.qs + 32 * j + 16, q + 32 * j + 16);
  }
  const float d = h2f(d16) * y.d;
  for (int l = 0; l < 8; ++l) sums[l] += d * float(aux32[l]);
  const float dmin = h2f(dmin16) * y.d;
  sumf -= dmin * float(sumi);
}

float dot_q4_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sums[8] = {};
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        q[64 * c + l] = int8_t(x[i].qs[32 * c + l] & 0xF);
        q[64 * c + 32 + l] = int8_t(x[i].qs[32 * c + l] >> 4);
      }
    }
    add_q45_k_block(q, x[i].scales, x[i].d, x[i].dmin, y[i], sums, sumf);
  }
  return finish_lanes(sumf, sums);
}

float dot_q5_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sums[8] = {};
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];
    for (int c = 0; c < 4; ++c) {
      const uint8_t u1 = uint8_t(1 << (2 * c)), u2 = uint8_t(2 << (2 * c));
      for (int l = 0; l < 32; ++l) {
        q[64 * c + l] = int8_t((x[i].qs[32 * c + l] & 0xF) + ((x[i].qh[l] & u1) ? 16 : 0));
        q[64 * c + 32 + l] = int8_t((x[i].qs[32 * c + l] >> 4) + ((x[i].qh[l] & u2) ? 16 : 0));
      }
    }
    add_q45_k_block(q, x[i].scales, x[i].d, x[i].dmin, y[i], sums, sumf);
  }
  return finish_lanes(sumf, sums);
}

float dot_q6_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sums[8] = {};
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32) {
      int8_t* p = q + 128 * half;
      for (int l = 0; l < 32; ++l) {
        p[l] = int8_t(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        p[l + 32] = int8_t(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        p[l + 64] = int8_t(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        p[l + 96] = int8_t(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int32_t aux32[8] = {};
    for (int j = 0; j < 16; ++j) accumulate16(aux32, x[i].scales[j], y[i].qs + 16 * j, q + 16 * j);
    const float d = h2f(x[i].d) * y[i].d;
    for (int l = 0; l < 8; ++l) sums[l] += d * float(aux32[l]);
  }
  return finish_lanes(0.0f, sums);
}

float dot_iq4_xs(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIq4Xs*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sumf = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d4d8 = h2f(x[i].d) * y[i].d;
    const uint8_t* qs = x[i].qs;
    const int8_t* q8 = y[i].qs;
    for (int ib = 0; ib < kQK_K / 32; ++ib, qs += 16, q8 += 32) {
      const int ls = ((x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) |
                     (((x[i].scales_h >> (2 * ib)) & 3) << 4);
      const float dl = d4d8 * float(ls - 32);
      int sumi1 = 0, sumi2 = 0;
      for (int j = 0; j < 16; ++j) {
        sumi1 += q8[j] * kIq4nlValues[qs[j] & 0xF];
        sumi2 += q8[j + 16] * kIq4nlValues[qs[j] >> 4];
      }
      sumf += dl * float(sumi1 + sumi2);
    }
  }
  return sumf;
}

// gemm = the obvious loop over vec_dot (the reference for blocked / threaded GEMMs).
template <VecDotFn kDot>
void gemm(int64_t n, const void* w, size_t w_stride, int64_t r0, int64_t r1, const void* a,
          size_t a_stride, int64_t m_rows, float* y, int64_t ldy) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int64_t m = 0; m < m_rows; ++m)
    for (int64_t r = r0; r < r1; ++r)
      y[m * ldy + r] = kDot(n, wb + size_t(r) * w_stride, ab + size_t(m) * a_stride);
}

template <VecDotFn kDot>
void set_weight(KernelTable& t, DType w) {
  t.vec_dot[int(w)] = kDot;
  t.gemm[int(w)] = gemm<kDot>;
}

}  // namespace

void register_quant(KernelTable& t) {
  t.quantize_act[int(DType::F32)] = act_f32;
  t.quantize_act[int(DType::F16)] = act_f16;
  t.quantize_act[int(DType::BF16)] = act_bf16;
  t.quantize_act[int(DType::Q8_0)] = act_q8_0;
  t.quantize_act[int(DType::Q8_1)] = act_q8_1;
  t.quantize_act[int(DType::Q8_K)] = act_q8_k;

  set_weight<dot_f32>(t, DType::F32);
  set_weight<dot_f16>(t, DType::F16);
  set_weight<dot_bf16>(t, DType::BF16);
  set_weight<dot_q4_0>(t, DType::Q4_0);
  set_weight<dot_q4_1>(t, DType::Q4_1);
  set_weight<dot_q5_0>(t, DType::Q5_0);
  set_weight<dot_q5_1>(t, DType::Q5_1);
  set_weight<dot_q8_0>(t, DType::Q8_0);
  set_weight<dot_q2_k>(t, DType::Q2_K);
  set_weight<dot_q3_k>(t, DType::Q3_K);
  set_weight<dot_q4_k>(t, DType::Q4_K);
  set_weight<dot_q5_k>(t, DType::Q5_K);
  set_weight<dot_q6_k>(t, DType::Q6_K);
  set_weight<dot_iq4_nl>(t, DType::IQ4_NL);
  set_weight<dot_iq4_xs>(t, DType::IQ4_XS);
  set_weight<dot_mxfp4>(t, DType::MXFP4);
  set_weight<dot_nvfp4>(t, DType::NVFP4);
}

}  // namespace hearth::kernels::reference
