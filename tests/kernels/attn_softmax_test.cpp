// attn_softmax of every kernel table against the scalar reference (libm expf, double sum).
// SIMD versions use a polynomial exp within ~2 ulp of expf and flush results below ~3e-38 to 0,
// so before the final f16 rounding each probability is within a few f32 ulp of the reference's;
// after it, the two are equal or one f16 step apart (the rounding can fall on either side of a
// tie point). Bound per element: 2^-10 relative (one f16 ulp of a normal) or 2^-24 absolute (f16
// subnormals). Rows: lengths around the 8/16-lane tails, with and without a sink, spreads that
// make some exps underflow, and the probabilities must still sum to 1 within the f16 roundings.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/kernels.h"

namespace hearth::kernels {
namespace {

TEST(AttnSoftmax, EveryTableMatchesReference) {
  std::mt19937 rng(7);
  int checked = 0;
  for (const KernelTable* t : available_tables()) {
    ASSERT_NE(t->attn_softmax, nullptr) << t->name;
    for (int64_t n : {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257, 600}) {
      for (float spread : {0.5f, 4.0f, 40.0f, 400.0f}) {
        for (bool with_sink : {false, true}) {
          std::normal_distribution<float> nd(0.0f, spread);
          std::vector<float> x(static_cast<size_t>(n));
          for (float& v : x) v = nd(rng);
          const float scale = 0.08838834764f;  // 1/sqrt(128)
          const float sink = with_sink ? nd(rng) * scale : -INFINITY;
          std::vector<float> want = x, got = x;
          reference_table().attn_softmax(want.data(), n, scale, sink);
          t->attn_softmax(got.data(), n, scale, sink);
          double total = 0;
          for (int64_t j = 0; j < n; ++j) {
            const double w = want[size_t(j)], g = got[size_t(j)];
            EXPECT_EQ(double(f16_to_f32(f32_to_f16(float(g)))), g) << t->name << " n=" << n;
            EXPECT_LE(std::fabs(g - w), std::max(std::ldexp(std::fabs(w), -10), std::ldexp(1.0, -24)))
                << t->name << " n=" << n << " spread=" << spread << " j=" << j;
            total += g;
          }
          if (!with_sink) {  // each of n roundings moves the sum by at most 2^-11 of its term (+ subnormals)
            EXPECT_NEAR(total, 1.0, std::ldexp(1.0, -11) + double(n) * std::ldexp(1.0, -25)) << t->name;
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace hearth::kernels
