// Reference dequantize / quantize for every type Hearth computes with, bit-exact with ggml's
// dequantize_row_* and quantize_row_*_ref (the llama.cpp build in .oracle, checked by
// tests/conformance/ggml_oracle_test.cpp). Scalar and obvious; no SIMD, no speed tricks.
//
// Bit-exactness depends on doing the same float operations in the same order as ggml, in
// single precision, one rounding each: this file must be compiled without FMA contraction
// (baseline x86-64 flags, as CMakeLists.txt does for everything outside src/kernels/x86/).
// Expressions below keep ggml's association, e.g. (w * x) * l, and convert ints to float
// where ggml's C does.
#include "quant/quant.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <climits>
#include <cstring>

#include "core/error.h"
#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/tables.h"

namespace hearth::quant {
namespace {

constexpr float kGroupMaxEps = 1e-15f;  // blocks with max |x| below this are "all zero"

inline float h2f(uint16_t h) { return f16_to_f32(h); }
inline uint16_t f2h(float f) { return f32_to_f16(f); }

// ggml's nearest_int: round to nearest, ties to even, via the 1.5 * 2^23 magic constant.
// Valid for |f| <= 2^22 - 1; outside that it returns the same bits ggml does (no check).
inline int nearest_int(float f) {
  const float v = f + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &v, sizeof i);
  return (i & 0x007FFFFF) - 0x00400000;
}

// float -> small integer types the way ggml's C casts compile on x86-64: cvttss2si truncates
// toward zero to int32 ("integer indefinite" INT32_MIN for NaN and out-of-range values, e.g.
// x * inf in an all-subnormal block), then the low bits are kept. Defined behaviour here, and
// identical to ggml for every input.
inline int32_t trunc_i32(float f) {
  if (!(f > -2147483904.0f && f < 2147483648.0f)) return INT32_MIN;
  return int32_t(f);
}
inline int8_t to_i8(float f) { return int8_t(trunc_i32(f)); }
inline uint8_t to_u8(float f) { return uint8_t(trunc_i32(f)); }

inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Index of the level in `val` (ascending, n = 16) nearest to x; ties go to the upper level
// (ggml's best_index_int8 as built in the oracle: binary search, then compare distances).
int best_index_int8(int n, const int8_t* val, float x) {
  if (x <= float(val[0])) return 0;
  if (x >= float(val[n - 1])) return n - 1;
  int lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < float(val[mid])) hi = mid; else lo = mid;
  }
  return x - float(val[hi - 1]) < float(val[hi]) - x ? hi - 1 : hi;
}

// Q4_K / Q5_K: 6-bit scale and min of sub-block j from the 12 packed bytes.
inline void scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Q3_K: the 16 signed 6-bit scales (already minus 32) from the 12 packed bytes.
void q3_k_scales(const uint8_t* packed, int* out) {
  for (int j = 0; j < 16; ++j) {
    const int lo = j < 8 ? (packed[j] & 0xF) : (packed[j - 8] >> 4);
    const int hi = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = (lo | (hi << 4)) - 32;
  }
}

// ---------------------------------------------------------------------------------------------
// Dequantization: y[0..n) from n / block_size blocks.

