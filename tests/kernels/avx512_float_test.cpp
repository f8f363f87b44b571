// The float-family entries of every kernel table against the scalar reference, on the code
// paths the AVX-512 kernels add: the elementwise row entries (f32 <-> f16 rows, dot_f32_f16,
// axpy_f16, add, axpy) with tails of every length below the vector width, and the attention
// block kernels at row counts around their micro-kernel heights (12-row score tiles, 4-row P·V
// tiles), key counts around the 32-key score chunk and the 64-key P·V block, dims around the
// 64-dim P·V tile and the 128-dim chunks; rmsnorm, swiglu and BF16 weights with subnormals.
//
// Bounds (u = 2^-24):
//  - f32 <-> f16 rows and add: bit-exact (single correctly rounded operations on both sides).
//  - dot_f32_f16: the reference sums exact products in double (one final rounding); an f32
//    FMA chain over n terms plus a lane reduction is off by at most (n + 2) u sum_i |x_i y_i|
//    (the attention test's bound).
//  - axpy_f16 / axpy: one FMA (1 rounding) against a*x then + (up to 2 roundings):
//    |diff| <= 2 u (|y| + |a x|).
//  - rmsnorm: the same f32 squares summed in double in another order, so mean may differ by
//    1 ulp (2u relative); through mean + eps, sqrt, 1/x and the two products (each rounding on
//    its own input) that is <= 8u |y| (4 ulp). Observed: bit-exact on these inputs.
//  - swiglu: same operations (add, divide, multiply) except exp. A vector exp within 2 ulp (4u)
//    of the true value and glibc expf's ~0.5 ulp (u) give a relative difference <= 5u in E,
//    <= 5u + 2u in 1 + E (both sides round), and the divide and multiply round once per side:
//    |diff| <= 11u |y|, plus 1e-30 absolute for g < -88 where one side's exp(-g) overflows and
//    the other's is ~FLT_MAX (y ~ 1e-37 vs -0).
//  - BF16 weights (vdpbf16ps on AVX512-BF16): the Q8_K-family test's float bound
//    (n/8 + 16) u sum |w a| + 1e-30, here with bf16 subnormal weights and activations
//    (vdpbf16ps reads them as 0 and flushes subnormal sums: |diff| < 2^-126 * n * max|a|,
//    inside the 1e-30 floor) and lengths around the 32-element dpbf16 step.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/fp16.h"
#include "kernels/kernels.h"

namespace hearth::kernels {
namespace {

constexpr double kU = 1.0 / 16777216.0;  // 2^-24

const int64_t kLens[] = {1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 127, 128, 129, 200, 1000};

TEST(Avx512Float, F16RowsBitExact) {
  std::mt19937 rng(21);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  for (const KernelTable* kt : available_tables())
    for (int64_t n : kLens) {
      std::vector<float> x(size_t(n) + 1);
      for (auto& v : x) v = nd(rng);
      if (n >= 8) {  // specials: overflow to inf, f16 subnormals, ties, NaN, -0
        x[0] = 70000.0f;
        x[1] = std::ldexp(1.5f, -25);
        x[2] = 1.0f + 3.0f / 2048;
        x[3] = std::numeric_limits<float>::quiet_NaN();
        x[4] = -0.0f;
        x[5] = std::ldexp(1.0f, -20);
      }
      std::vector<uint16_t> want(size_t(n) + 1, 0xABCD), got = want;
      reference_table().f32_to_f16(x.data(), want.data(), n);
      kt->f32_to_f16(x.data(), got.data(), n);
      ASSERT_EQ(got[size_t(n)], 0xABCD) << kt->name << " f32_to_f16 wrote past n=" << n;
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[size_t(i)], want[size_t(i)]) << kt->name << " n " << n << " i " << i;
      std::vector<float> fw(size_t(n) + 1, -3.0f), fg = fw;
      reference_table().f16_to_f32(want.data(), fw.data(), n);
      kt->f16_to_f32(want.data(), fg.data(), n);
      ASSERT_EQ(fg[size_t(n)], -3.0f) << kt->name << " f16_to_f32 wrote past n=" << n;
      ASSERT_EQ(std::memcmp(fw.data(), fg.data(), sizeof(float) * size_t(n)), 0) << kt->name << " n " << n;
    }
}

std::vector<uint16_t> f16_row(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<uint16_t> h(size_t(n) + 1);
  for (auto& v : h) v = f32_to_f16(nd(rng));
  return h;
}

TEST(Avx512Float, DotF32F16) {
  std::mt19937 rng(22);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const KernelTable* kt : available_tables())
    for (int64_t n : kLens)
      for (int off = 0; off < 2; ++off) {
        std::vector<float> x(size_t(n) + 1);
        for (auto& v : x) v = nd(rng);
        const auto y = f16_row(n, rng);
        const float* xp = x.data() + off;
        const uint16_t* yp = y.data() + off;
        const float want = reference_table().dot_f32_f16(xp, yp, n);
        const float got = kt->dot_f32_f16(xp, yp, n);
        double mag = 0;
        for (int64_t i = 0; i < n; ++i) mag += std::abs(double(xp[i]) * f16_to_f32(yp[i]));
        ASSERT_NEAR(got, want, double(n + 2) * kU * mag + 1e-30) << kt->name << " n " << n;
      }
}

