// Every kernel table (kernels::available_tables(): reference, avx2 where the CPU has it) against
// the scalar reference for the Q8_0-activation family: Q8_0 / Q8_1 activation quantizers
// bit-exact, vec_dot and gemm (direct and packed paths, tails, sub-ranges) within a stated
// float-summation bound. Also checks that HEARTH_ISA=scalar makes active_table() the reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

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


std::string table_label(const KernelTable* t) { return t->name; }

// Random weight matrix [rows, n] of type t (finite scales).
std::vector<uint8_t> random_weights(DType t, int64_t rows, int64_t n, std::mt19937& rng) {
  return random_blocks(t, rows * n / block_elems(t), rng, /*finite=*/true);
}

// Activation rows [m, n] quantized with the reference quantizer from test rows of all kinds
// (magnitudes up to 1e3 so that products stay finite).
std::vector<uint8_t> random_acts(DType at, int64_t m, int64_t n, std::mt19937& rng) {
  const size_t rb = row_bytes(at, n);
  std::vector<uint8_t> q(size_t(m) * rb);
  const int64_t n256 = (n + 255) / 256 * 256;
  for (int64_t i = 0; i < m; ++i) {
    const std::vector<float> x = test_row(int(i % 3), n256, rng, 1e3f);
    reference_table().quantize_act[int(at)](x.data(), q.data() + size_t(i) * rb, n);
  }
  return q;
}




TEST(Avx2Q8_0Family, AvailableTablesIncludeReferenceFirst) {
  const auto all = available_tables();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), &reference_table());
  for (const KernelTable* t : all)
    for (DType w : kWeightTypes) {
      EXPECT_NE(t->gemm[int(w)], nullptr) << t->name << " " << dtype_name(w);
      EXPECT_NE(t->vec_dot[int(w)], nullptr) << t->name << " " << dtype_name(w);
    }
}

TEST(Avx2Q8_0Family, ActivationQuantizersAreBitExact) {
  std::mt19937 rng(1234);
  for (const KernelTable* t : available_tables()) {
    for (DType at : {DType::Q8_0, DType::Q8_1}) {
      ASSERT_NE(t->quantize_act[int(at)], nullptr);
      for (int64_t n : {32, 64, 256, 4096 + 32}) {
        for (int kind = 0; kind < 3; ++kind) {
          // default `huge` (1e20): scales overflow fp16, which must still match bit for bit
          const std::vector<float> x = test_row(kind, (n + 255) / 256 * 256, rng);
          const size_t rb = row_bytes(at, n);
          std::vector<uint8_t> want(rb, 0xAA), got(rb + 7, 0x55);
          reference_table().quantize_act[int(at)](x.data(), want.data(), n);
          t->quantize_act[int(at)](x.data(), got.data(), n);
          size_t diff = 0;
          while (diff < rb && want[diff] == got[diff]) ++diff;
          ASSERT_EQ(diff, rb) << table_label(t) << " " << dtype_name(at) << " n=" << n
                              << " kind=" << kind << ": first differing byte (want "
                              << int(want[diff < rb ? diff : 0]) << ", got "
                              << int(got[diff < rb ? diff : 0]) << ")";
          for (size_t i = rb; i < got.size(); ++i) ASSERT_EQ(got[i], 0x55) << "wrote past the row";
        }
      }
    }
  }
}

TEST(Avx2Q8_0Family, VecDotMatchesReference) {
  std::mt19937 rng(99);
  for (DType wt : kWeightTypes) {
    const DType at = act_type(wt);
    for (int64_t n : {64, 128, 1024, 2080 + 32 * (wt == DType::NVFP4)}) {
      const auto w = random_weights(wt, 1, n, rng);
      const auto a = random_acts(at, 1, n, rng);
      const float want = reference_table().vec_dot[int(wt)](n, w.data(), a.data());
      const auto wf = dequant(wt, w.data(), n), af = dequant(at, a.data(), n);
      const double bound =
          dot_bound(wt, n, abs_terms(wt, at, w.data(), wf.data(), a.data(), af.data(), n));
      for (const KernelTable* t : available_tables()) {
        const float got = t->vec_dot[int(wt)](n, w.data(), a.data());
        EXPECT_LE(std::fabs(double(got) - double(want)), bound)
            << table_label(t) << " " << dtype_name(wt) << " n=" << n << " want " << want;
      }
    }
  }
}

