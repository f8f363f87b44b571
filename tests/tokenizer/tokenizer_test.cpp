// Tokenizer on toy vocabularies: BPE merge order and staleness, ignore_merges, SPM scores and
// byte fallback, special-token splitting, BOS/EOS, decoding and clean-up, streaming, EOG rules,
// validation errors. Expected ids follow from the algorithms' definitions (lowest merge rank
// first / highest score first, leftmost on ties), not from running the implementation.
#include <gtest/gtest.h>

#include <map>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace hearth::tokenizer {
namespace {

using Ids = std::vector<int32_t>;

// Byte-level BPE vocabulary: ids 0..255 are the bytes (GPT-2 characters), then `extra` tokens
// (written with GPT-2 characters, e.g. "Ġa"), then `controls` and `user_defined` tokens.
struct ToyBpe {
  VocabSpec spec;
  std::map<std::string, int32_t> id;
  int32_t operator[](const std::string& t) const { return id.at(t); }
};

ToyBpe toy_bpe(const std::vector<std::string>& extra, const std::vector<std::string>& merges,
               const std::string& pre = "qwen2", const std::vector<std::string>& controls = {},
               const std::vector<std::string>& user_defined = {}) {
  ToyBpe t;
  t.spec.model = "gpt2";
  t.spec.pre = pre;
  auto add = [&](const std::string& s, int32_t type) {
    t.id[s] = static_cast<int32_t>(t.spec.tokens.size());
    t.spec.tokens.push_back(s);
    t.spec.types.push_back(type);
  };
  for (int b = 0; b < 256; ++b) add(unicode::byte_to_gpt2(static_cast<uint8_t>(b)), kTypeNormal);
  for (const auto& s : extra) add(s, kTypeNormal);
  for (const auto& s : controls) add(s, kTypeControl);
  for (const auto& s : user_defined) add(s, kTypeUserDefined);
  t.spec.merges = merges;
  return t;
}

Ids enc(const Tokenizer& tok, const std::string& text, bool add_special = false, bool parse_special = true) {
  return tok.encode(text, add_special, parse_special);
}

TEST(BpeTokenizer, LowestRankMergesFirst) {
  {
    auto t = toy_bpe({"bc", "ab", "abc"}, {"b c", "a b", "a bc"});
    Tokenizer tok(t.spec);
    EXPECT_EQ(enc(tok, "abc"), (Ids{t["abc"]}));  // b+c (rank 0), then a+bc (rank 2)
  }
  {
    // Same tokens, but "a b" first: "ab" + "c" has no merge, so two tokens remain.
    auto t = toy_bpe({"bc", "ab", "abc"}, {"a b", "b c", "a bc"});
    Tokenizer tok(t.spec);
    EXPECT_EQ(enc(tok, "abc"), (Ids{t["ab"], 'c'}));
  }
}

TEST(BpeTokenizer, TiesGoToTheLeftmostPair) {
  auto t = toy_bpe({"aa"}, {"a a"});
  Tokenizer tok(t.spec);
  EXPECT_EQ(enc(tok, "aaa"), (Ids{t["aa"], 'a'}));
  EXPECT_EQ(enc(tok, "aaaa"), (Ids{t["aa"], t["aa"]}));
}

TEST(BpeTokenizer, StaleCandidatesAreSkipped) {
  // a b c d: "b c" (0) wins; "a b" (1) and "c d" (2) are then stale; "a bc" (3) applies.
  auto t = toy_bpe({"bc", "ab", "cd", "abc"}, {"b c", "a b", "c d", "a bc"});
  Tokenizer tok(t.spec);
  EXPECT_EQ(enc(tok, "abcd"), (Ids{t["abc"], 'd'}));
}

TEST(BpeTokenizer, SpacesAreByteEncodedAndWordsSplitFirst) {
  // "Ġ" is the GPT-2 character of ' '. The pre-tokenizer makes " ab" one word: Ġ a b.
  auto t = toy_bpe({"Ġa", "Ġab", "ab"}, {"Ġ a", "Ġa b", "a b"});
  Tokenizer tok(t.spec);
  EXPECT_EQ(enc(tok, "ab ab"), (Ids{t["ab"], t["Ġab"]}));
  // Merges never cross words: "b a" would need a merge across the space.
  EXPECT_EQ(enc(tok, "b a"), (Ids{'b', t["Ġa"]}));
  // Newline and non-ASCII bytes go through the byte map too.
  EXPECT_EQ(enc(tok, "\n\xC3\xA9"), (Ids{'\n', 0xC3, 0xA9}));
}

TEST(BpeTokenizer, IgnoreMergesEmitsWholeWordTokens) {
  // "abc" is a token no merge produces; llama-bpe (ignore_merges) emits it, qwen2 cannot.
  auto qwen = toy_bpe({"abc"}, {});
  EXPECT_EQ(enc(Tokenizer(qwen.spec), "abc"), (Ids{'a', 'b', 'c'}));
  auto llama = toy_bpe({"abc"}, {}, "llama-bpe");
  EXPECT_EQ(enc(Tokenizer(llama.spec), "abc"), (Ids{llama["abc"]}));
}

TEST(BpeTokenizer, InvalidUtf8IsTokenizedAsReplacementCharacters) {
  auto t = toy_bpe({}, {});
  Tokenizer tok(t.spec);
  // 0xFF -> U+FFFD = EF BF BD, three byte tokens.
  EXPECT_EQ(enc(tok, "\xFF"), (Ids{0xEF, 0xBF, 0xBD}));
}

TEST(BpeTokenizer, SpecialTokens) {
  auto t = toy_bpe({}, {}, "qwen2", {"<|x|>", "<|im", "<|im_start|>"}, {"@@"});
  Tokenizer tok(t.spec);
  EXPECT_EQ(enc(tok, "a<|x|>b"), (Ids{'a', t["<|x|>"], 'b'}));
  // Without parse_special the control token's text is ordinary text.
  EXPECT_EQ(enc(tok, "<|x|>", false, false), (Ids{'<', '|', 'x', '|', '>'}));
  // User-defined tokens are split out either way.
  EXPECT_EQ(enc(tok, "a@@b", false, false), (Ids{'a', t["@@"], 'b'}));
  // Longest text first: "<|im_start|>" is not "<|im" + "_start|>".
  EXPECT_EQ(enc(tok, "<|im_start|><|im"), (Ids{t["<|im_start|>"], t["<|im"]}));
  EXPECT_EQ(enc(tok, ""), Ids{});
  EXPECT_EQ(enc(tok, "<|x|><|x|>"), (Ids{t["<|x|>"], t["<|x|>"]}));
}

TEST(BpeTokenizer, BosAndEos) {
  auto t = toy_bpe({}, {}, "qwen2", {"<s>", "</s>"});
  t.spec.bos = t["<s>"];
  t.spec.eos = t["</s>"];
  t.spec.add_bos = true;
  Tokenizer tok(t.spec);
  EXPECT_EQ(enc(tok, "a", true), (Ids{t["<s>"], 'a'}));
  EXPECT_EQ(enc(tok, "a", false), (Ids{'a'}));
  EXPECT_EQ(enc(tok, "", true), (Ids{t["<s>"]}));
  t.spec.add_eos = true;
  EXPECT_EQ(enc(Tokenizer(t.spec), "a", true), (Ids{t["<s>"], 'a', t["</s>"]}));
  // A vocabulary that asks for BOS but has none cannot add it.
  t.spec.bos = -1;
  EXPECT_THROW(enc(Tokenizer(t.spec), "a", true), Error);
}

TEST(BpeTokenizer, PiecesAndDecode) {
  auto t = toy_bpe({"Ġa", "Ġab"}, {"Ġ a", "Ġa b"}, "qwen2", {"<|c|>"});
  Tokenizer tok(t.spec);
  EXPECT_EQ(tok.token_to_piece(t["Ġab"]), " ab");
  EXPECT_EQ(tok.token_to_piece(0xE9), "\xE9");  // a single raw byte
  EXPECT_EQ(tok.token_to_piece(t["<|c|>"], true), "<|c|>");
  EXPECT_EQ(tok.token_to_piece(t["<|c|>"], false), "");
  const Ids ids = enc(tok, "x ab<|c|> \xC3\xA9");
  EXPECT_EQ(tok.decode(ids), "x ab<|c|> \xC3\xA9");
  EXPECT_EQ(tok.decode(ids, false), "x ab \xC3\xA9");
  EXPECT_THROW(tok.token_to_piece(-1), Error);
  EXPECT_THROW(tok.token_to_piece(tok.n_vocab()), Error);
}

TEST(BpeTokenizer, CleanUpSpacesOnlyWhereTheVocabularyAsks) {
  const std::string text = "a , b . c ' d 's x 're";
  // llama-bpe keeps clean_up_tokenization_spaces: " ," " ." lose the space, " ' " becomes "'",
  // " 's" and " 're" lose the space.
  auto llama = toy_bpe({}, {}, "llama-bpe");
  Tokenizer lt(llama.spec);
  EXPECT_EQ(lt.decode(enc(lt, text)), "a, b. c'd's x're");
  auto qwen = toy_bpe({}, {}, "qwen2");
  Tokenizer qt(qwen.spec);
  EXPECT_EQ(qt.decode(enc(qt, text)), text);
}

TEST(BpeTokenizer, EndOfGenerationFollowsLlamaCppTextRules) {
  auto t = toy_bpe({}, {}, "qwen2", {"<|endoftext|>", "<|im_end|>", "<|im_start|>"});
  t.spec.eos = t["<|endoftext|>"];
  Tokenizer tok(t.spec);
  EXPECT_TRUE(tok.is_eog(t["<|endoftext|>"]));
  EXPECT_TRUE(tok.is_eog(t["<|im_end|>"]));
  EXPECT_FALSE(tok.is_eog(t["<|im_start|>"]));
  EXPECT_FALSE(tok.is_eog('a'));
  EXPECT_GE(tok.eot(), 0);  // detected from the texts
}

TEST(BpeTokenizer, HarmonyEndIsNotEndOfGeneration) {
  // With <|return|> and <|call|> present, <|end|> only ends a message; it becomes
  // user-defined, so it is split out of text even without parse_special.
  auto t = toy_bpe({}, {}, "gpt-4o", {"<|return|>", "<|call|>", "<|end|>", "<|channel|>"});
  Tokenizer tok(t.spec);
  EXPECT_TRUE(tok.is_eog(t["<|return|>"]));
  EXPECT_TRUE(tok.is_eog(t["<|call|>"]));
  EXPECT_FALSE(tok.is_eog(t["<|end|>"]));
  EXPECT_EQ(enc(tok, "<|end|>", false, false), (Ids{t["<|end|>"]}));
  EXPECT_EQ(enc(tok, "<|channel|>", false, false), (Ids{t["<|channel|>"]}));
  // Without the pair, <|end|> is an end of generation (and control).
  auto u = toy_bpe({}, {}, "gpt-4o", {"<|end|>"});
  Tokenizer tu(u.spec);
  EXPECT_TRUE(tu.is_eog(u["<|end|>"]));
  EXPECT_TRUE(tu.is_control(u["<|end|>"]));
}

TEST(BpeTokenizer, EogTextMakesANormalTokenControl) {
  // "</s>" as a normal token is still treated as control by llama.cpp (it is an EOG text).
  auto t = toy_bpe({"</s>"}, {});
  Tokenizer tok(t.spec);
  EXPECT_TRUE(tok.is_control(t["</s>"]));
  EXPECT_EQ(enc(tok, "a</s>"), (Ids{'a', t["</s>"]}));
}

// SentencePiece-style vocabulary: <unk>, <s>, </s>, 256 byte tokens, then scored pieces.
struct ToySpm {
  VocabSpec spec;
  std::map<std::string, int32_t> id;
  int32_t operator[](const std::string& t) const { return id.at(t); }
};

ToySpm toy_spm(const std::vector<std::pair<std::string, float>>& pieces, bool space_prefix = false) {
  ToySpm t;
  t.spec.model = "llama";
  t.spec.pre = "default";
  auto add = [&](const std::string& s, int32_t type, float score) {
    t.id[s] = static_cast<int32_t>(t.spec.tokens.size());
    t.spec.tokens.push_back(s);
    t.spec.types.push_back(type);
    t.spec.scores.push_back(score);
  };
  add("<unk>", kTypeUnknown, 0);
  add("<s>", kTypeControl, 0);
  add("</s>", kTypeControl, 0);
  static const char* hex = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) add(std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">", kTypeByte, 0);
  for (const auto& [s, score] : pieces) add(s, kTypeNormal, score);
  t.spec.unk = 0;
  t.spec.bos = 1;
  t.spec.eos = 2;
  t.spec.add_bos = true;
  t.spec.add_space_prefix = space_prefix;
  return t;
}

