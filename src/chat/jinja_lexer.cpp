// Jinja lexer (see jinja_lexer.h): a faithful port of @huggingface/jinja's preprocess() and
// tokenize(), working on UTF-8 with a map from every byte back to the original source offset.
#include "chat/jinja_lexer.h"

#include "chat/jinja_unicode.h"
#include "chat/jinja_value.h"

namespace hearth::chat::jinja {

const char* token_type_name(TokenType t) {
  switch (t) {
    case TokenType::Text: return "Text";
    case TokenType::NumericLiteral: return "NumericLiteral";
    case TokenType::StringLiteral: return "StringLiteral";
    case TokenType::Identifier: return "Identifier";
    case TokenType::Equals: return "Equals";
    case TokenType::OpenParen: return "OpenParen";
    case TokenType::CloseParen: return "CloseParen";
    case TokenType::OpenStatement: return "OpenStatement";
    case TokenType::CloseStatement: return "CloseStatement";
    case TokenType::OpenExpression: return "OpenExpression";
    case TokenType::CloseExpression: return "CloseExpression";
    case TokenType::OpenSquareBracket: return "OpenSquareBracket";
    case TokenType::CloseSquareBracket: return "CloseSquareBracket";
    case TokenType::OpenCurlyBracket: return "OpenCurlyBracket";
    case TokenType::CloseCurlyBracket: return "CloseCurlyBracket";
    case TokenType::Comma: return "Comma";
    case TokenType::Dot: return "Dot";
    case TokenType::Colon: return "Colon";
    case TokenType::Pipe: return "Pipe";
    case TokenType::AdditiveBinaryOperator: return "AdditiveBinaryOperator";
    case TokenType::MultiplicativeBinaryOperator: return "MultiplicativeBinaryOperator";
    case TokenType::ExponentiationBinaryOperator: return "ExponentiationBinaryOperator";
    case TokenType::ComparisonBinaryOperator: return "ComparisonBinaryOperator";
    case TokenType::UnaryOperator: return "UnaryOperator";
    case TokenType::Comment: return "Comment";
    case TokenType::EndOfInput: return "end of template";
  }
  return "?";
}

std::string source_location(std::string_view source, uint32_t offset) {
  if (offset > source.size()) offset = static_cast<uint32_t>(source.size());
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset;) {
    if (source[i] == '\n') {
      ++line;
      col = 1;
      ++i;
      continue;
    }
    char32_t cp;
    i += decode_utf8(source, i, cp);
    ++col;
  }
  return cat("line ", line, ", column ", col);
}

namespace {

// Text after a preprocessing pass; orig[i] is the source offset of text[i] (orig has one extra
// entry for the end of the text).
struct Mapped {
  std::string text;
  std::vector<uint32_t> orig;

  void push(char c, uint32_t o) {
    text += c;
    orig.push_back(o);
  }
};

Mapped identity_map(std::string_view s) {
  Mapped m;
  m.text.assign(s);
  m.orig.resize(s.size() + 1);
  for (size_t i = 0; i <= s.size(); ++i) m.orig[i] = static_cast<uint32_t>(i);
  return m;
}

void finish(Mapped& m, const Mapped& from) { m.orig.push_back(from.orig.back()); }

// Line terminators for JavaScript's multiline "^": \n, \r, U+2028, U+2029.
size_t line_terminator_len(const std::string& s, size_t i) {
  if (s[i] == '\n' || s[i] == '\r') return 1;
  if (static_cast<unsigned char>(s[i]) == 0xE2 && i + 2 < s.size() &&
      static_cast<unsigned char>(s[i + 1]) == 0x80 &&
      (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9))
    return 3;
  return 0;
}

// template.replace(/^[ \t]*({[#%-])/gm, "$1")
Mapped lstrip_blocks(const Mapped& in) {
  const std::string& s = in.text;
  Mapped out;
  out.text.reserve(s.size());
  bool line_start = true;
  for (size_t i = 0; i < s.size();) {
    if (line_start) {
      line_start = false;
      size_t j = i;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
      if (j + 1 < s.size() && s[j] == '{' && (s[j + 1] == '#' || s[j + 1] == '%' || s[j + 1] == '-')) i = j;
    }
    const size_t lt = line_terminator_len(s, i);
    const size_t n = lt ? lt : 1;
    for (size_t k = 0; k < n; ++k) out.push(s[i + k], in.orig[i + k]);
    i += n;
    if (lt) line_start = true;
  }
  finish(out, in);
  return out;
}

// template.replace(/([#%-]})\n/g, "$1")
Mapped trim_blocks(const Mapped& in) {
  const std::string& s = in.text;
  Mapped out;
  out.text.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if ((s[i] == '#' || s[i] == '%' || s[i] == '-') && i + 2 < s.size() && s[i + 1] == '}' &&
        s[i + 2] == '\n') {
      out.push(s[i], in.orig[i]);
      out.push(s[i + 1], in.orig[i + 1]);
      i += 3;
      continue;
    }
    out.push(s[i], in.orig[i]);
    ++i;
  }
  finish(out, in);
  return out;
}

