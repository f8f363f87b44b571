// `llama` (Llama 2/3.x and compatible): pre-norm GQA decoder, NORM RoPE with optional Llama 3
// frequency factors (rope_freqs.weight), SwiGLU FFN, tied or separate output.
#include "model/arch/registry.h"
#include "model/blocks/decoder.h"

namespace hearth::model {
namespace {

class Llama final : public blocks::DecoderBase {
 public:
  explicit Llama(std::shared_ptr<const gguf::File> f) : DecoderBase(f, "llama") {
    Loader ld(*f, "llama");
    ld.load_common(hp_);
    hp_.rope.type = RopeType::kNorm;
    bind_common(ld);
    // Llama 3.1+ bakes its long-context scaling into per-pair divisors of the frequencies.
    hp_.rope.freq_factors = ld.opt_vec("rope_freqs.weight", hp_.rope.n_rot / 2);
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

std::unique_ptr<Model> load_llama(std::shared_ptr<const gguf::File> f) {
  return std::make_unique<Llama>(std::move(f));
}

}  // namespace hearth::model
