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
};

struct SynthOptions {
  std::string arch;                  // llama, qwen2, qwen3
  std::string preset = "tiny";
  std::string type = "f32";          // a DType name, or the mix "q4_k_m"
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
