// The scalar reference quant kernels: activation quantizers within their format's error bound,
// vec_dot equal to the dot of the dequantized rows up to float rounding, vec_dot(w, act(x))
// close to dequant(w) . x within a bound derived from the activation error, gemm == vec_dot loop.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/quant.h"
#include "quant/quant_test_util.h"

namespace hearth::kernels {
namespace {

using quant::testing::test_row;
using quant::testing::weight_types;

const DType kActTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q8_1, DType::Q8_K};

std::vector<float> dequant(DType t, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  quant::dequantize_row(t, q.data(), y.data(), n);
  return y;
}

std::vector<uint8_t> act(DType a, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_bytes(a, int64_t(x.size())));
  reference_table().quantize_act[int(a)](x.data(), q.data(), int64_t(x.size()));
  return q;
}

// Per-element bound on |x_i - dequant(act(x))_i| for activation type a, given the |max| of
// x_i's activation block. Q8_0 / Q8_1 (llama.cpp x86): q = rne(x * 127/amax) errs by half a
// step of amax/127 (plus 2^-22 relative for 127/amax vs 1/d), and the stored scale is
// fp16(amax/127): |q| <= 127 times its rounding (2^-11 relative, 2^-25 absolute if subnormal).
// Q8_K: f32 scale 1/(-127/max): half a step, plus f32 rounding of d and d*q. Halves: half an ulp.
double act_error_bound(DType a, double x, double amax) {
  const double d = amax / 127;
  switch (a) {
    case DType::F32: return 0.0;
    case DType::F16: return std::max(std::fabs(x) * std::ldexp(1.0, -11), std::ldexp(1.0, -25));
    case DType::BF16: return std::max(std::fabs(x) * std::ldexp(1.0, -8), std::ldexp(1.0, -134));
    case DType::Q8_0:
    case DType::Q8_1:
      return 0.5 * d * (1 + std::ldexp(1.0, -20)) +
             127 * (d * std::ldexp(1.0, -22) + std::max(d * std::ldexp(1.0, -11), std::ldexp(1.0, -25)));
    case DType::Q8_K: return 0.5 * d + amax * std::ldexp(1.0, -21);
    default: return 1e300;
  }
}

int64_t act_block(DType a) { return a == DType::Q8_K ? 256 : 32; }  // F*: use 32-blocks for amax

std::vector<double> act_bounds(DType a, const std::vector<float>& x) {
  const int64_t bs = act_block(a);
  std::vector<double> e(x.size());
  for (size_t b = 0; b < x.size() / bs; ++b) {
    double amax = 0;
    for (size_t i = b * bs; i < (b + 1) * bs; ++i) amax = std::max(amax, std::fabs(double(x[i])));
    for (size_t i = b * bs; i < (b + 1) * bs; ++i) e[i] = act_error_bound(a, x[i], amax);
  }
  return e;
}

TEST(ReferenceQuantKernels, TableIsComplete) {
  const KernelTable& t = reference_table();
  for (DType a : kActTypes) EXPECT_NE(t.quantize_act[int(a)], nullptr) << dtype_name(a);
  for (DType w : weight_types()) {
    EXPECT_NE(t.vec_dot[int(w)], nullptr) << dtype_name(w);
    EXPECT_NE(t.gemm[int(w)], nullptr) << dtype_name(w);
    EXPECT_NE(t.quantize_act[int(act_type(w))], nullptr) << dtype_name(w);
  }
}

TEST(ReferenceQuantKernels, ActivationQuantizersWithinTheirErrorBound) {
  std::mt19937 rng(8);
  const int64_t n = 2816;
  for (DType a : kActTypes) {
    for (int kind = 0; kind < 3; ++kind) {
      const auto x = test_row(kind, n, rng, 1e3f);
      const auto q = act(a, x);
      const auto y = dequant(a, q, n);
      const auto e = act_bounds(a, x);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_LE(std::fabs(double(x[i]) - double(y[i])), e[i] * (1 + 1e-9))
            << dtype_name(a) << " kind " << kind << " i " << i << " x " << x[i];
      if (a == DType::Q8_1) {  // s = d * sum(q), rounded to fp16 (relative 2^-10 with d's rounding)
        const auto* b = reinterpret_cast<const quant::BlockQ8_1*>(q.data());
        for (int64_t k = 0; k < n / 32; ++k) {
          double sum = 0;
          for (int j = 0; j < 32; ++j) sum += b[k].qs[j];
          const double ds = double(f16_to_f32(b[k].d)) * sum;
          ASSERT_LE(std::fabs(double(f16_to_f32(b[k].s)) - ds),
                    std::fabs(ds) * std::ldexp(1.0, -10) + std::ldexp(1.0, -24) * (1 + std::fabs(sum)))
              << "block " << k;
        }
      }
      if (a == DType::Q8_K) {  // bsums are the 16-element sums of qs
        const auto* b = reinterpret_cast<const quant::BlockQ8_K*>(q.data());
        for (int64_t k = 0; k < n / 256; ++k)
          for (int g = 0; g < 16; ++g) {
            int sum = 0;
            for (int j = 0; j < 16; ++j) sum += b[k].qs[16 * g + j];
            ASSERT_EQ(b[k].bsums[g], sum);
          }
      }
    }
  }
}