TEST(SpmTokenizer, HighestScoreMergesFirst) {
  {
    auto t = toy_spm({{"a", 0}, {"b", 0}, {"c", 0}, {"ab", -1}, {"bc", -2}, {"abc", -3}});
    Tokenizer tok(t.spec);
    EXPECT_EQ(enc(tok, "abc"), (Ids{t["abc"]}));
  }
  {
    // "bc" scores higher than "ab"; nothing joins "a" + "bc" without an "abc" token.
    auto t = toy_spm({{"a", 0}, {"b", 0}, {"c", 0}, {"ab", -5}, {"bc", -1}});
    Tokenizer tok(t.spec);
    EXPECT_EQ(enc(tok, "abc"), (Ids{t["a"], t["bc"]}));
  }
  {
    auto t = toy_spm({{"a", 0}, {"aa", -1}});
    Tokenizer tok(t.spec);
    EXPECT_EQ(enc(tok, "aaa"), (Ids{t["aa"], t["a"]}));
  }
}

TEST(SpmTokenizer, SpacesBecomeLowerBlocksAndPrefixIsAdded) {
  const std::string sp = "\xE2\x96\x81";  // ▁
  auto t = toy_spm({{"a", 0}, {sp, 0}, {sp + "a", -1}}, /*space_prefix=*/true);
  t.spec.types[t["<s>"]] = kTypeControl;
  Tokenizer tok(t.spec);
  EXPECT_EQ(enc(tok, "a a"), (Ids{t[sp + "a"], t[sp + "a"]}));
  EXPECT_EQ(enc(tok, "a", true), (Ids{t["<s>"], t[sp + "a"]}));
  // After a special token the next text gets the prefix again.
  EXPECT_EQ(enc(tok, "a<s>a"), (Ids{t[sp + "a"], t["<s>"], t[sp + "a"]}));
  // Decoding removes the prefix space of the first piece.
  EXPECT_EQ(tok.decode(enc(tok, "a a")), "a a");
  EXPECT_EQ(tok.token_to_piece(t[sp + "a"]), " a");
}