void dequant_q4_0(const BlockQ4_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(x[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = float((x[i].qs[j] & 0xF) - 8) * d;
      y[j + kQK / 2] = float((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequant_q4_1(const BlockQ4_1* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(x[i].d), m = h2f(x[i].m);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = float(x[i].qs[j] & 0xF) * d + m;
      y[j + kQK / 2] = float(x[i].qs[j] >> 4) * d + m;
    }
  }
}

inline uint32_t load_qh(const uint8_t* qh) {
  uint32_t v;
  std::memcpy(&v, qh, 4);  // little-endian, like ggml's memcpy
  return v;
}

void dequant_q5_0(const BlockQ5_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(x[i].d);
    const uint32_t qh = load_qh(x[i].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int h0 = ((qh >> j) & 1) << 4;
      const int h1 = ((qh >> (j + 16)) & 1) << 4;
      y[j] = float(((x[i].qs[j] & 0xF) | h0) - 16) * d;
      y[j + kQK / 2] = float(((x[i].qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void dequant_q5_1(const BlockQ5_1* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(x[i].d), m = h2f(x[i].m);
    const uint32_t qh = load_qh(x[i].qh);
    for (int j = 0; j < kQK / 2; ++j) {
      const int h0 = ((qh >> j) & 1) << 4;
      const int h1 = ((qh >> (j + 16)) & 1) << 4;
      y[j] = float((x[i].qs[j] & 0xF) | h0) * d + m;
      y[j + kQK / 2] = float((x[i].qs[j] >> 4) | h1) * d + m;
    }
  }
}

void dequant_q8_0(const BlockQ8_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = float(x[i].qs[j]) * d;
  }
}

// ggml has no Q8_1 dequantizer (it is activation-only); this is the obvious d * q.
void dequant_q8_1(const BlockQ8_1* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(x[i].d);
    for (int j = 0; j < kQK; ++j) y[j] = float(x[i].qs[j]) * d;
  }
}

void dequant_q2_k(const BlockQ2_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
    int is = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* q = x[i].qs + 32 * half;
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; ++part) {  // two sub-blocks of 16 per shift
          const uint8_t sc = x[i].scales[is++];
          const float dl = d * float(sc & 0xF), ml = dmin * float(sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * float((q[16 * part + l] >> shift) & 3) - ml;
        }
      }
    }
  }
}

void dequant_q3_k(const BlockQ3_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = h2f(x[i].d);
    int sc[16];
    q3_k_scales(x[i].scales, sc);
    int is = 0;
    uint8_t m = 1;  // hmask bit of the current 32 elements
    for (int half = 0; half < 2; ++half) {
      const uint8_t* q = x[i].qs + 32 * half;
      for (int shift = 0; shift < 8; shift += 2, m = uint8_t(m << 1)) {
        for (int part = 0; part < 2; ++part) {
          const float dl = d * float(sc[is++]);
          for (int l = 16 * part; l < 16 * part + 16; ++l) {
            const int v = ((q[l] >> shift) & 3) - ((x[i].hmask[l] & m) ? 0 : 4);
            *y++ = dl * float(v);
          }
        }
      }
    }
  }
}

void dequant_q4_k(const BlockQ4_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
    const uint8_t* q = x[i].qs;
    for (int c = 0; c < 4; ++c, q += 32) {
      uint8_t sc, m;
      scale_min_k4(2 * c, x[i].scales, &sc, &m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * float(q[l] >> 4) - m2;
    }
  }
}

void dequant_q5_k(const BlockQ5_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = h2f(x[i].d), dmin = h2f(x[i].dmin);
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    for (int c = 0; c < 4; ++c, ql += 32) {
      uint8_t sc, m;
      scale_min_k4(2 * c, x[i].scales, &sc, &m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      const uint8_t u1 = uint8_t(1 << (2 * c)), u2 = uint8_t(2 << (2 * c));
      for (int l = 0; l < 32; ++l) *y++ = d1 * float((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * float((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
    }
  }
}

void dequant_q6_k(const BlockQ6_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = h2f(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * float(sc[is]) * float(q1);
        y[l + 32] = d * float(sc[is + 2]) * float(q2);
        y[l + 64] = d * float(sc[is + 4]) * float(q3);
        y[l + 96] = d * float(sc[is + 6]) * float(q4);
      }
    }
  }
}

void dequant_q8_k(const BlockQ8_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i)
    for (int j = 0; j < kQK_K; ++j) *y++ = x[i].d * float(x[i].qs[j]);
}

void dequant_iq4_nl(const BlockIq4Nl* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = h2f(x[i].d);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = d * float(kIq4nlValues[x[i].qs[j] & 0xF]);
      y[j + kQK / 2] = d * float(kIq4nlValues[x[i].qs[j] >> 4]);
    }
  }
}

void dequant_iq4_xs(const BlockIq4Xs* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = h2f(x[i].d);
    const uint8_t* qs = x[i].qs;
    for (int ib = 0; ib < kQK_K / 32; ++ib, y += 32, qs += 16) {
      const int ls = ((x[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) |
                     (((x[i].scales_h >> (2 * ib)) & 3) << 4);
      const float dl = d * float(ls - 32);
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * float(kIq4nlValues[qs[j] & 0xF]);
        y[j + 16] = dl * float(kIq4nlValues[qs[j] >> 4]);
      }
    }
  }
}

void dequant_mxfp4(const BlockMxfp4* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = e8m0_to_f32_half(x[i].e);
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = float(kFp4Values[x[i].qs[j] & 0xF]) * d;
      y[j + kQK / 2] = float(kFp4Values[x[i].qs[j] >> 4]) * d;
    }
  }
}

