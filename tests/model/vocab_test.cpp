// GGUF <-> VocabSpec: write_vocab then read_vocab round trips; llama.cpp's defaults for missing
// keys; errors that name the file and key.
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include "core/error.h"
#include "gguf/gguf.h"
#include "model/vocab.h"

namespace hearth::model {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("hearth_vocab_" + std::to_string(::getpid()) + "_" + name)).string();
}

tokenizer::VocabSpec read_back(const gguf::Writer& w, const std::string& name) {
  const std::string path = temp_path(name);
  w.write(path);
  auto f = gguf::File::open(path);
  tokenizer::VocabSpec s = read_vocab(*f);
  std::filesystem::remove(path);
  return s;
}

tokenizer::VocabSpec small_bpe() {
  tokenizer::VocabSpec s;
  s.model = "gpt2";
  s.pre = "qwen2";
  for (int i = 0; i < 20; ++i) s.tokens.push_back("t" + std::to_string(i));
  s.tokens[3] = "t";
  s.tokens[4] = "1";
  s.types.assign(20, tokenizer::kTypeNormal);
  s.types[19] = tokenizer::kTypeControl;
  s.merges = {"t 1", "t1 1"};
  s.bos = 19;
  s.eos = 18;
  s.eot = 17;
  s.pad = 16;
  s.add_bos = true;
  s.add_eos = false;
  s.chat_template = "{% for m in messages %}{{ m.content }}{% endfor %}";
  return s;
}

TEST(Vocab, RoundTripsThroughGguf) {
  const tokenizer::VocabSpec s = small_bpe();
  gguf::Writer w;
  write_vocab(w, s);
  const tokenizer::VocabSpec r = read_back(w, "roundtrip.gguf");
  EXPECT_EQ(r.model, s.model);
  EXPECT_EQ(r.pre, s.pre);
  EXPECT_EQ(r.tokens, s.tokens);
  EXPECT_EQ(r.types, s.types);
  EXPECT_EQ(r.merges, s.merges);
  EXPECT_EQ(r.bos, 19);
  EXPECT_EQ(r.eos, 18);
  EXPECT_EQ(r.eot, 17);
  EXPECT_EQ(r.pad, 16);
  EXPECT_EQ(r.unk, -1);
  EXPECT_TRUE(r.add_bos);
  EXPECT_FALSE(r.add_eos);
  EXPECT_FALSE(r.add_space_prefix);
  EXPECT_EQ(r.chat_template, s.chat_template);

  tokenizer::VocabSpec spm;
  spm.model = "llama";
  spm.pre = "default";
  spm.tokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81" "a"};
  spm.types = {2, 3, 3, 1};
  spm.scores = {0.0f, 0.0f, 0.0f, -1.5f};
  spm.unk = 0;
  spm.bos = 1;
  spm.eos = 2;
  spm.add_bos = true;
  gguf::Writer w2;
  write_vocab(w2, spm);
  const tokenizer::VocabSpec r2 = read_back(w2, "roundtrip_spm.gguf");
  EXPECT_EQ(r2.tokens, spm.tokens);
  EXPECT_EQ(r2.scores, spm.scores);
  EXPECT_EQ(r2.types, spm.types);
  EXPECT_EQ(r2.add_space_prefix, false);  // written explicitly, so the SPM default does not apply
  EXPECT_NO_THROW(tokenizer::Tokenizer{r2});
}

