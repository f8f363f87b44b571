// Pre-tokenizer regex tables and the PCRE2-based splitter (see pretokenizer.h).
// Why "collapsed" text: llama.cpp cannot run \p{..} classes in std::regex, so it maps every
// non-ASCII code point to one placeholder byte per Unicode category and rewrites each \p{X} into
// a class of that byte plus the ASCII members of X. Its hand-written splitters for the llama3,
// qwen2 and gpt2 patterns compute the same splits from the same category table. Matching the
// same collapsed text with PCRE2 reproduces its pieces exactly, including where that differs
// from a full Unicode regex (no upper/lower case distinction outside ASCII, one category per
// code point from Unicode 15.1).
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include <algorithm>
#include <map>

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace hearth::tokenizer {

namespace {

// ---- the regexes, as llama.cpp runs them -------------------------------------------------------
// They are the tokenizer.json patterns of each model family with (?i:...) spelled out as case
// classes, which llama.cpp needs for std::regex; for gpt-4o / tekken the upper/lower-case letter
// classes are emulated with lookaheads, which is what makes llama.cpp split "ÉCOLE" as "É" "COLE".

constexpr const char* kContractions = R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]))";

std::string llama3_regex() {
  return std::string(kContractions) +
         R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}
std::string qwen2_regex() {
  return std::string(kContractions) +
         R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}
