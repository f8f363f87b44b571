// `hearth logprobs`: next-token log-probabilities at every position of a token sequence.
// One JSON object per line: {"pos": i, "token": id, "top": [[id, logprob], ...]} after consuming
// tokens 0..i. This is the interface conformance checks use: keep it stable.
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "engine/session.h"
#include "sampling/sampler.h"

namespace hearth::cli {
namespace {

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (...) {
      fail("--tokens: '", item, "' is not a token id");
    }
    if (used != item.size() || v < 0 || v > INT32_MAX) fail("--tokens: '", item, "' is not a token id");
    ids.push_back(int32_t(v));
  }
  if (ids.empty()) fail("--tokens: no token ids given");
  return ids;
}

}  // namespace

void add_logprobs_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("logprobs", "Top next-token log-probabilities at every position");
  auto path = std::make_shared<std::string>();
  auto tokens = std::make_shared<std::string>();
  auto prompt = std::make_shared<std::string>();
  auto top = std::make_shared<int32_t>(10);
  auto json = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  auto ctx = std::make_shared<int64_t>(0);
  auto no_repack = std::make_shared<bool>(false);
  cmd->add_option("-m,--model", *path, "GGUF model file")->required();
  cmd->add_option("--tokens", *tokens, "Comma-separated token ids");
  cmd->add_option("-p,--prompt", *prompt, "Text to tokenize instead of --tokens");
  cmd->add_option("--top", *top, "How many top entries per position (0: the whole vocabulary)")
      ->capture_default_str();
  cmd->add_flag("--json", *json, "One JSON object per line");
  cmd->add_option("-t,--threads", *threads, "Threads (default: all cores)");
  cmd->add_flag("--no-repack", *no_repack, "Keep weights in the GGUF layout (no load-time repacking)");
  cmd->add_option("--ctx", *ctx, "Context size (default: the sequence length)");
  cmd->callback([=] {
    if (*top < 0) fail("--top must be >= 0");
    LoadedModel m = load_model(*path, !*no_repack);
    std::vector<int32_t> ids;
    if (!tokens->empty()) ids = parse_ids(*tokens);
    else if (!prompt->empty()) ids = m.tok->encode(*prompt, true, true);
    else fail("give --tokens or --prompt");
    const int32_t n_vocab = int32_t(m.model->hparams().n_vocab);
    for (int32_t id : ids)
      if (id >= n_vocab) fail("--tokens: token id ", id, " is outside the vocabulary (", n_vocab, ")");
    engine::SessionOptions so;
    so.threads = *threads;
    so.n_ctx = *ctx > 0 ? *ctx : int64_t(ids.size());
    engine::Session session(m.model, so);
    const std::vector<float>& logits = session.eval(ids, true);
    const int32_t k = *top == 0 ? n_vocab : std::min(*top, n_vocab);
    for (size_t i = 0; i < ids.size(); ++i) {
      const auto best = sampling::top_logprobs(logits.data() + i * size_t(n_vocab), n_vocab, k);
      if (*json) {
        nlohmann::json j;
        j["pos"] = i;
        j["token"] = ids[i];
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& [id, lp] : best) arr.push_back({id, lp});
        j["top"] = std::move(arr);
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::printf("pos %zu token %d:", i, ids[i]);
        for (const auto& [id, lp] : best) std::printf(" %d:%.4f", id, lp);
        std::printf("\n");
      }
    }
  });
}

}  // namespace hearth::cli
