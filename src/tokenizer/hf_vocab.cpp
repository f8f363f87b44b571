// vocab_from_hf: a Hugging Face tokenizer.json (+ tokenizer_config.json) as the VocabSpec that
// llama.cpp's convert_hf_to_gguf.py would write for it. Conversion only; no tokenization here.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace hearth::tokenizer {

namespace {

using json = nlohmann::json;

// The Split regexes the converter recognises (by hashing a tokenization; we compare the
// patterns), and the tokenizer.ggml.pre name it writes for each.
struct KnownPre {
  const char* name;
  std::vector<std::string> regexes;
};

const std::vector<KnownPre>& known_pres() {
  static const std::vector<KnownPre> k = {
      {"llama-bpe",
       {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
      {"qwen2",
       {R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
      {"deepseek-v3",
       {R"(\p{N}{1,3})", "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"}},
      {"gpt-4o",
       {R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
  };
  return k;
}

// convert_hf_to_gguf's does_token_look_special.
bool looks_special(const std::string& t) {
  auto starts = [&](std::string_view p) { return t.size() >= p.size() && t.compare(0, p.size(), p) == 0; };
  auto ends = [&](std::string_view p) {
    return t.size() >= p.size() && t.compare(t.size() - p.size(), p.size(), p) == 0;
  };
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  if (starts("<|") && ends("|>")) return true;
  if (starts("<\xEF\xBD\x9C") && ends("\xEF\xBD\x9C>")) return true;  // <｜ ... ｜>
  if (starts("<unused") && ends(">")) return true;
  return false;
}

void collect_splits(const json& pt, std::vector<std::string>& regexes, bool& byte_level) {
  if (!pt.is_object()) return;
  const std::string type = pt.value("type", "");
  if (type == "Sequence") {
    for (const auto& p : pt.value("pretokenizers", json::array())) collect_splits(p, regexes, byte_level);
  } else if (type == "Split") {
    const auto& pat = pt.value("pattern", json::object());
    if (pat.contains("Regex")) regexes.push_back(pat["Regex"].get<std::string>());
    else if (pat.contains("String")) regexes.push_back("\x01" + pat["String"].get<std::string>());
  } else if (type == "ByteLevel") {
    byte_level = true;
    if (pt.value("use_regex", false)) regexes.push_back("\x02gpt2");
  }
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

// The content of a tokenizer_config.json "<x>_token" entry: a string or {"content": ...}.
std::optional<std::string> config_token(const json& cfg, const std::string& key) {
  if (!cfg.contains(key)) return std::nullopt;
  const json& e = cfg[key];
  if (e.is_string()) return e.get<std::string>();
  if (e.is_object() && e.contains("content") && e["content"].is_string()) return e["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace

VocabSpec vocab_from_hf(const std::string& tokenizer_json_text,
                        const std::string* tokenizer_config_json_text) {
  json tj, cfg;
  try {
    tj = json::parse(tokenizer_json_text);
  } catch (const json::exception& e) {
    fail("tokenizer.json: not valid JSON: ", e.what());
  }
  if (tokenizer_config_json_text) {
    try {
      cfg = json::parse(*tokenizer_config_json_text);
    } catch (const json::exception& e) {
      fail("tokenizer_config.json: not valid JSON: ", e.what());
    }
  }
  if (!tj.is_object() || !tj.contains("model") || !tj["model"].is_object()) {
    fail("tokenizer.json: no \"model\" object");
  }
  const json& model = tj["model"];
  const std::string mtype = model.value("type", "");
  if (mtype != "BPE") fail("tokenizer.json: model.type '", mtype, "' is not supported (only BPE)");
  if (!model.contains("vocab") || !model["vocab"].is_object()) fail("tokenizer.json: model.vocab is missing");
  const bool spm_style = model.value("byte_fallback", false);

  // id -> text from model.vocab, then added_tokens (which win, as in the HF vocabulary).
  std::map<int64_t, std::string> by_id;
  for (const auto& [text, idv] : model["vocab"].items()) {
    if (!idv.is_number_integer() || idv.get<int64_t>() < 0) {
      fail("tokenizer.json: model.vocab[\"", text, "\"] is not a non-negative integer id");
    }
    by_id[idv.get<int64_t>()] = text;
  }
  struct Added {
    std::string content;
    bool special;
  };
  std::map<int64_t, Added> added;
  std::vector<std::pair<std::string, int64_t>> added_in_order;  // for "first match" lookups
  for (const auto& a : tj.value("added_tokens", json::array())) {
    if (!a.contains("id") || !a["id"].is_number_integer() || !a.contains("content")) {
      fail("tokenizer.json: malformed entry in added_tokens");
    }
    const int64_t id = a["id"].get<int64_t>();
    if (id < 0) fail("tokenizer.json: added token with negative id ", id);
    added[id] = {a["content"].get<std::string>(), a.value("special", false)};
    added_in_order.emplace_back(a["content"].get<std::string>(), id);
    by_id[id] = a["content"].get<std::string>();
  }
  if (by_id.empty()) fail("tokenizer.json: empty vocabulary");
  const int64_t n = by_id.rbegin()->first + 1;
  if (n > 16 * 1024 * 1024) fail("tokenizer.json: token id ", n - 1, " is implausibly large");

  VocabSpec spec;
  spec.tokens.resize(static_cast<size_t>(n));
  spec.types.assign(static_cast<size_t>(n), kTypeUnused);
  for (int64_t i = 0; i < n; ++i) spec.tokens[i] = cat("[PAD", i, "]");

  const std::string unk_text = model.contains("unk_token") && model["unk_token"].is_string()
                                   ? model["unk_token"].get<std::string>()
                                   : std::string();
  for (const auto& [id, text] : by_id) {
    std::string t = text;
    int32_t type = kTypeNormal;
    if (auto it = added.find(id); it != added.end()) {
      if (it->second.special || looks_special(t)) {
        type = kTypeControl;
      } else {
        // llama.cpp matches user-defined tokens against raw text, so "▁" is pre-normalized.
        t = replace_all(t, "\xE2\x96\x81", " ");
        type = kTypeUserDefined;
      }
    } else if (spm_style) {
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && std::isxdigit(static_cast<unsigned char>(t[3])) &&
          std::isxdigit(static_cast<unsigned char>(t[4]))) {
        type = kTypeByte;
      } else if (!unk_text.empty() && t == unk_text) {
        type = kTypeUnknown;
      }
    }
    spec.tokens[id] = std::move(t);
    spec.types[id] = type;
  }

  // Merges: "a b" strings, or [a, b] pairs (spaces inside a part written as U+0120, as the
  // converter does).
  std::vector<std::string> merges;
  for (const auto& m : model.value("merges", json::array())) {
    if (m.is_string()) {
      merges.push_back(m.get<std::string>());
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.push_back(replace_all(m[0].get<std::string>(), " ", "\xC4\xA0") + " " +
                       replace_all(m[1].get<std::string>(), " ", "\xC4\xA0"));
    } else {
      fail("tokenizer.json: model.merges has an entry that is neither \"a b\" nor [a, b]");
    }
  }

  if (spm_style) {
    // SentencePiece BPE exported as tokenizer.json (gemma3): llama.cpp's SPM merges by token
    // score, so give each token the score that reproduces the merge order: minus the rank of
    // the first merge that produces it. Added tokens get -1000 like the converter gives them.
    spec.model = "llama";
    spec.pre = "default";
    std::unordered_map<std::string, int64_t> first_rank;
    first_rank.reserve(merges.size());
    for (size_t r = 0; r < merges.size(); ++r) {
      const std::string& m = merges[r];
      const size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) continue;
      first_rank.emplace(m.substr(0, sp) + m.substr(sp + 1), static_cast<int64_t>(r));
    }
    spec.scores.assign(static_cast<size_t>(n), 0.0f);
    const float lowest = -static_cast<float>(merges.size() + 1);
    for (int64_t i = 0; i < n; ++i) {
      if (added.count(i)) {
        spec.scores[i] = -1000.0f;
      } else if (spec.types[i] == kTypeNormal) {
        auto it = first_rank.find(spec.tokens[i]);
        if (it != first_rank.end()) {
          spec.scores[i] = -static_cast<float>(it->second);
        } else if (spec.tokens[i].size() > 1) {
          // Multi-character tokens no merge produces: never preferred.
          spec.scores[i] = lowest;
        }
      } else if (spec.types[i] == kTypeUnused) {
        spec.scores[i] = -10000.0f;
      }
    }
    // A Prepend("▁") normalizer means SentencePiece's add_dummy_prefix.
    bool prepend = false;
    std::function<void(const json&)> scan = [&](const json& nz) {
      if (!nz.is_object()) return;
      if (nz.value("type", "") == "Prepend") prepend = true;
      for (const auto& sub : nz.value("normalizers", json::array())) scan(sub);
    };
    if (tj.contains("normalizer")) scan(tj["normalizer"]);
    spec.add_space_prefix = prepend;
    spec.add_bos = true;  // SPM default, possibly overridden below
  } else {
    spec.model = "gpt2";
    spec.merges = std::move(merges);
    std::vector<std::string> regexes;
    bool byte_level = false;
    if (tj.contains("pre_tokenizer")) collect_splits(tj["pre_tokenizer"], regexes, byte_level);
    if (!byte_level && tj.contains("decoder") && tj["decoder"].value("type", "") == "ByteLevel") byte_level = true;
    if (!byte_level) fail("tokenizer.json: BPE without byte_fallback must be byte-level (no ByteLevel pre-tokenizer)");
    std::string pre;
    for (const auto& k : known_pres()) {
      if (regexes == k.regexes) pre = k.name;
    }
    if (pre.empty() && regexes == std::vector<std::string>{"\x02gpt2"}) pre = "gpt-2";
    if (pre.empty()) {
      fail("tokenizer.json: pre-tokenizer not recognised (supported: qwen2, llama-bpe, deepseek-v3, gpt-4o, gpt-2)");
    }
    spec.pre = pre;
    // llama.cpp defaults for the pre-tokenizer; the config may override below.
    spec.add_bos = pre == "llama-bpe";
  }

  // Special tokens and add_* flags, as gguf-py's SpecialVocab reads them.
  auto find_added = [&](const std::string& content) -> int32_t {
    for (const auto& [c, id] : added_in_order) {
      if (c == content) return static_cast<int32_t>(id);
    }
    return -1;
  };
  std::optional<std::string> bos_text = config_token(cfg, "bos_token");
  std::optional<std::string> eos_text = config_token(cfg, "eos_token");
  // TemplateProcessing post-processor: a leading special token means add_bos, a trailing one
  // add_eos.
  std::optional<bool> tmpl_bos, tmpl_eos;
  if (tj.contains("post_processor") && tj["post_processor"].is_object()) {
    const json& pp = tj["post_processor"];
    json procs = pp.contains("processors") ? pp["processors"] : json::array({pp});
    for (const auto& p : procs) {
      if (!p.is_object() || p.value("type", "") != "TemplateProcessing") continue;
      const json single = p.value("single", json::array());
      if (single.size() > 1) {
        if (single.front().contains("SpecialToken")) {
          const std::string first = single.front()["SpecialToken"].value("id", "");
          if (!bos_text) bos_text = first;
          tmpl_bos = (first == *bos_text);
        }
        if (single.back().contains("SpecialToken")) {
          const std::string last = single.back()["SpecialToken"].value("id", "");
          if (!eos_text) eos_text = last;
          tmpl_eos = (last == *eos_text);
        }
      }
    }
  }
  if (tmpl_bos) spec.add_bos = *tmpl_bos;
  if (tmpl_eos) spec.add_eos = *tmpl_eos;
  if (cfg.is_object()) {
    if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean()) spec.add_bos = cfg["add_bos_token"].get<bool>();
    if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean()) spec.add_eos = cfg["add_eos_token"].get<bool>();
  }
  if (bos_text) spec.bos = find_added(*bos_text);
  if (eos_text) spec.eos = find_added(*eos_text);
  if (auto t = config_token(cfg, "unk_token")) spec.unk = find_added(*t);
  if (auto t = config_token(cfg, "pad_token")) spec.pad = find_added(*t);
  if (auto t = config_token(cfg, "sep_token")) spec.sep = find_added(*t);
  if (spec.model == "llama") {
    // SPM ids the converter takes from the SentencePiece model when the config has none.
    if (spec.unk < 0 && !unk_text.empty()) {
      for (int64_t i = 0; i < n; ++i) {
        if (spec.tokens[i] == unk_text) spec.unk = static_cast<int32_t>(i);
      }
    }
  }
  if (spec.add_bos && spec.bos < 0) spec.add_bos = false;  // nothing to add
  if (spec.add_eos && spec.eos < 0) spec.add_eos = false;

  if (cfg.is_object() && cfg.contains("chat_template")) {
    const json& ct = cfg["chat_template"];
    if (ct.is_string()) {
      spec.chat_template = ct.get<std::string>();
    } else if (ct.is_array()) {
      for (const auto& e : ct) {
        if (e.is_object() && e.value("name", "") == "default" && e.contains("template")) {
          spec.chat_template = e["template"].get<std::string>();
        }
      }
    }
  }
  return spec;
}

}  // namespace hearth::tokenizer
