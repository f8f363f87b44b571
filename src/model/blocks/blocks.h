// Shared transformer blocks (attention, gated FFN, embedding, output head) called by the
// architecture files. Each block reads the residual stream x [n_tokens, n_embd] f32 and adds
// its output to it. No architecture switches here: variants are fields of the layer structs.
#pragma once

#include <string>
#include <vector>

#include "model/model.h"
#include "model/ops.h"

namespace hearth::model::blocks {

// Per-forward buffers, grown as needed and reused (no allocation in steady-state decode).
struct Buffers {
  std::vector<float> x;     // [n_tokens, n_embd] residual stream
  std::vector<float> cur;   // [n_tokens, n_embd] normed input of the current block
  std::vector<float> q;     // [n_tokens, n_head * head_dim_k]
  std::vector<float> k;     // [n_tokens, n_head_kv * head_dim_k]
  std::vector<float> v;     // [n_tokens, n_head_kv * head_dim_v]
  std::vector<float> att;   // [n_tokens, n_head * head_dim_v]
  std::vector<float> out;   // [n_tokens, n_embd] block output before the residual add
  std::vector<float> gate;  // [n_tokens, n_ff]
  std::vector<float> up;    // [n_tokens, n_ff]
  std::vector<float> rows;  // [n_out, n_embd] final-norm rows that want logits
};

// What a block needs besides its weights.
struct Ctx {
  const ForwardEnv& env;
  ops::Workspace& ws;
  Buffers& buf;
  const Batch& batch;
  const KvView& kv;
  int64_t n_tokens() const { return int64_t(batch.size()); }
  void trace(const std::string& name, int layer, const float* data, int64_t rows, int64_t cols) const {
    if (env.trace) env.trace(name, layer, data, rows, cols);
  }
};

struct AttentionLayer {
  std::vector<float> norm;             // [n_embd] pre-attention RMS norm
  Weight wq, wk, wv, wo;               // {n_embd, n_head*hd_k} ... {n_head*hd_v, n_embd}
  std::vector<float> bq, bk, bv, bo;   // optional biases
  std::vector<float> q_norm, k_norm;   // optional per-head RMS norms [hd_k] (Qwen3)
  const float* sinks = nullptr;        // optional [n_head] attention sinks
  int32_t n_head = 0, n_head_kv = 0, head_dim_k = 0, head_dim_v = 0;
  int32_t window = 0;                  // sliding window, 0 = full
  float scale = 0.0f;                  // kq scale (0 -> 1/sqrt(head_dim_k))
  const RopeParams* rope = nullptr;
};

struct FfnLayer {
  std::vector<float> norm;     // [n_embd] pre-FFN RMS norm
  Weight gate, up, down;       // SwiGLU: down(silu(gate x) * up x)
  int32_t n_ff = 0;
};

// x[t] = dequantized embedding row of batch token t.
void embed(Ctx& c, const Weight& tok_embd, int64_t n_embd);
// x += Wo · attention(rope(norm(x) Wq), rope(norm(x) Wk), norm(x) Wv)
void attention(Ctx& c, const AttentionLayer& l, int il, float eps);
// x += down(silu(gate · norm(x)) * up · norm(x))
void ffn(Ctx& c, const FfnLayer& l, int il, float eps);
// logits [n_out, n_vocab] = output · norm(x) for tokens that want logits.
void output(Ctx& c, const std::vector<float>& norm, const Weight& out, float eps,
            std::vector<float>& logits);

}  // namespace hearth::model::blocks
