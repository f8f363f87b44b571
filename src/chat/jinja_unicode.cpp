// Unicode helpers with JavaScript semantics (see jinja_unicode.h); case tables are generated
// from the reference's JavaScript engine by unicode_tables_gen.mjs.
#include "chat/jinja_unicode.h"

#include <algorithm>
#include <cstdint>

namespace hearth::chat::jinja {
namespace {

struct CaseSingle {
  char32_t cp, to;
};
struct CaseMulti {
  char32_t cp;
  char32_t to[3];
};
struct CodeRange {
  char32_t lo, hi;
};

#include "chat/unicode_tables.inc"

template <size_t N>
const CaseSingle* find_single(const CaseSingle (&table)[N], char32_t cp) {
  auto it = std::lower_bound(std::begin(table), std::end(table), cp,
                             [](const CaseSingle& e, char32_t c) { return e.cp < c; });
  return it != std::end(table) && it->cp == cp ? it : nullptr;
}

template <size_t N>
const CaseMulti* find_multi(const CaseMulti (&table)[N], char32_t cp) {
  for (const CaseMulti& e : table)
    if (e.cp == cp) return &e;
  return nullptr;
}

template <size_t N>
bool in_ranges(const CodeRange (&table)[N], char32_t cp) {
  auto it = std::upper_bound(std::begin(table), std::end(table), cp,
                             [](char32_t c, const CodeRange& r) { return c < r.lo; });
  if (it == std::begin(table)) return false;
  --it;
  return cp >= it->lo && cp <= it->hi;
}

// A WTF-8 high surrogate (U+D800..U+DBFF) starts at s[i].
bool is_high_surrogate_at(std::string_view s, size_t i) {
  return i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xED &&
         (static_cast<unsigned char>(s[i + 1]) & 0xF0) == 0xA0;
}

}  // namespace

size_t decode_utf8(std::string_view s, size_t i, char32_t& cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  size_t len = 0;
  char32_t v = 0;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    v = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    v = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    v = c & 0x07;
  } else {
    cp = 0xFFFD;
    return 1;
  }
  if (i + len > s.size()) {
    cp = 0xFFFD;
    return 1;
  }
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      cp = 0xFFFD;
      return 1;
    }
    v = (v << 6) | (b(i + k) & 0x3F);
  }
  // Reject overlong forms and out-of-range values.
  if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF))) {
    cp = 0xFFFD;
    return 1;
  }
  cp = v;
  return len;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

std::u16string to_utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    i += decode_utf8(s, i, cp);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (cp >> 10));
      out += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

std::string from_utf16(std::u16string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char32_t c = s[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < s.size() && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
      ++i;
    }
    append_utf8(out, c);
  }
  return out;
}

size_t utf16_length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    i += decode_utf8(s, i, cp);
    n += cp >= 0x10000 ? 2 : 1;
  }
  return n;
}

std::string sanitize_utf8(std::string_view s) {
  bool clean = true;
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t len = decode_utf8(s, i, cp);
    if ((cp == 0xFFFD && len == 1) || (cp >= 0xD800 && cp <= 0xDFFF)) {
      clean = false;
      break;
    }
    i += len;
  }
  if (clean) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t len = decode_utf8(s, i, cp);
    i += len;
    if (cp >= 0xD800 && cp <= 0xDBFF && i < s.size()) {
      char32_t lo;
      const size_t len2 = decode_utf8(s, i, lo);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        append_utf8(out, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
        i += len2;
        continue;
      }
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
    append_utf8(out, cp);
  }
  return out;
}

std::string concat_strings(std::string_view a, std::string_view b) {
  std::string out;
  // A high surrogate at the end of a and a low one at the start of b form one character.
  if (a.size() >= 3 && b.size() >= 3 && is_high_surrogate_at(a, a.size() - 3) &&
      static_cast<unsigned char>(b[0]) == 0xED && (static_cast<unsigned char>(b[1]) & 0xF0) == 0xB0) {
    char32_t hi, lo;
    decode_utf8(a, a.size() - 3, hi);
    decode_utf8(b, 0, lo);
    out.reserve(a.size() + b.size());
    out.append(a.substr(0, a.size() - 3));
    append_utf8(out, 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
    out.append(b.substr(3));
    return out;
  }
  out.reserve(a.size() + b.size());
  out.append(a);
  out.append(b);
  return out;
}

bool is_js_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

size_t js_space_len(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || c == 0x20 ? 1 : 0;
  if (c != 0xC2 && c != 0xE1 && c != 0xE2 && c != 0xE3 && c != 0xEF) return 0;
  char32_t cp;
  const size_t len = decode_utf8(s, i, cp);
  return is_js_space(cp) && !(cp == 0xFFFD && len == 1) ? len : 0;
}

size_t js_space_len_before(std::string_view s, size_t end) {
  if (end == 0) return 0;
  const unsigned char c = static_cast<unsigned char>(s[end - 1]);
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || c == 0x20 ? 1 : 0;
  for (size_t len = 2; len <= 3 && len <= end; ++len) {
    char32_t cp;
    if (decode_utf8(s, end - len, cp) == len && is_js_space(cp)) return len;
  }
  return 0;
}

std::string_view js_trim_start(std::string_view s) {
  size_t i = 0;
  while (size_t n = js_space_len(s, i)) i += n;
  return s.substr(i);
}

std::string_view js_trim_end(std::string_view s) {
  size_t end = s.size();
  while (size_t n = js_space_len_before(s, end)) end -= n;
  return s.substr(0, end);
}

std::string_view js_trim(std::string_view s) { return js_trim_end(js_trim_start(s)); }

std::string js_to_upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
      ++i;
      continue;
    }
    char32_t cp;
    i += decode_utf8(s, i, cp);
    if (const CaseSingle* e = find_single(kUpperSingle, cp)) {
      append_utf8(out, e->to);
    } else if (const CaseMulti* m = find_multi(kUpperMulti, cp)) {
      for (char32_t t : m->to)
        if (t) append_utf8(out, t);
    } else {
      append_utf8(out, cp);
    }
  }
  return out;
}

std::string js_to_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      ++i;
      continue;
    }
    char32_t cp;
    const size_t start = i;
    i += decode_utf8(s, i, cp);
    if (cp == 0x3A3) {
      // Final_Sigma: preceded by a cased letter (skipping case-ignorables) and not followed by one.
      bool before = false;
      for (size_t j = start; j > 0;) {
        size_t k = j - 1;
        while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
        char32_t p;
        decode_utf8(s, k, p);
        j = k;
        if (in_ranges(kCaseIgnorable, p)) continue;
        before = in_ranges(kCased, p);
        break;
      }
      bool after = false;
      for (size_t j = i; j < s.size();) {
        char32_t n;
        j += decode_utf8(s, j, n);
        if (in_ranges(kCaseIgnorable, n)) continue;
        after = in_ranges(kCased, n);
        break;
      }
      append_utf8(out, before && !after ? 0x3C2 : 0x3C3);
      continue;
    }
    if (const CaseSingle* e = find_single(kLowerSingle, cp)) {
      append_utf8(out, e->to);
    } else if (const CaseMulti* m = find_multi(kLowerMulti, cp)) {
      for (char32_t t : m->to)
        if (t) append_utf8(out, t);
    } else {
      append_utf8(out, cp);
    }
  }
  return out;
}

}  // namespace hearth::chat::jinja