// template.replace(/(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs, ...): removes the
// transformers-specific {% generation %} tags, honouring their whitespace-control dashes.
Mapped strip_generation_tags(const Mapped& in) {
  const std::string& s = in.text;
  if (s.find("generation") == std::string::npos) return in;
  Mapped out;
  out.text.reserve(s.size());
  size_t last_match_end_out = 0;  // whitespace before a tag may be taken back only up to here
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '{' && i + 1 < s.size() && s[i + 1] == '%') {
      size_t j = i + 2;
      const bool lstrip = j < s.size() && s[j] == '-';
      if (lstrip) ++j;
      while (size_t n = js_space_len(s, j)) j += n;
      if (s.compare(j, 3, "end") == 0 && s.compare(j + 3, 10, "generation") == 0) j += 3;
      bool matched = false, rstrip = false;
      if (s.compare(j, 10, "generation") == 0) {
        j += 10;
        while (size_t n = js_space_len(s, j)) j += n;
        rstrip = j < s.size() && s[j] == '-';
        if (rstrip) ++j;
        if (s.compare(j, 2, "%}") == 0) {
          j += 2;
          matched = true;
        }
      }
      if (matched) {
        if (lstrip) {
          size_t end = out.text.size();
          while (end > last_match_end_out) {
            const size_t n = js_space_len_before(out.text, end);
            if (n == 0 || end - n < last_match_end_out) break;
            end -= n;
          }
          out.text.resize(end);
          out.orig.resize(end);
        }
        size_t k = j;
        while (size_t n = js_space_len(s, k)) k += n;
        if (!rstrip)
          for (size_t t = j; t < k; ++t) out.push(s[t], in.orig[t]);
        i = k;
        last_match_end_out = out.text.size();
        continue;
      }
    }
    out.push(s[i], in.orig[i]);
    ++i;
  }
  finish(out, in);
  return out;
}

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct MappingEntry {
  std::string_view seq;
  TokenType type;
};
constexpr MappingEntry kMappingTable[] = {
    {"{%", TokenType::OpenStatement},
    {"%}", TokenType::CloseStatement},
    {"{{", TokenType::OpenExpression},
    {"}}", TokenType::CloseExpression},
    {"(", TokenType::OpenParen},
    {")", TokenType::CloseParen},
    {"{", TokenType::OpenCurlyBracket},
    {"}", TokenType::CloseCurlyBracket},
    {"[", TokenType::OpenSquareBracket},
    {"]", TokenType::CloseSquareBracket},
    {",", TokenType::Comma},
    {".", TokenType::Dot},
    {":", TokenType::Colon},
    {"|", TokenType::Pipe},
    {"<=", TokenType::ComparisonBinaryOperator},
    {">=", TokenType::ComparisonBinaryOperator},
    {"==", TokenType::ComparisonBinaryOperator},
    {"!=", TokenType::ComparisonBinaryOperator},
    {"<", TokenType::ComparisonBinaryOperator},
    {">", TokenType::ComparisonBinaryOperator},
    {"+", TokenType::AdditiveBinaryOperator},
    {"-", TokenType::AdditiveBinaryOperator},
    {"~", TokenType::AdditiveBinaryOperator},
    {"**", TokenType::ExponentiationBinaryOperator},
    {"*", TokenType::MultiplicativeBinaryOperator},
    {"//", TokenType::MultiplicativeBinaryOperator},
    {"/", TokenType::MultiplicativeBinaryOperator},
    {"%", TokenType::MultiplicativeBinaryOperator},
    {"=", TokenType::Equals},
};