void dequant_nvfp4(const BlockNvfp4* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    for (int s = 0; s < kQKNvfp4 / kQKNvfp4Sub; ++s, y += kQKNvfp4Sub) {
      const float d = ue4m3_to_f32_half(x[i].d[s]);
      const uint8_t* qs = x[i].qs + s * (kQKNvfp4Sub / 2);
      for (int j = 0; j < kQKNvfp4Sub / 2; ++j) {
        y[j] = float(kFp4Values[qs[j] & 0xF]) * d;
        y[j + kQKNvfp4Sub / 2] = float(kFp4Values[qs[j] >> 4]) * d;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reference quantizers (ggml quantize_row_*_ref).

void quant_q4_0(const float* x, BlockQ4_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.0f, max = 0.0f;  // signed value of largest magnitude (first one wins)
    for (int j = 0; j < kQK; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f2h(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, int(to_i8(x[j] * id + 8.5f)));
      const int q1 = std::min(15, int(to_i8(x[j + kQK / 2] * id + 8.5f)));
      y[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

void quant_q4_1(const float* x, BlockQ4_1* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f2h(d);
    y[i].m = f2h(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(15, int(to_i8((x[j] - min) * id + 0.5f)));
      const int q1 = std::min(15, int(to_i8((x[j + kQK / 2] - min) * id + 0.5f)));
      y[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

void quant_q5_0(const float* x, BlockQ5_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f2h(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = std::min(31, int(to_i8(x[j] * id + 16.5f)));
      const int q1 = std::min(31, int(to_i8(x[j + kQK / 2] * id + 16.5f)));
      y[i].qs[j] = uint8_t((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= uint32_t((q0 >> 4) & 1) << j;
      qh |= uint32_t((q1 >> 4) & 1) << (j + kQK / 2);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

void quant_q5_1(const float* x, BlockQ5_1* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f2h(d);
    y[i].m = f2h(min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = to_u8((x[j] - min) * id + 0.5f);  // no clamp in ggml's reference
      const int q1 = to_u8((x[j + kQK / 2] - min) * id + 0.5f);
      y[i].qs[j] = uint8_t((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= uint32_t((q0 >> 4) & 1) << j;
      qh |= uint32_t((q1 >> 4) & 1) << (j + kQK / 2);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

// The *reference* Q8_0 (weights, GGUF files): d = amax/127, q = roundf(x / d) (ties away from
// zero). llama.cpp's x86 activation quantizer differs (see kernels/reference/quant_dot.cpp).
void quant_q8_0(const float* x, BlockQ8_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = amax > std::fabs(x[j]) ? amax : std::fabs(x[j]);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f2h(d);
    for (int j = 0; j < kQK; ++j) y[i].qs[j] = to_i8(std::round(x[j] * id));
  }
}

void quant_q8_1(const float* x, BlockQ8_1* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = amax > std::fabs(x[j]) ? amax : std::fabs(x[j]);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f2h(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      y[i].qs[j] = to_i8(std::round(x[j] * id));
      sum += y[i].qs[j];
    }
    y[i].s = f2h(float(sum) * d);
  }
}

// ggml make_qx_quants with rmse_type 1 and no importance weights (w = x^2): pick the scale
// among 19 candidates around nmax/max that maximizes sum(w x l)^2 / sum(w l^2).
// L receives l + nmax in [0, 2 nmax).
float make_qx_quants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0.0f, amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  float iscale = float(-nmax) / max;
  float sumlx = 0.0f, suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    L[i] = int8_t(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * float(l);
    suml2 += w * float(l) * float(l);
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(float(nmax) + 0.1f * float(is)) / max;
    sumlx = suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      const float w = x[i] * x[i];
      sumlx += w * x[i] * float(l);
      suml2 += w * float(l) * float(l);
    }
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i)
        L[i] = int8_t(nmax + clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// ggml make_q3_quants with do_rmse: start from nmax/max, then up to 5 rounds of moving single
// levels while that improves the weighted (w = x^2) fit. L receives l + nmax.
float make_q3_quants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0.0f, amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  const float iscale = float(-nmax) / max;
  float sumlx = 0.0f, suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    L[i] = int8_t(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * float(l);
    suml2 += w * float(l) * float(l);
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * float(L[i]);
      if (slx > 0.0f) {
        float sl2 = suml2 - w * float(L[i]) * float(L[i]);
        const int new_l = clamp_int(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
        if (new_l != L[i]) {
          slx += w * x[i] * float(new_l);
          sl2 += w * float(new_l) * float(new_l);
          if (sl2 > 0.0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = int8_t(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = int8_t(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// ggml make_qkx2_quants: asymmetric levels l in [0, nmax], x ~ scale * l - the_min. Tries
// nstep + 1 scales around nmax/(max - min), solving least squares for (scale, min) each time
// and keeping the best weighted error (abs if use_mad, else squared).
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                       float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                       bool use_mad) {
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0.0f) min = 0.0f;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *the_min = -min;
    return 0.0f;
  }
  float iscale = float(nmax) / (max - min);
  float scale = 1.0f / iscale;
  float best_error = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = uint8_t(clamp_int(l, 0, nmax));
    float diff = scale * float(L[i]) + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    best_error += weights[i] * diff;
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * float(is) + float(nmax)) / (max - min);
    float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
      Laux[i] = uint8_t(l);
      const float w = weights[i];
      sum_l += w * float(l);
      sum_l2 += w * float(l) * float(l);
      sum_xl += w * float(l) * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0.0f) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0.0f) {
        this_min = 0.0f;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0.0f;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * float(Laux[i]) + this_min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        cur_error += weights[i] * diff;
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

// Pack 2-bit levels of 256 elements the Q2_K / Q3_K way (see BlockQ2_K).
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK_K; j += 128)
    for (int l = 0; l < 32; ++l)
      qs[j / 4 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                              (L[j + l + 96] << 6));
}

void quant_q2_k(const float* x, BlockQ2_K* y, int64_t nb) {
  uint8_t L[kQK_K], Laux[16];
  float weights[16], mins[kQK_K / 16], scales[kQK_K / 16];
  const float q4scale = 15.0f;
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < kQK_K / 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux,
                                   -0.5f, 0.1f, 15, true);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0.0f) {
      const float iscale = q4scale / max_scale;
      for (int j = 0; j < kQK_K / 16; ++j) y[i].scales[j] = uint8_t(nearest_int(iscale * scales[j]));
      y[i].d = f2h(max_scale / q4scale);
    } else {
      for (int j = 0; j < kQK_K / 16; ++j) y[i].scales[j] = 0;
      y[i].d = f2h(0.0f);
    }
    if (max_min > 0.0f) {
      const float iscale = q4scale / max_min;
      for (int j = 0; j < kQK_K / 16; ++j)
        y[i].scales[j] = uint8_t(y[i].scales[j] | (nearest_int(iscale * mins[j]) << 4));
      y[i].dmin = f2h(max_min / q4scale);
    } else {
      y[i].dmin = f2h(0.0f);
    }
    // Requantize every element against the rounded scales.
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = h2f(y[i].d) * float(y[i].scales[j] & 0xF);
      if (d == 0.0f) continue;
      const float dm = h2f(y[i].dmin) * float(y[i].scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii)
        L[16 * j + ii] = uint8_t(clamp_int(nearest_int((x[16 * j + ii] + dm) / d), 0, 3));
    }
    pack_2bit(L, y[i].qs);
  }
}

void quant_q3_k(const float* x, BlockQ3_K* y, int64_t nb) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    float max_scale = 0.0f, amax = 0.0f;
    for (int j = 0; j < kQK_K / 16; ++j) {
      scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }
    std::memset(y[i].scales, 0, 12);
    if (max_scale != 0.0f) {
      const float iscale = -32.0f / max_scale;
      for (int j = 0; j < kQK_K / 16; ++j) {
        // ggml stores nearest_int into an int8_t before clamping; keep that truncation.
        int8_t l = int8_t(nearest_int(iscale * scales[j]));
        l = int8_t(clamp_int(l, -32, 31) + 32);
        if (j < 8) {
          y[i].scales[j] = uint8_t(l & 0xF);
        } else {
          y[i].scales[j - 8] = uint8_t(y[i].scales[j - 8] | ((l & 0xF) << 4));
        }
        l = int8_t(l >> 4);
        y[i].scales[j % 4 + 8] = uint8_t(y[i].scales[j % 4 + 8] | (l << (2 * (j / 4))));
      }
      y[i].d = f2h(1.0f / iscale);
    } else {
      y[i].d = f2h(0.0f);
    }
    int sc[16];
    q3_k_scales(y[i].scales, sc);
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = h2f(y[i].d) * float(sc[j]);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii)
        L[16 * j + ii] = int8_t(clamp_int(nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
    }
    // High bit of element 32k + l goes to bit k of hmask[l]; the low 2 bits stay in L.
    std::memset(y[i].hmask, 0, kQK_K / 8);
    for (int j = 0; j < kQK_K; ++j) {
      if (L[j] > 3) {
        y[i].hmask[j % 32] = uint8_t(y[i].hmask[j % 32] | (1 << (j / 32)));
        L[j] = int8_t(L[j] - 4);
      }
    }
    pack_2bit(reinterpret_cast<const uint8_t*>(L), y[i].qs);
  }
}

// Q4_K and Q5_K share everything but the level count and the bit packing.
template <int kNmax>
void quant_k_scale_min(const float* x, uint8_t* scales12, uint16_t* d_out, uint16_t* dmin_out,
                       uint8_t* L) {
  uint8_t Laux[32];
  float weights[32], mins[kQK_K / 32], scales[kQK_K / 32];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < kQK_K / 32; ++j) {
    float sum_x2 = 0.0f;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32.0f);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    if constexpr (kNmax == 15) {
      scales[j] = make_qkx2_quants(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                                   -1.0f, 0.1f, 20, false);
    } else {
      scales[j] = make_qkx2_quants(32, 31, x + 32 * j, weights, L + 32 * j, &mins[j], Laux,
                                   -0.5f, 0.1f, 15, false);
    }
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
  for (int j = 0; j < kQK_K / 32; ++j) {
    // ggml converts nearest_int to uint8_t before taking min(63, .); keep the wrap-around.
    const uint8_t ls = std::min<uint8_t>(63, uint8_t(nearest_int(inv_scale * scales[j])));
    const uint8_t lm = std::min<uint8_t>(63, uint8_t(nearest_int(inv_min * mins[j])));
    if (j < 4) {
      scales12[j] = ls;
      scales12[j + 4] = lm;
    } else {
      scales12[j + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
      scales12[j - 4] = uint8_t(scales12[j - 4] | ((ls >> 4) << 6));
      scales12[j] = uint8_t(scales12[j] | ((lm >> 4) << 6));
    }
  }
  *d_out = f2h(max_scale / 63.0f);
  *dmin_out = f2h(max_min / 63.0f);
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t sc, m;
    scale_min_k4(j, scales12, &sc, &m);
    const float d = h2f(*d_out) * float(sc);
    if (d == 0.0f) continue;
    const float dm = h2f(*dmin_out) * float(m);
    for (int ii = 0; ii < 32; ++ii)
      L[32 * j + ii] = uint8_t(clamp_int(nearest_int((x[32 * j + ii] + dm) / d), 0, kNmax));
  }
}

void quant_q4_k(const float* x, BlockQ4_K* y, int64_t nb) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    quant_k_scale_min<15>(x, y[i].scales, &y[i].d, &y[i].dmin, L);
    uint8_t* q = y[i].qs;
    for (int j = 0; j < kQK_K; j += 64, q += 32)
      for (int l = 0; l < 32; ++l) q[l] = uint8_t(L[j + l] | (L[j + l + 32] << 4));
  }
}

void quant_q5_k(const float* x, BlockQ5_K* y, int64_t nb) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    quant_k_scale_min<31>(x, y[i].scales, &y[i].d, &y[i].dmin, L);
    uint8_t* qh = y[i].qh;
    uint8_t* ql = y[i].qs;
    std::memset(qh, 0, kQK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < kQK_K; n += 64, ql += 32) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n + j], l2 = L[n + j + 32];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] |= m1;
        }
        if (l2 > 15) {
          l2 -= 16;
          qh[j] |= m2;
        }
        ql[j] = uint8_t(l1 | (l2 << 4));
      }
      m1 = uint8_t(m1 << 2);
      m2 = uint8_t(m2 << 2);
    }
  }
}