struct Shape {
  int64_t n, rows, r0, r1, m;
};

// gemm over [r0, r1) x [0, m): every output within the bound of the reference vec_dot, every
// output outside the range untouched (the y buffer is prefilled with a sentinel).
void check_gemm(const KernelTable* t, DType wt, Shape s, std::mt19937& rng) {
  const DType at = act_type(wt);
  s.n = (s.n + block_elems(wt) - 1) / block_elems(wt) * block_elems(wt);  // NVFP4: 64
  const size_t wrb = row_bytes(wt, s.n), arb = row_bytes(at, s.n);
  const auto w = random_weights(wt, s.rows, s.n, rng);
  const auto a = random_acts(at, s.m, s.n, rng);
  const int64_t ldy = s.rows + 3;
  const float kSentinel = -12345.5f;
  std::vector<float> y(size_t(s.m * ldy), kSentinel);
  const auto wf = dequant(wt, w.data(), s.rows * s.n), af = dequant(at, a.data(), s.m * s.n);
  t->gemm[int(wt)](s.n, w.data(), wrb, s.r0, s.r1, a.data(), arb, s.m, y.data(), ldy);
  for (int64_t m = 0; m < s.m; ++m) {
    for (int64_t r = 0; r < ldy; ++r) {
      const float got = y[size_t(m * ldy + r)];
      if (r < s.r0 || r >= s.r1) {
        ASSERT_EQ(got, kSentinel) << table_label(t) << " " << dtype_name(wt) << " wrote row " << r;
        continue;
      }
      const uint8_t* wr = w.data() + size_t(r) * wrb;
      const uint8_t* am = a.data() + size_t(m) * arb;
      const float want = reference_table().vec_dot[int(wt)](s.n, wr, am);
      const double bound = dot_bound(
          wt, s.n, abs_terms(wt, at, wr, wf.data() + r * s.n, am, af.data() + m * s.n, s.n));
      ASSERT_LE(std::fabs(double(got) - double(want)), bound)
          << table_label(t) << " " << dtype_name(wt) << " n=" << s.n << " rows [" << s.r0
          << "," << s.r1 << ") m_rows=" << s.m << " at m=" << m << " r=" << r << " want " << want;
    }
  }
}

TEST(Avx2Q8_0Family, GemmSmallMMatchesReference) {
  std::mt19937 rng(7);
  for (const KernelTable* t : available_tables())
    for (DType wt : kWeightTypes)
      for (int64_t m = 1; m <= 13; ++m) {
        check_gemm(t, wt, {256, 21, 0, 21, m}, rng);
        check_gemm(t, wt, {64, 13, 3, 11, m}, rng);
      }
}

TEST(Avx2Q8_0Family, GemmTailsAndPanelsMatchReference) {
  std::mt19937 rng(8);
  const Shape shapes[] = {
      {64, 1, 0, 1, 1},      {64, 8, 0, 8, 64},      {64, 19, 5, 6, 9},   // one NVFP4 block
      {1120, 21, 0, 21, 64}, {1120, 27, 4, 27, 70},                        // 2 k-panels, 2 m-panels
      {2080, 16, 8, 16, 13}, {2080, 9, 1, 9, 3},     {96, 40, 0, 37, 64},
  };
  for (const KernelTable* t : available_tables())
    for (DType wt : kWeightTypes)
      for (const Shape& s : shapes) check_gemm(t, wt, s, rng);
  // one-block rows (n = 32) for the 32-element types
  for (const KernelTable* t : available_tables())
    for (DType wt : kWeightTypes)
      if (block_elems(wt) == 32)
        for (int64_t m : {1, 5, 13, 64}) check_gemm(t, wt, {32, 11, 2, 11, m}, rng);
}

