// `hearth synth`: writes a random-weight GGUF with an architecture's real tensor names/shapes.
#include <cstdio>

#include "cli/commands.h"
#include "core/error.h"
#include "model/synth.h"

namespace hearth::cli {

void add_synth_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "synth", "Write a synthetic (random-weight) GGUF model with real tensor names and shapes");
  auto opt = std::make_shared<model::SynthOptions>();
  auto out = std::make_shared<std::string>();
  auto layers = std::make_shared<int64_t>(0);
  cmd->add_option("--arch", opt->arch, "Architecture: llama, qwen2, qwen3, qwen3moe, gpt-oss")->required();
  cmd->add_option("--preset", opt->preset,
                  "Shape preset: tiny, small, or a real shape (qwen3-0.6b, qwen3-1.7b, "
                  "llama3.2-1b, qwen2.5-0.5b; MoE, fewer layers/experts: qwen3-30b-a3b, "
                  "gpt-oss-20b)")
      ->capture_default_str();
  cmd->add_option("--type", opt->type,
                  "Weight type: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, "
                  "q5_k, q6_k, iq4_nl, iq4_xs, mxfp4, nvfp4, or the mixes q4_k_m and (MoE) "
                  "mxfp4_moe (MXFP4 experts, Q8_0 elsewhere)")
      ->capture_default_str();
  cmd->add_option("--tokenizer", opt->tokenizer_json,
                  "Hugging Face tokenizer.json to embed (tokenizer_config.json next to it is "
                  "read too); default: a small synthetic byte-level BPE vocabulary");
  cmd->add_option("--seed", opt->seed, "Random seed")->capture_default_str();
  cmd->add_option("--layers", *layers, "Override the preset's number of layers");
  cmd->add_option("-t,--threads", opt->threads, "Threads (default: all cores)");
  cmd->add_option("-o,--output", *out, "Output GGUF path")->required();
  cmd->callback([opt, out, layers] {
    if (*layers) opt->n_layer = *layers;
    model::synthesize(*opt, *out);
    std::fprintf(stderr, "wrote %s\n", out->c_str());
  });
}

}  // namespace hearth::cli
