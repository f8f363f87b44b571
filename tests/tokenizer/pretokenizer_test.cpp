// Pre-tokenizers: each family's regexes on tricky strings. Expected pieces are worked out from
// the regex definitions (and, where llama.cpp deviates from a full Unicode regex, from its
// category-collapsing rules), independently of the implementation.
#include <gtest/gtest.h>

#include "core/error.h"
#include "tokenizer/pretokenizer.h"

namespace hearth::tokenizer {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(const std::string& pre, const std::string& text) {
  const RegexSplitter s(pre_config(pre).regexes);
  return s.split(text);
}

TEST(PreTokenizer, Qwen2) {
  EXPECT_EQ(split("qwen2", "Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(split("qwen2", "12345"), (Pieces{"1", "2", "3", "4", "5"}));  // \p{N}: single digits
  EXPECT_EQ(split("qwen2", "I'm here"), (Pieces{"I", "'m", " here"}));
  EXPECT_EQ(split("qwen2", "WE'LL 'S"), (Pieces{"WE", "'LL", " '", "S"}));
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*': punctuation takes trailing newlines along.
  EXPECT_EQ(split("qwen2", "a.\n\nb"), (Pieces{"a", ".\n\n", "b"}));
  // '\s+(?!\S)' leaves the last space to prefix the next word.
  EXPECT_EQ(split("qwen2", "a   b"), (Pieces{"a", "  ", " b"}));
  EXPECT_EQ(split("qwen2", "a   "), (Pieces{"a", "   "}));
  // '\s*[\r\n]+' ends at the last newline of a whitespace run.
  EXPECT_EQ(split("qwen2", "x \n \n  y"), (Pieces{"x", " \n \n", " ", " y"}));
  EXPECT_EQ(split("qwen2", "\t\tif"), (Pieces{"\t", "\tif"}));
  EXPECT_EQ(split("qwen2", "日本語のテキスト"), (Pieces{"日本語のテキスト"}));
  EXPECT_EQ(split("qwen2", "  😀😀!"), (Pieces{" ", " 😀😀!"}));
  // Non-ASCII white space counts as \s (U+3000 ideographic space).
  EXPECT_EQ(split("qwen2", "a\u3000b"), (Pieces{"a", "\u3000b"}));
  EXPECT_EQ(split("qwen2", ""), Pieces{});
}

TEST(PreTokenizer, Llama3GroupsDigitsByThree) {
  EXPECT_EQ(split("llama-bpe", "1234567"), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(split("llama-bpe", "x12345y"), (Pieces{"x", "123", "45", "y"}));
  EXPECT_EQ(split("llama-bpe", "Ⅻ½²"), (Pieces{"Ⅻ½²"}));  // all \p{N}
  EXPECT_EQ(split("llama-bpe", "don't"), (Pieces{"don", "'t"}));
}

TEST(PreTokenizer, Gpt4oCaseRulesAreAsciiOnly) {
  // Upper-then-lower words, contractions attached.
  EXPECT_EQ(split("gpt-4o", "HelloWorld don't"), (Pieces{"Hello", "World", " don't"}));
  EXPECT_EQ(split("gpt-4o", "XMLHttp"), (Pieces{"XMLHttp"}));
  // llama.cpp emulates the case classes with "letter but not a-z / not A-Z", so a non-ASCII
  // capital also counts as lower case: "ÉCOLE" -> "É" + "COLE" (a Unicode regex keeps it whole).
  EXPECT_EQ(split("gpt-4o", "ÉCOLE"), (Pieces{"É", "COLE"}));
  // Marks are not letters in llama.cpp's version: a combining accent splits off and becomes
  // the optional prefix of the next word.
  EXPECT_EQ(split("gpt-4o", "e\u0301t\u00e9"), (Pieces{"e", "\u0301t\u00e9"}));
  EXPECT_EQ(split("gpt-4o", "a/b\n/"), (Pieces{"a", "/b", "\n", "/"}));
  EXPECT_EQ(split("gpt-4o", "1234"), (Pieces{"123", "4"}));
}

TEST(PreTokenizer, DeepSeekV3AppliesThreeRegexesInSequence) {
  // Digits first (groups of 3), then runs of CJK/kana, then the word regex on what is left.
  EXPECT_EQ(split("deepseek-v3", "abc123456def"), (Pieces{"abc", "123", "456", "def"}));
  EXPECT_EQ(split("deepseek-v3", "我想在apple工作"), (Pieces{"我想在", "apple", "工作"}));
  EXPECT_EQ(split("deepseek-v3", "日本語のテキスト"), (Pieces{"日本語のテキスト"}));
  // A punctuation character followed by ASCII letters stays together.
  EXPECT_EQ(split("deepseek-v3", "a.b,c"), (Pieces{"a", ".b", ",c"}));
  EXPECT_EQ(split("deepseek-v3", "x !!\ny"), (Pieces{"x", " !!\n", "y"}));
  // Marks join letters here ([\p{L}\p{M}]+).
  EXPECT_EQ(split("deepseek-v3", " e\u0301"), (Pieces{" e\u0301"}));
}

TEST(PreTokenizer, Gpt2AndDefault) {
  EXPECT_EQ(split("gpt-2", "Hello  world's 42"), (Pieces{"Hello", " ", " world", "'s", " 42"}));
  // default: punctuation runs split first, then the GPT-2 regex, then digit runs, then
  // groups of three ASCII digits.
  EXPECT_EQ(split("default", "a...b 1234"), (Pieces{"a", "...", "b", " ", "123", "4"}));
}

TEST(PreTokenizer, InvalidUtf8BecomesReplacementChars) {
  // U+FFFD is a symbol, so it can prefix a word like any other non-letter.
  EXPECT_EQ(split("qwen2", "a\xFF" "b"), (Pieces{"a", "\xEF\xBF\xBD" "b"}));
  EXPECT_EQ(split("qwen2", " \xE3\x81"), (Pieces{" \xEF\xBF\xBD\xEF\xBF\xBD"}));
}

TEST(PreTokenizer, LongRunsDoNotExhaustTheMatcher) {
  const std::string spaces(200000, ' ');
  EXPECT_EQ(split("gpt-4o", spaces + "x"), (Pieces{std::string(199999, ' '), " x"}));
  const std::string letters(200000, 'a');
  EXPECT_EQ(split("gpt-4o", letters), Pieces{letters});
}

TEST(PreTokenizer, ConfigsAndErrors) {
  EXPECT_TRUE(pre_config("llama-bpe").ignore_merges);
  EXPECT_TRUE(pre_config("llama-bpe").add_bos);
  EXPECT_FALSE(pre_config("qwen2").add_bos);
  EXPECT_FALSE(pre_config("qwen2").clean_spaces);
  EXPECT_TRUE(pre_config("default").clean_spaces);
  EXPECT_THROW(pre_config("no-such-pre"), Error);
  EXPECT_THROW(RegexSplitter({"(unclosed"}), Error);
  for (const auto& name : known_pre_names()) EXPECT_NO_THROW(RegexSplitter(pre_config(name).regexes)) << name;
}

}  // namespace
}  // namespace hearth::tokenizer
