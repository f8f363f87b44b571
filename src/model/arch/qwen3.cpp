// `qwen3` (Qwen3 dense): llama layout without biases, per-head RMS norm of q and k before
// NEOX RoPE; head size from attention.key_length (may differ from n_embd / n_head).
#include "core/error.h"
#include "model/arch/registry.h"
#include "model/blocks/decoder.h"

namespace hearth::model {
namespace {

class Qwen3 final : public blocks::DecoderBase {
 public:
  explicit Qwen3(std::shared_ptr<const gguf::File> f) : DecoderBase(f, "qwen3") {
    Loader ld(*f, "qwen3");
    ld.load_common(hp_);
    hp_.rope.type = RopeType::kNeox;
    bind_common(ld);
    for (int64_t il = 0; il < hp_.n_layer; ++il) {
      const std::string p = cat("blk.", il, ".");
      attn_[size_t(il)].q_norm = ld.req_vec(p + "attn_q_norm.weight", hp_.head_dim_k);
      attn_[size_t(il)].k_norm = ld.req_vec(p + "attn_k_norm.weight", hp_.head_dim_k);
    }
    use_rope(&hp_.rope);
  }

  void forward(const ForwardEnv& env, const Batch& batch, const KvView& kv,
               std::vector<float>& logits) override {
    blocks::Ctx c = make_ctx(env, batch, kv);
    blocks::embed(c, tok_embd_, hp_.n_embd);
    for (int il = 0; il < int(hp_.n_layer); ++il) {
      blocks::attention(c, attn_[size_t(il)], il, hp_.norm_eps);
      blocks::ffn(c, ffn_[size_t(il)], il, hp_.norm_eps);
    }
    blocks::output(c, output_norm_, output_, hp_.norm_eps, logits);
  }
};

}  // namespace

std::unique_ptr<Model> load_qwen3(std::shared_ptr<const gguf::File> f) {
  return std::make_unique<Qwen3>(std::move(f));
}

}  // namespace hearth::model