// Repacked layouts: repack rows (a multiple of the group), then gemm_repacked over group-aligned
// row ranges must match the reference vec_dot on the original rows (same bound as gemm).
void check_repacked(const KernelTable* t, DType wt, const Shape& s, std::mt19937& rng) {
  const DType at = act_type(wt);
  const int64_t group = t->repack_rows[int(wt)];
  ASSERT_GT(group, 0);
  ASSERT_EQ(s.rows % group, 0);
  ASSERT_EQ(s.r0 % group, 0);
  ASSERT_EQ(s.r1 % group, 0);
  const size_t wrb = row_bytes(wt, s.n), arb = row_bytes(at, s.n);
  const auto w = random_weights(wt, s.rows, s.n, rng);
  const auto a = random_acts(at, s.m, s.n, rng);
  std::vector<uint8_t> packed(w.size() + 64, 0xEE);
  t->repack[int(wt)](w.data(), packed.data(), s.rows, s.n);
  for (size_t i = w.size(); i < packed.size(); ++i) ASSERT_EQ(packed[i], 0xEE) << "repack overran";
  const int64_t ldy = s.rows + 5;
  const float kSentinel = 777.25f;
  std::vector<float> y(size_t(s.m * ldy), kSentinel);
  t->gemm_repacked[int(wt)](s.n, packed.data(), wrb, s.r0, s.r1, a.data(), arb, s.m, y.data(), ldy);
  const auto wf = dequant(wt, w.data(), s.rows * s.n), af = dequant(at, a.data(), s.m * s.n);
  for (int64_t m = 0; m < s.m; ++m) {
    for (int64_t r = 0; r < ldy; ++r) {
      const float got = y[size_t(m * ldy + r)];
      if (r < s.r0 || r >= s.r1) {
        ASSERT_EQ(got, kSentinel) << table_label(t) << " " << dtype_name(wt) << " wrote row " << r;
        continue;
      }
      const uint8_t* wr = w.data() + size_t(r) * wrb;
      const uint8_t* am = a.data() + size_t(m) * arb;
      const float want = reference_table().vec_dot[int(wt)](s.n, wr, am);
      const double bound = dot_bound(
          wt, s.n, abs_terms(wt, at, wr, wf.data() + r * s.n, am, af.data() + m * s.n, s.n));
      ASSERT_LE(std::fabs(double(got) - double(want)), bound)
          << table_label(t) << " repacked " << dtype_name(wt) << " n=" << s.n << " rows ["
          << s.r0 << "," << s.r1 << ") m_rows=" << s.m << " at m=" << m << " r=" << r
          << " want " << want;
    }
  }
}