TEST(Vocab, MissingKeysGetLlamaCppDefaults) {
  {
    gguf::Writer w;
    w.set_str("tokenizer.ggml.model", "llama");
    w.set("tokenizer.ggml.tokens", gguf::Value::of_str_array({"<unk>", "<s>", "</s>", "a"}));
    const tokenizer::VocabSpec r = read_back(w, "spm_defaults.gguf");
    EXPECT_EQ(r.unk, 0);
    EXPECT_EQ(r.bos, 1);
    EXPECT_EQ(r.eos, 2);
    EXPECT_TRUE(r.add_bos);
    EXPECT_FALSE(r.add_eos);
    EXPECT_TRUE(r.add_space_prefix);
    EXPECT_EQ(r.pre, "default");
  }
  {
    std::vector<std::string> toks;
    for (int i = 0; i < 12; ++i) toks.push_back("x" + std::to_string(i));
    gguf::Writer w;
    w.set_str("tokenizer.ggml.model", "gpt2");
    w.set_str("tokenizer.ggml.pre", "llama-bpe");
    w.set("tokenizer.ggml.tokens", gguf::Value::of_str_array(toks));
    w.set("tokenizer.ggml.merges", gguf::Value::of_str_array({}));
    w.set_u32("tokenizer.ggml.eos_token_id", 500);  // out of range: the default stays
    const tokenizer::VocabSpec r = read_back(w, "bpe_defaults.gguf");
    EXPECT_EQ(r.bos, 11);
    EXPECT_EQ(r.eos, 11);
    EXPECT_EQ(r.unk, -1);
    EXPECT_TRUE(r.add_bos);  // llama-bpe adds BOS by default
    EXPECT_FALSE(r.add_space_prefix);
  }
  {
    // With fewer than 12 tokens the BPE default ids are out of range and dropped.
    gguf::Writer w;
    w.set_str("tokenizer.ggml.model", "gpt2");
    w.set("tokenizer.ggml.tokens", gguf::Value::of_str_array({"a", "b"}));
    w.set("tokenizer.ggml.merges", gguf::Value::of_str_array({"a b"}));
    const tokenizer::VocabSpec r = read_back(w, "bpe_small.gguf");
    EXPECT_EQ(r.bos, -1);
    EXPECT_EQ(r.eos, -1);
    EXPECT_EQ(r.pre, "default");
    EXPECT_FALSE(r.add_bos);
  }
}

TEST(Vocab, ErrorsNameTheKey) {
  auto expect_error = [](const gguf::Writer& w, const std::string& name, const std::string& what) {
    const std::string path = temp_path(name);
    w.write(path);
    auto f = gguf::File::open(path);
    try {
      read_vocab(*f);
      ADD_FAILURE() << "no error, expected " << what;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
    }
    std::filesystem::remove(path);
  };
  {
    gguf::Writer w;
    w.set_str("general.architecture", "llama");
    expect_error(w, "no_model.gguf", "key tokenizer.ggml.model is missing");
  }
  {
    gguf::Writer w;
    w.set_str("tokenizer.ggml.model", "llama");
    expect_error(w, "no_tokens.gguf", "key tokenizer.ggml.tokens is missing");
  }
  {
    gguf::Writer w;
    w.set_str("tokenizer.ggml.model", "gpt2");
    w.set("tokenizer.ggml.tokens", gguf::Value::of_str_array({"a"}));
    expect_error(w, "no_merges.gguf", "key tokenizer.ggml.merges is missing");
  }
  {
    gguf::Writer w;
    w.set_str("tokenizer.ggml.model", "bert");
    w.set("tokenizer.ggml.tokens", gguf::Value::of_str_array({"a"}));
    expect_error(w, "bert.gguf", "tokenizer.ggml.model");
  }
  {
    gguf::Writer w;
    w.set_str("tokenizer.ggml.model", "llama");
    w.set("tokenizer.ggml.tokens", gguf::Value::of_str_array({"a", "b"}));
    w.set("tokenizer.ggml.scores", gguf::Value::of_f32_array({0.0f}));
    expect_error(w, "short_scores.gguf", "tokenizer.ggml.scores");
  }
  {
    gguf::Writer w;
    w.set_str("tokenizer.ggml.model", "llama");
    w.set_u32("tokenizer.ggml.tokens", 3);
    expect_error(w, "tokens_not_array.gguf", "tokenizer.ggml.tokens");
  }
}

}  // namespace
}  // namespace hearth::model
