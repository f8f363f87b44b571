// Operations model code is written in: matmul by weight type, norms, RoPE, attention over the
// paged KV cache, activations. Each runs through the active kernel table on the thread pool.
// No architecture knowledge here.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "model/model.h"

namespace hearth::model::ops {

// Batches of at most this many tokens (decode, short verification batches) are bandwidth-bound:
// matmul and the MoE expert products cut their weights into about this many chunks per thread,
// handed out by ThreadPool::for_each_chunk, instead of one even share per thread.
constexpr int64_t kDecodeRows = 16;
constexpr int64_t kDecodeChunksPerThread = 8;

// One unit of attention work: consecutive batch tokens [t0, t0 + nq) of one sequence at
// consecutive positions, against KV head g (with every query head that shares it).
struct AttnTile {
  int64_t t0, nq;
  int32_t g;
};

// Activations quantized once into a weight type's activation format, reusable by every matmul
// that shares the input (q/k/v, gate/up).
struct QuantizedActs {
  DType type = DType::F32;
  int64_t rows = 0, cols = 0;
  size_t row_bytes = 0;
  std::vector<uint8_t> data;  // [rows, row_bytes]
};

// Per-model scratch reused across forward passes (grows only; no allocation in steady decode).
struct Workspace {
  QuantizedActs acts[4];                 // one per activation type in use
  std::vector<std::vector<float>> att;   // per thread: attention tile scores and queries
  std::vector<AttnTile> attn_tiles;      // attention work items of the current batch
  std::vector<std::vector<const uint16_t*>> attn_rows;  // per thread: K or V row pointers of a span
  std::vector<std::vector<float*>> attn_out_rows;       // per thread: output rows of a tile
  std::vector<float> rope_cos, rope_sin; // [n_tokens, n_rot/2]
  const RopeParams* rope_for = nullptr;  // which params rope_cos/sin were built for
  const void* rope_batch = nullptr;
};

// Quantize x [m, k] for weight type `wt` (cached in ws by activation type).
const QuantizedActs& quantize(const ForwardEnv& env, Workspace& ws, DType wt, const float* x,
                              int64_t m, int64_t k);
// y [m, n_out] = x · Wᵀ, given x already quantized for w's type (y rows are n_out apart).
void matmul(const ForwardEnv& env, const Weight& w, const QuantizedActs& x, float* y);
// Several products of the same activations in one parallel region (q/k/v, gate/up): each thread
// takes its share of every weight's rows, so the region's fork/join cost is paid once, which
// matters in decode where a product is tens of microseconds. Every weight's activation type must
// be x's.
struct MatmulOut {
  const Weight* w;
  float* y;
};
void matmul(const ForwardEnv& env, std::initializer_list<MatmulOut> outs, const QuantizedActs& x);
// Convenience: quantize then multiply.
void matmul(const ForwardEnv& env, Workspace& ws, const Weight& w, const float* x, int64_t m,
            float* y);
// y [m, n] += bias [n]
void add_bias(const std::vector<float>& bias, float* y, int64_t m, int64_t n);

// y [m, n] = rmsnorm(x [m, n]) * w (w may be empty: unweighted). y may alias x.
void rmsnorm(const ForwardEnv& env, const float* x, const std::vector<float>& w, float* y,
             int64_t m, int64_t n, float eps);
// Per-head norm of x [m, n_head, head_dim] in place (Qwen3 q/k norm).
void rmsnorm_heads(const ForwardEnv& env, float* x, const std::vector<float>& w, int64_t m,
                   int64_t n_head, int64_t head_dim, float eps);

// Rotates x [m, n_head, head_dim] in place at each token's position (ggml rope_ext semantics).
void rope(const ForwardEnv& env, Workspace& ws, const RopeParams& p, const Batch& batch, float* x,
          int64_t n_head, int64_t head_dim);

// Token embeddings: out [m, n_embd] = dequantize(rows of emb).
void get_rows(const ForwardEnv& env, const Weight& emb, const int32_t* tokens, int64_t m,
              float* out);

// Writes k [m, n_head_kv, hd_k] and v [m, n_head_kv, hd_v] of every batch token into the cache.
void kv_store(const ForwardEnv& env, const KvView& kv, int layer, const Batch& batch,
              const float* k, const float* v);

struct AttentionParams {
  float scale = 1.0f;      // multiplies q·k
  int32_t window = 0;      // sliding window (0 = full causal)
  float softcap = 0.0f;    // cap·tanh(s/cap) when > 0
  const float* sinks = nullptr;  // [n_head] extra softmax logit per head, or null
};
// out [m, n_head, hd_v] = softmax(q·Kᵀ · scale + causal mask) · V over each token's sequence.
void attention(const ForwardEnv& env, Workspace& ws, const KvView& kv, int layer,
               const Batch& batch, const float* q, int64_t n_head, const AttentionParams& p,
               float* out);

// y [m, n] = silu(g) * u
void swiglu(const ForwardEnv& env, const float* g, const float* u, float* y, int64_t m, int64_t n);
// y += x over m*n floats
void add(const ForwardEnv& env, float* y, const float* x, int64_t count);

}  // namespace hearth::model::ops
