// AVX-512 Q8_K-family kernels against the scalar reference, for the code paths the shared
// avx2_q8_k_family_test.cpp shapes do not reach: the VNNI GEMM's 16-row panels (two repacked
// 8-row groups, plus a lone trailing group), every activation-row tile tail (1..8 rows), K
// chunks with a tail, several activation-row cache blocks, worst-case activation magnitudes.
// Bounds are those of avx2_q8_k_family_test.cpp (integer sums exact, float order differs).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
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

// kind 3: every Q8_K level at +-127/-128 (largest integer sums); kinds 0-2: the shared test rows.
std::vector<float> act_row(int kind, int64_t n, std::mt19937& rng) {
  if (kind < 3) return test_row(kind, n, rng, 1e3f);
  std::vector<float> x(size_t(n), 0.0f);
  for (int64_t k = 0; k < n; ++k) x[size_t(k)] = (k % 3 == 0) ? -1.0f : 1.0f;
  return x;
}



double tolerance(int64_t n, double mag) {
  return 2.0 * (6.0 * double(n / 256) + 16) * std::ldexp(1.0, -24) * mag + 1e-30;
}

const KernelTable* avx512_table() {
  for (const KernelTable* k : available_tables())
    if (std::string(k->name) == "avx512") return k;
  return nullptr;
}

// gemm_repacked on the repacked copy vs the reference vec_dot on the original rows; writes
// outside [r0, r1) are errors.
void check_repacked(const KernelTable* k, DType t, int64_t n, int64_t rows, int64_t r0, int64_t r1, int64_t m,
                    std::mt19937& rng, int kind = -1) {
  const size_t wrb = row_bytes(t, n), arb = row_bytes(act_type(t), n);
  const auto w = random_blocks(t, rows * n / dtype_info(t).block_size, rng, true);
  std::vector<uint8_t> packed(w.size());
  k->repack[int(t)](w.data(), packed.data(), rows, n);
  std::vector<uint8_t> a(size_t(m) * arb);
  for (int64_t r = 0; r < m; ++r) {
    const auto x = act_row(kind >= 0 ? kind : int(r % 4), n, rng);
    reference_table().quantize_act[int(act_type(t))](x.data(), a.data() + size_t(r) * arb, n);
  }
  const int64_t ldy = rows + 3;
  std::vector<float> y(size_t(m * ldy), -12345.0f);
  k->gemm_repacked[int(t)](n, packed.data(), wrb, r0, r1, a.data(), arb, m, y.data(), ldy);
  int bad = 0;
  for (int64_t i = 0; i < m && bad < 5; ++i)
    for (int64_t r = 0; r < ldy && bad < 5; ++r) {
      const float got = y[size_t(i * ldy + r)];
      if (r < r0 || r >= r1) {
        if (got != -12345.0f) ++bad, ADD_FAILURE() << dtype_name(t) << " wrote outside [r0, r1) at r=" << r;
        continue;
      }
      const uint8_t* wr = w.data() + size_t(r) * wrb;
      const uint8_t* ar = a.data() + size_t(i) * arb;
      const float want = reference_table().vec_dot[int(t)](n, wr, ar);
      const double tol = tolerance(n, magnitude(t, wr, ar, n));
      if (!(std::fabs(double(got) - double(want)) <= tol))
        ++bad, ADD_FAILURE() << k->name << " " << dtype_name(t) << " n=" << n << " rows=" << rows << " [" << r0
                             << "," << r1 << ") m_rows=" << m << " at m=" << i << " r=" << r << ": got " << got
                             << " want " << want << " tol " << tol;
    }
}

const DType kRepackedTypes[] = {DType::Q4_K, DType::Q5_K, DType::Q6_K};

TEST(Avx512Q8KFamily, RepackedGemmPanelsAndTails) {
  const KernelTable* k = avx512_table();
  if (!k) GTEST_SKIP() << "no AVX-512 table on this CPU";
  std::mt19937 rng(23);
  for (DType t : kRepackedTypes) {
    if (!k->gemm_repacked[int(t)] || k->repack_rows[int(t)] != 8) continue;
    // 40 rows: [0, 40) = two 16-row panels + a lone 8-row group; [8, 40) = two panels not
    // starting at row 0. K = 6 super-blocks: a K chunk tail. m: every tile tail and two tiles.
    for (int64_t m = 1; m <= 17; ++m) check_repacked(k, t, 6 * 256, 40, (m % 2) ? 0 : 8, 40, m, rng);
    check_repacked(k, t, 256, 24, 8, 24, 9, rng);  // one super-block, one panel
  }
}

TEST(Avx512Q8KFamily, RepackedGemmExtremeActivations) {
  const KernelTable* k = avx512_table();
  if (!k) GTEST_SKIP() << "no AVX-512 table on this CPU";
  std::mt19937 rng(29);
  for (DType t : kRepackedTypes) {
    if (!k->gemm_repacked[int(t)] || k->repack_rows[int(t)] != 8) continue;
    check_repacked(k, t, 1024, 16, 0, 16, 9, rng, 3);  // all |a| = 127/128: largest int32 sums
    check_repacked(k, t, 1024, 16, 0, 16, 1, rng, 3);  // the same through the decode GEMV
  }
}