TEST(SpmTokenizer, ByteFallback) {
  auto t = toy_spm({{"a", 0}});
  Tokenizer tok(t.spec);
  EXPECT_EQ(enc(tok, "a\xC3\xA9"), (Ids{t["a"], t["<0xC3>"], t["<0xA9>"]}));
  // SPM walks raw bytes by their lead byte: "\xE3\x81" + "a" is one 3-byte "character" that is
  // not a token, so all three bytes fall back (even the 'a').
  EXPECT_EQ(enc(tok, "\xE3\x81" "a"), (Ids{t["<0xE3>"], t["<0x81>"], t["<0x61>"]}));
  EXPECT_EQ(tok.token_to_piece(t["<0xC3>"]), "\xC3");
  EXPECT_EQ(tok.decode(enc(tok, "a\xC3\xA9")), "a\xC3\xA9");
}

TEST(StreamDecoder, NeverSplitsAUtf8Character) {
  auto t = toy_spm({{"a", 0}});
  Tokenizer tok(t.spec);
  StreamDecoder sd(tok);
  EXPECT_EQ(sd.push(t["a"]), "a");
  EXPECT_EQ(sd.push(t["<0xF0>"]), "");
  EXPECT_EQ(sd.push(t["<0x9F>"]), "");
  EXPECT_EQ(sd.push(t["<0x98>"]), "");
  EXPECT_EQ(sd.push(t["<0x80>"]), "\xF0\x9F\x98\x80");
  EXPECT_EQ(sd.push(t["<0xC3>"]), "");
  EXPECT_EQ(sd.flush(), "\xC3");  // an unfinished character comes out at the end
  EXPECT_EQ(sd.flush(), "");
  // Invalid bytes are not held back.
  EXPECT_EQ(sd.push(t["<0xFF>"]), "\xFF");

  // Byte-level BPE: "é" as its two byte tokens.
  auto b = toy_bpe({}, {});
  Tokenizer bt(b.spec);
  StreamDecoder bd(bt);
  std::string all;
  for (int32_t id : enc(bt, "x\xC3\xA9\xE6\x97\xA5")) {
    const std::string out = bd.push(id);
    if (!out.empty()) {
      EXPECT_FALSE(unicode::utf8_tail(out).pending);
    }
    all += out;
  }
  all += bd.flush();
  EXPECT_EQ(all, "x\xC3\xA9\xE6\x97\xA5");
}

