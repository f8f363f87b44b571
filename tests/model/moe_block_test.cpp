// The MoE FFN block (model/blocks/moe.cpp) against a direct per-token computation: routing
// (softmax / softmax-weight gating, top-k, renormalization), per-expert biases and scales,
// both activations, weight types whose activations are quantized, every thread count, decode
// and prefill batches, and heavily skewed routing. Also checks that a forward pass never
// touches the weights of experts no token selected (their pages are made unreadable).
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "model/blocks/moe.h"
#include "quant/quant.h"

namespace hearth::model::blocks {
namespace {

// Expert weights in their own page-aligned mapping so tests can revoke access to experts.
struct ExpertTensor {
  Weight w;
  uint8_t* base = nullptr;
  size_t slab = 0, total = 0;  // bytes per expert (page multiple), mapping size

  ExpertTensor(DType type, int64_t n_in, int64_t n_out, int n_expert, float stdv, uint32_t seed) {
    const size_t rb = row_bytes(type, n_in);
    const size_t page = size_t(::sysconf(_SC_PAGESIZE));
    const size_t bytes = rb * size_t(n_out);
    if (bytes % page != 0) throw std::runtime_error("test shapes must give page-sized experts");
    slab = bytes;
    total = slab * size_t(n_expert);
    base = static_cast<uint8_t*>(
        ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, stdv);
    std::vector<float> row(static_cast<size_t>(n_in));
    for (int64_t r = 0; r < n_out * n_expert; ++r) {
      for (auto& v : row) v = nd(rng);
      if (type == DType::F32) std::memcpy(base + size_t(r) * rb, row.data(), rb);
      else quant::quantize_row(type, row.data(), base + size_t(r) * rb, n_in);
    }
    w.type = type;
    w.ne[0] = n_in;
    w.ne[1] = n_out;
    w.ne[2] = n_expert;
    w.data = base;
    w.row_bytes = rb;
  }
  ~ExpertTensor() { ::munmap(base, total); }
  void protect(int e, bool readable) const {
    ::mprotect(base + size_t(e) * slab, slab, readable ? PROT_READ | PROT_WRITE : PROT_NONE);
  }
  const uint8_t* row(int e, int64_t r) const { return base + size_t(e) * slab + size_t(r) * w.row_bytes; }
};

std::vector<float> randn(size_t n, float stdv, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, stdv);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

struct MoeCase {
  int64_t n_embd = 256, n_ff = 256;  // F32: 256 KiB per expert (page multiple)
  int n_expert = 8, k = 3;
  DType type = DType::F32;
  MoeGating gating = MoeGating::kSoftmax;
  MoeActivation act = MoeActivation::kSilu;
  bool norm_w = true, biases = false, scales = false;
  float w_scale = 0.0f;
  float router_bias_boost = 0.0f;  // > 0: experts 2 and 5 win for every token
};

class MoeFixture {
 public:
  explicit MoeFixture(const MoeCase& s)
      : s_(s),
        router_(randn(size_t(s.n_embd * s.n_expert), 1.5f / std::sqrt(float(s.n_embd)), 11)),
        gate_(s.type, s.n_embd, s.n_ff, s.n_expert, 3.0f / std::sqrt(float(s.n_embd)), 12),
        up_(s.type, s.n_embd, s.n_ff, s.n_expert, 3.0f / std::sqrt(float(s.n_embd)), 13),
        down_(s.type, s.n_ff, s.n_embd, s.n_expert, 1.0f / std::sqrt(float(s.n_ff)), 14) {
    l_.norm.assign(size_t(s.n_embd), 1.0f);
    l_.gate_inp.type = DType::F32;
    l_.gate_inp.ne[0] = s.n_embd;
    l_.gate_inp.ne[1] = s.n_expert;
    l_.gate_inp.data = reinterpret_cast<const uint8_t*>(router_.data());
    l_.gate_inp.row_bytes = size_t(s.n_embd) * 4;
    l_.gate_exps = gate_.w;
    l_.up_exps = up_.w;
    l_.down_exps = down_.w;
    l_.n_expert = s.n_expert;
    l_.n_expert_used = s.k;
    l_.n_ff_exp = int32_t(s.n_ff);
    l_.gating = s.gating;
    l_.act = s.act;
    l_.norm_w = s.norm_w;
    l_.w_scale = s.w_scale;
    if (s.biases) {
      l_.gate_inp_b = randn(size_t(s.n_expert), 0.5f, 21);
      l_.gate_b = randn(size_t(s.n_expert * s.n_ff), 0.5f, 22);
      l_.up_b = randn(size_t(s.n_expert * s.n_ff), 0.5f, 23);
      l_.down_b = randn(size_t(s.n_expert * s.n_embd), 0.1f, 24);
    }
    if (s.router_bias_boost > 0.0f) {
      l_.gate_inp_b.assign(size_t(s.n_expert), 0.0f);
      l_.gate_inp_b[2] = l_.gate_inp_b[5] = s.router_bias_boost;
    }
    if (s.scales) {
      for (int e = 0; e < s.n_expert; ++e) {
        l_.gate_s.push_back(0.5f + 0.1f * float(e));
        l_.up_s.push_back(1.5f - 0.1f * float(e));
        l_.down_s.push_back(0.8f + 0.05f * float(e));
      }
    }
  }

