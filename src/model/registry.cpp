// The one place that maps general.architecture to an implementation.
#include <utility>

#include "core/error.h"
#include "gguf/gguf.h"
#include "model/arch/registry.h"

namespace hearth::model {
namespace {

using LoadFn = std::unique_ptr<Model> (*)(std::shared_ptr<const gguf::File>);
const std::pair<const char*, LoadFn> kArchitectures[] = {
    {"llama", load_llama},
    {"qwen2", load_qwen2},
    {"qwen3", load_qwen3},
    {"qwen3moe", load_qwen3moe},
    {"gpt-oss", load_gpt_oss},
};

}  // namespace

Model::~Model() = default;

int32_t HParams::max_head_kv() const {
  int32_t m = 0;
  for (int32_t h : n_head_kv) m = std::max(m, h);
  return m;
}

std::vector<std::string> supported_architectures() {
  std::vector<std::string> r;
  for (const auto& [name, fn] : kArchitectures) r.emplace_back(name);
  return r;
}

std::unique_ptr<Model> load_model(std::shared_ptr<const gguf::File> file) {
  const auto arch = file->get_string("general.architecture");
  if (!arch) fail(file->name(), ": key general.architecture is missing");
  for (const auto& [name, fn] : kArchitectures)
    if (*arch == name) return fn(std::move(file));
  std::string known;
  for (const auto& [name, fn] : kArchitectures) known += cat(known.empty() ? "" : ", ", name);
  fail(file->name(), ": unknown architecture '", *arch, "' (supported: ", known, ")");
}

int64_t Model::n_params() const {
  int64_t n = 0;
  for (const auto& t : file_->tensors()) n += t.n_elements();
  return n;
}

int64_t Model::n_params_active() const {
  int64_t n = 0;
  for (const auto& t : file_->tensors()) {
    if (t.name.find("_exps.") != std::string::npos && hp_.n_expert > 0)
      n += t.n_elements() / hp_.n_expert * hp_.n_expert_used;
    else
      n += t.n_elements();
  }
  return n;
}

uint64_t Model::bytes_per_token() const {
  uint64_t n = 0;
  for (const auto& t : file_->tensors()) {
    if (t.name == "token_embd.weight") {
      n += t.nbytes / uint64_t(std::max<int64_t>(1, t.ne[1]));  // one row is read
      if (hp_.tied_output) n += t.nbytes;                       // ...and all as the output head
    } else if (t.name.find("_exps.") != std::string::npos && hp_.n_expert > 0) {
      n += t.nbytes / uint64_t(hp_.n_expert) * uint64_t(hp_.n_expert_used);
    } else {
      n += t.nbytes;
    }
  }
  return n;
}

}  // namespace hearth::model
