// Tensor binding shared by llama-style decoders.
#include "model/blocks/decoder.h"

#include "core/error.h"
#include "gguf/gguf.h"

namespace hearth::model::blocks {

DecoderBase::DecoderBase(std::shared_ptr<const gguf::File> file, const std::string& arch)
    : Model(std::move(file)) {
  hp_.arch = arch;
}

void DecoderBase::bind_common(const Loader& ld) {
  HParams& hp = hp_;
  const gguf::TensorInfo* te = ld.file().find_tensor("token_embd.weight");
  if (!te) ld.error("tensor token_embd.weight is missing");
  hp.n_vocab = te->ne[1];
  if (const auto v = ld.file().get_int(ld.key("vocab_size")); v && *v != hp.n_vocab)
    ld.error(cat("token_embd.weight has ", hp.n_vocab, " rows but ", ld.key("vocab_size"), " is ", *v));
  tok_embd_ = ld.req("token_embd.weight", {hp.n_embd, hp.n_vocab});
  output_norm_ = ld.req_vec("output_norm.weight", hp.n_embd);
  output_ = ld.opt("output.weight", {hp.n_embd, hp.n_vocab});
  hp.tied_output = !output_;
  if (!output_) output_ = tok_embd_;

  attn_.resize(size_t(hp.n_layer));
  ffn_.resize(size_t(hp.n_layer));
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const std::string p = cat("blk.", il, ".");
    AttentionLayer& a = attn_[size_t(il)];
    a.n_head = hp.n_head[size_t(il)];
    a.n_head_kv = hp.n_head_kv[size_t(il)];
    a.head_dim_k = hp.head_dim_k;
    a.head_dim_v = hp.head_dim_v;
    a.scale = hp.attn_scale;
    const int64_t nq = int64_t(a.n_head) * a.head_dim_k;
    const int64_t nk = int64_t(a.n_head_kv) * a.head_dim_k;
    const int64_t nv = int64_t(a.n_head_kv) * a.head_dim_v;
    a.norm = ld.req_vec(p + "attn_norm.weight", hp.n_embd);
    a.wq = ld.req(p + "attn_q.weight", {hp.n_embd, nq});
    a.wk = ld.req(p + "attn_k.weight", {hp.n_embd, nk});
    a.wv = ld.req(p + "attn_v.weight", {hp.n_embd, nv});
    a.wo = ld.req(p + "attn_output.weight", {int64_t(a.n_head) * a.head_dim_v, hp.n_embd});
    a.bq = ld.opt_vec(p + "attn_q.bias", nq);
    a.bk = ld.opt_vec(p + "attn_k.bias", nk);
    a.bv = ld.opt_vec(p + "attn_v.bias", nv);
    a.bo = ld.opt_vec(p + "attn_output.bias", hp.n_embd);

    FfnLayer& f = ffn_[size_t(il)];
    const gguf::TensorInfo* g = ld.file().find_tensor(p + "ffn_gate.weight");
    if (!g) ld.error(cat("tensor ", p, "ffn_gate.weight is missing"));
    f.n_ff = hp.n_ff[size_t(il)] > 0 ? hp.n_ff[size_t(il)] : int32_t(g->ne[1]);
    hp.n_ff[size_t(il)] = f.n_ff;
    f.norm = ld.req_vec(p + "ffn_norm.weight", hp.n_embd);
    f.gate = ld.req(p + "ffn_gate.weight", {hp.n_embd, f.n_ff});
    f.up = ld.req(p + "ffn_up.weight", {hp.n_embd, f.n_ff});
    f.down = ld.req(p + "ffn_down.weight", {f.n_ff, hp.n_embd});
  }
}

void DecoderBase::use_rope(const RopeParams* rope) {
  for (AttentionLayer& a : attn_) a.rope = rope;
}

void DecoderBase::matmul_weights(std::vector<Weight*>& out) {
  for (AttentionLayer& a : attn_)
    for (Weight* w : {&a.wq, &a.wk, &a.wv, &a.wo})
      if (*w) out.push_back(w);
  for (FfnLayer& f : ffn_)
    for (Weight* w : {&f.gate, &f.up, &f.down})
      if (*w) out.push_back(w);
  // A tied output head is a second Weight over token_embd's bytes: repacking it gives the head
  // its own copy in the kernel layout while tok_embd_ keeps pointing at the GGUF layout for
  // get_rows. The mapped original is dropped from memory by the repack, and embedding lookups
  // fault back only the rows they read (n_embd values per token), so one copy stays resident.
  if (output_) out.push_back(&output_);
}

Ctx DecoderBase::make_ctx(const ForwardEnv& env, const Batch& batch, const KvView& kv) {
  return Ctx{env, ws_, buf_, batch, kv};
}

}  // namespace hearth::model::blocks