  // Switches the expert weights to the table's repacked layout for their type (as
  // Model::repack_weights does at load), if the table has one; returns whether it did.
  bool repack(const kernels::KernelTable& kt) {
    const int t = int(s_.type);
    if (!kt.repack[t] || !kt.gemm_repacked[t]) return false;
    const int64_t group = kt.repack_rows[t];
    bool any = false;
    for (auto [src, dst] : {std::pair{&gate_, &l_.gate_exps}, std::pair{&up_, &l_.up_exps},
                            std::pair{&down_, &l_.down_exps}}) {
      if (group <= 0 || src->w.ne[1] % group != 0) continue;
      const int64_t rows = src->w.ne[1] * src->w.ne[2];
      auto& buf = repacked_.emplace_back(size_t(rows) * src->w.row_bytes + 64);
      kt.repack[t](src->base, buf.data(), rows, src->w.ne[0]);
      dst->data = buf.data();
      dst->repacked = true;
      any = true;
    }
    return any;
  }

  const MoeLayer& layer() const { return l_; }
  const ExpertTensor& gate() const { return gate_; }
  const ExpertTensor& up() const { return up_; }
  const ExpertTensor& down() const { return down_; }

  // Runs moe_ffn on x [m, n_embd] (the residual) and returns x + moe(x).
  std::vector<float> run(const std::vector<float>& x, int64_t m, int threads,
                         const kernels::KernelTable& kt, std::vector<uint64_t>* counts) {
    ThreadPool pool(threads);
    ForwardEnv env;
    env.pool = &pool;
    env.kernels = &kt;
    ops::Workspace ws;
    Buffers buf;
    Batch batch;
    for (int64_t t = 0; t < m; ++t) batch.add(0, int32_t(t), 0, true);
    KvView kv;
    Ctx c{env, ws, buf, batch, kv};
    buf.x.assign(x.begin(), x.begin() + m * s_.n_embd);
    MoeBuffers mb;
    moe_ffn(c, l_, mb, 0, 1e-6f, counts);
    return std::vector<float>(buf.x.begin(), buf.x.begin() + m * s_.n_embd);
  }

  // Direct computation for one token: route in double, then every selected expert with the
  // kernel table's vec_dot on activations quantized exactly as the engine's format requires.
  std::vector<float> reference(const float* x, const kernels::KernelTable& kt,
                               std::vector<int>* selected) const {
    const int64_t n = s_.n_embd, f = s_.n_ff;
    // RMS norm (weights 1).
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
    const double inv = 1.0 / std::sqrt(ss / double(n) + 1e-6);
    std::vector<float> xn(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) xn[size_t(i)] = float(x[i] * inv);
    std::vector<double> logits(size_t(s_.n_expert));
    for (int e = 0; e < s_.n_expert; ++e) {
      double d = 0;
      for (int64_t i = 0; i < n; ++i) d += double(router_[size_t(e * n + i)]) * xn[size_t(i)];
      logits[size_t(e)] = d + (l_.gate_inp_b.empty() ? 0.0 : l_.gate_inp_b[size_t(e)]);
    }
    std::vector<double> score = logits;
    if (s_.gating == MoeGating::kSoftmax) {
      const double mx = *std::max_element(logits.begin(), logits.end());
      double sum = 0;
      for (auto& v : score) sum += (v = std::exp(v - mx));
      for (auto& v : score) v /= sum;
    }
    std::vector<int> order(size_t(s_.n_expert));
    for (int e = 0; e < s_.n_expert; ++e) order[size_t(e)] = e;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[size_t(a)] > score[size_t(b)]; });
    order.resize(size_t(s_.k));
    std::vector<double> w;
    for (int e : order) w.push_back(score[size_t(e)]);
    if (s_.gating == MoeGating::kSoftmaxWeight) {
      const double mx = *std::max_element(w.begin(), w.end());
      double sum = 0;
      for (auto& v : w) sum += (v = std::exp(v - mx));
      for (auto& v : w) v /= sum;
    }
    if (s_.norm_w) {
      double sum = 0;
      for (double v : w) sum += v;
      for (auto& v : w) v /= sum;
    }
    if (s_.w_scale != 0.0f) for (auto& v : w) v *= s_.w_scale;
    if (selected) *selected = order;

