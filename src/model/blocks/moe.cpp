// Mixture-of-experts FFN: routing as llama.cpp's build_moe_ffn (softmax / softmax-weight
// gating, top-k, optional renormalization and scale), expert execution grouped by expert so
// each selected expert's weights stream from memory once per batch.
#include "model/blocks/moe.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/error.h"
#include "core/thread_pool.h"
#include "gguf/gguf.h"
#include "kernels/kernels.h"

namespace hearth::model::blocks {
namespace {

template <typename T>
void grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// Cost of streaming one weight row, in units of one row x token dot product. Decode (one token
// per expert) is pure streaming; prefill is dominated by the tokens term.
constexpr int64_t kRowCost = 2;

// Calls fn(e, r0, r1) for every expert e with tokens and contiguous ranges of its `rows` weight
// rows (multiples of `tile`), cut into shares of equal Σ_e tiles x (tokens_e + kRowCost): experts
// with many tokens are split across threads, experts with one token are packed together, and no
// thread idles while another holds a whole expert. Shares go through ThreadPool::for_each_chunk
// (each thread its own run of shares first, then what another has left); decode-sized batches
// (ops::kDecodeRows) get ops::kDecodeChunksPerThread shares per thread, so a slower core takes
// fewer.
template <typename Fn>
void for_expert_tiles(const ForwardEnv& env, const std::vector<int32_t>& off, int n_expert,
                      int64_t m, int64_t rows, int64_t tile, Fn&& fn) {
  const int64_t n_tiles = (rows + tile - 1) / tile;
  int64_t total = 0;
  for (int e = 0; e < n_expert; ++e) {
    const int64_t n_e = off[size_t(e) + 1] - off[size_t(e)];
    if (n_e > 0) total += n_tiles * (n_e + kRowCost);
  }
  const int64_t n_parts = int64_t(env.pool->size()) * (m <= ops::kDecodeRows ? ops::kDecodeChunksPerThread : 1);
  env.pool->for_each_chunk(n_parts, [&](int64_t part, int) {
    const int64_t a = total * part / n_parts, b = total * (part + 1) / n_parts;
    int64_t base = 0;
    for (int e = 0; e < n_expert && base < b; ++e) {
      const int64_t n_e = off[size_t(e) + 1] - off[size_t(e)];
      if (n_e == 0) continue;
      const int64_t u = n_e + kRowCost, span = n_tiles * u;
      if (base + span > a) {
        // Tile t starts at cost base + t*u; this thread owns the tiles starting in [a, b).
        const int64_t t0 = a <= base ? 0 : (a - base + u - 1) / u;
        const int64_t t1 = std::min(n_tiles, (b - base + u - 1) / u);
        if (t0 < t1) fn(e, std::min(rows, t0 * tile), std::min(rows, t1 * tile));
      }
      base += span;
    }
  });
}

kernels::GemmFn gemm_for(const ForwardEnv& env, const Weight& w) {
  const auto g = w.repacked ? env.kernels->gemm_repacked[int(w.type)] : env.kernels->gemm[int(w.type)];
  if (!g) fail("no matrix multiplication kernel for ", dtype_name(w.type));
  return g;
}

int64_t row_tile(const ForwardEnv& env, const Weight& w) {
  return w.repacked ? std::max<int64_t>(8, env.kernels->repack_rows[int(w.type)]) : 8;
}

// Expert e's matrix inside a 3-D expert tensor.
const uint8_t* expert_data(const Weight& w, int e) {
  return w.data + size_t(e) * size_t(w.n_out()) * w.row_bytes;
}

// probs/weights of one token (llama.cpp build_moe_ffn order): gating, top-k, weight softmax
// (softmax-weight gating), renormalization, scale. idx is scratch of n_expert ints.
void route_token(const MoeLayer& l, const float* logits, float* probs, int32_t* sel, float* w,
                 int32_t* idx) {
  const int n = l.n_expert, k = l.n_expert_used;
  if (l.gating == MoeGating::kSoftmax) {
    float mx = -INFINITY;
    for (int e = 0; e < n; ++e) mx = std::max(mx, logits[e]);
    double sum = 0.0;
    for (int e = 0; e < n; ++e) {
      probs[e] = std::exp(logits[e] - mx);
      sum += probs[e];
    }
    const float inv = float(1.0 / sum);
    for (int e = 0; e < n; ++e) probs[e] *= inv;
  } else {
    std::memcpy(probs, logits, sizeof(float) * size_t(n));
  }
  // Top-k, best first; NaN ranks last so the order stays a strict weak ordering.
  auto key = [&](int32_t e) { return std::isnan(probs[e]) ? -INFINITY : probs[e]; };
  std::iota(idx, idx + n, 0);
  std::partial_sort(idx, idx + k, idx + n, [&](int32_t a, int32_t b) {
    const float ka = key(a), kb = key(b);
    return ka > kb || (ka == kb && a < b);
  });
  for (int j = 0; j < k; ++j) {
    sel[j] = idx[j];
    w[j] = probs[idx[j]];
  }
  if (l.gating == MoeGating::kSoftmaxWeight) {
    float mx = -INFINITY;
    for (int j = 0; j < k; ++j) mx = std::max(mx, w[j]);
    double sum = 0.0;
    for (int j = 0; j < k; ++j) {
      w[j] = std::exp(w[j] - mx);
      sum += w[j];
    }
    const float inv = float(1.0 / sum);
    for (int j = 0; j < k; ++j) w[j] *= inv;
  }
  if (l.norm_w) {
    float sum = 0.0f;
    for (int j = 0; j < k; ++j) sum += w[j];
    sum = std::max(sum, 6.103515625e-5f);  // llama.cpp clamps to the smallest normal f16
    for (int j = 0; j < k; ++j) w[j] /= sum;
  }
  if (l.w_scale != 0.0f && l.w_scale != 1.0f)
    for (int j = 0; j < k; ++j) w[j] *= l.w_scale;
}

// o = d * w and o += d * w (the product rounded, then the sum: llama.cpp's mul then add), in
// blocks of 8 the compiler turns into vector code.
void scale_row(float* __restrict o, const float* __restrict d, float w, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) o[i + k] = d[i + k] * w;
  for (; i < n; ++i) o[i] = d[i] * w;
}
void add_scaled_row(float* __restrict o, const float* __restrict d, float w, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) o[i + k] = o[i + k] + d[i + k] * w;
  for (; i < n; ++i) o[i] = o[i] + d[i] * w;
}

