// Unicode helpers of the tokenizer: lenient UTF-8 decoding (llama.cpp's rules), categories,
// White_Space, the GPT-2 byte map and the UTF-8 tail finder used by the stream decoder.
#include <gtest/gtest.h>

#include <set>

#include "tokenizer/unicode.h"

namespace hearth::tokenizer::unicode {
namespace {

using Cps = std::vector<uint32_t>;

TEST(Unicode, DecodesValidUtf8) {
  EXPECT_EQ(decode_lenient("a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80"), (Cps{'a', 0xE9, 0x65E5, 0x1F600}));
  EXPECT_EQ(decode_lenient(""), Cps{});
  EXPECT_EQ(decode_lenient(std::string("\0x", 2)), (Cps{0, 'x'}));
}

TEST(Unicode, EachBadByteBecomesOneReplacementChar) {
  constexpr uint32_t R = kReplacementChar;
  // Lone continuation bytes and bytes that never start a sequence.
  EXPECT_EQ(decode_lenient("\x80\xBF"), (Cps{R, R}));
  EXPECT_EQ(decode_lenient("\xF8\xFF"), (Cps{R, R}));
  // A truncated sequence: the lead byte is replaced, then its continuation bytes one by one.
  EXPECT_EQ(decode_lenient("\xE3\x81" "A"), (Cps{R, R, 'A'}));
  EXPECT_EQ(decode_lenient("\xF0\x9F\x98"), (Cps{R, R, R}));
  // Overlong forms and surrogates are decoded as written (llama.cpp does not reject them).
  EXPECT_EQ(decode_lenient("\xC0\x80"), Cps{0});
  EXPECT_EQ(decode_lenient("\xC0\xAF"), Cps{'/'});
  EXPECT_EQ(decode_lenient("\xED\xA0\x80"), Cps{0xD800});
  // Above U+10FFFF: every byte replaced (llama.cpp aborts here; Hearth never fails on input).
  EXPECT_EQ(decode_lenient("\xF4\x90\x80\x80"), (Cps{R, R, R, R}));
  EXPECT_EQ(decode_lenient("\xF4\x8F\xBF\xBF"), Cps{0x10FFFF});
}

TEST(Unicode, AppendUtf8RoundTripsEveryScalarAndSurrogate) {
  for (uint32_t cp = 0; cp <= kMaxCodePoint; cp += (cp < 0x11000 ? 1 : 97)) {
    std::string s;
    append_utf8(s, cp);
    ASSERT_EQ(decode_lenient(s), Cps{cp}) << cp;
  }
}

TEST(Unicode, Categories) {
  EXPECT_EQ(category('a'), kLetter);
  EXPECT_EQ(category('Z'), kLetter);
  EXPECT_EQ(category('7'), kNumber);
  EXPECT_EQ(category(0xBD), kNumber);     // ½ (No)
  EXPECT_EQ(category(0x216B), kNumber);   // Ⅻ (Nl)
  EXPECT_EQ(category('!'), kPunctuation);
  EXPECT_EQ(category('-'), kPunctuation);
  EXPECT_EQ(category('$'), kSymbol);
  EXPECT_EQ(category('+'), kSymbol);
  EXPECT_EQ(category('`'), kSymbol);
  EXPECT_EQ(category(' '), kSeparator);
  EXPECT_EQ(category('\n'), kOther);
  EXPECT_EQ(category(0x301), kMark);      // combining acute
  EXPECT_EQ(category(0x65E5), kLetter);   // 日
  EXPECT_EQ(category(0x1F600), kSymbol);  // 😀
  EXPECT_EQ(category(0x1FAE8), kSymbol);  // 🫨, added in Unicode 15.0
  EXPECT_EQ(category(0x2EBF0), kLetter);  // CJK Ext. I, added in Unicode 15.1
  EXPECT_EQ(category(0x1CC00), kUndefined);  // Unicode 16.0: unknown to 15.1 tables
  EXPECT_EQ(category(0x378), kUndefined);
  EXPECT_EQ(category(0xE000), kOther);    // private use
  EXPECT_EQ(category(0xD800), kOther);    // surrogate
  EXPECT_EQ(category(0x200D), kOther);    // ZWJ (Cf)
  EXPECT_EQ(category(0x110000), kUndefined);
}

TEST(Unicode, WhiteSpaceIsTheUnicodeProperty) {
  const std::set<uint32_t> expected = {0x9,    0xA,    0xB,    0xC,    0xD,    0x20,   0x85,
                                       0xA0,   0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
                                       0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028,
                                       0x2029, 0x202F, 0x205F, 0x3000};
  for (uint32_t cp = 0; cp < 0x10000; ++cp) {
    EXPECT_EQ(is_whitespace(cp), expected.count(cp) > 0) << std::hex << cp;
  }
  EXPECT_FALSE(is_whitespace(0x200B));  // zero width space is not White_Space
  EXPECT_FALSE(is_whitespace(0x1C));
}

TEST(Unicode, Gpt2ByteMap) {
  // Printable bytes map to themselves; the rest to U+0100.. in byte order.
  EXPECT_EQ(byte_to_gpt2('A'), "A");
  EXPECT_EQ(byte_to_gpt2(0x00), "\xC4\x80");  // U+0100
  EXPECT_EQ(byte_to_gpt2(' '), "\xC4\xA0");   // U+0120 'Ġ'
  EXPECT_EQ(byte_to_gpt2('\n'), "\xC4\x8A");  // U+010A 'Ċ'
  EXPECT_EQ(byte_to_gpt2(0xAD), "\xC5\x83");  // the last of the 68 remapped bytes: U+0143
  EXPECT_EQ(byte_to_gpt2(0xE9), "\xC3\xA9");  // é is printable Latin-1
  std::set<std::string> seen;
  for (int b = 0; b < 256; ++b) {
    const std::string& s = byte_to_gpt2(static_cast<uint8_t>(b));
    EXPECT_TRUE(seen.insert(s).second) << b;
    const Cps cps = decode_lenient(s);
    ASSERT_EQ(cps.size(), 1u);
    EXPECT_EQ(gpt2_to_byte(cps[0]), b);
  }
  EXPECT_EQ(gpt2_to_byte(0x80), -1);  // not a printable byte, so not in the map
  EXPECT_EQ(gpt2_to_byte(0x4E00), -1);
}

TEST(Unicode, Utf8Tail) {
  EXPECT_EQ(utf8_tail("abc").complete, 3u);
  EXPECT_FALSE(utf8_tail("abc").pending);
  // "é" = C3 A9: after the lead byte alone, that byte is held back.
  EXPECT_EQ(utf8_tail("ab\xC3").complete, 2u);
  EXPECT_TRUE(utf8_tail("ab\xC3").pending);
  EXPECT_EQ(utf8_tail("\xF0\x9F\x98").complete, 0u);
  EXPECT_EQ(utf8_tail("\xF0\x9F\x98\x80").complete, 4u);
  // Invalid bytes are never held back.
  EXPECT_EQ(utf8_tail("a\x80").complete, 2u);
  EXPECT_EQ(utf8_tail("a\xFF").complete, 2u);
  EXPECT_EQ(utf8_tail("\xC3" "A").complete, 2u);
}

}  // namespace
}  // namespace hearth::tokenizer::unicode
