// `qwen2` (Qwen2 / Qwen2.5): llama layout with q/k/v biases and NEOX RoPE.
#include "model/arch/registry.h"
#include "model/blocks/decoder.h"

namespace hearth::model {
namespace {

class Qwen2 final : public blocks::DecoderBase {
 public:
  explicit Qwen2(std::shared_ptr<const gguf::File> f) : DecoderBase(f, "qwen2") {
    Loader ld(*f, "qwen2");
    ld.load_common(hp_);
    hp_.rope.type = RopeType::kNeox;
    bind_common(ld);  // binds the optional attn_q/k/v biases qwen2 carries
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

std::unique_ptr<Model> load_qwen2(std::shared_ptr<const gguf::File> f) {
  return std::make_unique<Qwen2>(std::move(f));
}

}  // namespace hearth::model
