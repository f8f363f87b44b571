// `hearth info`: what a GGUF model is and what it needs: architecture, hyperparameters, tensor
// types, parameters (total and active), bytes read per token and memory at a context size.
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "engine/kv_cache.h"

namespace hearth::cli {

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Show a model's architecture, sizes and memory needs");
  auto path = std::make_shared<std::string>();
  auto ctx = std::make_shared<int64_t>(4096);
  auto json = std::make_shared<bool>(false);
  cmd->add_option("-m,--model", *path, "GGUF model file")->required();
  cmd->add_option("--ctx", *ctx, "Context size for the memory estimate")->capture_default_str();
  cmd->add_flag("--json", *json, "Print one JSON object");
  cmd->callback([path, ctx, json] {
    if (*ctx <= 0) fail("--ctx must be positive");
    LoadedModel m = load_model(*path, false);  // info reads, never computes
    const model::HParams& hp = m.model->hparams();
    struct TypeStat { int64_t count = 0; uint64_t bytes = 0; int64_t params = 0; };
    std::map<std::string, TypeStat> types;
    uint64_t weight_bytes = 0;
    for (const auto& t : m.file->tensors()) {
      auto& s = types[std::string(dtype_name(t.type))];
      s.count++;
      s.bytes += t.nbytes;
      s.params += t.n_elements();
      weight_bytes += t.nbytes;
    }
    const uint64_t kv_bytes =
        engine::KvCache::bytes_per_position(engine::KvCache::shape_of(hp)) * uint64_t(*ctx);
    // Activation scratch for a 512-token prefill chunk plus logits (an estimate, not measured).
    int32_t max_ff = 0;
    for (int32_t f : hp.n_ff) max_ff = std::max(max_ff, f);
    const uint64_t scratch =
        uint64_t(512) * uint64_t(6 * hp.n_embd + 2 * max_ff) * 4 + uint64_t(hp.n_vocab) * 4 * 2;
    const uint64_t total = weight_bytes + kv_bytes + scratch;
    if (*json) {
      nlohmann::json j;
      j["architecture"] = hp.arch;
      j["name"] = hp.name;
      j["n_vocab"] = hp.n_vocab;
      j["n_embd"] = hp.n_embd;
      j["n_layer"] = hp.n_layer;
      j["n_head"] = hp.n_head.at(0);
      j["n_head_kv"] = hp.n_head_kv.at(0);
      j["head_dim"] = hp.head_dim_k;
      j["n_ff"] = hp.n_ff.at(0);
      j["n_ctx_train"] = hp.n_ctx_train;
      j["rope_base"] = hp.rope.freq_base;
      j["tied_output"] = hp.tied_output;
      j["n_expert"] = hp.n_expert;
      j["n_expert_used"] = hp.n_expert_used;
      j["params"] = m.model->n_params();
      j["params_active"] = m.model->n_params_active();
      j["bytes_per_token"] = m.model->bytes_per_token();
      j["weight_bytes"] = weight_bytes;
      j["ctx"] = *ctx;
      j["kv_cache_bytes"] = kv_bytes;
      j["memory_bytes"] = total;
      for (const auto& [name, s] : types)
        j["tensor_types"][name] = {{"count", s.count}, {"bytes", s.bytes}, {"params", s.params}};
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    auto gib = [](uint64_t b) { return double(b) / (1024.0 * 1024.0 * 1024.0); };
    std::printf("model         %s\n", path->c_str());
    std::printf("name          %s\n", hp.name.c_str());
    std::printf("architecture  %s\n", hp.arch.c_str());
    std::printf("vocabulary    %lld tokens (%s)\n", (long long)hp.n_vocab,
                m.tok->spec().model.c_str());
    std::printf("layers        %lld\n", (long long)hp.n_layer);
    std::printf("embedding     %lld\n", (long long)hp.n_embd);
    std::printf("heads         %d query, %d key/value, head size %d\n", hp.n_head.at(0),
                hp.n_head_kv.at(0), hp.head_dim_k);
    std::printf("feed-forward  %d\n", hp.n_ff.at(0));
    if (hp.n_expert)
      std::printf("experts       %d (%d used per token, %d wide)\n", hp.n_expert,
                  hp.n_expert_used, hp.n_ff_exp);
    std::printf("context       %lld trained\n", (long long)hp.n_ctx_train);
    std::printf("rope          %s, base %g, %d dims%s\n",
                hp.rope.type == model::RopeType::kNorm ? "norm" : "neox", hp.rope.freq_base,
                hp.rope.n_rot, hp.rope.freq_factors.empty() ? "" : ", frequency factors");
    std::printf("output        %s\n", hp.tied_output ? "tied to token_embd" : "separate");
    std::printf("parameters    %.3f B total, %.3f B active per token\n",
                double(m.model->n_params()) / 1e9, double(m.model->n_params_active()) / 1e9);
    std::printf("tensor types\n");
    for (const auto& [name, s] : types)
      std::printf("  %-8s %5lld tensors  %10.3f M params  %9.3f GiB\n", name.c_str(),
                  (long long)s.count, double(s.params) / 1e6, gib(s.bytes));
    std::printf("weights       %.3f GiB (memory-mapped)\n", gib(weight_bytes));
    std::printf("read/token    %.3f GiB of weights per generated token\n",
                gib(m.model->bytes_per_token()));
    std::printf("KV cache      %.3f GiB at --ctx %lld (f16)\n", gib(kv_bytes), (long long)*ctx);
    std::printf("memory        %.3f GiB needed at --ctx %lld (weights + KV cache + scratch)\n",
                gib(total), (long long)*ctx);
  });
}

}  // namespace hearth::cli
