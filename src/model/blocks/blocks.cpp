// Dense transformer blocks shared by llama-style architectures.
#include "model/blocks/blocks.h"

#include "kernels/kernels.h"

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace hearth::model::blocks {
namespace {
void grow(std::vector<float>& v, int64_t n) {
  if (v.size() < size_t(n)) v.resize(size_t(n));
}
}  // namespace

void embed(Ctx& c, const Weight& tok_embd, int64_t n_embd) {
  const int64_t m = c.n_tokens();
  grow(c.buf.x, m * n_embd);
  ops::get_rows(c.env, tok_embd, c.batch.tokens.data(), m, c.buf.x.data());
  c.ws.rope_batch = nullptr;  // new batch: RoPE tables must be rebuilt
  c.trace("inp_embd", -1, c.buf.x.data(), m, n_embd);
}

void attention(Ctx& c, const AttentionLayer& l, int il, float eps) {
  const int64_t m = c.n_tokens();
  const int64_t n_embd = l.wq.n_in();
  const int64_t nq = int64_t(l.n_head) * l.head_dim_k;
  const int64_t nk = int64_t(l.n_head_kv) * l.head_dim_k;
  const int64_t nv = int64_t(l.n_head_kv) * l.head_dim_v;
  Buffers& b = c.buf;
  grow(b.cur, m * n_embd);
  grow(b.q, m * nq);
  grow(b.k, m * nk);
  grow(b.v, m * nv);
  grow(b.att, m * int64_t(l.n_head) * l.head_dim_v);
  grow(b.out, m * n_embd);

  ops::rmsnorm(c.env, b.x.data(), l.norm, b.cur.data(), m, n_embd, eps);
  c.trace("attn_norm", il, b.cur.data(), m, n_embd);
  // q, k, v share one quantized copy of the input when their weight types agree.
  const ops::QuantizedActs& xq = ops::quantize(c.env, c.ws, l.wq.type, b.cur.data(), m, n_embd);
  const bool k_same = kernels::act_type(l.wk.type) == xq.type;
  const bool v_same = kernels::act_type(l.wv.type) == xq.type;
  if (k_same && v_same) {
    ops::matmul(c.env, {{&l.wq, b.q.data()}, {&l.wk, b.k.data()}, {&l.wv, b.v.data()}}, xq);
  } else {
    ops::matmul(c.env, l.wq, xq, b.q.data());
    auto project = [&](const Weight& w, bool same, float* y) {
      if (same)
        ops::matmul(c.env, w, xq, y);
      else
        ops::matmul(c.env, c.ws, w, b.cur.data(), m, y);
    };
    project(l.wk, k_same, b.k.data());
    project(l.wv, v_same, b.v.data());
  }
  ops::add_bias(l.bq, b.q.data(), m, nq);
  ops::add_bias(l.bk, b.k.data(), m, nk);
  ops::add_bias(l.bv, b.v.data(), m, nv);
  if (!l.q_norm.empty()) ops::rmsnorm_heads(c.env, b.q.data(), l.q_norm, m, l.n_head, l.head_dim_k, eps);
  if (!l.k_norm.empty()) ops::rmsnorm_heads(c.env, b.k.data(), l.k_norm, m, l.n_head_kv, l.head_dim_k, eps);
  ops::rope(c.env, c.ws, *l.rope, c.batch, b.q.data(), l.n_head, l.head_dim_k);
  ops::rope(c.env, c.ws, *l.rope, c.batch, b.k.data(), l.n_head_kv, l.head_dim_k);
  c.trace("Qcur", il, b.q.data(), m, nq);
  c.trace("Kcur", il, b.k.data(), m, nk);
  c.trace("Vcur", il, b.v.data(), m, nv);

  ops::kv_store(c.env, c.kv, il, c.batch, b.k.data(), b.v.data());
  ops::AttentionParams ap;
  ap.scale = l.scale != 0.0f ? l.scale : 1.0f / std::sqrt(float(l.head_dim_k));
  ap.window = l.window;
  ap.sinks = l.sinks;
  ops::attention(c.env, c.ws, c.kv, il, c.batch, b.q.data(), l.n_head, ap, b.att.data());
  c.trace("kqv_out", il, b.att.data(), m, int64_t(l.n_head) * l.head_dim_v);

  ops::matmul(c.env, c.ws, l.wo, b.att.data(), m, b.out.data());
  ops::add_bias(l.bo, b.out.data(), m, n_embd);
  c.trace("attn_out", il, b.out.data(), m, n_embd);
  ops::add(c.env, b.x.data(), b.out.data(), m * n_embd);
}

void ffn(Ctx& c, const FfnLayer& l, int il, float eps) {
  const int64_t m = c.n_tokens();
  const int64_t n_embd = l.gate.n_in();
  Buffers& b = c.buf;
  grow(b.gate, m * l.n_ff);
  grow(b.up, m * l.n_ff);
  ops::rmsnorm(c.env, b.x.data(), l.norm, b.cur.data(), m, n_embd, eps);
  c.trace("ffn_norm", il, b.cur.data(), m, n_embd);
  const ops::QuantizedActs& xq = ops::quantize(c.env, c.ws, l.gate.type, b.cur.data(), m, n_embd);
  if (kernels::act_type(l.up.type) == xq.type) {
    ops::matmul(c.env, {{&l.gate, b.gate.data()}, {&l.up, b.up.data()}}, xq);
  } else {
    ops::matmul(c.env, l.gate, xq, b.gate.data());
    ops::matmul(c.env, c.ws, l.up, b.cur.data(), m, b.up.data());
  }
  ops::swiglu(c.env, b.gate.data(), b.up.data(), b.gate.data(), m, l.n_ff);
  ops::matmul(c.env, c.ws, l.down, b.gate.data(), m, b.out.data());
  c.trace("ffn_out", il, b.out.data(), m, n_embd);
  ops::add(c.env, b.x.data(), b.out.data(), m * n_embd);
  c.trace("l_out", il, b.x.data(), m, n_embd);
}

void output(Ctx& c, const std::vector<float>& norm, const Weight& out, float eps,
            std::vector<float>& logits) {
  const int64_t m = c.n_tokens();
  const int64_t n_embd = out.n_in();
  int64_t n_out = 0;
  for (uint8_t w : c.batch.want_logits) n_out += w;
  grow(c.buf.rows, std::max<int64_t>(1, n_out) * n_embd);
  int64_t r = 0;
  for (int64_t t = 0; t < m; ++t)
    if (c.batch.want_logits[size_t(t)])
      std::memcpy(c.buf.rows.data() + (r++) * n_embd, c.buf.x.data() + t * n_embd,
                  sizeof(float) * size_t(n_embd));
  logits.resize(size_t(n_out * out.n_out()));
  if (n_out == 0) return;
  ops::rmsnorm(c.env, c.buf.rows.data(), norm, c.buf.rows.data(), n_out, n_embd, eps);
  c.trace("result_norm", -1, c.buf.rows.data(), n_out, n_embd);
  ops::matmul(c.env, c.ws, out, c.buf.rows.data(), n_out, logits.data());
  c.trace("result_output", -1, logits.data(), n_out, out.n_out());
}

}  // namespace hearth::model::blocks