void quant_q6_k(const float* x, BlockQ6_K* y, int64_t nb) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    float max_scale = 0.0f, max_abs_scale = 0.0f;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
      const float abs_scale = std::fabs(scales[ib]);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scales[ib];
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y[i], 0, sizeof(BlockQ6_K));
      continue;
    }
    const float iscale = -128.0f / max_scale;
    y[i].d = f2h(1.0f / iscale);
    for (int ib = 0; ib < kQK_K / 16; ++ib)
      y[i].scales[ib] = int8_t(std::min(127, nearest_int(iscale * scales[ib])));
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = h2f(y[i].d) * float(y[i].scales[j]);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii)
        L[16 * j + ii] = int8_t(clamp_int(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
    }
    uint8_t* ql = y[i].ql;
    uint8_t* qh = y[i].qh;
    for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
        ql[l] = uint8_t((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[l + 32] = uint8_t((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[l] = uint8_t((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
}

// Q8_K: d = max / -127 ... precisely iscale = -127 / max (max = signed value of largest |x|),
// q = min(127, nearest_int(iscale * x)), d = 1 / iscale (f32). All-zero blocks get d = 0 and
// zero quants; ggml leaves their bsums unwritten, Hearth writes zeros.
void quant_q8_k(const float* x, BlockQ8_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    float max = 0.0f, amax = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) y[i].qs[j] = int8_t(std::min(127, nearest_int(iscale * x[j])));
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += y[i].qs[16 * j + ii];
      y[i].bsums[j] = int16_t(sum);
    }
    y[i].d = 1.0f / iscale;
  }
}

// ggml quantize_row_iq4_nl_impl for one super-block, without importance weights (w = x^2).
// IQ4_NL: super_block 32, one block, ntry -1 (a single pass, scale = least-squares fit).
// IQ4_XS: super_block 256, blocks of 32, ntry 7 (15 candidate scales per block), then 6-bit
// block scales relative to d = -max_scale / 32 and a final requantization.
void iq4_impl(int super_block_size, const float* x, uint16_t* dh, uint8_t* q4,
              uint16_t* scales_h, uint8_t* scales_l, int ntry) {
  constexpr int kBlock = 32;
  const int8_t* values = kIq4nlValues;
  uint8_t L[kQK_K];
  float scales[kQK_K / kBlock];
  float weight[kBlock];

  std::memset(q4, 0, size_t(super_block_size / 2));
  *dh = f2h(0.0f);

  float max_scale = 0.0f, amax_scale = 0.0f;
  const int nblocks = super_block_size / kBlock;
  for (int ib = 0; ib < nblocks; ++ib) {
    const float* xb = x + ib * kBlock;
    uint8_t* Lb = L + ib * kBlock;
    for (int j = 0; j < kBlock; ++j) weight[j] = xb[j] * xb[j];
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kBlock; ++j) {
      const float ax = std::fabs(xb[j]);
      if (ax > amax) {
        amax = ax;
        max = xb[j];
      }
    }
    if (amax < kGroupMaxEps) {
      scales[ib] = 0.0f;
      // ggml leaves these levels unwritten (stale stack memory). Any level gives 0 with
      // d = 0; Hearth writes 8 (the level +1), so the block dequantizes to +0.
      std::memset(Lb, 8, kBlock);
      continue;
    }
    float d = ntry > 0 ? -max / float(values[0]) : max / float(values[0]);
    float id = 1.0f / d;
    float sumqx = 0.0f, sumq2 = 0.0f;
    for (int j = 0; j < kBlock; ++j) {
      const int l = best_index_int8(16, values, id * xb[j]);
      Lb[j] = uint8_t(l);
      const float q = float(values[l]);
      sumqx += weight[j] * q * xb[j];
      sumq2 += weight[j] * q * q;
    }
    d = sumq2 > 0.0f ? sumqx / sumq2 : 0.0f;
    float best = d * sumqx;
    for (int itry = -ntry; itry <= ntry; ++itry) {
      id = float(itry + values[0]) / max;
      sumqx = sumq2 = 0.0f;
      for (int j = 0; j < kBlock; ++j) {
        const float q = float(values[best_index_int8(16, values, id * xb[j])]);
        sumqx += weight[j] * q * xb[j];
        sumq2 += weight[j] * q * q;
      }
      if (sumq2 > 0.0f && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
    scales[ib] = d;
    if (std::fabs(d) > amax_scale) {
      amax_scale = std::fabs(d);
      max_scale = d;
    }
  }

  if (nblocks > 1) {
    *scales_h = 0;
    const float d = -max_scale / 32.0f;
    *dh = f2h(d);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int ib = 0; ib < nblocks; ++ib) {
      int l = clamp_int(nearest_int(id * scales[ib]), -32, 31);
      const float dl = d * float(l);  // the unrounded d, as ggml does
      const float idl = dl != 0.0f ? 1.0f / dl : 0.0f;
      uint8_t* Lb = L + ib * kBlock;
      const float* xb = x + ib * kBlock;
      for (int j = 0; j < kBlock; ++j) Lb[j] = uint8_t(best_index_int8(16, values, idl * xb[j]));
      l += 32;
      const uint8_t l_l = uint8_t(l & 0xF), l_h = uint8_t(l >> 4);
      if (ib % 2 == 0) scales_l[ib / 2] = l_l;
      else scales_l[ib / 2] = uint8_t(scales_l[ib / 2] | (l_l << 4));
      *scales_h = uint16_t(*scales_h | (l_h << (2 * (ib % 8))));
    }
  } else {
    *dh = f2h(scales[0]);
    if (ntry > 0) {
      const float id = scales[0] != 0.0f ? 1.0f / scales[0] : 0.0f;
      for (int j = 0; j < super_block_size; ++j) L[j] = uint8_t(best_index_int8(16, values, id * x[j]));
    }
  }
  for (int i = 0; i < super_block_size / 32; ++i)
    for (int j = 0; j < 16; ++j) q4[16 * i + j] = uint8_t(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

void quant_iq4_nl(const float* x, BlockIq4Nl* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) iq4_impl(kQK, x, &y[i].d, y[i].qs, nullptr, nullptr, -1);
}

void quant_iq4_xs(const float* x, BlockIq4Xs* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK_K)
    iq4_impl(kQK_K, x, &y[i].d, y[i].qs, &y[i].scales_h, y[i].scales_l, 7);
}

// Nearest FP4 level to x at scale e (first of equals wins), as ggml best_index_mxfp4.
int best_index_fp4(float x, float e) {
  int best = 0;
  float best_err = std::fabs(float(kFp4Values[0]) * e - x);
  for (int i = 1; i < 16; ++i) {
    const float err = std::fabs(float(kFp4Values[i]) * e - x);
    if (err < best_err) {
      best = i;
      best_err = err;
    }
  }
  return best;
}

void quant_mxfp4(const float* x, BlockMxfp4* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j)
      if (amax < std::fabs(x[j])) amax = std::fabs(x[j]);
    // Shared exponent floor(log2(amax)) - 2 (largest FP4 level is 6 = 1.5 * 2^2). ggml casts
    // the float to uint8_t; on x86 that wraps negative exponents (amax < 2^-125) mod 256.
    const uint8_t e = amax > 0.0f ? to_u8(std::floor(std::log2(amax)) - 2.0f + 127.0f) : 0;
    const float d = e8m0_to_f32_half(e);
    y[i].e = e;
    for (int j = 0; j < kQK / 2; ++j)
      y[i].qs[j] = uint8_t(best_index_fp4(x[j], d) | (best_index_fp4(x[j + kQK / 2], d) << 4));
  }
}

void quant_nvfp4(const float* x, BlockNvfp4* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    for (int s = 0; s < kQKNvfp4 / kQKNvfp4Sub; ++s, x += kQKNvfp4Sub) {
      float amax = 0.0f;
      for (int j = 0; j < kQKNvfp4Sub; ++j)
        if (amax < std::fabs(x[j])) amax = std::fabs(x[j]);
      const uint8_t ue = f32_to_ue4m3(amax / 6.0f);  // largest FP4 level (6) maps to amax
      y[i].d[s] = ue;
      const float d = ue4m3_to_f32_half(ue);
      uint8_t* qs = y[i].qs + s * (kQKNvfp4Sub / 2);
      for (int j = 0; j < kQKNvfp4Sub / 2; ++j)
        qs[j] = uint8_t(best_index_fp4(x[j], d) | (best_index_fp4(x[j + kQKNvfp4Sub / 2], d) << 4));
    }
  }
}

