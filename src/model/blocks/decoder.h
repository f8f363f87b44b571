// Common state of pre-norm decoder-only transformers (embedding, layers of attention + FFN,
// final norm, output head) and the binding of the tensors they all share. Architecture files
// derive from it, bind what is specific to them and write their forward as plain steps.
#pragma once

#include <memory>
#include <vector>

#include "model/blocks/blocks.h"
#include "model/loader.h"

namespace hearth::model::blocks {

class DecoderBase : public Model {
 protected:
  DecoderBase(std::shared_ptr<const gguf::File> file, const std::string& arch);

  // Binds token_embd, output_norm, output (or ties it to token_embd), and per layer the
  // llama tensor set: attn_norm, attn_q/k/v/output (+ optional biases), ffn_norm,
  // ffn_gate/up/down. n_vocab comes from token_embd.
  void bind_common(const Loader& ld);
  // Every layer's attention uses this RoPE; call after the arch has set hp_.rope.
  void use_rope(const RopeParams* rope);
  Ctx make_ctx(const ForwardEnv& env, const Batch& batch, const KvView& kv);

 public:
  void matmul_weights(std::vector<Weight*>& out) override;

 protected:

  Weight tok_embd_;
  std::vector<float> output_norm_;
  Weight output_;
  std::vector<AttentionLayer> attn_;  // [n_layer]
  std::vector<FfnLayer> ffn_;         // [n_layer]
  ops::Workspace ws_;
  Buffers buf_;
};

}  // namespace hearth::model::blocks
