// The shared mixture-of-experts FFN block (router, top-k, expert weights, grouped expert
// execution) and MoeDecoder, the base of decoder architectures whose FFN is an MoE.
// No architecture switches here: qwen3moe / gpt-oss differences are fields of MoeLayer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/blocks/blocks.h"
#include "model/blocks/decoder.h"
#include "model/loader.h"

namespace hearth::model::blocks {

// How router logits become expert weights (llama.cpp's expert gating functions).
enum class MoeGating {
  kSoftmax,        // probs = softmax(logits over all experts); top-k by probs; w = probs[top-k]
  kSoftmaxWeight,  // top-k by raw logits; w = softmax(logits[top-k]) (gpt-oss)
};

// Expert activation between the gate/up and down projections.
enum class MoeActivation {
  kSilu,       // silu(g) * u
  kSwigluOai,  // g' = min(g, 7), u' = clamp(u, -7, 7): g' * sigmoid(1.702 g') * (u' + 1)
};

struct MoeLayer {
  std::vector<float> norm;        // [n_embd] pre-FFN RMS norm
  Weight gate_inp;                // {n_embd, n_expert} router
  std::vector<float> gate_inp_b;  // [n_expert] router bias (optional)
  // 3-D expert tensors: expert e's matrix starts at data + e * n_out * row_bytes.
  Weight gate_exps, up_exps;      // {n_embd, n_ff_exp, n_expert}
  Weight down_exps;               // {n_ff_exp, n_embd, n_expert}
  std::vector<float> gate_b, up_b;  // [n_expert, n_ff_exp] per-expert biases (optional)
  std::vector<float> down_b;        // [n_expert, n_embd] (optional)
  std::vector<float> gate_s, up_s, down_s;  // [n_expert] output scales (NVFP4 `.scale`), optional
  int32_t n_expert = 0, n_expert_used = 0, n_ff_exp = 0;
  MoeGating gating = MoeGating::kSoftmax;
  bool norm_w = false;            // renormalize the selected weights to sum 1
  float w_scale = 0.0f;           // multiply weights by this when not 0 or 1
  MoeActivation act = MoeActivation::kSilu;
  const char* norm_name = "ffn_norm";  // trace name of the normed input
};

// Scratch of the MoE block, grown as needed (no allocation in steady-state decode).
// "Grouped order": the m * k (token, slot) pairs sorted by expert; expert e owns the rows
// [off[e], off[e+1]).
struct MoeBuffers {
  std::vector<float> logits;       // [m, n_expert] router output
  std::vector<float> probs;        // [m, n_expert] gating probabilities
  std::vector<int32_t> sel;        // [m, k] selected experts, best first
  std::vector<float> wts;          // [m, k] their weights
  std::vector<int32_t> off;        // [n_expert + 1] grouped-row offsets
  std::vector<int32_t> row_tok;    // [m * k] token of each grouped row
  std::vector<int32_t> slot_row;   // [m * k] grouped row of (token t, slot j) at t * k + j
  std::vector<uint8_t> xq;         // [m * k, row_bytes] gathered activations for gate/up
  std::vector<float> gate, up;     // [m * k, n_ff_exp] projections; gate becomes the activation
  std::vector<uint8_t> hq;         // [m * k, row_bytes] activation quantized for down
  std::vector<float> down;         // [m * k, n_embd] expert outputs
  std::vector<int32_t> scratch;    // [n_expert] fill cursors
};

// x += Σ_j w_j · expert_{sel_j}(norm(x)) over the k experts the router selects per token.
// Decode reads only the selected experts' rows; prefill streams each routed expert once per
// batch (tokens grouped by expert, one gemm per expert), work split over threads by rows x
// tokens. `counts` [n_expert] (may be null) accumulates how often each expert was selected.
void moe_ffn(Ctx& c, const MoeLayer& l, MoeBuffers& mb, int il, float eps,
             std::vector<uint64_t>* counts);

// Base of MoE decoders: embedding, attention layers (the llama tensor set), output head, and
// one MoeLayer per layer. Keeps per-layer expert-selection histograms.
class MoeDecoder : public DecoderBase {
 public:
  const std::vector<std::vector<uint64_t>>* expert_counts() const override { return &counts_; }
  // Attention/output weights plus every expert tensor (repacked per expert: see
  // Model::repack_weights, which requires the row group to divide the rows of one expert).
  void matmul_weights(std::vector<Weight*>& out) override {
    DecoderBase::matmul_weights(out);
    for (MoeLayer& l : moe_)
      for (Weight* w : {&l.gate_exps, &l.up_exps, &l.down_exps})
        if (*w) out.push_back(w);
  }

 protected:
  MoeDecoder(std::shared_ptr<const gguf::File> file, const std::string& arch);

  // Reads expert_count, expert_used_count and expert_feed_forward_length (falling back to
  // feed_forward_length / expert_used_count when `ff_fallback`), with range checks.
  void load_expert_hparams(const Loader& ld, bool ff_fallback);
  // DecoderBase::bind_common without the dense FFN: token_embd, output_norm, output (tied when
  // absent and `output_optional`), attention tensors of every layer (+ optional biases).
  void bind_embedding_and_attention(const Loader& ld, bool output_optional);
  // Binds blk.<il>.ffn_gate_inp / ffn_{gate,up,down}_exps (+ optional biases and `.scale`
  // tensors) into moe_[il]; the caller sets norm and routing fields.
  MoeLayer& bind_moe_layer(const Loader& ld, int il);

  // Runs the MoE FFN of layer il (histogram included).
  void run_moe(Ctx& c, int il) {
    moe_ffn(c, moe_[size_t(il)], moe_buf_, il, hp_.norm_eps, &counts_[size_t(il)]);
  }

  std::vector<MoeLayer> moe_;                  // [n_layer]
  MoeBuffers moe_buf_;
  std::vector<std::vector<uint64_t>> counts_;  // [n_layer][n_expert]
};

}  // namespace hearth::model::blocks