// g [rows] becomes the activation of (g, u) in place.
void activate(MoeActivation act, const kernels::KernelTable& kt, float* g, const float* u,
              int64_t n) {
  if (act == MoeActivation::kSilu) {
    kt.swiglu(g, u, g, n);
    return;
  }
  constexpr float kAlpha = 1.702f, kLimit = 7.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float x = std::min(g[i], kLimit);
    const float y = std::clamp(u[i], -kLimit, kLimit);
    g[i] = x / (1.0f + std::exp(kAlpha * -x)) * (y + 1.0f);
  }
}

}  // namespace

void moe_ffn(Ctx& c, const MoeLayer& l, MoeBuffers& mb, int il, float eps,
             std::vector<uint64_t>* counts) {
  const ForwardEnv& env = c.env;
  const kernels::KernelTable& kt = *env.kernels;
  const int64_t m = c.n_tokens();
  const int64_t n_embd = l.gate_inp.n_in();
  const int n_exp = l.n_expert, k = l.n_expert_used;
  const int64_t n_ff = l.n_ff_exp;
  const int64_t n_rows = m * k;  // (token, slot) pairs
  Buffers& b = c.buf;
  grow(b.cur, size_t(m * n_embd));
  grow(b.out, size_t(m * n_embd));

  ops::rmsnorm(env, b.x.data(), l.norm, b.cur.data(), m, n_embd, eps);
  c.trace(l.norm_name, il, b.cur.data(), m, n_embd);

  // Router: logits [m, n_expert] (+ bias), then per-token gating and top-k.
  grow(mb.logits, size_t(m * n_exp));
  grow(mb.probs, size_t(m * n_exp));
  grow(mb.sel, size_t(n_rows));
  grow(mb.wts, size_t(n_rows));
  ops::matmul(env, c.ws, l.gate_inp, b.cur.data(), m, mb.logits.data());
  ops::add_bias(l.gate_inp_b, mb.logits.data(), m, n_exp);
  c.trace("ffn_moe_logits", il, mb.logits.data(), m, n_exp);
  const int nth = env.pool->size();
  grow(mb.scratch, size_t(n_exp) * size_t(nth));
  auto route = [&](int64_t t0, int64_t t1, int ith) {
    int32_t* idx = mb.scratch.data() + size_t(ith) * size_t(n_exp);
    for (int64_t t = t0; t < t1; ++t)
      route_token(l, mb.logits.data() + t * n_exp, mb.probs.data() + t * n_exp,
                  mb.sel.data() + t * k, mb.wts.data() + t * k, idx);
  };
  if (m < 8) route(0, m, 0);
  else env.pool->parallel_for(m, route);
  if (env.trace) {
    if (l.gating == MoeGating::kSoftmax) c.trace("ffn_moe_probs", il, mb.probs.data(), m, n_exp);
    std::vector<float> topk(mb.sel.begin(), mb.sel.begin() + n_rows);
    c.trace("ffn_moe_topk", il, topk.data(), m, k);
    c.trace("ffn_moe_weights", il, mb.wts.data(), m, k);
  }

  // Group the (token, slot) pairs by expert (stable: tokens stay in batch order per expert).
  grow(mb.off, size_t(n_exp) + 1);
  grow(mb.row_tok, size_t(n_rows));
  grow(mb.slot_row, size_t(n_rows));
  std::fill(mb.off.begin(), mb.off.begin() + n_exp + 1, 0);
  for (int64_t i = 0; i < n_rows; ++i) mb.off[size_t(mb.sel[size_t(i)]) + 1]++;
  if (counts)
    for (int e = 0; e < n_exp; ++e) (*counts)[size_t(e)] += uint64_t(mb.off[size_t(e) + 1]);
  for (int e = 0; e < n_exp; ++e) mb.off[size_t(e) + 1] += mb.off[size_t(e)];
  {
    int32_t* cursor = mb.scratch.data();  // routing is done with the scratch
    std::copy(mb.off.begin(), mb.off.begin() + n_exp, cursor);
    for (int64_t i = 0; i < n_rows; ++i) {
      const int32_t g = cursor[mb.sel[size_t(i)]]++;
      mb.row_tok[size_t(g)] = int32_t(i / k);
      mb.slot_row[size_t(i)] = g;
    }
  }

  // Activations of the routed rows in grouped order, quantized once per token for gate and up.
  const DType act_gate = kernels::act_type(l.gate_exps.type);
  const DType act_up = kernels::act_type(l.up_exps.type);
  const size_t rb_gate = row_bytes(act_gate, n_embd), rb_up = row_bytes(act_up, n_embd);
  grow(mb.xq, size_t(n_rows) * (rb_gate + (act_up == act_gate ? 0 : rb_up)));
  uint8_t* xq_gate = mb.xq.data();
  uint8_t* xq_up = act_up == act_gate ? xq_gate : xq_gate + size_t(n_rows) * rb_gate;
  auto gather = [&](DType wt, uint8_t* dst, size_t rb) {
    const ops::QuantizedActs& q = ops::quantize(env, c.ws, wt, b.cur.data(), m, n_embd);
    for (int64_t g = 0; g < n_rows; ++g)
      std::memcpy(dst + size_t(g) * rb, q.data.data() + size_t(mb.row_tok[size_t(g)]) * rb, rb);
  };
  gather(l.gate_exps.type, xq_gate, rb_gate);
  if (act_up != act_gate) gather(l.up_exps.type, xq_up, rb_up);

  // Gate and up projections, biases, scales and the activation, per (expert, row range).
  grow(mb.gate, size_t(n_rows * n_ff));
  grow(mb.up, size_t(n_rows * n_ff));
  const kernels::GemmFn gemm_gate = gemm_for(env, l.gate_exps), gemm_up = gemm_for(env, l.up_exps);
  const int64_t tile_gu = std::lcm(row_tile(env, l.gate_exps), row_tile(env, l.up_exps));
  for_expert_tiles(env, mb.off, n_exp, m, n_ff, tile_gu, [&](int e, int64_t r0, int64_t r1) {
    const int64_t g0 = mb.off[size_t(e)], n_e = mb.off[size_t(e) + 1] - g0;
    float* yg = mb.gate.data() + g0 * n_ff;
    float* yu = mb.up.data() + g0 * n_ff;
    gemm_gate(n_embd, expert_data(l.gate_exps, e), l.gate_exps.row_bytes, r0, r1,
              xq_gate + size_t(g0) * rb_gate, rb_gate, n_e, yg, n_ff);
    gemm_up(n_embd, expert_data(l.up_exps, e), l.up_exps.row_bytes, r0, r1,
            xq_up + size_t(g0) * rb_up, rb_up, n_e, yu, n_ff);
    const float* gb = l.gate_b.empty() ? nullptr : l.gate_b.data() + e * n_ff;
    const float* ub = l.up_b.empty() ? nullptr : l.up_b.data() + e * n_ff;
    const float gs = l.gate_s.empty() ? 1.0f : l.gate_s[size_t(e)];
    const float us = l.up_s.empty() ? 1.0f : l.up_s[size_t(e)];
    for (int64_t i = 0; i < n_e; ++i) {
      float* g = yg + i * n_ff;
      float* u = yu + i * n_ff;
      for (int64_t r = r0; r < r1; ++r) {
        if (ub) u[r] += ub[r];
        if (us != 1.0f) u[r] *= us;
        if (gb) g[r] += gb[r];
        if (gs != 1.0f) g[r] *= gs;
      }
      activate(l.act, kt, g + r0, u + r0, r1 - r0);
    }
  });

  // Down projection of every routed row.
  const DType act_down = kernels::act_type(l.down_exps.type);
  const size_t rb_down = row_bytes(act_down, n_ff);
  grow(mb.hq, size_t(n_rows) * rb_down);
  const auto quant_down = kt.quantize_act[int(act_down)];
  if (!quant_down) fail("no activation quantizer for ", dtype_name(act_down));
  auto quantize_rows = [&](int64_t g0, int64_t g1, int) {
    for (int64_t g = g0; g < g1; ++g)
      quant_down(mb.gate.data() + g * n_ff, mb.hq.data() + size_t(g) * rb_down, n_ff);
  };
  // Decode quantizes k short rows: cheaper than waking the pool.
  if (n_rows * n_ff < (int64_t(1) << 16)) quantize_rows(0, n_rows, 0);
  else env.pool->parallel_for(n_rows, quantize_rows);
  grow(mb.down, size_t(n_rows * n_embd));
  const kernels::GemmFn gemm_down = gemm_for(env, l.down_exps);
  for_expert_tiles(env, mb.off, n_exp, m, n_embd, row_tile(env, l.down_exps),
                   [&](int e, int64_t r0, int64_t r1) {
    const int64_t g0 = mb.off[size_t(e)], n_e = mb.off[size_t(e) + 1] - g0;
    gemm_down(n_ff, expert_data(l.down_exps, e), l.down_exps.row_bytes, r0, r1,
              mb.hq.data() + size_t(g0) * rb_down, rb_down, n_e, mb.down.data() + g0 * n_embd,
              n_embd);
  });

  // out[t] = Σ_j w_j · ((down + b) · s) in slot order, as llama.cpp adds the expert views.
  auto combine = [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      float* o = b.out.data() + t * n_embd;
      for (int j = 0; j < k; ++j) {
        const int32_t e = mb.sel[size_t(t * k + j)];
        const float w = mb.wts[size_t(t * k + j)];
        const float* d = mb.down.data() + int64_t(mb.slot_row[size_t(t * k + j)]) * n_embd;
        const float* db = l.down_b.empty() ? nullptr : l.down_b.data() + int64_t(e) * n_embd;
        const float s = l.down_s.empty() ? 1.0f : l.down_s[size_t(e)];
        if (!db && s == 1.0f) {  // the common case, as branch-free loops (15 -> ~2 us per layer)
          if (j == 0) scale_row(o, d, w, n_embd);
          else add_scaled_row(o, d, w, n_embd);
          continue;
        }
        for (int64_t i = 0; i < n_embd; ++i) {
          float v = db ? d[i] + db[i] : d[i];
          if (s != 1.0f) v *= s;
          v *= w;
          o[i] = j == 0 ? v : o[i] + v;
        }
      }
    }
  };
  if (m < 4) combine(0, m, 0);
  else env.pool->parallel_for(m, combine);
  c.trace("ffn_moe_out", il, b.out.data(), m, n_embd);
  ops::add(env, b.x.data(), b.out.data(), m * n_embd);
  c.trace("l_out", il, b.x.data(), m, n_embd);
}

