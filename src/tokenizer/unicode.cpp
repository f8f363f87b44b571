// Unicode tables and UTF-8 codecs for the tokenizer (see unicode.h). The category table is
// generated (unicode_data.inc); everything else is computed here.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>
#include <memory>

namespace hearth::tokenizer::unicode {

namespace {

struct CategoryRange {
  uint32_t first;
  Category cat;
};

#include "tokenizer/unicode_data.inc"

// One byte per code point (1.1 MB), built once: category in the low 4 bits, White_Space in bit 4.
constexpr uint8_t kWhiteSpaceBit = 0x10;

const uint8_t* flag_table() {
  static const std::unique_ptr<uint8_t[]> table = [] {
    auto t = std::make_unique<uint8_t[]>(kMaxCodePoint + 1);
    constexpr size_t n = sizeof(kCategoryRanges) / sizeof(kCategoryRanges[0]);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t end = i + 1 < n ? kCategoryRanges[i + 1].first : kMaxCodePoint + 1;
      std::fill(t.get() + kCategoryRanges[i].first, t.get() + end,
                static_cast<uint8_t>(kCategoryRanges[i].cat));
    }
    for (uint32_t cp : kWhiteSpace) t[cp] |= kWhiteSpaceBit;
    return t;
  }();
  return table.get();
}

struct Gpt2Map {
  std::array<std::string, 256> to_char;
  std::array<int16_t, 512> from_cp;  // every mapped code point is below U+0200
};

const Gpt2Map& gpt2_map() {
  static const Gpt2Map map = [] {
    Gpt2Map m;
    m.from_cp.fill(-1);
    // Printable Latin-1 bytes map to themselves; the other 68 bytes, in increasing order, to
    // U+0100, U+0101, ... (GPT-2's bytes_to_unicode).
    uint32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const uint32_t cp = printable ? static_cast<uint32_t>(b) : next++;
      append_utf8(m.to_char[b], cp);
      m.from_cp[cp] = static_cast<int16_t>(b);
    }
    return m;
  }();
  return map;
}

bool is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

}  // namespace

Category category(uint32_t cp) {
  if (cp > kMaxCodePoint) return kUndefined;
  return static_cast<Category>(flag_table()[cp] & 0x0F);
}

bool is_whitespace(uint32_t cp) {
  if (cp > kMaxCodePoint) return false;
  return (flag_table()[cp] & kWhiteSpaceBit) != 0;
}

size_t sequence_length(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

std::vector<uint32_t> decode_lenient(std::string_view text) {
  std::vector<uint32_t> out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t b0 = s[i];
    if (b0 < 0x80) {
      out.push_back(b0);
      i += 1;
    } else if ((b0 & 0xE0) == 0xC0 && i + 1 < n && is_cont(s[i + 1])) {
      out.push_back(((b0 & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu));
      i += 2;
    } else if ((b0 & 0xF0) == 0xE0 && i + 2 < n && is_cont(s[i + 1]) && is_cont(s[i + 2])) {
      out.push_back(((b0 & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu));
      i += 3;
    } else if ((b0 & 0xF8) == 0xF0 && i + 3 < n && is_cont(s[i + 1]) && is_cont(s[i + 2]) &&
               is_cont(s[i + 3])) {
      const uint32_t cp = ((b0 & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) |
                          ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
      if (cp <= kMaxCodePoint) {
        out.push_back(cp);
      } else {
        out.insert(out.end(), 4, kReplacementChar);
      }
      i += 4;
    } else {
      out.push_back(kReplacementChar);
      i += 1;
    }
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | ((cp >> 18) & 0x07)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

Utf8Tail utf8_tail(std::string_view text) {
  // Only the last 3 bytes can hold an unfinished character; everything before is "complete"
  // (valid or not: invalid bytes are passed through, never held back forever).
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  const size_t lo = n > 3 ? n - 3 : 0;
  for (size_t start = n; start-- > lo;) {
    const uint8_t b = s[start];
    if (is_cont(b)) continue;
    size_t need = 0;
    if ((b & 0xE0) == 0xC0) need = 2;
    else if ((b & 0xF0) == 0xE0) need = 3;
    else if ((b & 0xF8) == 0xF0) need = 4;
    if (need > n - start) {
      // A lead byte whose sequence runs past the end: pending if everything after it is a
      // continuation byte (more bytes may complete it).
      bool ok = true;
      for (size_t k = start + 1; k < n; ++k) ok = ok && is_cont(s[k]);
      if (ok) return {start, true};
    }
    break;
  }
  return {n, false};
}

const std::string& byte_to_gpt2(uint8_t b) { return gpt2_map().to_char[b]; }

int gpt2_to_byte(uint32_t cp) {
  if (cp >= 512) return -1;
  return gpt2_map().from_cp[cp];
}

}  // namespace hearth::tokenizer::unicode
