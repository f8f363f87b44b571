// ops::matmul's work split: every output row of every product in a region computed, for decode
// batches (products cut into chunks that threads take and steal) and prefill batches (one share
// per thread), against one reference-table call over all rows, at several thread counts and
// product sizes (a product smaller than one chunk, one of ~1.1 MB, several in one region).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "model/ops.h"
#include "quant/quant.h"

namespace hearth::model {
namespace {

struct Product {
  std::vector<uint8_t> data;
  Weight w;
};

Product make_product(int64_t n_in, int64_t n_out, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Product p;
  const DType t = DType::Q8_0;
  const size_t rb = row_bytes(t, n_in);
  p.data.resize(rb * size_t(n_out));
  std::vector<float> row(static_cast<size_t>(n_in));
  for (int64_t r = 0; r < n_out; ++r) {
    for (auto& x : row) x = nd(rng);
    quant::quantize_row(t, row.data(), p.data.data() + size_t(r) * rb, n_in);
  }
  p.w.type = t;
  p.w.ne[0] = n_in;
  p.w.ne[1] = n_out;
  p.w.data = p.data.data();
  p.w.row_bytes = rb;
  return p;
}

// n_outs: the output rows of each product of the region (input width 256, Q8_0).
void check_region(const std::vector<int64_t>& n_outs, int64_t m, int threads) {
  const int64_t n_in = 256;
  std::mt19937 rng(11);
  std::vector<Product> ps;
  for (int64_t n : n_outs) ps.push_back(make_product(n_in, n, rng));
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(size_t(m * n_in));
  for (auto& v : x) v = nd(rng);

  const kernels::KernelTable& kt = kernels::active_table();
  ThreadPool pool(threads);
  ForwardEnv env;
  env.pool = &pool;
  env.kernels = &kt;
  ops::Workspace ws;
  const ops::QuantizedActs& xq = ops::quantize(env, ws, DType::Q8_0, x.data(), m, n_in);
  std::vector<std::vector<float>> y(ps.size());
  std::vector<ops::MatmulOut> outs;
  for (size_t i = 0; i < ps.size(); ++i) {
    y[i].assign(size_t(m * n_outs[i]), NAN);  // a row nobody computes stays NaN
    outs.push_back({&ps[i].w, y[i].data()});
  }
  switch (outs.size()) {
    case 1: ops::matmul(env, {outs[0]}, xq); break;
    case 2: ops::matmul(env, {outs[0], outs[1]}, xq); break;
    default: ops::matmul(env, {outs[0], outs[1], outs[2]}, xq); break;
  }

  const kernels::KernelTable& ref = kernels::reference_table();
  for (size_t i = 0; i < ps.size(); ++i) {
    const int64_t n = n_outs[i];
    std::vector<float> want(size_t(m * n));
    ref.gemm[int(DType::Q8_0)](n_in, ps[i].w.data, ps[i].w.row_bytes, 0, n, xq.data.data(),
                               xq.row_bytes, m, want.data(), n);
    for (int64_t t = 0; t < m; ++t)
      for (int64_t r = 0; r < n; ++r) {
        const float a = y[i][size_t(t * n + r)], b = want[size_t(t * n + r)];
        ASSERT_NEAR(a, b, 1e-4f * (1.0f + std::fabs(b)))
            << "product " << i << " (" << n << " rows), token " << t << ", row " << r << ", m " << m
            << ", " << threads << " threads";
      }
  }
}

TEST(OpsMatmul, EveryRowOfEveryProductDecode) {
  for (int threads : {1, 2, 3})
    for (int64_t m : {1, 3}) {
      check_region({4104}, m, threads);
      check_region({8}, m, threads);
      check_region({2048, 24, 1000}, m, threads);
      check_region({16, 4096}, m, threads);
    }
}

TEST(OpsMatmul, EveryRowOfEveryProductPrefill) {
  for (int threads : {2, 3}) check_region({2048, 24, 1000}, 20, threads);
}

}  // namespace
}  // namespace hearth::model