TEST(Avx512Float, AxpyAndAdd) {
  std::mt19937 rng(23);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (const KernelTable* kt : available_tables())
    for (int64_t n : kLens) {
      std::vector<float> y0(size_t(n) + 2), x(size_t(n) + 1);
      for (auto& v : y0) v = nd(rng);
      for (auto& v : x) v = nd(rng);
      const auto h = f16_row(n, rng);
      const float a = nd(rng);
      // y at an odd offset; the element before and the one after must stay untouched.
      for (int which = 0; which < 3; ++which) {
        std::vector<float> yw = y0, yg = y0;
        switch (which) {
          case 0:
            reference_table().axpy_f16(yw.data() + 1, a, h.data(), n);
            kt->axpy_f16(yg.data() + 1, a, h.data(), n);
            break;
          case 1:
            reference_table().axpy(yw.data() + 1, a, x.data(), n);
            kt->axpy(yg.data() + 1, a, x.data(), n);
            break;
          default:
            reference_table().add(yw.data() + 1, x.data(), n);
            kt->add(yg.data() + 1, x.data(), n);
            break;
        }
        ASSERT_EQ(yg[0], y0[0]) << kt->name << " wrote before y";
        ASSERT_EQ(yg[size_t(n) + 1], y0[size_t(n) + 1]) << kt->name << " wrote past n=" << n;
        for (int64_t i = 0; i < n; ++i) {
          const size_t k = size_t(i) + 1;
          const double xi = which == 0 ? double(f16_to_f32(h[size_t(i)])) : double(x[size_t(i)]);
          if (which == 2) {
            ASSERT_EQ(yg[k], yw[k]) << kt->name << " add n " << n << " i " << i;
          } else {
            const double tol = 2.0 * kU * (std::abs(double(y0[k])) + std::abs(double(a) * xi));
            ASSERT_NEAR(yg[k], yw[k], tol) << kt->name << " axpy" << (which == 0 ? "_f16" : "") << " n " << n;
          }
        }
      }
    }
}

TEST(Avx512Float, Rmsnorm) {
  std::mt19937 rng(26);
  for (const KernelTable* kt : available_tables())
    for (int64_t n : kLens)
      for (float sd : {1e-3f, 1.0f, 300.0f})
        for (int weighted = 0; weighted < 2; ++weighted) {
          std::normal_distribution<float> nd(0.0f, sd), wd(1.0f, 0.5f);
          std::vector<float> x(static_cast<size_t>(n)), w(static_cast<size_t>(n)), yw(size_t(n) + 1, -5.0f), yg = yw;
          for (auto& v : x) v = nd(rng);
          for (auto& v : w) v = wd(rng);
          const float* wp = weighted ? w.data() : nullptr;
          reference_table().rmsnorm(x.data(), wp, yw.data(), n, 1e-6f);
          kt->rmsnorm(x.data(), wp, yg.data(), n, 1e-6f);
          ASSERT_EQ(yg[size_t(n)], -5.0f) << kt->name << " rmsnorm wrote past n=" << n;
          for (int64_t i = 0; i < n; ++i)
            ASSERT_NEAR(yg[size_t(i)], yw[size_t(i)], 8.0 * kU * std::abs(double(yw[size_t(i)])))
                << kt->name << " rmsnorm n " << n << " sd " << sd << " i " << i;
        }
}

TEST(Avx512Float, Swiglu) {
  std::mt19937 rng(27);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  const float inf = std::numeric_limits<float>::infinity();
  for (const KernelTable* kt : available_tables())
    for (int64_t n : {1, 7, 15, 16, 17, 33, 100, 4099}) {
      std::vector<float> g(static_cast<size_t>(n)), u(static_cast<size_t>(n)), yw(size_t(n) + 1, -5.0f), yg = yw;
      for (int64_t i = 0; i < n; ++i) {
        // n = 4099: a sweep of g over [-105, 105] (every exp regime), else normal values.
        g[size_t(i)] = n == 4099 ? -105.0f + 210.0f * float(i) / float(n - 1) : nd(rng);
        u[size_t(i)] = nd(rng);
      }
      if (n >= 16) {
        g[0] = inf, g[1] = -inf, g[2] = std::numeric_limits<float>::quiet_NaN(), g[3] = 0.0f;
        g[4] = -0.0f, g[5] = 88.5f, g[6] = -88.5f, g[7] = 1e-30f;
      }
      reference_table().swiglu(g.data(), u.data(), yw.data(), n);
      kt->swiglu(g.data(), u.data(), yg.data(), n);
      ASSERT_EQ(yg[size_t(n)], -5.0f) << kt->name << " swiglu wrote past n=" << n;
      for (int64_t i = 0; i < n; ++i) {
        const float want = yw[size_t(i)], got = yg[size_t(i)];
        if (!std::isfinite(want)) {
          if (std::isnan(want)) ASSERT_TRUE(std::isnan(got)) << kt->name << " g " << g[size_t(i)];
          else ASSERT_EQ(got, want) << kt->name << " g " << g[size_t(i)];
          continue;
        }
        ASSERT_NEAR(got, want, 11.0 * kU * std::abs(double(want)) + 1e-30)
            << kt->name << " swiglu g " << g[size_t(i)] << " u " << u[size_t(i)];
      }
    }
}