class Lexer {
 public:
  Lexer(std::string_view source, const Mapped& m, bool raw_blocks)
      : source_(source), src_(m.text), map_(m), raw_blocks_(raw_blocks) {}

  std::vector<Token> run() {
    const size_t n = src_.size();
    while (cur_ < n) {
      const bool text_mode = tokens_.empty() || after_raw_ || last() == TokenType::CloseStatement ||
                             last() == TokenType::CloseExpression || last() == TokenType::Comment;
      after_raw_ = false;
      if (text_mode) {
        const size_t start = cur_;
        while (cur_ < n && !(src_[cur_] == '{' && (at(cur_ + 1) == '%' || at(cur_ + 1) == '{' ||
                                                   at(cur_ + 1) == '#')))
          ++cur_;
        if (cur_ > start) {
          push(TokenType::Text, src_.substr(start, cur_ - start), start);
          continue;
        }
      }

      if (src_[cur_] == '{' && at(cur_ + 1) == '#') {
        lex_comment();
        continue;
      }
      if (src_.compare(cur_, 3, "{%-") == 0) {
        strip_trailing_whitespace();
        push(TokenType::OpenStatement, "{%", cur_);
        cur_ += 3;
        maybe_raw();
        continue;
      }
      if (src_.compare(cur_, 3, "{{-") == 0) {
        strip_trailing_whitespace();
        push(TokenType::OpenExpression, "{{", cur_);
        curly_depth_ = 0;
        cur_ += 3;
        continue;
      }

      consume_whitespace();

      if (src_.compare(cur_, 3, "-%}") == 0) {
        push(TokenType::CloseStatement, "%}", cur_);
        cur_ += 3;
        skip_leading_whitespace();
        continue;
      }
      if (src_.compare(cur_, 3, "-}}") == 0) {
        push(TokenType::CloseExpression, "}}", cur_);
        cur_ += 3;
        skip_leading_whitespace();
        continue;
      }

      const char c = src_[cur_];
      if (c == '-' || c == '+') {
        if (tokens_.empty() || last() == TokenType::Text) fail(cur_, cat("Unexpected character: ", c));
        const TokenType lt = last();
        const bool binary = lt == TokenType::Identifier || lt == TokenType::NumericLiteral ||
                            lt == TokenType::StringLiteral || lt == TokenType::CloseParen ||
                            lt == TokenType::CloseSquareBracket;
        if (!binary) {
          const size_t start = cur_;
          ++cur_;
          std::string num = consume_digits();
          if (!num.empty() && at(cur_) == '.' && is_digit(at(cur_ + 1))) {
            ++cur_;
            num += '.';
            num += consume_digits();
          }
          if (num.empty()) push(TokenType::UnaryOperator, std::string(1, c), start);
          else push(TokenType::NumericLiteral, std::string(1, c) + num, start);
          continue;
        }
      }

      bool matched = false;
      for (const MappingEntry& e : kMappingTable) {
        if (e.seq == "}}" && curly_depth_ > 0) continue;
        if (src_.compare(cur_, e.seq.size(), e.seq) == 0) {
          push(e.type, std::string(e.seq), cur_);
          if (e.type == TokenType::OpenExpression) curly_depth_ = 0;
          else if (e.type == TokenType::OpenCurlyBracket) ++curly_depth_;
          else if (e.type == TokenType::CloseCurlyBracket) --curly_depth_;
          cur_ += e.seq.size();
          matched = true;
          if (e.type == TokenType::OpenStatement) maybe_raw();
          break;
        }
      }
      if (matched) continue;

      if (c == '\'' || c == '"') {
        const size_t start = cur_;
        ++cur_;
        std::string str = consume_string(c);
        ++cur_;  // closing quote
        push(TokenType::StringLiteral, std::move(str), start);
        continue;
      }
      if (is_digit(c)) {
        const size_t start = cur_;
        std::string num = consume_digits();
        if (last() != TokenType::Dot && at(cur_) == '.' && is_digit(at(cur_ + 1))) {
          ++cur_;
          num += '.';
          num += consume_digits();
        }
        push(TokenType::NumericLiteral, std::move(num), start);
        continue;
      }
      if (is_word(c)) {
        const size_t start = cur_;
        while (is_word(at(cur_))) advance_checked();
        push(TokenType::Identifier, src_.substr(start, cur_ - start), start);
        continue;
      }
      char32_t cp;
      decode_utf8(src_, cur_, cp);
      std::string ch;
      append_utf8(ch, cp);
      fail(cur_, "Unexpected character: " + ch);
    }
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void fail(size_t at_pos, const std::string& msg) const {
    throw TemplateError(cat("chat template syntax error at ", source_location(source_, offset(at_pos)),
                            ": ", msg));
  }
  uint32_t offset(size_t p) const { return map_.orig[std::min(p, src_.size())]; }
  char at(size_t i) const { return i < src_.size() ? src_[i] : '\0'; }
  TokenType last() const { return tokens_.empty() ? TokenType::EndOfInput : tokens_.back().type; }
  void push(TokenType t, std::string v, size_t p) { tokens_.push_back(Token{t, std::move(v), offset(p)}); }

  // consumeWhile() fails when it consumes the last character of the template.
  void advance_checked() {
    ++cur_;
    if (cur_ >= src_.size()) fail(cur_, "Unexpected end of input");
  }

  void consume_whitespace() {
    while (cur_ < src_.size()) {
      const size_t n = js_space_len(src_, cur_);
      if (n == 0) break;
      cur_ += n;
      if (cur_ >= src_.size()) fail(cur_, "Unexpected end of input");
    }
  }

  std::string consume_digits() {
    const size_t start = cur_;
    while (cur_ < src_.size() && is_digit(src_[cur_])) advance_checked();
    return src_.substr(start, cur_ - start);
  }

  std::string consume_string(char quote) {
    std::string str;
    while (true) {
      if (cur_ >= src_.size()) fail(cur_, "Unexpected end of input");
      const char c = src_[cur_];
      if (c == quote) break;
      if (c == '\\') {
        ++cur_;
        if (cur_ >= src_.size()) fail(cur_, "Unexpected end of input");
        const char e = src_[cur_++];
        if (e == 'x' || e == 'u') {
          const size_t len = e == 'x' ? 2 : 4;
          const std::string hex = src_.substr(cur_, len);
          bool ok = hex.size() == len;
          unsigned v = 0;
          for (char h : hex) {
            const int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (d < 0) ok = false;
            v = v * 16 + static_cast<unsigned>(d < 0 ? 0 : d);
          }
          if (!ok) fail(cur_, cat("Invalid hexadecimal escape sequence: \\", e, hex));
          append_utf8(str, v);
          cur_ += len;
          continue;
        }
        switch (e) {
          case 'n': str += '\n'; break;
          case 't': str += '\t'; break;
          case 'r': str += '\r'; break;
          case 'b': str += '\b'; break;
          case 'f': str += '\f'; break;
          case 'v': str += '\v'; break;
          case '\'': str += '\''; break;
          case '"': str += '"'; break;
          case '\\': str += '\\'; break;
          default: fail(cur_ - 1, cat("Unexpected escaped character: ", e));
        }
        continue;
      }
      str += c;
      advance_checked();
    }
    // "\ud83d\ude00" written as two escapes is one character.
    return sanitize_pairs(std::move(str));
  }

  static std::string sanitize_pairs(std::string s) {
    if (s.find('\xED') == std::string::npos) return s;
    return from_utf16(to_utf16(s));  // re-encoding pairs adjacent surrogate halves
  }

  void strip_trailing_whitespace() {
    if (!tokens_.empty() && tokens_.back().type == TokenType::Text) {
      Token& t = tokens_.back();
      t.value.resize(js_trim_end(t.value).size());
      if (t.value.empty()) tokens_.pop_back();
    }
  }

  void skip_leading_whitespace() {
    while (size_t n = js_space_len(src_, cur_)) cur_ += n;
  }

  void lex_comment() {
    const size_t start = cur_;
    cur_ += 2;
    const bool strip_before = at(cur_) == '-';
    if (strip_before) ++cur_;
    std::string comment;
    while (at(cur_) != '#' || at(cur_ + 1) != '}') {
      if (cur_ + 2 >= src_.size()) fail(start, "Missing end of comment tag");
      comment += src_[cur_++];
    }
    const bool strip_after = !comment.empty() && comment.back() == '-';
    if (strip_after) comment.pop_back();
    if (strip_before) strip_trailing_whitespace();
    push(TokenType::Comment, std::move(comment), start);
    cur_ += 2;
    if (strip_after) skip_leading_whitespace();
  }

  // Extension (the reference has no raw blocks): "{% raw %}...{% endraw %}" right after an
  // opening "{%" becomes one text token, with the usual "-" whitespace control.
  void maybe_raw() {
    if (!raw_blocks_) return;
    size_t j = cur_;
    while (size_t n = js_space_len(src_, j)) j += n;
    if (src_.compare(j, 3, "raw") != 0 || is_word(at(j + 3))) return;
    j += 3;
    while (size_t n = js_space_len(src_, j)) j += n;
    const bool lstrip_content = at(j) == '-';
    if (lstrip_content) ++j;
    if (src_.compare(j, 2, "%}") != 0) return;
    const size_t content_start = j + 2;
    const uint32_t open_pos = tokens_.back().pos;
    tokens_.pop_back();  // the "{%" of the raw tag
    for (size_t q = src_.find("{%", content_start); q != std::string::npos; q = src_.find("{%", q + 1)) {
      size_t k = q + 2;
      const bool rstrip_content = at(k) == '-';
      if (rstrip_content) ++k;
      while (size_t n = js_space_len(src_, k)) k += n;
      if (src_.compare(k, 6, "endraw") != 0 || is_word(at(k + 6))) continue;
      k += 6;
      while (size_t n = js_space_len(src_, k)) k += n;
      const bool skip_after = at(k) == '-';
      if (skip_after) ++k;
      if (src_.compare(k, 2, "%}") != 0) continue;
      std::string_view content(src_.data() + content_start, q - content_start);
      if (lstrip_content) content = js_trim_start(content);
      if (rstrip_content) content = js_trim_end(content);
      if (!content.empty()) push(TokenType::Text, std::string(content), content_start);
      cur_ = k + 2;
      if (skip_after) skip_leading_whitespace();
      after_raw_ = true;
      return;
    }
    throw TemplateError(cat("chat template syntax error at ", source_location(source_, open_pos),
                            ": {% raw %} without {% endraw %}"));
  }

  std::string_view source_;
  const std::string& src_;
  const Mapped& map_;
  size_t cur_ = 0;
  int curly_depth_ = 0;
  bool raw_blocks_;
  bool after_raw_ = false;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, bool raw_blocks) {
  Mapped m = identity_map(source);
  if (!m.text.empty() && m.text.back() == '\n') {
    m.text.pop_back();
    m.orig.erase(m.orig.end() - 2);  // keep the end sentinel
  }
  m = lstrip_blocks(m);
  m = trim_blocks(m);
  m = strip_generation_tags(m);
  return Lexer(source, m, raw_blocks).run();
}

}  // namespace hearth::chat::jinja