// ---- MoeDecoder ----

MoeDecoder::MoeDecoder(std::shared_ptr<const gguf::File> file, const std::string& arch)
    : DecoderBase(std::move(file), arch) {}

void MoeDecoder::load_expert_hparams(const Loader& ld, bool ff_fallback) {
  HParams& hp = hp_;
  const int64_t n_expert = ld.req_int("expert_count");
  const int64_t n_used = ld.req_int("expert_used_count");
  if (n_expert <= 0 || n_expert > 4096)
    ld.error(cat("key ", ld.key("expert_count"), " = ", n_expert, " is invalid"));
  if (n_used <= 0 || n_used > n_expert)
    ld.error(cat("key ", ld.key("expert_used_count"), " = ", n_used, " must be in 1..",
                 ld.key("expert_count"), " (", n_expert, ")"));
  int64_t n_ff_exp = ld.opt_int("expert_feed_forward_length", 0);
  if (n_ff_exp == 0 && ff_fallback && !hp.n_ff.empty()) n_ff_exp = hp.n_ff[0] / n_used;
  if (n_ff_exp <= 0 || n_ff_exp > (1 << 20))
    ld.error(cat("key ", ld.key("expert_feed_forward_length"), " is missing or invalid"));
  hp.n_expert = int32_t(n_expert);
  hp.n_expert_used = int32_t(n_used);
  hp.n_ff_exp = int32_t(n_ff_exp);
  for (int32_t& f : hp.n_ff)
    if (f == 0) f = hp.n_ff_exp;
}