// |value at level 0| bound of a weight block (its subtracted minimum), 0 for symmetric types.
double block_offset(DType t, const uint8_t* blk) {
  auto h = [&](size_t off) {
    uint16_t v;
    std::memcpy(&v, blk + off, 2);
    return std::fabs(double(f16_to_f32(v)));
  };
  switch (t) {
    case DType::Q4_1: return h(offsetof(quant::BlockQ4_1, m));
    case DType::Q5_1: return h(offsetof(quant::BlockQ5_1, m));
    case DType::Q2_K: return 15 * h(offsetof(quant::BlockQ2_K, dmin));
    case DType::Q4_K: return 63 * h(offsetof(quant::BlockQ4_K, dmin));
    case DType::Q5_K: return 63 * h(offsetof(quant::BlockQ5_K, dmin));
    default: return 0.0;
  }
}

// For a weight row w (reference-quantized test data) and activations x:
//  1. vec_dot(w, act(x)) equals the exact dot of what the two rows encode, sum w^_i a^_i in
//     double (for Q4_1 / Q5_1 the minimum meets the activation's stored s = fp16(d sum q) instead
//     of sum a^_i, as the format defines), up to float rounding: R = (nb + 8) 2^-22 M, with
//     M = sum (|w^_i| + 2 off_b) |a^_i| (+ |m_b s_b|): each block term is a few float roundings of
//     products <= M_b, and the running sum adds one rounding <= 2^-24 M per block.
//  2. vec_dot(w, act(x)) is within B = sum (|w^_i| + off_b) E_i (+ Q8_1 min terms) + R of
//     sum w^_i x_i, E_i the activation error bound: the weights multiply every activation error,
//     and |d_w q_w| <= |w^| + off.
TEST(ReferenceQuantKernels, VecDotIsTheDotOfTheEncodedRows) {
  const KernelTable& t = reference_table();
  std::mt19937 rng(17);
  const int64_t n = 2816;
  for (DType w : weight_types()) {
    SCOPED_TRACE(dtype_name(w));
    const DType a = act_type(w);
    const DTypeInfo& wi = dtype_info(w);
    const int64_t nb = n / wi.block_size;
    const bool q8_1 = a == DType::Q8_1;
    for (int trial = 0; trial < 9; ++trial) {
      const auto xw = test_row(trial % 2, n, rng);
      std::vector<uint8_t> wq(row_bytes(w, n));
      quant::quantize_row(w, xw.data(), wq.data(), n);
      auto x = test_row(trial % 3, n, rng, 1e3f);
      if (w == DType::F16 || w == DType::BF16)  // keep activations inside the f16 range
        for (float& v : x) v = std::max(-6e4f, std::min(6e4f, v));
      const auto aq = act(a, x);
      const auto wd = dequant(w, wq, n);
      const auto ad = dequant(a, aq, n);
      const auto e = act_bounds(a, x);

      double encoded = 0, m = 0, b_act = 0, exact_x = 0;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = wq.data() + b * wi.type_size;
        const double off = block_offset(w, blk);
        double minimum = 0;  // Q4_1 / Q5_1: the block's m, met by the activation's s
        if (q8_1) {
          uint16_t mh;
          std::memcpy(&mh, blk + (w == DType::Q4_1 ? offsetof(quant::BlockQ4_1, m) : offsetof(quant::BlockQ5_1, m)), 2);
          minimum = f16_to_f32(mh);
        }
        double s = 0, sum_e = 0, dq = 0;
        for (int64_t i = b * wi.block_size; i < (b + 1) * wi.block_size; ++i) {
          encoded += (double(wd[i]) - minimum) * double(ad[i]);
          m += (std::fabs(double(wd[i])) + 2 * off) * std::fabs(double(ad[i]));
          b_act += (std::fabs(double(wd[i])) + off) * e[i];
          exact_x += double(wd[i]) * double(x[i]);
          sum_e += e[i];
        }
        if (q8_1) {  // one Q8_1 block per weight block (both 32)
          const auto& ab = reinterpret_cast<const quant::BlockQ8_1*>(aq.data())[b];
          s = f16_to_f32(ab.s);
          dq = f16_to_f32(ab.d);
          encoded += minimum * s;
          m += std::fabs(minimum * s);
          // |m| (|sum x - d sum q| + fp16 rounding of s): d sum q vs sum a^ differ by d's rounding
          b_act += std::fabs(minimum) * (sum_e + std::fabs(s) * std::ldexp(1.0, -10) +
                                          32 * 127 * std::max(dq * std::ldexp(1.0, -11), std::ldexp(1.0, -25)));
        }
      }
      const float got = t.vec_dot[int(w)](n, wq.data(), aq.data());
      const double r = double(nb + 8) * std::ldexp(1.0, -22) * m;
      EXPECT_LE(std::fabs(double(got) - encoded), r)
          << "trial " << trial << ": vec_dot " << got << " encoded " << encoded;
      EXPECT_LE(std::fabs(double(got) - exact_x), b_act + r)
          << "trial " << trial << ": vec_dot " << got << " dequant(w).x " << exact_x;
    }
  }
}

