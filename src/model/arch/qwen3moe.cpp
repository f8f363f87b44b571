// `qwen3moe` (Qwen3-30B-A3B, Qwen3-235B-A22B): qwen3 attention (per-head q/k RMS norm, NEOX
// RoPE, no biases) with an MoE FFN: softmax router over all experts, top-k, weights
// renormalized to sum 1 (llama.cpp does so unconditionally for this arch), SiLU experts,
// no shared expert.
#include "core/error.h"
#include "model/arch/registry.h"
#include "model/blocks/moe.h"

namespace hearth::model {
namespace {

class Qwen3Moe final : public blocks::MoeDecoder {
 public:
  explicit Qwen3Moe(std::shared_ptr<const gguf::File> f) : MoeDecoder(f, "qwen3moe") {
    Loader ld(*f, "qwen3moe");
    ld.load_common(hp_);
    hp_.rope.type = RopeType::kNeox;
    load_expert_hparams(ld, /*ff_fallback=*/true);
    bind_embedding_and_attention(ld, /*output_optional=*/true);
    for (int il = 0; il < int(hp_.n_layer); ++il) {
      const std::string p = cat("blk.", il, ".");
      attn_[size_t(il)].q_norm = ld.req_vec(p + "attn_q_norm.weight", hp_.head_dim_k);
      attn_[size_t(il)].k_norm = ld.req_vec(p + "attn_k_norm.weight", hp_.head_dim_k);
      blocks::MoeLayer& m = bind_moe_layer(ld, il);
      m.norm = ld.req_vec(p + "ffn_norm.weight", hp_.n_embd);
      m.gating = blocks::MoeGating::kSoftmax;
      m.norm_w = true;
      m.act = blocks::MoeActivation::kSilu;
    }
    use_rope(&hp_.rope);
  }

  void forward(const ForwardEnv& env, const Batch& batch, const KvView& kv,
               std::vector<float>& logits) override {
    blocks::Ctx c = make_ctx(env, batch, kv);
    blocks::embed(c, tok_embd_, hp_.n_embd);
    for (int il = 0; il < int(hp_.n_layer); ++il) {
      blocks::attention(c, attn_[size_t(il)], il, hp_.norm_eps);
      run_moe(c, il);
    }
    blocks::output(c, output_norm_, output_, hp_.norm_eps, logits);
  }
};

}  // namespace

std::unique_ptr<Model> load_qwen3moe(std::shared_ptr<const gguf::File> f) {
  return std::make_unique<Qwen3Moe>(std::move(f));
}

}  // namespace hearth::model
