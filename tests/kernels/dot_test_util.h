// Helpers shared by the kernel tests of every ISA: the reference-side bounds of quantized dot
// products (how far an implementation that adds the same exact integer terms in another float
// order may be from the reference) and small conversions. Test code only.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/fp16.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/quant.h"

namespace hearth::kernels::testing {

// ---- Q8_0 / Q8_1-activation family ----

inline constexpr DType kQ8_0FamilyTypes[] = {DType::Q8_0,  DType::Q4_0,  DType::Q5_0,
                                             DType::IQ4_NL, DType::MXFP4, DType::NVFP4,
                                             DType::Q4_1,  DType::Q5_1};

inline bool has_min(DType t) { return t == DType::Q4_1 || t == DType::Q5_1; }
inline int64_t block_elems(DType t) { return t == DType::NVFP4 ? 64 : 32; }
// Scale groups per 32 elements (NVFP4 has one scale per 16).
inline int groups(DType t) { return t == DType::NVFP4 ? 2 : 1; }

inline std::vector<float> dequant(DType t, const uint8_t* x, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  quant::dequantize_row(t, x, y.data(), n);
  return y;
}

// Upper bound on the sum of the magnitudes of the terms the reference adds for one dot product:
// every term is d_w * d_y * sum_j(level_j * q_j) (+ m * s), and |d_w * level_j| = |w_j| (the
// dequantized weight, exact in f32 for these formats), so sum_j |w_j| * |a_j| bounds the
// products; for Q4_1 / Q5_1, w_j = d * level_j + m so |d * level_j| <= |w_j| + |m| and the
// m * s terms are added explicitly. wf / af: the dequantized rows of w / a.
inline double abs_terms(DType t, DType at, const uint8_t* w, const float* wf, const uint8_t* a,
                        const float* af, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::fabs(double(wf[i])) * std::fabs(double(af[i]));
  if (has_min(t)) {
    const size_t wb = dtype_info(t).type_size, ab = dtype_info(at).type_size;
    for (int64_t b = 0; b < n / 32; ++b) {
      uint16_t mh, sh;
      std::memcpy(&mh, w + b * wb + 2, 2);  // BlockQ4_1::m / BlockQ5_1::m follow d
      std::memcpy(&sh, a + b * ab + 2, 2);  // BlockQ8_1::s follows d
      const double m = std::fabs(double(f16_to_f32(mh)));
      double asum = 0;
      for (int j = 0; j < 32; ++j) asum += std::fabs(double(af[b * 32 + j]));
      sum += m * (asum + std::fabs(double(f16_to_f32(sh))));
    }
  }
  return sum;
}

// The bound on |kernel - reference|: both add the same terms in f32 in different orders. With
// k = n/32 * groups terms (each a product of two roundings) plus up to 8 lane partial sums and
// a 3-level horizontal reduction, each result is within (k + 16) * 2^-24 * sum|terms| of the
// exact value (first-order gamma bound); twice that for the difference of two such results.
inline double dot_bound(DType t, int64_t n, double terms) {
  const double k = double(n / 32 * groups(t)) + (has_min(t) ? double(n / 32) : 0.0);
  return 2.0 * (k + 16.0) * std::ldexp(1.0, -24) * terms * 1.0000001;
}

// ---- Q8_K-activation family ----

// Offset of the fp16 super-scale d in a block of the types whose value has a separate
// d * (scale) * q and dmin * min part (so a copy with d = 0 dequantizes to the min part alone).
inline int d_offset_with_mins(DType t) {
  switch (t) {
    case DType::Q2_K: return int(offsetof(quant::BlockQ2_K, d));
    case DType::Q4_K: return int(offsetof(quant::BlockQ4_K, d));
    case DType::Q5_K: return int(offsetof(quant::BlockQ5_K, d));
    default: return -1;
  }
}

// Magnitude T of one dot product: sum_k |W_k A_k| + sum_k |M_k A_k| over the dequantized weight
// W, activation A and (types with mins) the min part M. Every float operation of either
// implementation rounds a partial sum of magnitude <= T, so their results differ by at most
// (ops per super-block * blocks + final sums) * 2^-24 * T each; see tolerance().
inline double magnitude(DType t, const uint8_t* w, const uint8_t* a, int64_t n) {
  const size_t un = static_cast<size_t>(n);
  std::vector<float> wf(un), af(un), mf(un, 0.0f);
  quant::dequantize_row(t, w, wf.data(), n);
  quant::dequantize_row(act_type(t), a, af.data(), n);
  const int doff = d_offset_with_mins(t);
  if (doff >= 0) {
    const size_t rb = row_bytes(t, n), bs = dtype_info(t).type_size;
    std::vector<uint8_t> w0(w, w + rb);
    for (size_t b = 0; b < rb; b += bs) std::memset(w0.data() + b + size_t(doff), 0, 2);
    quant::dequantize_row(t, w0.data(), mf.data(), n);
  }
  double s = 0.0;
  for (int64_t k = 0; k < n; ++k)
    s += (std::fabs(double(wf[size_t(k)])) + std::fabs(double(mf[size_t(k)]))) * std::fabs(double(af[size_t(k)]));
  return s;
}

}  // namespace hearth::kernels::testing
