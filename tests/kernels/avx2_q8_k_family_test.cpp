// Every kernel table (reference and, on AVX2 CPUs, avx2) against the scalar reference for the
// Q8_K family: activation quantizers Q8_K / F16 / BF16 bit-exact; vec_dot and gemm of Q2_K..Q6_K,
// IQ4_XS, F32, F16, BF16 equal to the reference up to float summation order (bound below);
// shapes with tails (one block, odd row counts, r0/r1 inside the matrix, m_rows 1..13 and 64).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/quant.h"
#include "quant/quant_test_util.h"
#include "kernels/dot_test_util.h"

namespace hearth::kernels {
namespace {

using quant::testing::random_blocks;
using quant::testing::test_row;
using testing::d_offset_with_mins;
using testing::magnitude;

const DType kQuantTypes[] = {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_XS};
const DType kFloatTypes[] = {DType::F32, DType::F16, DType::BF16};

bool is_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// Activation rows as the engine makes them: the reference quantizer of act_type(w). Besides the
// shared test rows, kind 3 makes every Q8_K level +-127 (worst case for int16 pair sums).
std::vector<float> act_row(int kind, int64_t n, std::mt19937& rng) {
  if (kind < 3) return test_row(kind, n, rng, 1e3f);
  std::vector<float> x(size_t(n), 0.0f);
  for (int64_t k = 0; k < n; ++k) x[size_t(k)] = (k % 3 == 0) ? -1.0f : 1.0f;
  return x;
}

std::vector<uint8_t> quantize_acts(DType w, const std::vector<float>& x, int64_t m, int64_t n) {
  const DType at = act_type(w);
  const size_t rb = row_bytes(at, n);
  std::vector<uint8_t> q(size_t(m) * rb);
  for (int64_t r = 0; r < m; ++r)
    reference_table().quantize_act[int(at)](x.data() + r * n, q.data() + r * rb, n);
  return q;
}

std::vector<uint8_t> weights(DType t, int64_t rows, int64_t n, std::mt19937& rng) {
  if (!is_float(t)) return random_blocks(t, rows * n / dtype_info(t).block_size, rng, true);
  // Float weights: normal values stored in the type (random bit patterns would include NaN).
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> f(size_t(rows * n));
  for (auto& v : f) v = g(rng);
  std::vector<uint8_t> w(row_bytes(t, rows * n));
  quant::quantize_row(t, f.data(), w.data(), rows * n);
  return w;
}


double tolerance(DType t, int64_t n, double mag) {
  // Quant types: <= 6 roundings per super-block per side (scale product, int->float, fma, and
  // the mins term), plus 16 for the final lane sums. Float types: one fma chain of n/16 per
  // lane plus the horizontal sum, against a double-precision reference.
  const double ops = is_float(t) ? double(n) / 8 + 16 : 2.0 * (6.0 * double(n / 256) + 16);
  return ops * std::ldexp(1.0, -24) * mag + 1e-30;
}

std::string where(const KernelTable* k, DType t, int64_t n) {
  return std::string(k->name) + " " + std::string(dtype_name(t)) + " n=" + std::to_string(n);
}

TEST(Avx2Q8KFamily, TablesIncludeAvx2WhenCpuHasIt) {
  const auto all = available_tables();
  ASSERT_GE(all.size(), 1u);
  EXPECT_STREQ(all.front()->name, "scalar");
  for (const KernelTable* k : all)
    for (DType t : kQuantTypes) {
      EXPECT_NE(k->vec_dot[int(t)], nullptr) << where(k, t, 0);
      EXPECT_NE(k->gemm[int(t)], nullptr) << where(k, t, 0);
    }
}

// The chosen table is fixed at first use, so the cap is checked in a child process.
TEST(Avx2Q8KFamily, ActiveTableHonoursIsaCap) {
  const char* cap = std::getenv("HEARTH_ISA");
  if (cap && std::strcmp(cap, "scalar") == 0) {
    EXPECT_STREQ(active_table().name, "scalar");
    return;
  }
  if (!cap) {
    EXPECT_EQ(&active_table(), available_tables().back());
  }
  // Re-run this test binary (resolved from /proc/self/exe) with the cap set.
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) GTEST_SKIP() << "cannot resolve /proc/self/exe to re-run the test binary";
  self[len] = 0;
  const std::string run = "HEARTH_ISA=scalar '" + std::string(self) +
                          "' --gtest_filter=Avx2Q8KFamily.ActiveTableHonoursIsaCap > /dev/null 2>&1";
  EXPECT_EQ(std::system(run.c_str()), 0) << "child with HEARTH_ISA=scalar did not pick the scalar table";
}

TEST(Avx2Q8KFamily, ActivationQuantizersBitExact) {
  std::mt19937 rng(7);
  for (const KernelTable* k : available_tables()) {
    for (DType at : {DType::Q8_K, DType::F16, DType::BF16}) {
      ASSERT_NE(k->quantize_act[int(at)], nullptr);
      const std::vector<int64_t> ns = at == DType::Q8_K ? std::vector<int64_t>{256, 512, 4096}
                                                         : std::vector<int64_t>{1, 7, 8, 15, 16, 33, 256, 4099};
      for (int64_t n : ns) {
        for (int kind = 0; kind < 4; ++kind) {
          const int64_t nn = (n + 255) / 256 * 256;
          std::vector<float> x = kind < 3 ? test_row(kind, nn, rng) : act_row(kind, nn, rng);
          x.resize(size_t(n));
          if (at != DType::Q8_K && n >= 8) {  // non-finite values: NaN payloads, +-inf, -0
            x[0] = std::nanf("0x12345");
            x[1] = -std::numeric_limits<float>::infinity();
            x[2] = -0.0f;
            uint32_t snan = 0xFF800001u;  // negative signaling NaN
            std::memcpy(&x[3], &snan, 4);
          }
          const size_t rb = row_bytes(at, n);
          std::vector<uint8_t> want(rb, 0xAB), got(rb, 0xCD);
          reference_table().quantize_act[int(at)](x.data(), want.data(), n);
          k->quantize_act[int(at)](x.data(), got.data(), n);
          EXPECT_EQ(std::memcmp(want.data(), got.data(), rb), 0) << where(k, at, n) << " kind " << kind;
        }
      }
    }
  }
}

TEST(Avx2Q8KFamily, VecDotMatchesReference) {
  std::mt19937 rng(11);
  std::vector<DType> types(std::begin(kQuantTypes), std::end(kQuantTypes));
  types.insert(types.end(), std::begin(kFloatTypes), std::end(kFloatTypes));
  for (const KernelTable* k : available_tables())
    for (DType t : types) {
      const std::vector<int64_t> ns = is_float(t) ? std::vector<int64_t>{1, 7, 16, 33, 256, 1000}
                                                  : std::vector<int64_t>{256, 512, 2304};
      for (int64_t n : ns)
        for (int kind = 0; kind < 4; ++kind) {
          const int64_t nn = (n + 255) / 256 * 256;
          std::vector<float> x = act_row(kind, nn, rng);
          x.resize(size_t(n));
          const auto w = weights(t, 1, n, rng);
          const auto a = quantize_acts(t, x, 1, n);
          const float want = reference_table().vec_dot[int(t)](n, w.data(), a.data());
          const float got = k->vec_dot[int(t)](n, w.data(), a.data());
          const double tol = tolerance(t, n, magnitude(t, w.data(), a.data(), n));
          EXPECT_NEAR(got, want, tol) << where(k, t, n) << " kind " << kind;
        }
    }
}

// gemm over a sub-range of rows and m activation rows, against reference vec_dot per element;
// outputs outside [r0, r1) must stay untouched.
void check_gemm(const KernelTable* k, DType t, int64_t n, int64_t rows, int64_t r0, int64_t r1,
                int64_t m, std::mt19937& rng) {
  const auto w = weights(t, rows, n, rng);
  std::vector<float> x(size_t(m * n));
  for (int64_t r = 0; r < m; ++r) {
    const int64_t nn = (n + 255) / 256 * 256;
    auto row = act_row(int(r % 4), nn, rng);
    std::copy(row.begin(), row.begin() + n, x.begin() + r * n);
  }
  const auto a = quantize_acts(t, x, m, n);
  const size_t wrb = row_bytes(t, n), arb = row_bytes(act_type(t), n);
  const int64_t ldy = rows + 3;
  std::vector<float> y(size_t(m * ldy), -12345.0f);
  k->gemm[int(t)](n, w.data(), wrb, r0, r1, a.data(), arb, m, y.data(), ldy);
  int bad = 0;
  for (int64_t i = 0; i < m && bad < 5; ++i)
    for (int64_t r = 0; r < ldy && bad < 5; ++r) {
      const float got = y[size_t(i * ldy + r)];
      if (r < r0 || r >= r1) {
        if (got != -12345.0f) {
          ++bad;
          ADD_FAILURE() << where(k, t, n) << " wrote outside [r0, r1): m=" << i << " r=" << r;
        }
        continue;
      }
      const uint8_t* wr = w.data() + size_t(r) * wrb;
      const uint8_t* ar = a.data() + size_t(i) * arb;
      const float want = reference_table().vec_dot[int(t)](n, wr, ar);
      const double tol = tolerance(t, n, magnitude(t, wr, ar, n));
      if (!(std::fabs(double(got) - double(want)) <= tol)) {
        ++bad;
        ADD_FAILURE() << where(k, t, n) << " rows=" << rows << " [" << r0 << "," << r1 << ") m_rows=" << m
                      << " at m=" << i << " r=" << r << ": got " << got << " want " << want << " tol " << tol;
      }
    }
}

// Repacked layouts: repack writes exactly rows * row_bytes (the GGUF size), and gemm_repacked
// on the repacked copy equals the reference on the original rows; r0, r1 multiples of the group.
void check_repacked(const KernelTable* k, DType t, int64_t n, int64_t rows, int64_t r0, int64_t r1,
                    int64_t m, std::mt19937& rng) {
  const int64_t group = k->repack_rows[int(t)];
  ASSERT_GT(group, 0);
  ASSERT_EQ(rows % group, 0);
  const size_t wrb = row_bytes(t, n), arb = row_bytes(act_type(t), n);
  const auto w = weights(t, rows, n, rng);
  std::vector<uint8_t> packed(w.size() + 64, 0x5A);
  k->repack[int(t)](w.data(), packed.data(), rows, n);
  for (size_t i = w.size(); i < packed.size(); ++i) ASSERT_EQ(packed[i], 0x5A) << "repack wrote past rows * row_bytes";
  std::vector<float> x(size_t(m * n));
  for (int64_t r = 0; r < m; ++r) {
    auto row = act_row(int(r % 4), n, rng);
    std::copy(row.begin(), row.end(), x.begin() + r * n);
  }
  const auto a = quantize_acts(t, x, m, n);
  const int64_t ldy = rows + 1;
  std::vector<float> y(size_t(m * ldy), -12345.0f);
  k->gemm_repacked[int(t)](n, packed.data(), wrb, r0, r1, a.data(), arb, m, y.data(), ldy);
  int bad = 0;
  for (int64_t i = 0; i < m && bad < 5; ++i)
    for (int64_t r = 0; r < ldy && bad < 5; ++r) {
      const float got = y[size_t(i * ldy + r)];
      if (r < r0 || r >= r1) {
        if (got != -12345.0f) ++bad, ADD_FAILURE() << where(k, t, n) << " repacked wrote outside [r0, r1)";
        continue;
      }
      const uint8_t* wr = w.data() + size_t(r) * wrb;
      const uint8_t* ar = a.data() + size_t(i) * arb;
      const float want = reference_table().vec_dot[int(t)](n, wr, ar);
      const double tol = tolerance(t, n, magnitude(t, wr, ar, n));
      if (!(std::fabs(double(got) - double(want)) <= tol))
        ++bad, ADD_FAILURE() << where(k, t, n) << " repacked rows=" << rows << " [" << r0 << "," << r1
                             << ") m_rows=" << m << " at m=" << i << " r=" << r << ": got " << got
                             << " want " << want << " tol " << tol;
    }
}

TEST(Avx2Q8KFamily, RepackedLayouts) {
  std::mt19937 rng(19);
  int checked = 0;
  for (const KernelTable* k : available_tables())
    for (DType t : kQuantTypes) {
      const bool any = k->repack_rows[int(t)] || k->repack[int(t)] || k->gemm_repacked[int(t)];
      if (!any) continue;
      ASSERT_TRUE(k->repack_rows[int(t)] > 0 && k->repack[int(t)] && k->gemm_repacked[int(t)])
          << where(k, t, 0) << ": repack entries must come together";
      const int64_t g = k->repack_rows[int(t)];
      for (int64_t m : {1, 2, 3, 5, 6, 13, 64}) check_repacked(k, t, 512, 3 * g, g, 3 * g, m, rng);
      check_repacked(k, t, 256, g, 0, g, 7, rng);          // one block
      check_repacked(k, t, 10240, 2 * g, 0, 2 * g, 70, rng);  // several K chunks and m blocks
      ++checked;
    }
#if defined(__x86_64__)
  if (available_tables().size() > 1) {
    EXPECT_GE(checked, 3) << "the AVX2 table repacks Q4_K, Q5_K and Q6_K";
  }
#endif
}

TEST(Avx2Q8KFamily, GemmMatchesReferenceSmallM) {
  std::mt19937 rng(13);
  std::vector<DType> types(std::begin(kQuantTypes), std::end(kQuantTypes));
  types.insert(types.end(), std::begin(kFloatTypes), std::end(kFloatTypes));
  for (const KernelTable* k : available_tables())
    for (DType t : types) {
      const int64_t n = is_float(t) ? 44 : 256;
      for (int64_t m = 1; m <= 13; ++m) check_gemm(k, t, n, 13, m % 3, 13 - (m % 2), m, rng);
    }
}

TEST(Avx2Q8KFamily, GemmMatchesReferenceShapes) {
  std::mt19937 rng(17);
  std::vector<DType> types(std::begin(kQuantTypes), std::end(kQuantTypes));
  types.insert(types.end(), std::begin(kFloatTypes), std::end(kFloatTypes));
  for (const KernelTable* k : available_tables())
    for (DType t : types) {
      const int64_t n2 = is_float(t) ? 264 : 512;
      check_gemm(k, t, n2, 1, 0, 1, 64, rng);     // one row
      check_gemm(k, t, n2, 37, 8, 37, 64, rng);   // odd row count, r0 inside
      check_gemm(k, t, n2, 24, 0, 16, 64, rng);   // r1 inside
      check_gemm(k, t, is_float(t) ? 1 : 256, 19, 3, 19, 23, rng);  // one block / element
      check_gemm(k, t, is_float(t) ? 777 : 1280, 16, 0, 16, 20, rng);
      // several K chunks (8 super-blocks) and m blocks (~384 KiB of activations: 32 rows here)
      check_gemm(k, t, is_float(t) ? 520 : 10240, 9, 0, 9, 70, rng);
    }
}

}  // namespace
}  // namespace hearth::kernels
