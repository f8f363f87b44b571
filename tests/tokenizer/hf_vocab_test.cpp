// vocab_from_hf on small hand-written tokenizer.json files: token types the converter assigns,
// merges in both formats, pre-tokenizer detection, special ids and flags from
// tokenizer_config.json, the SentencePiece-style conversion, and errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace hearth::tokenizer {
namespace {

using json = nlohmann::json;

const char* kQwenRegex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json byte_level_json(const std::string& regex) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[unicode::byte_to_gpt2(static_cast<uint8_t>(b))] = b;
  vocab["ab"] = 256;
  vocab["\xC4\xA0" "a"] = 257;  // "Ġa"
  json j;
  j["model"] = {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({json::array({"a", "b"}), json::array({" ", "a"})})}};
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers", json::array({{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}},
                                                       {{"type", "ByteLevel"}, {"use_regex", false}}})}};
  j["added_tokens"] = json::array({
      {{"id", 258}, {"content", "<|endoftext|>"}, {"special", true}},
      {{"id", 259}, {"content", "<|im_start|>"}, {"special", false}},  // looks special
      {{"id", 260}, {"content", "<think>"}, {"special", false}},
      {{"id", 262}, {"content", "<tool>"}, {"special", true}},
  });
  return j;
}

TEST(VocabFromHf, ByteLevelVocabulary) {
  const json j = byte_level_json(kQwenRegex);
  const std::string cfg = R"({"eos_token": "<|endoftext|>", "bos_token": null, "add_bos_token": false,
                              "chat_template": "{{ messages }}"})";
  const VocabSpec s = vocab_from_hf(j.dump(), &cfg);
  EXPECT_EQ(s.model, "gpt2");
  EXPECT_EQ(s.pre, "qwen2");
  ASSERT_EQ(s.tokens.size(), 263u);  // id 261 is a gap
  EXPECT_EQ(s.tokens[256], "ab");
  EXPECT_EQ(s.tokens[261], "[PAD261]");
  EXPECT_EQ(s.types[261], kTypeUnused);
  EXPECT_EQ(s.types[256], kTypeNormal);
  EXPECT_EQ(s.types[258], kTypeControl);
  EXPECT_EQ(s.types[259], kTypeControl);  // not marked special, but "<|...|>"
  EXPECT_EQ(s.types[260], kTypeUserDefined);
  EXPECT_EQ(s.types[262], kTypeControl);
  // [a, b] pairs become "a b"; a space inside a part is written as U+0120.
  EXPECT_EQ(s.merges, (std::vector<std::string>{"a b", "\xC4\xA0 a"}));
  EXPECT_EQ(s.eos, 258);
  EXPECT_EQ(s.bos, -1);
  EXPECT_FALSE(s.add_bos);
  ASSERT_TRUE(s.chat_template.has_value());
  EXPECT_EQ(*s.chat_template, "{{ messages }}");
  Tokenizer tok(s);
  EXPECT_EQ(tok.encode("ab<|endoftext|>", false, true), (std::vector<int32_t>{256, 258}));
}

TEST(VocabFromHf, DetectsPreTokenizers) {
  const std::string llama3 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const VocabSpec s = vocab_from_hf(byte_level_json(llama3).dump(), nullptr);
  EXPECT_EQ(s.pre, "llama-bpe");
  EXPECT_TRUE(s.add_bos == false);  // no BOS token known without a config
  EXPECT_THROW(vocab_from_hf(byte_level_json("\\w+").dump(), nullptr), Error);
}

TEST(VocabFromHf, SentencePieceStyle) {
  json vocab = json::object();
  vocab["<pad>"] = 0;
  vocab["<eos>"] = 1;
  vocab["<bos>"] = 2;
  vocab["<unk>"] = 3;
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) vocab[std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">"] = 4 + b;
  int id = 260;
  for (const char* t : {"a", "b", "c", "\xE2\x96\x81", "ab", "bc", "abc", "\xE2\x96\x81\xE2\x96\x81"}) vocab[t] = id++;
  json j;
  j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}};
  j["model"] = {{"type", "BPE"}, {"byte_fallback", true}, {"unk_token", "<unk>"}, {"vocab", vocab},
                {"merges", json::array({json::array({"b", "c"}), json::array({"a", "b"}), json::array({"a", "bc"})})}};
  j["added_tokens"] = json::array({{{"id", 0}, {"content", "<pad>"}, {"special", true}},
                                   {{"id", 1}, {"content", "<eos>"}, {"special", true}},
                                   {{"id", 2}, {"content", "<bos>"}, {"special", true}},
                                   {{"id", 3}, {"content", "<unk>"}, {"special", true}},
                                   {{"id", 267}, {"content", "\xE2\x96\x81\xE2\x96\x81"}, {"special", false}}});
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single", json::array({{{"SpecialToken", {{"id", "<bos>"}}}}, {{"Sequence", {{"id", "A"}}}}})}};
  const std::string cfg = R"({"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>"})";
  const VocabSpec s = vocab_from_hf(j.dump(), &cfg);
  EXPECT_EQ(s.model, "llama");
  EXPECT_TRUE(s.merges.empty());
  EXPECT_EQ(s.bos, 2);
  EXPECT_EQ(s.eos, 1);
  EXPECT_EQ(s.pad, 0);
  EXPECT_EQ(s.unk, 3);
  EXPECT_TRUE(s.add_bos);  // from the TemplateProcessing post-processor
  EXPECT_FALSE(s.add_space_prefix);
  EXPECT_EQ(s.types[3], kTypeControl);
  EXPECT_EQ(s.types[4 + 0x41], kTypeByte);
  EXPECT_EQ(s.types[267], kTypeUserDefined);
  EXPECT_EQ(s.tokens[267], "  ");  // user-defined "▁▁" pre-normalized to spaces
  // Scores reproduce the merge order: "bc" (rank 0) > "ab" (rank 1) > "abc" (rank 2).
  EXPECT_GT(s.scores[265], s.scores[264]);  // ids: ab = 264, bc = 265, abc = 266
  EXPECT_GT(s.scores[264], s.scores[266]);
  Tokenizer tok(s);
  // b+c first, then a+bc: one token, as the BPE merges would give.
  EXPECT_EQ(tok.encode("abc", false, false), (std::vector<int32_t>{266}));
  EXPECT_EQ(tok.encode("abc", true, false), (std::vector<int32_t>{2, 266}));
  // Bytes with no piece fall back to <0xXX>.
  EXPECT_EQ(tok.encode("\xC3\xA9", false, false), (std::vector<int32_t>{4 + 0xC3, 4 + 0xA9}));
}

TEST(VocabFromHf, Errors) {
  EXPECT_THROW(vocab_from_hf("not json", nullptr), Error);
  EXPECT_THROW(vocab_from_hf(R"({"model": {"type": "Unigram", "vocab": []}})", nullptr), Error);
  EXPECT_THROW(vocab_from_hf(R"({"model": {"type": "BPE"}})", nullptr), Error);
  json j = byte_level_json(kQwenRegex);
  j["model"]["merges"] = json::array({42});
  EXPECT_THROW(vocab_from_hf(j.dump(), nullptr), Error);
  const std::string bad_cfg = "{";
  EXPECT_THROW(vocab_from_hf(byte_level_json(kQwenRegex).dump(), &bad_cfg), Error);
}

}  // namespace
}  // namespace hearth::tokenizer
