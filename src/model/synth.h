// Synthetic GGUF models: the real tensor names, shapes and hyperparameters of an architecture
// with seeded random weights, scaled so predictions depend on every layer and next-token
// entropy is a few nats. Used by tests, benchmarks and the built-in demo model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace hearth::model {

struct SynthPreset {
  std::string name;
  int64_t n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
  int64_t n_vocab;      // 0: take it from the tokenizer (512-token synthetic vocab by default)
  int64_t n_ctx;        // context_length
  float rope_base;
  float norm_eps;
  bool tied;            // output shares token_embd
  bool llama3_rope;     // write rope_freqs.weight (Llama 3.1 scaling: factor 32, orig 8192)
  // Mixture of experts (qwen3moe, gpt-oss); 0 for dense presets.
  int64_t n_expert = 0, n_expert_used = 0, n_ff_exp = 0;
  // gpt-oss: sliding window of the even layers, YaRN factor and original context.
  int64_t swa = 0;
  float yarn_factor = 0.0f;
  int64_t yarn_orig_ctx = 0;
};

struct SynthOptions {
  std::string arch;                  // llama, qwen2, qwen3, qwen3moe, gpt-oss
  std::string preset = "tiny";
  // A DType name (every matrix but MoE routers), or a mix: "q4_k_m" (Q4_K, Q6_K for output
  // and attn_v), "mxfp4_moe" (MXFP4 experts, Q8_0 elsewhere: how gpt-oss ships). NVFP4
  // weights are quantized against a per-tensor (per-expert) global scale written as the F32
  // tensor `<name>.scale`, as ModelOpt checkpoints converted by llama.cpp are.
  std::string type = "f32";
  std::string tokenizer_json;        // HF tokenizer.json path; empty: synthetic vocabulary
  uint64_t seed = 1;
  std::optional<int64_t> n_layer;    // override the preset's layer count
  int threads = 0;                   // 0: all cores
};

// Presets known for an architecture ("tiny", "small", and real shapes like "qwen3-0.6b").
std::vector<SynthPreset> synth_presets(const std::string& arch);
// Writes the model to `path` atomically; throws hearth::Error on bad options.
void synthesize(const SynthOptions& opt, const std::string& path);

}  // namespace hearth::model