void MoeDecoder::bind_embedding_and_attention(const Loader& ld, bool output_optional) {
  HParams& hp = hp_;
  const gguf::TensorInfo* te = ld.file().find_tensor("token_embd.weight");
  if (!te) ld.error("tensor token_embd.weight is missing");
  hp.n_vocab = te->ne[1];
  if (const auto v = ld.file().get_int(ld.key("vocab_size")); v && *v != hp.n_vocab)
    ld.error(cat("token_embd.weight has ", hp.n_vocab, " rows but ", ld.key("vocab_size"), " is ", *v));
  tok_embd_ = ld.req("token_embd.weight", {hp.n_embd, hp.n_vocab});
  output_norm_ = ld.req_vec("output_norm.weight", hp.n_embd);
  output_ = output_optional ? ld.opt("output.weight", {hp.n_embd, hp.n_vocab})
                            : ld.req("output.weight", {hp.n_embd, hp.n_vocab});
  hp.tied_output = !output_;
  if (!output_) output_ = tok_embd_;

  attn_.resize(size_t(hp.n_layer));
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const std::string p = cat("blk.", il, ".");
    AttentionLayer& a = attn_[size_t(il)];
    a.n_head = hp.n_head[size_t(il)];
    a.n_head_kv = hp.n_head_kv[size_t(il)];
    a.head_dim_k = hp.head_dim_k;
    a.head_dim_v = hp.head_dim_v;
    a.scale = hp.attn_scale;
    const int64_t nq = int64_t(a.n_head) * a.head_dim_k;
    const int64_t nk = int64_t(a.n_head_kv) * a.head_dim_k;
    const int64_t nv = int64_t(a.n_head_kv) * a.head_dim_v;
    a.norm = ld.req_vec(p + "attn_norm.weight", hp.n_embd);
    a.wq = ld.req(p + "attn_q.weight", {hp.n_embd, nq});
    a.wk = ld.req(p + "attn_k.weight", {hp.n_embd, nk});
    a.wv = ld.req(p + "attn_v.weight", {hp.n_embd, nv});
    a.wo = ld.req(p + "attn_output.weight", {int64_t(a.n_head) * a.head_dim_v, hp.n_embd});
    a.bq = ld.opt_vec(p + "attn_q.bias", nq);
    a.bk = ld.opt_vec(p + "attn_k.bias", nk);
    a.bv = ld.opt_vec(p + "attn_v.bias", nv);
    a.bo = ld.opt_vec(p + "attn_output.bias", hp.n_embd);
  }
  moe_.resize(size_t(hp.n_layer));
  counts_.assign(size_t(hp.n_layer), std::vector<uint64_t>(size_t(hp.n_expert), 0));
}