void check_length(const char* what, DType t, int64_t n) {
  const DTypeInfo& info = dtype_info(t);
  if (n < 0 || n % info.block_size != 0)
    fail(what, " ", info.name, ": row length ", n, " is not a multiple of the block size ",
         info.block_size);
}

}  // namespace

bool can_dequantize(DType t) {
  switch (t) {
    case DType::F32: case DType::F16: case DType::BF16:
    case DType::Q4_0: case DType::Q4_1: case DType::Q5_0: case DType::Q5_1:
    case DType::Q8_0: case DType::Q8_1:
    case DType::Q2_K: case DType::Q3_K: case DType::Q4_K: case DType::Q5_K: case DType::Q6_K:
    case DType::Q8_K: case DType::IQ4_NL: case DType::IQ4_XS: case DType::MXFP4:
    case DType::NVFP4:
      return true;
    default:
      return false;
  }
}

bool can_quantize(DType t) { return can_dequantize(t); }

void dequantize_row(DType t, const void* x, float* y, int64_t n) {
  if (!can_dequantize(t)) fail("cannot dequantize type ", dtype_name(t));
  check_length("dequantize", t, n);
  const int64_t nb = n / dtype_info(t).block_size;
  switch (t) {
    case DType::F32: std::memcpy(y, x, size_t(n) * sizeof(float)); return;
    case DType::F16: {
      // ggml (software path and F16C alike) returns signaling NaNs quieted; fp16.h keeps
      // the payload as is, so set the quiet bit here to stay bit-exact.
      const auto* h = static_cast<const uint16_t*>(x);
      for (int64_t i = 0; i < n; ++i) {
        y[i] = f16_to_f32(h[i]);
        if (std::isnan(y[i])) y[i] = bits_to_f32(f32_to_bits(y[i]) | 0x00400000u);
      }
      return;
    }
    case DType::BF16: {
      const auto* h = static_cast<const uint16_t*>(x);
      for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_f32(h[i]);
      return;
    }
    case DType::Q4_0: return dequant_q4_0(static_cast<const BlockQ4_0*>(x), y, nb);
    case DType::Q4_1: return dequant_q4_1(static_cast<const BlockQ4_1*>(x), y, nb);
    case DType::Q5_0: return dequant_q5_0(static_cast<const BlockQ5_0*>(x), y, nb);
    case DType::Q5_1: return dequant_q5_1(static_cast<const BlockQ5_1*>(x), y, nb);
    case DType::Q8_0: return dequant_q8_0(static_cast<const BlockQ8_0*>(x), y, nb);
    case DType::Q8_1: return dequant_q8_1(static_cast<const BlockQ8_1*>(x), y, nb);
    case DType::Q2_K: return dequant_q2_k(static_cast<const BlockQ2_K*>(x), y, nb);
    case DType::Q3_K: return dequant_q3_k(static_cast<const BlockQ3_K*>(x), y, nb);
    case DType::Q4_K: return dequant_q4_k(static_cast<const BlockQ4_K*>(x), y, nb);
    case DType::Q5_K: return dequant_q5_k(static_cast<const BlockQ5_K*>(x), y, nb);
    case DType::Q6_K: return dequant_q6_k(static_cast<const BlockQ6_K*>(x), y, nb);
    case DType::Q8_K: return dequant_q8_k(static_cast<const BlockQ8_K*>(x), y, nb);
    case DType::IQ4_NL: return dequant_iq4_nl(static_cast<const BlockIq4Nl*>(x), y, nb);
    case DType::IQ4_XS: return dequant_iq4_xs(static_cast<const BlockIq4Xs*>(x), y, nb);
    case DType::MXFP4: return dequant_mxfp4(static_cast<const BlockMxfp4*>(x), y, nb);
    case DType::NVFP4: return dequant_nvfp4(static_cast<const BlockNvfp4*>(x), y, nb);
    default: fail("cannot dequantize type ", dtype_name(t));
  }
}