TEST(TokenizerValidation, RejectsMalformedVocabularies) {
  auto good = toy_bpe({"ab"}, {"a b"});
  EXPECT_NO_THROW(Tokenizer{good.spec});
  auto expect_error = [](VocabSpec s, const std::string& what) {
    try {
      Tokenizer tok(std::move(s));
      ADD_FAILURE() << "no error for " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  {
    auto s = good.spec;
    s.model = "t5";
    expect_error(s, "tokenizer.ggml.model");
  }
  {
    auto s = good.spec;
    s.tokens.clear();
    s.types.clear();
    expect_error(s, "empty");
  }
  {
    auto s = good.spec;
    s.types.pop_back();
    expect_error(s, "tokenizer.ggml.token_type");
  }
  {
    auto s = good.spec;
    s.types[3] = 9;
    expect_error(s, "token_type[3]");
  }
  {
    auto s = good.spec;
    s.scores = {1.0f};
    expect_error(s, "tokenizer.ggml.scores");
  }
  {
    auto s = good.spec;
    s.merges.push_back("nospace");
    expect_error(s, "tokenizer.ggml.merges[1]");
  }
  {
    auto s = good.spec;
    s.eos = static_cast<int32_t>(s.tokens.size());
    expect_error(s, "eos_token_id");
  }
  {
    auto s = good.spec;
    s.pre = "klingon";
    expect_error(s, "klingon");
  }
}

TEST(SyntheticVocab, DeterministicSizedAndUsable) {
  for (int32_t n : {259, 1000, 5000}) {
    const VocabSpec a = synthetic_vocab(n);
    EXPECT_EQ(static_cast<int32_t>(a.tokens.size()), n);
    const VocabSpec b = synthetic_vocab(n);
    EXPECT_EQ(a.tokens, b.tokens);
    EXPECT_EQ(a.merges, b.merges);
    Tokenizer tok(a);
    const std::string text = "The quick brown fox said: \"x = 42;\"\n\tdef f():\n日本 🚀 \xFF<|im_start|>user";
    const Ids ids = tok.encode(text, false, true);
    EXPECT_EQ(tok.decode(ids), "The quick brown fox said: \"x = 42;\"\n\tdef f():\n日本 🚀 \xEF\xBF\xBD<|im_start|>user");
    EXPECT_TRUE(tok.is_eog(tok.eos()));
    if (n >= 1000) {
      // The merges are trained on English: a sentence of that kind takes far fewer tokens
      // than bytes.
      const std::string english = "The quick brown fox jumps over the lazy dog. A language model reads text.";
      EXPECT_LT(tok.encode(english, false, true).size(), english.size() / 3);
    }
  }
  EXPECT_THROW(synthetic_vocab(100), Error);
}

}  // namespace
}  // namespace hearth::tokenizer