    auto quantized = [&](const float* v, int64_t len) {
      const DType at = kernels::act_type(s_.type);
      std::vector<uint8_t> q(row_bytes(at, len));
      kt.quantize_act[int(at)](v, q.data(), len);
      return q;
    };
    const auto xq = quantized(xn.data(), n);
    std::vector<double> out(static_cast<size_t>(n), 0.0);
    for (int j = 0; j < s_.k; ++j) {
      const int e = order[size_t(j)];
      std::vector<float> h(static_cast<size_t>(f));
      for (int64_t r = 0; r < f; ++r) {
        double g = kt.vec_dot[int(s_.type)](n, gate_.row(e, r), xq.data());
        double u = kt.vec_dot[int(s_.type)](n, up_.row(e, r), xq.data());
        if (!l_.gate_b.empty()) g += l_.gate_b[size_t(e * f + r)];
        if (!l_.up_b.empty()) u += l_.up_b[size_t(e * f + r)];
        if (!l_.gate_s.empty()) g *= l_.gate_s[size_t(e)];
        if (!l_.up_s.empty()) u *= l_.up_s[size_t(e)];
        if (s_.act == MoeActivation::kSilu) {
          h[size_t(r)] = float(g / (1.0 + std::exp(-g)) * u);
        } else {
          const double gc = std::min(g, 7.0), uc = std::clamp(u, -7.0, 7.0);
          h[size_t(r)] = float(gc / (1.0 + std::exp(-1.702 * gc)) * (uc + 1.0));
        }
      }
      const auto hq = quantized(h.data(), f);
      for (int64_t r = 0; r < n; ++r) {
        double d = kt.vec_dot[int(s_.type)](f, down_.row(e, r), hq.data());
        if (!l_.down_b.empty()) d += l_.down_b[size_t(e * n + r)];
        if (!l_.down_s.empty()) d *= l_.down_s[size_t(e)];
        out[size_t(r)] += w[size_t(j)] * d;
      }
    }
    std::vector<float> y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) y[size_t(i)] = float(x[i] + out[size_t(i)]);
    return y;
  }

 private:
  MoeCase s_;
  std::vector<float> router_;
  ExpertTensor gate_, up_, down_;
  MoeLayer l_;
  std::vector<std::vector<uint8_t>> repacked_;
};

// Largest |a - b| relative to the largest |b| of the row.
double max_rel_err(const float* a, const float* b, int64_t n) {
  double mx = 0, scale = 1e-6;
  for (int64_t i = 0; i < n; ++i) {
    mx = std::max(mx, double(std::fabs(a[i] - b[i])));
    scale = std::max(scale, double(std::fabs(b[i])));
  }
  return mx / scale;
}

// Runs the block for m tokens on every table and thread count and compares each token with
// the direct computation. `tol` covers summation order (and, for quantized activations,
// rounding flips of single activations between the two paths).
void check(const MoeCase& s, int64_t m, double tol) {
  MoeFixture fx(s);
  const auto x = randn(size_t(m * s.n_embd), 1.0f, 99);
  for (const kernels::KernelTable* kt : kernels::available_tables()) {
    std::vector<std::vector<float>> ref;
    std::vector<uint64_t> want_counts(size_t(s.n_expert), 0);
    for (int64_t t = 0; t < m; ++t) {
      std::vector<int> sel;
      ref.push_back(fx.reference(x.data() + t * s.n_embd, *kt, &sel));
      for (int e : sel) want_counts[size_t(e)]++;
    }
    for (int threads : {1, 3}) {
      std::vector<uint64_t> counts(size_t(s.n_expert), 0);
      const auto y = fx.run(x, m, threads, *kt, &counts);
      for (int64_t t = 0; t < m; ++t)
        ASSERT_LT(max_rel_err(y.data() + t * s.n_embd, ref[size_t(t)].data(), s.n_embd), tol)
            << kt->name << " threads " << threads << " token " << t << " of " << m;
      EXPECT_EQ(counts, want_counts) << kt->name << " threads " << threads;
    }
    // The same through the table's repacked expert layout, where it has one.
    MoeFixture packed(s);
    if (packed.repack(*kt)) {
      const auto y = packed.run(x, m, 2, *kt, nullptr);
      for (int64_t t = 0; t < m; ++t)
        ASSERT_LT(max_rel_err(y.data() + t * s.n_embd, ref[size_t(t)].data(), s.n_embd), tol)
            << kt->name << " repacked, token " << t << " of " << m;
    }
  }
}