// BF16 rows with subnormals (|x| < 2^-126), zeros, signed values around 1 and around 1e3.
TEST(Avx512Float, Bf16WeightsWithSubnormals) {
  std::mt19937 rng(28);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::uniform_int_distribution<int> kind(0, 9);
  auto row = [&](int64_t n) {
    std::vector<uint16_t> h(static_cast<size_t>(n));
    for (auto& v : h) {
      const int k = kind(rng);
      const float f = k == 0 ? std::ldexp(nd(rng), -130) : k == 1 ? 0.0f : k == 2 ? 1e3f * nd(rng) : nd(rng);
      v = f32_to_bf16(f);
    }
    return h;
  };
  for (const KernelTable* kt : available_tables())
    for (int64_t n : {1, 31, 32, 33, 63, 64, 65, 95, 200}) {
      const int64_t rows = 7, m = 9;
      std::vector<uint16_t> w, a;
      for (int64_t r = 0; r < rows; ++r) { auto x = row(n); w.insert(w.end(), x.begin(), x.end()); }
      for (int64_t r = 0; r < m; ++r) { auto x = row(n); a.insert(a.end(), x.begin(), x.end()); }
      std::vector<float> y(size_t(m * rows), -1.0f);
      const size_t rb = size_t(n) * 2;
      kt->gemm[int(DType::BF16)](n, w.data(), rb, 0, rows, a.data(), rb, m, y.data(), rows);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t r = 0; r < rows; ++r) {
          const uint16_t* wr = w.data() + r * n;
          const uint16_t* ar = a.data() + i * n;
          const float want = reference_table().vec_dot[int(DType::BF16)](n, wr, ar);
          double mag = 0;
          for (int64_t k = 0; k < n; ++k) mag += std::abs(double(bf16_to_f32(wr[k])) * bf16_to_f32(ar[k]));
          const double tol = (double(n) / 8 + 16) * kU * mag + 1e-30;
          ASSERT_NEAR(y[size_t(i * rows + r)], want, tol) << kt->name << " bf16 gemm n " << n;
          ASSERT_NEAR(kt->vec_dot[int(DType::BF16)](n, wr, ar), want, tol) << kt->name << " bf16 dot n " << n;
        }
    }
}

// ---- attention blocks (same checks and bounds as attention_kernels_test.cpp) ----------------

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
      if (j >= nk) {
        ASSERT_EQ(got[idx], -7.0f) << kt.name << " wrote past nk: r " << r << " j " << j;
        continue;
      }
      double mag = 0;
      for (int64_t i = 0; i < n; ++i) mag += std::abs(double(q[size_t(r * ldq + i)]) * k.at(j, i));
      ASSERT_NEAR(got[idx], want[idx], double(n + 2) * kU * mag + 1e-30)
          << kt.name << " scores rows " << rows << " nk " << nk << " n " << n << " r " << r << " j " << j;
    }
}

void check_pv(const KernelTable& kt, int64_t rows, int64_t nk, int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> ud(0.0f, 1.0f);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t ldp = nk + 2;
  std::vector<float> p(size_t(rows * ldp));
  for (auto& x : p) x = ud(rng) < 0.2f ? 0.0f : f16_to_f32(f32_to_f16(ud(rng) / float(nk)));
  const Rows v(nk, n, rng, 1.0f);
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

TEST(Avx512Float, AttentionScoresTiles) {
  std::mt19937 rng(24);
  for (const KernelTable* kt : available_tables())
    for (int64_t n : {16, 96, 130, 256})
      for (int64_t rows : {6, 11, 12, 23, 24, 25, 36})
        for (int64_t nk : {3, 16, 18, 48, 63, 64}) check_scores(*kt, rows, nk, n, rng);
}

TEST(Avx512Float, AttentionPvTiles) {
  std::mt19937 rng(25);
  for (const KernelTable* kt : available_tables())
    for (int64_t n : {16, 33, 48, 112, 120, 256, 300})
      for (int64_t rows : {3, 4, 5, 6, 9, 13, 18})
        for (int64_t nk : {1, 31, 33, 64, 65, 100}) check_pv(*kt, rows, nk, n, rng);
}

}  // namespace
}  // namespace hearth::kernels
