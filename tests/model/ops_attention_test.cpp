// ops::attention against a naive per-(token, head) reference: several sequences in one batch,
// GQA, sliding windows, sinks, soft-cap, decode and prefill tiles, every kernel table.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/fp16.h"
#include "core/thread_pool.h"
#include "engine/kv_cache.h"
#include "kernels/kernels.h"
#include "model/ops.h"

namespace hearth::model {
namespace {

struct Case {
  int n_head = 4, n_head_kv = 2, hd = 64;
  int32_t window = 0;
  float softcap = 0;
  bool sinks = false;
};

float r16(float x) { return f16_to_f32(f32_to_f16(x)); }

void run_case(const Case& c, const kernels::KernelTable& kt) {
  engine::KvCache::Shape shape;
  shape.n_head_kv = {c.n_head_kv};
  shape.head_dim_k = shape.head_dim_v = c.hd;
  engine::KvCache cache(shape, 512, 16);
  const int32_t s0 = cache.create_seq(), s1 = cache.create_seq();
  // Batch: seq0 positions 0..39 (prefill, several tiles), seq1 positions 0..4, then seq0 is
  // extended by a second batch of one decode token at position 40.
  Batch b;
  for (int32_t p = 0; p < 40; ++p) b.add(0, p, 0, true);
  for (int32_t p = 0; p < 5; ++p) b.add(0, p, 1, true);
  cache.extend(s0, 40);
  cache.extend(s1, 5);
  const int32_t seqs[2] = {s0, s1};
  KvView view;
  cache.fill_view(seqs, view);

  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int64_t m = int64_t(b.size());
  std::vector<float> q(size_t(m * c.n_head * c.hd)), k(size_t(m * c.n_head_kv * c.hd)),
      v(size_t(m * c.n_head_kv * c.hd)), out(size_t(m * c.n_head * c.hd));
  for (auto& x : q) x = nd(rng) * 0.5f;
  for (auto& x : k) x = nd(rng) * 0.5f;
  for (auto& x : v) x = nd(rng);
  std::vector<float> sinks(size_t(c.n_head));
  for (auto& x : sinks) x = nd(rng);

  ThreadPool pool(3);
  ForwardEnv env;
  env.pool = &pool;
  env.kernels = &kt;
  ops::Workspace ws;
  ops::kv_store(env, view, 0, b, k.data(), v.data());
  ops::AttentionParams ap;
  ap.scale = 1.0f / std::sqrt(float(c.hd));
  ap.window = c.window;
  ap.softcap = c.softcap;
  ap.sinks = c.sinks ? sinks.data() : nullptr;
  ops::attention(env, ws, view, 0, b, q.data(), c.n_head, ap, out.data());

  // Naive reference in double with llama.cpp's f16 roundings (cache, Q, P).
  const int group = c.n_head / c.n_head_kv;
  auto kv_row = [&](const std::vector<float>& src, int seq, int pos, int g, int d) {
    const int64_t t = seq == 0 ? pos : 40 + pos;
    return double(r16(src[size_t((t * c.n_head_kv + g) * c.hd + d)]));
  };
  for (int64_t t = 0; t < m; ++t) {
    const int seq = b.seq[size_t(t)], pos = b.pos[size_t(t)];
    const int lo = c.window > 0 ? std::max(0, pos - c.window + 1) : 0;
    for (int h = 0; h < c.n_head; ++h) {
      const int g = h / group;
      std::vector<double> s;
      double mx = c.sinks ? sinks[size_t(h)] : -INFINITY;
      for (int j = lo; j <= pos; ++j) {
        double dot = 0;
        for (int d = 0; d < c.hd; ++d)
          dot += double(r16(q[size_t((t * c.n_head + h) * c.hd + d)])) * kv_row(k, seq, j, g, d);
        double sc = dot * ap.scale;
        if (c.softcap > 0) sc = c.softcap * std::tanh(sc / c.softcap);
        s.push_back(sc);
        mx = std::max(mx, sc);
      }
      double sum = c.sinks ? std::exp(sinks[size_t(h)] - mx) : 0.0;
      for (double& x : s) sum += (x = std::exp(x - mx));
      for (int d = 0; d < c.hd; ++d) {
        double o = 0;
        for (int j = lo; j <= pos; ++j) o += double(r16(float(s[size_t(j - lo)] / sum))) * kv_row(v, seq, j, g, d);
        const float got = out[size_t((t * c.n_head + h) * c.hd + d)];
        ASSERT_NEAR(got, o, 2e-5 + 2e-4 * std::abs(o))
            << kt.name << " token " << t << " head " << h << " dim " << d;
      }
    }
  }
}

TEST(OpsAttention, MatchesNaiveReference) {
  for (const auto* kt : kernels::available_tables()) {
    run_case({}, *kt);
    run_case({8, 2, 64, 0, 0, false}, *kt);      // group of 4
    run_case({4, 4, 32, 7, 0, false}, *kt);      // sliding window, MHA
    run_case({4, 2, 64, 12, 0, true}, *kt);      // window + sinks (gpt-oss style)
    run_case({2, 1, 128, 0, 30.0f, false}, *kt); // soft-cap, MQA
  }
}

}  // namespace
}  // namespace hearth::model