MoeLayer& MoeDecoder::bind_moe_layer(const Loader& ld, int il) {
  const HParams& hp = hp_;
  const std::string p = cat("blk.", il, ".");
  MoeLayer& m = moe_[size_t(il)];
  m.n_expert = hp.n_expert;
  m.n_expert_used = hp.n_expert_used;
  m.n_ff_exp = hp.n_ff_exp;
  const int64_t ne = hp.n_expert, nf = hp.n_ff_exp, nd = hp.n_embd;
  m.gate_inp = ld.req(p + "ffn_gate_inp.weight", {nd, ne});
  m.gate_inp_b = ld.opt_vec(p + "ffn_gate_inp.bias", ne);
  m.gate_exps = ld.req_experts(p + "ffn_gate_exps.weight", nd, nf, ne, &m.gate_s);
  m.up_exps = ld.req_experts(p + "ffn_up_exps.weight", nd, nf, ne, &m.up_s);
  m.down_exps = ld.req_experts(p + "ffn_down_exps.weight", nf, nd, ne, &m.down_s);
  m.gate_b = ld.opt_mat(p + "ffn_gate_exps.bias", nf, ne);
  m.up_b = ld.opt_mat(p + "ffn_up_exps.bias", nf, ne);
  m.down_b = ld.opt_mat(p + "ffn_down_exps.bias", nd, ne);
  m.w_scale = ld.opt_float("expert_weights_scale", 0.0f);
  return m;
}

}  // namespace hearth::model::blocks
