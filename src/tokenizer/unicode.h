// Unicode helpers for the tokenizer: UTF-8 decoding exactly as lenient as llama.cpp's, code point
// categories (Unicode 15.1, the version llama.cpp's table uses) and the GPT-2 byte<->char map.
// Pure functions over bytes and code points; no tokenizer logic here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::tokenizer::unicode {

// General_Category collapsed to its major class, as llama.cpp's pre-tokenizer sees it.
// kUndefined = unassigned (Cn); kOther = Cc, Cf, Co, Cs.
enum Category : uint8_t {
  kUndefined = 0,
  kNumber,       // \p{N}
  kLetter,       // \p{L}
  kSeparator,    // \p{Z}
  kMark,         // \p{M}
  kPunctuation,  // \p{P}
  kSymbol,       // \p{S}
  kOther,        // \p{C} except Cn
};

constexpr uint32_t kReplacementChar = 0xFFFD;
constexpr uint32_t kMaxCodePoint = 0x10FFFF;

Category category(uint32_t cp);   // code points past U+10FFFF are kUndefined
bool is_whitespace(uint32_t cp);  // Unicode White_Space property

// Length of the UTF-8 sequence that `lead` starts, judged by its high nibble only (1 for
// continuation bytes, 4 for F8..FF), the way llama.cpp's SPM splitter walks text.
size_t sequence_length(uint8_t lead);

// Decodes UTF-8 the way llama.cpp's unicode_cpts_from_utf8 does: overlong forms and surrogates
// are accepted as decoded; a byte that does not start a complete sequence becomes one U+FFFD and
// decoding resumes at the next byte. Unlike llama.cpp (which then fails), a 4-byte form above
// U+10FFFF also becomes one U+FFFD per byte, so every input is tokenizable.
std::vector<uint32_t> decode_lenient(std::string_view text);

// Appends cp as UTF-8 (surrogates are encoded like any other value, as llama.cpp does).
// cp must be <= U+10FFFF.
void append_utf8(std::string& out, uint32_t cp);

// Length of the valid UTF-8 prefix of `s` that ends on a character boundary, and whether the
// bytes after it are an incomplete (but so far valid) sequence that more bytes could finish.
struct Utf8Tail {
  size_t complete = 0;    // bytes that form whole characters or definitely invalid bytes
  bool pending = false;   // s[complete..] is the start of a valid multi-byte character
};
Utf8Tail utf8_tail(std::string_view s);

// GPT-2 byte-level BPE: each byte maps to one printable code point (UTF-8 encoded here).
const std::string& byte_to_gpt2(uint8_t b);
// Inverse: -1 if cp is not one of the 256 mapped code points.
int gpt2_to_byte(uint32_t cp);

}  // namespace hearth::tokenizer::unicode