void quantize_row(DType t, const float* x, void* y, int64_t n) {
  if (!can_quantize(t)) fail("cannot quantize type ", dtype_name(t));
  check_length("quantize", t, n);
  const int64_t nb = n / dtype_info(t).block_size;
  switch (t) {
    case DType::F32: std::memcpy(y, x, size_t(n) * sizeof(float)); return;
    case DType::F16: {
      auto* h = static_cast<uint16_t*>(y);
      for (int64_t i = 0; i < n; ++i) h[i] = f32_to_f16(x[i]);
      return;
    }
    case DType::BF16: {
      auto* h = static_cast<uint16_t*>(y);
      for (int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(x[i]);
      return;
    }
    case DType::Q4_0: return quant_q4_0(x, static_cast<BlockQ4_0*>(y), nb);
    case DType::Q4_1: return quant_q4_1(x, static_cast<BlockQ4_1*>(y), nb);
    case DType::Q5_0: return quant_q5_0(x, static_cast<BlockQ5_0*>(y), nb);
    case DType::Q5_1: return quant_q5_1(x, static_cast<BlockQ5_1*>(y), nb);
    case DType::Q8_0: return quant_q8_0(x, static_cast<BlockQ8_0*>(y), nb);
    case DType::Q8_1: return quant_q8_1(x, static_cast<BlockQ8_1*>(y), nb);
    case DType::Q2_K: return quant_q2_k(x, static_cast<BlockQ2_K*>(y), nb);
    case DType::Q3_K: return quant_q3_k(x, static_cast<BlockQ3_K*>(y), nb);
    case DType::Q4_K: return quant_q4_k(x, static_cast<BlockQ4_K*>(y), nb);
    case DType::Q5_K: return quant_q5_k(x, static_cast<BlockQ5_K*>(y), nb);
    case DType::Q6_K: return quant_q6_k(x, static_cast<BlockQ6_K*>(y), nb);
    case DType::Q8_K: return quant_q8_k(x, static_cast<BlockQ8_K*>(y), nb);
    case DType::IQ4_NL: return quant_iq4_nl(x, static_cast<BlockIq4Nl*>(y), nb);
    case DType::IQ4_XS: return quant_iq4_xs(x, static_cast<BlockIq4Xs*>(y), nb);
    case DType::MXFP4: return quant_mxfp4(x, static_cast<BlockMxfp4*>(y), nb);
    case DType::NVFP4: return quant_nvfp4(x, static_cast<BlockNvfp4*>(y), nb);
    default: fail("cannot quantize type ", dtype_name(t));
  }
}

}  // namespace hearth::quant