std::string qwen35_regex() {
  return std::string(kContractions) +
         R"(|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}
std::string gpt4o_regex() {
  const std::string c = std::string(kContractions) + "?";
  return R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+)" + c +
         R"(|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*)" + c +
         R"(|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}
std::string tekken_regex() {
  return R"([^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+)"
         R"(|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*)"
         R"(|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}
constexpr const char* kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
std::vector<std::string> deepseek3_regexes() {
  return {
      R"(\p{N}{1,3})",
      "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",  // [一-龥぀-ゟ゠-ヿ]+
      R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
  };
}
std::vector<std::string> default_regexes() {
  return {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2Regex, R"(\p{N}+)", "[0-9][0-9][0-9]"};
}

struct Family {
  std::vector<std::string> names;
  PreConfig config;
};

const std::vector<Family>& families() {
  static const std::vector<Family> table = [] {
    std::vector<Family> t;
    auto add = [&](std::vector<std::string> names, std::string family,
                   std::vector<std::string> regexes, bool ignore_merges, bool add_bos,
                   bool clean_spaces) {
      t.push_back({std::move(names),
                   PreConfig{std::move(family), std::move(regexes), ignore_merges, add_bos,
                             clean_spaces}});
    };
    add({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"},
        "llama3", {llama3_regex()}, true, true, true);
    add({"dbrx", "smaug-bpe"}, "llama3-like", {llama3_regex()}, false, false, true);
    add({"qwen2", "deepseek-r1-qwen", "kormo", "hunyuan", "solar-open", "grok-2"}, "qwen2",
        {qwen2_regex()}, false, false, false);
    add({"megrez", "stablelm2"}, "qwen2", {qwen2_regex()}, false, false, true);
    add({"qwen35"}, "qwen35", {qwen35_regex()}, false, false, false);
    add({"deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"}, "deepseek-v3",
        deepseek3_regexes(), false, false, false);
    add({"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"}, "gpt-4o", {gpt4o_regex()},
        false, false, false);
    add({"tekken"}, "tekken", {tekken_regex()}, true, true, false);
    add({"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de",
         "a.x-4.0", "mellum", "modern-bert", "mpt", "olmo", "jais", "exaone4"},
        "gpt-2", {kGpt2Regex}, false, false, true);
    add({"starcoder", "refact", "codeshell", "exaone", "minerva-7b"}, "starcoder",
        {R"(\p{N})", kGpt2Regex}, false, false, true);
    add({"smollm", "command-r"}, "starcoder", {R"(\p{N})", kGpt2Regex}, false, false, false);
    add({"mellum2"}, "starcoder", {R"(\p{N})", kGpt2Regex}, false, false, true);
    add({"falcon"}, "falcon", {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2Regex, "[0-9][0-9][0-9]"}, false, false, true);
    add({"seed-coder"}, "seed-coder",
        {std::string(kContractions) +
         R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)"},
        false, false, false);
    add({"bailingmoe", "bailingmoe2", "llada-moe"}, "bailingmoe",
        {R"('(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)"},
        false, false, false);
    add({"ufakzeka"}, "ufakzeka",
        {R"([^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
        false, false, false);
    add({"laguna"}, "laguna", {R"([^\n]+|[\n]+)", qwen2_regex()}, false, false, false);
    add({"exaone-moe"}, "exaone-moe",
        {std::string(kContractions) +
         R"(|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)"},
        false, false, true);
    add({"minicpm5"}, "minicpm5",
        {R"(\p{N}{1,3})",
         std::string(kContractions) +
             R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"},
        true, false, true);
    add({"deepseek-coder"}, "deepseek-coder",
        {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+", R"(\p{N})"},
        false, false, false);
    // " ?[^(\s|.,!?…。，、।۔،)]+"
    const std::string bloom = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";
    add({"bloom", "gpt3-finnish"}, "bloom", {bloom}, false, false, true);
    add({"poro-chat"}, "bloom", {bloom}, false, false, false);
    add({"viking"}, "viking", {bloom, R"(\p{N})"}, false, false, false);
    add({"default", ""}, "default", default_regexes(), false, false, true);
    return t;
  }();
  return table;
}

// ---- collapsing -------------------------------------------------------------------------------

// Placeholder bytes for non-ASCII code points; none of them is matched by PCRE2's non-UCP
// \s, \d or \w, so only the rewritten classes can match them.
constexpr uint8_t kCollapsedWhitespace = 0x0B;
constexpr uint8_t kCollapsedOther = 0xD0;

uint8_t collapsed_byte(unicode::Category c) {
  switch (c) {
    case unicode::kNumber: return 0xD1;
    case unicode::kLetter: return 0xD2;
    case unicode::kPunctuation: return 0xD3;
    case unicode::kMark: return 0xD4;
    case unicode::kSymbol: return 0xD5;
    default: return kCollapsedOther;
  }
}

uint8_t collapse(uint32_t cp) {
  if (cp < 0x80) return static_cast<uint8_t>(cp);
  if (unicode::is_whitespace(cp)) return kCollapsedWhitespace;
  return collapsed_byte(unicode::category(cp));
}

const std::map<std::string, unicode::Category, std::less<>>& category_escapes() {
  static const std::map<std::string, unicode::Category, std::less<>> m = {
      {"N", unicode::kNumber},  {"L", unicode::kLetter},      {"P", unicode::kPunctuation},
      {"M", unicode::kMark},    {"S", unicode::kSymbol},      {"Lu", unicode::kLetter},
      {"Ll", unicode::kLetter}, {"Lt", unicode::kLetter},     {"Lm", unicode::kLetter},
      {"Lo", unicode::kLetter},
  };
  return m;
}

// Class body (without brackets) matching the collapsed form of category `c`: its placeholder
// byte and the ASCII characters of that category.
std::string class_body(unicode::Category c) {
  static const char* hex = "0123456789ABCDEF";
  auto esc = [&](uint8_t b) { return std::string{'\\', 'x', hex[b >> 4], hex[b & 15]}; };
  std::string body = esc(collapsed_byte(c));
  for (uint32_t cp = 0; cp < 0x80; ++cp) {
    if (unicode::category(cp) == c) body += esc(static_cast<uint8_t>(cp));
  }
  return body;
}

bool uses_categories(const std::string& re) {
  for (const auto& [name, cat] : category_escapes()) {
    if (re.find("\\p{" + name + "}") != std::string::npos) return true;
  }
  return false;
}

// Rewrites each \p{X} into its collapsed class; bracket tracking follows llama.cpp's (an
// unescaped '[' opens a class, an unescaped ']' closes it) so the same patterns mean the same.
std::string collapse_regex(const std::string& re) {
  std::string out;
  bool inside = false;
  for (size_t i = 0; i < re.size(); ++i) {
    const char ch = re[i];
    if (ch == '[' && (i == 0 || re[i - 1] != '\\')) {
      out += ch;
      inside = true;
      continue;
    }
    if (inside && ch == ']' && re[i - 1] != '\\') {
      out += ch;
      inside = false;
      continue;
    }
    if (ch == '\\' && i + 3 < re.size() && re[i + 1] == 'p' && re[i + 2] == '{') {
      const size_t close = re.find('}', i + 3);
      if (close != std::string::npos) {
        const auto it = category_escapes().find(std::string_view(re).substr(i + 3, close - i - 3));
        if (it != category_escapes().end()) {
          out += inside ? class_body(it->second) : "[" + class_body(it->second) + "]";
          i = close;
          continue;
        }
      }
    }
    out += ch;
  }
  return out;
}

// ---- PCRE2 plumbing ---------------------------------------------------------------------------

struct Compiled {
  pcre2_code* code = nullptr;
  bool collapsed = false;  // matched against collapsed bytes (else against UTF-8)
};

std::string pcre2_message(int err) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(err, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

// Per-thread match scratch: a JIT stack big enough for long runs of letters or spaces.
struct MatchScratch {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* ctx = nullptr;
  pcre2_jit_stack* stack = nullptr;
  MatchScratch() {
    data = pcre2_match_data_create(1, nullptr);
    ctx = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(64 * 1024, 16 * 1024 * 1024, nullptr);
    if (ctx && stack) pcre2_jit_stack_assign(ctx, nullptr, stack);
    if (!data || !ctx) fail("pre-tokenizer: out of memory creating PCRE2 match data");
  }
  ~MatchScratch() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(ctx);
    pcre2_match_data_free(data);
  }
};

MatchScratch& scratch() {
  thread_local MatchScratch s;
  return s;
}

// Appends the pieces `re` makes of subject[0, n): matches and the gaps between them, as lengths
// in subject units, mapped through `to_index` (identity for collapsed text).
template <typename ToIndex>
void split_piece(const Compiled& re, const uint8_t* subject, size_t n, size_t unit_begin,
                 ToIndex to_index, std::vector<size_t>& out) {
  MatchScratch& ms = scratch();
  size_t pos = 0, last_end = 0;
  const uint32_t base = re.collapsed ? 0 : PCRE2_NO_UTF_CHECK;  // our UTF-8 is always valid
  uint32_t options = 0;
  auto emit = [&](size_t from, size_t to) {
    const size_t a = to_index(unit_begin + from), b = to_index(unit_begin + to);
    if (b > a) out.push_back(b - a);
  };
  while (pos <= n) {
    const int rc = pcre2_match(re.code, subject, n, pos, base | options, ms.data, ms.ctx);
    if (rc == PCRE2_ERROR_NOMATCH) {
      if (options == 0) break;
      // An empty match could not be extended at this position: step one character on, as
      // std::regex_iterator does.
      options = 0;
      if (pos >= n) break;
      ++pos;
      if (!re.collapsed) {
        while (pos < n && (subject[pos] & 0xC0) == 0x80) ++pos;
      }
      continue;
    }
    if (rc < 0) fail("pre-tokenizer: regex match failed: ", pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(ms.data);
    const size_t ms_begin = ov[0], ms_end = ov[1];
    if (ms_begin > last_end) emit(last_end, ms_begin);
    emit(ms_begin, ms_end);
    last_end = ms_end;
    pos = ms_end;
    options = ms_end == ms_begin ? (PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED) : 0;
  }
  if (last_end < n) emit(last_end, n);
}

}  // namespace

PreConfig pre_config(std::string_view pre) {
  for (const auto& f : families()) {
    for (const auto& n : f.names) {
      if (n == pre) return f.config;
    }
  }
  fail("unknown or unsupported pre-tokenizer '", pre, "' (tokenizer.ggml.pre)");
}

std::vector<std::string> known_pre_names() {
  std::vector<std::string> out;
  for (const auto& f : families()) {
    for (const auto& n : f.names) {
      if (!n.empty()) out.push_back(n);
    }
  }
  return out;
}

struct RegexSplitter::Impl {
  std::vector<Compiled> regexes;
  bool any_collapsed = false;
  ~Impl() {
    for (auto& r : regexes) pcre2_code_free(r.code);
  }
};

RegexSplitter::RegexSplitter(std::vector<std::string> regexes) : impl_(std::make_unique<Impl>()) {
  for (const auto& src : regexes) {
    Compiled c;
    c.collapsed = uses_categories(src);
    const std::string pattern = c.collapsed ? collapse_regex(src) : src;
    // Collapsed: one byte per code point, no UTF. Otherwise UTF-8 code points without UCP, so
    // \s and friends stay ASCII-only like std::wregex in the C locale.
    const uint32_t flags = c.collapsed ? 0 : PCRE2_UTF;
    int err = 0;
    PCRE2_SIZE err_off = 0;
    c.code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                           flags | PCRE2_NO_AUTO_CAPTURE, &err, &err_off, nullptr);
    if (!c.code) {
      fail("pre-tokenizer regex '", src, "' does not compile at offset ", err_off, ": ",
           pcre2_message(err));
    }
    // JIT is an optimisation: if the platform lacks it, pcre2_match interprets.
    pcre2_jit_compile(c.code, PCRE2_JIT_COMPLETE);
    impl_->any_collapsed = impl_->any_collapsed || c.collapsed;
    impl_->regexes.push_back(c);
  }
}

RegexSplitter::~RegexSplitter() = default;
RegexSplitter::RegexSplitter(RegexSplitter&&) noexcept = default;
RegexSplitter& RegexSplitter::operator=(RegexSplitter&&) noexcept = default;

std::vector<size_t> RegexSplitter::split_cpts(const std::vector<uint32_t>& cpts) const {
  std::vector<size_t> pieces;
  if (cpts.empty()) return pieces;
  pieces.push_back(cpts.size());

  std::string collapsed;
  if (impl_->any_collapsed) {
    collapsed.resize(cpts.size());
    for (size_t i = 0; i < cpts.size(); ++i) collapsed[i] = static_cast<char>(collapse(cpts[i]));
  }
  // UTF-8 view for regexes without categories: non-ASCII white space as \v (std::wregex does
  // not know it as space either), values UTF-8 cannot carry as U+FFFD; byte offset per code point.
  std::string utf8;
  std::vector<size_t> byte_of;  // [cpts.size() + 1]
  auto ensure_utf8 = [&] {
    if (!byte_of.empty()) return;
    byte_of.reserve(cpts.size() + 1);
    for (uint32_t cp : cpts) {
      byte_of.push_back(utf8.size());
      if (cp >= 0x80 && unicode::is_whitespace(cp)) cp = 0x0B;
      if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > unicode::kMaxCodePoint) cp = unicode::kReplacementChar;
      unicode::append_utf8(utf8, cp);
    }
    byte_of.push_back(utf8.size());
  };

  for (const auto& re : impl_->regexes) {
    std::vector<size_t> next;
    next.reserve(pieces.size() * 2);
    size_t start = 0;
    for (size_t len : pieces) {
      if (re.collapsed) {
        split_piece(re, reinterpret_cast<const uint8_t*>(collapsed.data()) + start, len, start,
                    [](size_t i) { return i; }, next);
      } else {
        ensure_utf8();
        const size_t b0 = byte_of[start], b1 = byte_of[start + len];
        split_piece(re, reinterpret_cast<const uint8_t*>(utf8.data()) + b0, b1 - b0, b0,
                    [&](size_t b) {
                      return static_cast<size_t>(
                          std::lower_bound(byte_of.begin(), byte_of.end(), b) - byte_of.begin());
                    },
                    next);
      }
      start += len;
    }
    pieces = std::move(next);
  }
  return pieces;
}

std::vector<std::string> RegexSplitter::split(std::string_view text) const {
  const std::vector<uint32_t> cpts = unicode::decode_lenient(text);
  const std::vector<size_t> lengths = split_cpts(cpts);
  std::vector<std::string> out;
  out.reserve(lengths.size());
  size_t i = 0;
  for (size_t len : lengths) {
    std::string piece;
    for (size_t k = 0; k < len; ++k) unicode::append_utf8(piece, cpts[i + k]);
    out.push_back(std::move(piece));
    i += len;
  }
  return out;
}

}  // namespace hearth::tokenizer