TEST(Avx2Q8_0Family, RepackedGemmMatchesReference) {
  std::mt19937 rng(11);
  int checked = 0;
  for (const KernelTable* t : available_tables()) {
    for (DType wt : kWeightTypes) {
      if (!t->repack[int(wt)]) continue;
      ASSERT_NE(t->gemm_repacked[int(wt)], nullptr) << t->name << " " << dtype_name(wt);
      const int64_t g = t->repack_rows[int(wt)];
      for (int64_t m = 1; m <= 13; ++m) check_repacked(t, wt, {256, 3 * g, 0, 3 * g, m}, rng);
      const Shape shapes[] = {
          {32, 2 * g, g, 2 * g, 64},   {1120, 3 * g, 0, 3 * g, 70}, {96, 2 * g, 0, g, 5},
          {8256, g, 0, g, 2},          {8256, g, 0, g, 7},  // k-panels of both paths
      };
      for (const Shape& s : shapes) check_repacked(t, wt, s, rng);
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no table on this CPU has a repacked layout for these types";
}

// Scale fields at the edges of their formats (fp16 subnormals, the E8M0 subnormal exponents
// 0 and 1, UE4M3 subnormal codes and the 0x7F / 0xFF special cases) in EVERY block, so that a
// wrong decode cannot hide behind larger blocks in the error bound.
TEST(Avx2Q8_0Family, EdgeScalesMatchReference) {
  std::mt19937 rng(21);
  const int64_t n = 256, rows = 16, m_rows = 9;
  for (DType wt : kWeightTypes) {
    const DType at = act_type(wt);
    auto w = random_weights(wt, rows, n, rng);
    const size_t bs = dtype_info(wt).type_size;
    for (size_t b = 0; b < w.size() / bs; ++b) {
      uint8_t* blk = w.data() + b * bs;
      if (wt == DType::MXFP4) {
        blk[0] = uint8_t(rng() % 3);
      } else if (wt == DType::NVFP4) {
        const uint8_t codes[] = {0x01, 0x07, 0x7F, 0xFF, 0x08, 0x80};
        for (int s = 0; s < 4; ++s) blk[s] = codes[rng() % 6];
      } else {
        for (size_t off : quant::testing::fp16_fields(wt)) {
          const uint16_t h = uint16_t((rng() % 0x400) | (rng() & 0x8000));  // subnormal
          std::memcpy(blk + off, &h, 2);
        }
      }
    }
    const auto a = random_acts(at, m_rows, n, rng);
    const size_t wrb = row_bytes(wt, n), arb = row_bytes(at, n);
    const auto wf = dequant(wt, w.data(), rows * n), af = dequant(at, a.data(), m_rows * n);
    for (const KernelTable* t : available_tables()) {
      for (int variant = 0; variant < 2; ++variant) {
        std::vector<uint8_t> wsrc = w;
        if (variant == 1) {
          if (!t->repack[int(wt)]) continue;
          t->repack[int(wt)](w.data(), wsrc.data(), rows, n);
        }
        const auto gemm = variant == 1 ? t->gemm_repacked[int(wt)] : t->gemm[int(wt)];
        for (int64_t m : {int64_t(1), m_rows}) {
          std::vector<float> y(size_t(m * rows));
          gemm(n, wsrc.data(), wrb, 0, rows, a.data(), arb, m, y.data(), rows);
          for (int64_t i = 0; i < m; ++i)
            for (int64_t r = 0; r < rows; ++r) {
              const float want = reference_table().vec_dot[int(wt)](n, w.data() + r * wrb, a.data() + i * arb);
              const double bound = dot_bound(wt, n, abs_terms(wt, at, w.data() + r * wrb, wf.data() + r * n,
                                                              a.data() + i * arb, af.data() + i * n, n));
              ASSERT_LE(std::fabs(double(y[size_t(i * rows + r)]) - double(want)), bound)
                  << t->name << (variant ? " repacked " : " ") << dtype_name(wt) << " m_rows=" << m
                  << " r=" << r << " want " << want;
            }
        }
      }
    }
  }
}

// active_table() is chosen once per process, so the HEARTH_ISA=scalar case runs this binary
// again with the variable set and only the check below.
TEST(Avx2Q8_0Family, HearthIsaScalarSelectsTheReference) {
  const char* isa = std::getenv("HEARTH_ISA");
  const char* child = std::getenv("HEARTH_Q8_0_FAMILY_CHILD");
  if (child) {
    ASSERT_NE(isa, nullptr);
    EXPECT_STREQ(active_table().name, "scalar");
    EXPECT_EQ(&active_table(), &reference_table());
    return;
  }
  if (isa && *isa) GTEST_SKIP() << "HEARTH_ISA is set by the caller; the child run checks it";
  EXPECT_EQ(&active_table(), available_tables().back()) << "no cap: the best table";
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  ASSERT_GT(len, 0);
  self[len] = 0;
  const std::string cmd = std::string("HEARTH_ISA=scalar HEARTH_Q8_0_FAMILY_CHILD=1 '") + self +
                          "' --gtest_filter=Avx2Q8_0Family.HearthIsaScalarSelectsTheReference"
                          " > /dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

}  // namespace
}  // namespace hearth::kernels
