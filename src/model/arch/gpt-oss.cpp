// `gpt-oss` (OpenAI gpt-oss-20b / 120b; llama.cpp's OPENAI_MOE): attention with q/k/v/o biases
// and one learned sink logit per head, sliding-window (attention.sliding_window, 128) and full
// layers alternating by set_swa_pattern (period attention.sliding_window_pattern, default 2:
// even layers slide), NEOX RoPE with YaRN (rope.freq_base_swa for sliding layers), and an MoE
// FFN after post_attention_norm: top-k by raw router logits (+ bias), softmax over the selected,
// clamped SwiGLU experts (alpha 1.702, limit 7) with biases, natively MXFP4 in shipped files.
#include <cmath>

#include "core/error.h"
#include "gguf/gguf.h"
#include "model/arch/registry.h"
#include "model/blocks/moe.h"

namespace hearth::model {
namespace {

class GptOss final : public blocks::MoeDecoder {
 public:
  explicit GptOss(std::shared_ptr<const gguf::File> f) : MoeDecoder(f, "gpt-oss") {
    Loader ld(*f, "gpt-oss");
    ld.load_common(hp_);
    hp_.rope.type = RopeType::kNeox;
    load_expert_hparams(ld, /*ff_fallback=*/false);

    const int64_t window = ld.req_int("attention.sliding_window");
    if (window <= 0 || window > (1 << 24))
      ld.error(cat("key ", ld.key("attention.sliding_window"), " = ", window, " is invalid"));
    const gguf::Value* pv = f->find(ld.key("attention.sliding_window_pattern"));
    if (pv && pv->type == gguf::ValueType::ARRAY)
      ld.error(cat("key ", ld.key("attention.sliding_window_pattern"),
                   " must be a period (an integer), not an array"));
    const int64_t period = ld.opt_int("attention.sliding_window_pattern", 2);
    if (period <= 0 || period > (1 << 16))
      ld.error(cat("key ", ld.key("attention.sliding_window_pattern"), " = ", period, " is invalid"));
    rope_swa_ = hp_.rope;
    rope_swa_.freq_base = ld.opt_float("rope.freq_base_swa", hp_.rope.freq_base);

    bind_embedding_and_attention(ld, /*output_optional=*/false);
    sinks_.resize(size_t(hp_.n_layer));
    for (int il = 0; il < int(hp_.n_layer); ++il) {
      const std::string p = cat("blk.", il, ".");
      blocks::AttentionLayer& a = attn_[size_t(il)];
      for (const char* b : {"attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.bias"})
        if (!f->find_tensor(p + b)) ld.error(cat("tensor ", p, b, " is missing"));
      sinks_[size_t(il)] = ld.req_vec(p + "attn_sinks.weight", a.n_head);
      a.sinks = sinks_[size_t(il)].data();
      // set_swa_pattern(n): layer il slides iff il % n < n - 1.
      const bool swa = il % period < period - 1;
      a.window = swa ? int32_t(window) : 0;
      // One RopeParams object when the bases agree, so the cos/sin table is built once.
      a.rope = swa && rope_swa_.freq_base != hp_.rope.freq_base ? &rope_swa_ : &hp_.rope;
      a.scale = 1.0f / std::sqrt(float(hp_.rope.n_rot));  // llama.cpp: 1/sqrt(n_rot)

      blocks::MoeLayer& m = bind_moe_layer(ld, il);
      m.norm = ld.req_vec(p + "post_attention_norm.weight", hp_.n_embd);
      m.norm_name = "attn_post_norm";
      m.gating = blocks::MoeGating::kSoftmaxWeight;
      m.norm_w = false;
      m.act = blocks::MoeActivation::kSwigluOai;
      for (const char* b : {"ffn_gate_inp.bias", "ffn_gate_exps.bias", "ffn_up_exps.bias",
                            "ffn_down_exps.bias"})
        if (!f->find_tensor(p + b)) ld.error(cat("tensor ", p, b, " is missing"));
    }
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

 private:
  RopeParams rope_swa_;                  // sliding layers' RoPE (own freq base)
  std::vector<std::vector<float>> sinks_;  // [n_layer][n_head]
};

}  // namespace

std::unique_ptr<Model> load_gpt_oss(std::shared_ptr<const gguf::File> f) {
  return std::make_unique<GptOss>(std::move(f));
}

}  // namespace hearth::model