TEST(MoeBlock, Qwen3StyleRoutingDecodeAndPrefill) {
  MoeCase s;  // softmax over all experts, top-3, renormalized, SiLU
  check(s, 1, 1e-5);
  check(s, 29, 1e-5);
}

TEST(MoeBlock, GptOssStyleRoutingWithBiasesScalesAndClamp) {
  MoeCase s;
  s.gating = MoeGating::kSoftmaxWeight;
  s.act = MoeActivation::kSwigluOai;
  s.norm_w = false;
  s.biases = true;
  s.scales = true;
  s.k = 4;
  check(s, 1, 1e-5);
  check(s, 17, 1e-5);
}

TEST(MoeBlock, WeightScaleAndNoRenormalization) {
  MoeCase s;
  s.norm_w = false;
  s.w_scale = 2.5f;
  check(s, 5, 1e-5);
}

TEST(MoeBlock, SkewedRoutingSplitsOneExpertAcrossThreads) {
  MoeCase s;
  s.k = 2;
  s.router_bias_boost = 50.0f;  // every token picks experts 2 and 5
  MoeFixture fx(s);
  const int64_t m = 64;
  const auto x = randn(size_t(m * s.n_embd), 1.0f, 5);
  std::vector<uint64_t> counts(size_t(s.n_expert), 0);
  const auto y = fx.run(x, m, 3, kernels::active_table(), &counts);
  EXPECT_EQ(counts[2], uint64_t(m));
  EXPECT_EQ(counts[5], uint64_t(m));
  for (int64_t t = 0; t < m; ++t) {
    const auto ref = fx.reference(x.data() + t * s.n_embd, kernels::active_table(), nullptr);
    ASSERT_LT(max_rel_err(y.data() + t * s.n_embd, ref.data(), s.n_embd), 1e-5) << "token " << t;
  }
}

// Quantized experts: activations are quantized (Q8_0 for Q8_0/MXFP4, Q8_K for Q4_K) by both
// paths from values that differ only in float summation order, so a rare rounding flip of one
// int8 activation is possible; 2e-3 of the row's scale bounds that comfortably.
TEST(MoeBlock, QuantizedExperts) {
  for (DType t : {DType::Q8_0, DType::MXFP4, DType::Q4_K}) {
    MoeCase s;
    s.type = t;
    s.n_embd = 512;  // rows of 512: every type's expert is a whole number of pages
    s.n_ff = 512;
    check(s, 1, 2e-3);
    check(s, 7, 2e-3);
  }
}

TEST(MoeBlock, DecodeAndPrefillReadOnlySelectedExperts) {
  MoeCase s;
  s.k = 2;
  MoeFixture fx(s);
  for (int64_t m : {1, 3}) {
    const auto x = randn(size_t(m * s.n_embd), 1.0f, 7 + uint32_t(m));
    std::vector<uint64_t> counts(size_t(s.n_expert), 0);
    const auto want = fx.run(x, m, 2, kernels::active_table(), &counts);
    int unused = 0;
    for (int e = 0; e < s.n_expert; ++e) {
      if (counts[size_t(e)] != 0) continue;
      ++unused;
      fx.gate().protect(e, false);  // any read of these pages now faults
      fx.up().protect(e, false);
      fx.down().protect(e, false);
    }
    ASSERT_GT(unused, 0) << "the routing should leave some experts unused";
    std::vector<uint64_t> counts2(size_t(s.n_expert), 0);
    const auto got = fx.run(x, m, 2, kernels::active_table(), &counts2);
    EXPECT_EQ(got, want);
    for (int e = 0; e < s.n_expert; ++e) {
      fx.gate().protect(e, true);
      fx.up().protect(e, true);
      fx.down().protect(e, true);
    }
  }
}

}  // namespace
}  // namespace hearth::model::blocks
