// The AVX-512 Q8_0-activation family's own code paths (src/kernels/x86/avx512/quant_q8_0_family.cpp)
// against the scalar reference, for every table this CPU has (so also AVX2 and the reference on
// the same shapes): 32-row weight panels with 8 / 16 / 24-row tails and sub-ranges starting
// inside a panel, k-panels of 32 chunks with a tail, the 512-row activation panel boundary, every
// micro-tile height (1..4) as the m tail, activation bytes of -128, and the small-m threshold of
// each path (GGUF layout: 2, repacked: 9) and the repacked decode kernel (m <= 8: two groups per
// zmm, an odd group left to AVX2, 256-chunk k-panels). Same error bound as avx2_q8_0_family_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/quant.h"
#include "quant/quant_test_util.h"
#include "kernels/dot_test_util.h"

namespace hearth::kernels {
namespace {

using quant::testing::random_blocks;
using quant::testing::test_row;
using testing::abs_terms;
using testing::block_elems;
using testing::dequant;
using testing::dot_bound;
using testing::groups;
using testing::has_min;
constexpr const auto& kWeightTypes = testing::kQ8_0FamilyTypes;


std::vector<uint8_t> random_weights(DType t, int64_t rows, int64_t n, std::mt19937& rng) {
  return random_blocks(t, rows * n / block_elems(t), rng, /*finite=*/true);
}

// Activation rows quantized with the reference; with `minus128`, every 5th row gets int8 -128
// quants in some blocks (the quantizer emits them only for all-subnormal blocks, whose scale is
// 0). Only for the weight types without a sign trick: AVX2's Q8_0 / IQ4_NL kernels
// (maddubs(|w|, sign(y, w))) are exact only for y in [-127, 127], as documented there.
std::vector<uint8_t> random_acts(DType at, int64_t m, int64_t n, std::mt19937& rng, bool minus128) {
  const size_t rb = row_bytes(at, n);
  std::vector<uint8_t> q(size_t(m) * rb);
  const int64_t n256 = (n + 255) / 256 * 256;
  const size_t bs = dtype_info(at).type_size, qs = at == DType::Q8_1 ? 4 : 2;
  for (int64_t i = 0; i < m; ++i) {
    const std::vector<float> x = test_row(int(i % 3), n256, rng, 1e3f);
    uint8_t* row = q.data() + size_t(i) * rb;
    reference_table().quantize_act[int(at)](x.data(), row, n);
    if (minus128 && i % 5 == 4)
      for (int64_t b = 0; b < n / 32; b += 2)
        for (int j = 0; j < 32; j += 3) row[b * bs + qs + j] = 0x80;
  }
  return q;
}




struct Shape {
  int64_t n, rows, r0, r1, m;
};

// gemm (or gemm_repacked on the table's repacked copy) over [r0, r1) x [0, m) against the
// reference vec_dot; rows outside the range must stay untouched.
void check(const KernelTable* t, DType wt, Shape s, bool repacked, std::mt19937& rng) {
  const DType at = act_type(wt);
  s.n = (s.n + block_elems(wt) - 1) / block_elems(wt) * block_elems(wt);
  const size_t wrb = row_bytes(wt, s.n), arb = row_bytes(at, s.n);
  const auto w = random_weights(wt, s.rows, s.n, rng);
  const bool signed_w = wt == DType::Q8_0 || wt == DType::IQ4_NL;
  const auto a = random_acts(at, s.m, s.n, rng, /*minus128=*/!signed_w);
  std::vector<uint8_t> src = w;
  if (repacked) t->repack[int(wt)](w.data(), src.data(), s.rows, s.n);
  const int64_t ldy = s.rows + 3;
  const float kSentinel = -4321.25f;
  std::vector<float> y(size_t(s.m * ldy), kSentinel);
  const auto gemm = repacked ? t->gemm_repacked[int(wt)] : t->gemm[int(wt)];
  gemm(s.n, src.data(), wrb, s.r0, s.r1, a.data(), arb, s.m, y.data(), ldy);
  const auto wf = dequant(wt, w.data(), s.rows * s.n), af = dequant(at, a.data(), s.m * s.n);
  for (int64_t m = 0; m < s.m; ++m) {
    for (int64_t r = 0; r < ldy; ++r) {
      const float got = y[size_t(m * ldy + r)];
      if (r < s.r0 || r >= s.r1) {
        ASSERT_EQ(got, kSentinel) << t->name << " " << dtype_name(wt) << " wrote row " << r;
        continue;
      }
      const uint8_t* wr = w.data() + size_t(r) * wrb;
      const uint8_t* am = a.data() + size_t(m) * arb;
      const float want = reference_table().vec_dot[int(wt)](s.n, wr, am);
      const double bound = dot_bound(
          wt, s.n, abs_terms(wt, at, wr, wf.data() + r * s.n, am, af.data() + m * s.n, s.n));
      ASSERT_LE(std::fabs(double(got) - double(want)), bound)
          << t->name << (repacked ? " repacked " : " ") << dtype_name(wt) << " n=" << s.n
          << " rows [" << s.r0 << "," << s.r1 << ") m_rows=" << s.m << " at m=" << m
          << " r=" << r << " want " << want;
    }
  }
}

TEST(Avx512Q8_0Family, GemmPanelsTailsMatchReference) {
  std::mt19937 rng(512);
  const Shape shapes[] = {
      {1056, 72, 8, 72, 13},  // two full 32-row panels from an offset; 33 chunks (32 + 1)
      {544, 56, 0, 56, 7},    // 32 + 24-row tail; m = 4 + 3
      {96, 48, 8, 24, 10},    // a 16-row range; m = 4 + 4 + 2
      {64, 40, 0, 37, 5},     // 32 + 5 rows (ragged GGUF range); m = 4 + 1
      {64, 8, 0, 8, 2},       // the smallest m of the panel path
      {64, 24, 16, 24, 3},    // an 8-row range
      {96, 64, 0, 48, 6},     // 32 + a full 16-row half (pack16) in the second panel
      {96, 64, 8, 64, 6},     // 32 + 24 from an offset (pack16 + one 8-row group)
  };
  for (const KernelTable* t : available_tables())
    for (DType wt : kWeightTypes)
      for (const Shape& s : shapes) check(t, wt, s, false, rng);
}

TEST(Avx512Q8_0Family, GemmActivationPanelBoundaryMatchesReference) {
  std::mt19937 rng(513);
  for (const KernelTable* t : available_tables())
    for (DType wt : {DType::Q8_0, DType::Q4_0, DType::MXFP4, DType::NVFP4, DType::Q4_1}) {
      check(t, wt, {64, 16, 0, 16, 519}, false, rng);  // 512 + 7 activation rows
      if (t->repack[int(wt)]) check(t, wt, {64, 16, 0, 16, 519}, true, rng);
    }
}

TEST(Avx512Q8_0Family, RepackedPanelsTailsMatchReference) {
  std::mt19937 rng(514);
  int checked = 0;
  for (const KernelTable* t : available_tables())
    for (DType wt : kWeightTypes) {
      if (!t->repack[int(wt)] || t->repack_rows[int(wt)] != 8) continue;
      const Shape shapes[] = {
          {544, 72, 8, 72, 13},  // two full panels from an offset
          {544, 56, 0, 56, 9},   // 32 + 24-row tail; the smallest m of the repacked panel path
          {96, 48, 8, 24, 11},   // a 16-row range
          {64, 40, 32, 40, 5},   // an 8-row range; m below the threshold (AVX2 entry)
          {1120, 40, 0, 40, 10}, // 35 chunks: 32 + 3
      };
      for (const Shape& s : shapes) check(t, wt, s, true, rng);
      // small m (decode): pairs of 8-row groups side by side, an odd last group, k-panels of
      // 256 chunks with a tail (8256 = 258 chunks)
      for (int64_t m = 1; m <= 8; ++m) check(t, wt, {256, 48, 0, 48, m}, true, rng);
      for (int64_t m : {1, 3, 8}) check(t, wt, {8256, 32, 8, 32, m}, true, rng);
      ++checked;
    }
  if (checked == 0) GTEST_SKIP() << "no table with the 8-row repacked layout";
}

}  // namespace
}  // namespace hearth::kernels
