// GGUF tokenizer keys <-> VocabSpec (see vocab.h). Key names and defaults follow llama.cpp's
// llama_vocab::impl::load, so a file means the same to Hearth as to llama.cpp.
#include "model/vocab.h"

#include "core/error.h"
#include "tokenizer/pretokenizer.h"

namespace hearth::model {

namespace {

constexpr const char* kModel = "tokenizer.ggml.model";
constexpr const char* kPre = "tokenizer.ggml.pre";
constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kTypes = "tokenizer.ggml.token_type";
constexpr const char* kScores = "tokenizer.ggml.scores";
constexpr const char* kMerges = "tokenizer.ggml.merges";
constexpr const char* kAddBos = "tokenizer.ggml.add_bos_token";
constexpr const char* kAddEos = "tokenizer.ggml.add_eos_token";
constexpr const char* kAddSpacePrefix = "tokenizer.ggml.add_space_prefix";
constexpr const char* kChatTemplate = "tokenizer.chat_template";

struct IdKey {
  const char* key;
  int32_t tokenizer::VocabSpec::*field;
};
constexpr IdKey kIdKeys[] = {
    {"tokenizer.ggml.bos_token_id", &tokenizer::VocabSpec::bos},
    {"tokenizer.ggml.eos_token_id", &tokenizer::VocabSpec::eos},
    {"tokenizer.ggml.eot_token_id", &tokenizer::VocabSpec::eot},
    {"tokenizer.ggml.eom_token_id", &tokenizer::VocabSpec::eom},
    {"tokenizer.ggml.unknown_token_id", &tokenizer::VocabSpec::unk},
    {"tokenizer.ggml.seperator_token_id", &tokenizer::VocabSpec::sep},  // sic, as in GGUF
    {"tokenizer.ggml.padding_token_id", &tokenizer::VocabSpec::pad},
};

}  // namespace

tokenizer::VocabSpec read_vocab(const gguf::File& file) {
  tokenizer::VocabSpec spec;
  auto missing = [&](const char* key) -> void { fail(file.name(), ": key ", key, " is missing"); };

  const auto model = file.get_string(kModel);
  if (!model) missing(kModel);
  spec.model = *model;
  const bool spm = spec.model == "llama";
  const bool bpe = spec.model == "gpt2";
  if (!spm && !bpe) {
    fail(file.name(), ": key ", kModel, " = '", spec.model,
         "' is not a supported tokenizer (expected gpt2 or llama)");
  }
  spec.pre = file.get_string(kPre).value_or("default");

  const auto* tokens = file.get_string_array(kTokens);
  if (!tokens) missing(kTokens);
  spec.tokens = *tokens;
  const size_t n = spec.tokens.size();
  if (n == 0) fail(file.name(), ": key ", kTokens, " is empty");

  if (auto types = file.get_int_array(kTypes)) {
    if (types->size() < n) {
      fail(file.name(), ": key ", kTypes, " has ", types->size(), " entries for ", n, " tokens");
    }
    spec.types.assign(types->begin(), types->begin() + static_cast<std::ptrdiff_t>(n));
  }
  if (auto scores = file.get_float_array(kScores)) {
    if (scores->size() < n) {
      fail(file.name(), ": key ", kScores, " has ", scores->size(), " entries for ", n, " tokens");
    }
    spec.scores.assign(scores->begin(), scores->begin() + static_cast<std::ptrdiff_t>(n));
  }
  if (bpe) {
    const auto* merges = file.get_string_array(kMerges);
    if (!merges) missing(kMerges);
    spec.merges = *merges;
  }

  // Defaults by model type, dropped when out of range (llama.cpp: "disabling").
  if (spm) {
    spec.bos = 1;
    spec.eos = 2;
    spec.unk = 0;
  } else {
    spec.bos = 11;
    spec.eos = 11;
  }
  for (const auto& k : kIdKeys) {
    int32_t& id = spec.*(k.field);
    if (id >= static_cast<int64_t>(n)) id = -1;
    if (auto v = file.get_uint(k.key)) {
      if (*v < n) id = static_cast<int32_t>(*v);  // else llama.cpp keeps the default
    }
  }

  bool add_bos_default = spm;
  if (bpe) {
    try {
      add_bos_default = tokenizer::pre_config(spec.pre).add_bos;
    } catch (const Error&) {
      // Unknown pre-tokenizer: the Tokenizer reports it when it is built.
    }
  }
  spec.add_bos = file.get_bool(kAddBos).value_or(add_bos_default);
  spec.add_eos = file.get_bool(kAddEos).value_or(false);
  spec.add_space_prefix = file.get_bool(kAddSpacePrefix).value_or(spm);
  if (auto t = file.get_string(kChatTemplate)) spec.chat_template = *t;
  return spec;
}

void write_vocab(gguf::Writer& w, const tokenizer::VocabSpec& spec) {
  w.set_str(kModel, spec.model);
  w.set_str(kPre, spec.pre.empty() ? "default" : spec.pre);
  w.set(kTokens, gguf::Value::of_str_array(spec.tokens));
  if (!spec.types.empty()) w.set(kTypes, gguf::Value::of_i32_array(spec.types));
  if (!spec.scores.empty()) w.set(kScores, gguf::Value::of_f32_array(spec.scores));
  if (spec.model == "gpt2" || !spec.merges.empty()) {
    w.set(kMerges, gguf::Value::of_str_array(spec.merges));
  }
  for (const auto& k : kIdKeys) {
    const int32_t id = spec.*(k.field);
    if (id >= 0) w.set_u32(k.key, static_cast<uint32_t>(id));
  }
  w.set_bool(kAddBos, spec.add_bos);
  w.set_bool(kAddEos, spec.add_eos);
  w.set_bool(kAddSpacePrefix, spec.add_space_prefix);
  if (spec.chat_template) w.set_str(kChatTemplate, *spec.chat_template);
}

}  // namespace hearth::model