TEST(Avx512Q8KFamily, RepackedGemmSeveralActivationBlocks) {
  const KernelTable* k = avx512_table();
  if (!k) GTEST_SKIP() << "no AVX-512 table on this CPU";
  std::mt19937 rng(31);
  // K = 8192: an activation row is 9344 bytes, so 61 rows span two row blocks (56 + 5).
  for (DType t : kRepackedTypes) {
    if (!k->gemm_repacked[int(t)] || k->repack_rows[int(t)] != 8) continue;
    check_repacked(k, t, 8192, 16, 0, 16, 61, rng);
  }
}

// GGUF-layout gemm (Q4_K/Q5_K/Q6_K: 8-row groups repacked per K chunk; Q2_K/Q3_K/IQ4_XS: rows
// unpacked and gathered; both into the same panels): any r0, r1 (1..16 valid rows per panel),
// K chunk tails, every tile tail, and activations at +-127/-128.
void check_gemm(const KernelTable* k, DType t, int64_t n, int64_t rows, int64_t r0, int64_t r1, int64_t m,
                std::mt19937& rng, int kind = -1) {
  const size_t wrb = row_bytes(t, n), arb = row_bytes(act_type(t), n);
  const auto w = random_blocks(t, rows * n / dtype_info(t).block_size, rng, true);
  std::vector<uint8_t> a(size_t(m) * arb);
  for (int64_t r = 0; r < m; ++r) {
    const auto x = act_row(kind >= 0 ? kind : int(r % 4), n, rng);
    reference_table().quantize_act[int(act_type(t))](x.data(), a.data() + size_t(r) * arb, n);
  }
  const int64_t ldy = rows + 3;
  std::vector<float> y(size_t(m * ldy), -12345.0f);
  k->gemm[int(t)](n, w.data(), wrb, r0, r1, a.data(), arb, m, y.data(), ldy);
  int bad = 0;
  for (int64_t i = 0; i < m && bad < 5; ++i)
    for (int64_t r = 0; r < ldy && bad < 5; ++r) {
      const float got = y[size_t(i * ldy + r)];
      if (r < r0 || r >= r1) {
        if (got != -12345.0f) ++bad, ADD_FAILURE() << dtype_name(t) << " gemm wrote outside [r0, r1) at r=" << r;
        continue;
      }
      const uint8_t* wr = w.data() + size_t(r) * wrb;
      const uint8_t* ar = a.data() + size_t(i) * arb;
      const float want = reference_table().vec_dot[int(t)](n, wr, ar);
      const double tol = tolerance(n, magnitude(t, wr, ar, n));
      if (!(std::fabs(double(got) - double(want)) <= tol))
        ++bad, ADD_FAILURE() << k->name << " gemm " << dtype_name(t) << " n=" << n << " rows=" << rows << " [" << r0
                             << "," << r1 << ") m_rows=" << m << " at m=" << i << " r=" << r << ": got " << got
                             << " want " << want << " tol " << tol;
    }
}

// Q8_K quantizer: the first-largest-|x| rule with +-max duplicates, exact .5 products (ties to
// even), all-zero blocks, several blocks per row.
TEST(Avx512Q8KFamily, Q8KQuantizerBitExactEdgeCases) {
  const KernelTable* k = avx512_table();
  if (!k) GTEST_SKIP() << "no AVX-512 table on this CPU";
  std::mt19937 rng(41);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int variant = 0; variant < 6; ++variant) {
    const int64_t n = 1024;
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = u(rng);
    if (variant == 1) x[17] = 2.0f, x[200] = -2.0f;    // max first positive
    if (variant == 2) x[3] = -2.0f, x[255] = 2.0f;     // max first negative, at the block edge
    if (variant == 3)                                  // iscale * x = k + 0.5 exactly: 127 / 254 steps
      for (int64_t i = 0; i < n; ++i) x[size_t(i)] = (i % 256 == 0) ? 254.0f : float(int(i % 254) - 127);
    if (variant == 4) std::fill(x.begin() + 256, x.begin() + 512, 0.0f);  // a zero block
    if (variant == 5)
      for (auto& v : x) v *= 1e-30f;  // tiny values
    const size_t rb = row_bytes(DType::Q8_K, n);
    std::vector<uint8_t> want(rb, 0xAB), got(rb, 0xCD);
    reference_table().quantize_act[int(DType::Q8_K)](x.data(), want.data(), n);
    k->quantize_act[int(DType::Q8_K)](x.data(), got.data(), n);
    EXPECT_EQ(std::memcmp(want.data(), got.data(), rb), 0) << "variant " << variant;
  }
}

const DType kAllTypes[] = {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_XS};

TEST(Avx512Q8KFamily, GgufLayoutGemmTails) {
  const KernelTable* k = avx512_table();
  if (!k) GTEST_SKIP() << "no AVX-512 table on this CPU";
  std::mt19937 rng(37);
  for (DType t : kAllTypes) {
    for (int64_t m = 4; m <= 13; ++m) check_gemm(k, t, 5 * 256, 37, m % 5, 37 - (m % 3), m, rng);
    check_gemm(k, t, 256, 9, 0, 9, 20, rng);       // one super-block, a 9-row panel
    check_gemm(k, t, 8192, 16, 1, 16, 61, rng);    // two activation row blocks
    check_gemm(k, t, 1024, 16, 0, 16, 9, rng, 3);  // largest integer sums
  }
}

}  // namespace
}  // namespace hearth::kernels