// llama.cpp's tests/test-quantize-fns.cpp dot-product gate: x1 = 0.1 + 2 cos(i), x2 = 0.1 +
// 2 cos(i + 1), |vec_dot(quant(x1), act(x2)) - x1.x2| / n below 0.02 (Q2_K 0.04, NVFP4 0.03).
TEST(ReferenceQuantKernels, MeetsLlamaCppDotProductThresholds) {
  const KernelTable& t = reference_table();
  const int64_t n = 4096;
  std::vector<float> x1(static_cast<size_t>(n)), x2(static_cast<size_t>(n));
  double exact = 0;
  for (int64_t i = 0; i < n; ++i) {
    x1[i] = 0.1f + 2.0f * std::cos(float(i));
    x2[i] = 0.1f + 2.0f * std::cos(float(i) + 1.0f);
    exact += double(x1[i]) * double(x2[i]);
  }
  for (DType w : weight_types()) {
    std::vector<uint8_t> wq(row_bytes(w, n));
    quant::quantize_row(w, x1.data(), wq.data(), n);
    const auto aq = act(act_type(w), x2);
    const double err = std::fabs(double(t.vec_dot[int(w)](n, wq.data(), aq.data())) - exact) / double(n);
    const double limit = w == DType::Q2_K ? 0.04 : w == DType::NVFP4 ? 0.03 : 0.02;
    EXPECT_LT(err, limit) << dtype_name(w);
  }
}

// gemm writes y[m * ldy + r] = vec_dot(W row r, A row m) for r in [r0, r1), nothing else, with
// padded row strides.
TEST(ReferenceQuantKernels, GemmIsTheVecDotLoop) {
  const KernelTable& t = reference_table();
  std::mt19937 rng(23);
  const int64_t n = 512, rows = 6, m_rows = 3, ldy = 9, r0 = 1, r1 = 5;
  for (DType w : weight_types()) {
    SCOPED_TRACE(dtype_name(w));
    const DType a = act_type(w);
    const size_t w_stride = row_bytes(w, n) + 8, a_stride = row_bytes(a, n) + 4;
    std::vector<uint8_t> W(w_stride * rows), A(a_stride * m_rows);
    for (int64_t r = 0; r < rows; ++r) {
      const auto x = test_row(0, n, rng);
      quant::quantize_row(w, x.data(), W.data() + r * w_stride, n);
    }
    for (int64_t m = 0; m < m_rows; ++m) {
      const auto x = test_row(1, n, rng);
      t.quantize_act[int(a)](x.data(), A.data() + m * a_stride, n);
    }
    std::vector<float> y(size_t(m_rows * ldy), -12345.0f);
    t.gemm[int(w)](n, W.data(), w_stride, r0, r1, A.data(), a_stride, m_rows, y.data(), ldy);
    for (int64_t m = 0; m < m_rows; ++m) {
      for (int64_t r = 0; r < ldy; ++r) {
        const float got = y[size_t(m * ldy + r)];
        if (r < r0 || r >= r1) {
          EXPECT_EQ(got, -12345.0f) << m << "," << r;
          continue;
        }
        const float want = t.vec_dot[int(w)](n, W.data() + r * w_stride, A.data() + m * a_stride);
        EXPECT_EQ(f32_to_bits(got), f32_to_bits(want)) << m << "," << r;
      }
    }
  }
}

}  // namespace
}  // namespace hearth::kernels
