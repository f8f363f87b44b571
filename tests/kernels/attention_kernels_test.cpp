// The attention block kernels (attn_scores_f16, attn_pv_f16) of every kernel table against the
// scalar reference: odd row counts (micro-kernel row tails), key counts around the 16-key and
// 32-key blocks, head dims with 8- and 1-element tails and above the 256-dim chunk, K/V rows at
// unaligned addresses, strided score/probability rows.
//
// Tolerances: both sides sum the same products; only the order and number of f32 roundings
// differ. The reference scores sum in double (one final rounding); an f32 FMA chain of n terms
// (plus the sum of per-chunk partials) is off by at most (n + 2) * 2^-24 * sum_i |q_i k_i|.
// P·V: both accumulate in f32 key by key; the reference may round a*x before adding (2 roundings
// per key), so the two differ by at most 2 * (nk + 1) * 2^-24 * (|o_0| + sum_j |p_j v_j|).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/kernels.h"

namespace hearth::kernels {
namespace {

constexpr double kU = 1.0 / 16777216.0;  // 2^-24

// nk f16 rows of n elements, each in its own allocation at an odd element offset.
struct Rows {
  std::vector<std::vector<uint16_t>> store;
  std::vector<const uint16_t*> ptr;
  Rows(int64_t nk, int64_t n, std::mt19937& rng, float sd) {
    std::normal_distribution<float> nd(0.0f, sd);
    for (int64_t j = 0; j < nk; ++j) {
      const size_t off = size_t(j % 3) + 1;
      store.emplace_back(size_t(n) + off);
      for (int64_t i = 0; i < n; ++i) store.back()[off + size_t(i)] = f32_to_f16(nd(rng));
      ptr.push_back(store.back().data() + off);
    }
  }
  float at(int64_t j, int64_t i) const { return f16_to_f32(ptr[size_t(j)][i]); }
};

void check_scores(const KernelTable& kt, int64_t rows, int64_t nk, int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t ldq = n + 3, lds = nk + 5;
  std::vector<float> q(size_t(rows * ldq));
  for (auto& x : q) x = f16_to_f32(f32_to_f16(nd(rng)));
  const Rows k(nk, n, rng, 0.7f);
  std::vector<float> want(size_t(rows * lds), -7.0f), got = want;
  reference_table().attn_scores_f16(q.data(), ldq, rows, k.ptr.data(), nk, n, want.data(), lds);
  kt.attn_scores_f16(q.data(), ldq, rows, k.ptr.data(), nk, n, got.data(), lds);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < lds; ++j) {
      const size_t idx = size_t(r * lds + j);
      if (j >= nk) {  // outside the block: untouched
        ASSERT_EQ(got[idx], -7.0f) << kt.name << " wrote past nk: r " << r << " j " << j;
        continue;
      }
      double mag = 0;
      for (int64_t i = 0; i < n; ++i) mag += std::abs(double(q[size_t(r * ldq + i)]) * k.at(j, i));
      ASSERT_NEAR(got[idx], want[idx], double(n + 2) * kU * mag + 1e-30)
          << kt.name << " scores rows " << rows << " nk " << nk << " n " << n << " r " << r
          << " j " << j;
    }
}

void check_pv(const KernelTable& kt, int64_t rows, int64_t nk, int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> ud(0.0f, 1.0f);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t ldp = nk + 2;
  std::vector<float> p(size_t(rows * ldp));
  for (auto& x : p) x = ud(rng) < 0.2f ? 0.0f : f16_to_f32(f32_to_f16(ud(rng) / float(nk)));
  const Rows v(nk, n, rng, 1.0f);
  // Output rows at unrelated addresses (as the heads of a tile are in the model).
  std::vector<std::vector<float>> o0(static_cast<size_t>(rows)), ow, og;
  for (auto& row : o0) {
    row.resize(size_t(n) + 1);
    for (auto& x : row) x = nd(rng);
  }
  ow = og = o0;
  std::vector<float*> pw, pg;
  for (int64_t r = 0; r < rows; ++r) {
    pw.push_back(ow[size_t(r)].data() + (r & 1));
    pg.push_back(og[size_t(r)].data() + (r & 1));
  }
  reference_table().attn_pv_f16(p.data(), ldp, rows, v.ptr.data(), nk, n, pw.data());
  kt.attn_pv_f16(p.data(), ldp, rows, v.ptr.data(), nk, n, pg.data());
  for (int64_t r = 0; r < rows; ++r) {
    const size_t off = size_t(r & 1);
    if (off) ASSERT_EQ(og[size_t(r)][0], o0[size_t(r)][0]) << kt.name << " wrote before row";
    else ASSERT_EQ(og[size_t(r)][size_t(n)], o0[size_t(r)][size_t(n)]) << kt.name << " wrote past row";
    for (int64_t i = 0; i < n; ++i) {
      double mag = std::abs(double(o0[size_t(r)][off + size_t(i)]));
      for (int64_t j = 0; j < nk; ++j) mag += std::abs(double(p[size_t(r * ldp + j)]) * v.at(j, i));
      ASSERT_NEAR(pg[size_t(r)][i], pw[size_t(r)][i], 2.0 * double(nk + 1) * kU * mag)
          << kt.name << " pv rows " << rows << " nk " << nk << " n " << n << " r " << r << " i " << i;
    }
  }
}

const int64_t kRows[] = {1, 2, 3, 4, 5, 6, 7, 8, 13, 16, 32, 33};
const int64_t kKeys[] = {1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 64, 70, 301};
const int64_t kDims[] = {64, 80, 128, 20, 264};

TEST(AttentionKernels, ScoresMatchReference) {
  std::mt19937 rng(11);
  for (const KernelTable* kt : available_tables())
    for (int64_t n : kDims)
      for (int64_t rows : kRows)
        for (int64_t nk : kKeys) check_scores(*kt, rows, nk, n, rng);
}

TEST(AttentionKernels, PvMatchesReference) {
  std::mt19937 rng(12);
  for (const KernelTable* kt : available_tables())
    for (int64_t n : kDims)
      for (int64_t rows : kRows)
        for (int64_t nk : kKeys) check_pv(*kt, rows, nk, n, rng);
}

}  // namespace
}  // namespace hearth::kernels
