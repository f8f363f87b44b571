// JavaScript semantics of Jinja runtime values (see jinja_value.h): printing, JSON, equality,
// truthiness, number parsing and ordering, exactly as @huggingface/jinja computes them.
#include "chat/jinja_value.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "chat/jinja_unicode.h"

namespace hearth::chat::jinja {

void js_fail(std::string message) { throw JsError{std::move(message)}; }

// ---- Object ----

const Value* Object::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

void Object::set(const std::string& key, Value v) {
  for (auto& [k, old] : entries) {
    if (k == key) {
      old = std::move(v);
      return;
    }
  }
  entries.emplace_back(key, std::move(v));
}

void Object::erase(std::string_view key) {
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (it->first == key) {
      entries.erase(it);
      return;
    }
  }
}

// ---- Value constructors ----

Value Value::missing() {
  Value v;
  v.kind = Kind::Missing;
  return v;
}
Value Value::null() {
  Value v;
  v.kind = Kind::Null;
  return v;
}
Value Value::boolean(bool b) {
  Value v;
  v.kind = Kind::Bool;
  v.num = b ? 1 : 0;
  return v;
}
Value Value::integer(double x) {
  Value v;
  v.kind = Kind::Int;
  v.num = x;
  return v;
}
Value Value::floating(double x) {
  Value v;
  v.kind = Kind::Float;
  v.num = x;
  return v;
}
Value Value::number(double x) {
  return std::isfinite(x) && std::trunc(x) == x ? integer(x) : floating(x);
}
Value Value::string(std::string s) {
  Value v;
  v.kind = Kind::String;
  v.str = std::make_shared<const std::string>(std::move(s));
  return v;
}
namespace {

unsigned short nested_depth(int deepest_child) {
  if (deepest_child + 1 > kMaxValueDepth) js_fail(cat("value nested deeper than ", kMaxValueDepth, " levels"));
  return static_cast<unsigned short>(deepest_child + 1);
}

}  // namespace

Value Value::array(Array a) {
  Value v;
  v.kind = Kind::Array;
  int deepest = 0;
  for (const Value& e : a) deepest = std::max<int>(deepest, e.depth);
  v.depth = nested_depth(deepest);
  v.arr = std::make_shared<const Array>(std::move(a));
  return v;
}
Value Value::tuple(Array a) {
  Value v = array(std::move(a));
  v.kind = Kind::Tuple;
  return v;
}
Value Value::object(Object o) {
  Value v;
  v.kind = Kind::Object;
  int deepest = 0;
  for (const auto& e : o.entries) deepest = std::max<int>(deepest, e.second.depth);
  v.depth = nested_depth(deepest);
  v.obj = std::make_shared<Object>(std::move(o));
  return v;
}
Value Value::kwargs(Object o) {
  Value v = object(std::move(o));
  v.kind = Kind::KwArgs;
  return v;
}
Value Value::name_space(Object o) {
  Value v = object(std::move(o));
  v.kind = Kind::Namespace;
  return v;
}
Value Value::function(std::string name,
                      std::function<Value(Interpreter&, Args&, const EnvPtr&)> f) {
  Value v;
  v.kind = Kind::Function;
  v.fn = std::make_shared<const Function>(Function{std::move(name), std::move(f)});
  return v;
}

const char* type_name(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined: return "UndefinedValue";
    case Kind::Missing: return "undefined";
    case Kind::Null: return "NullValue";
    case Kind::Bool: return "BooleanValue";
    case Kind::Int: return "IntegerValue";
    case Kind::Float: return "FloatValue";
    case Kind::String: return "StringValue";
    case Kind::Array: return "ArrayValue";
    case Kind::Tuple: return "TupleValue";
    case Kind::Object: return "ObjectValue";
    case Kind::KwArgs: return "KeywordArgumentsValue";
    case Kind::Namespace: return "NamespaceValue";
    case Kind::Function: return "FunctionValue";
  }
  return "?";
}

const Value& need(const Value& v) {
  if (v.kind == Kind::Missing) js_fail("Cannot read properties of undefined");
  return v;
}

// ---- numbers ----

std::string js_number_to_string(double v) {
  if (std::isnan(v)) return "NaN";
  if (v == 0) return "0";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  std::string out;
  if (v < 0) {
    out = "-";
    v = -v;
  }
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string_view sv(buf, static_cast<size_t>(res.ptr - buf));
  const size_t epos = sv.find('e');
  std::string digits(1, sv[0]);
  if (epos > 1) digits.append(sv.substr(2, epos - 2));
  int e10 = 0;
  std::from_chars(sv.data() + epos + (sv[epos + 1] == '+' ? 2 : 1), sv.data() + sv.size(), e10);
  const int k = static_cast<int>(digits.size());
  const int n = e10 + 1;  // value = digits * 10^(n-k)
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out += '.';
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

std::string float_to_string(double v) {
  if (v == 0 && std::signbit(v)) return "-0.0";
  if (std::isfinite(v) && std::trunc(v) == v) {
    if (std::fabs(v) >= 1e21) return js_number_to_string(v);  // toFixed falls back to toString
    char buf[400];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
  }
  return js_number_to_string(v);
}

// ---- printing ----

// The reference builds every NullValue without an argument, so its raw value is JavaScript's
// undefined, not null: it prints as "undefined" and is === to Undefined's raw value.
std::string to_display(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined: return "undefined";
    case Kind::Missing: need(v); break;
    case Kind::Null: return "undefined";
    case Kind::Bool: return v.b() ? "true" : "false";
    case Kind::Int: return js_number_to_string(v.num);
    case Kind::Float: return float_to_string(v.num);
    case Kind::String: return v.s();
    case Kind::Function: js_fail("cannot print a function (the reference prints its JavaScript source)");
    default: return to_json(v, JsonOptions{}, 0, false);
  }
  return {};
}

std::string raw_to_string(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
    case Kind::Null: return "undefined";
    case Kind::Missing: need(v); break;
    case Kind::Bool: return v.b() ? "true" : "false";
    case Kind::Int:
    case Kind::Float: return js_number_to_string(v.num);
    case Kind::String: return v.s();
    case Kind::Array:
    case Kind::Tuple: {
      // Array.prototype.toString: elements are runtime values, printed with their toString();
      // a raw undefined element prints as "".
      std::string out;
      bool first = true;
      for (const Value& e : v.a()) {
        if (!first) out += ',';
        first = false;
        if (e.kind != Kind::Missing) out += to_display(e);
      }
      return out;
    }
    case Kind::Object:
    case Kind::KwArgs:
    case Kind::Namespace: return "[object Map]";
    case Kind::Function: js_fail("cannot convert a function to a string");
  }
  return {};
}

// ---- JSON ----

namespace {

void append_u_escape(std::string& out, unsigned unit) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\u%04x", unit & 0xFFFFu);
  out += buf;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || (c == 0x7F && ensure_ascii)) append_u_escape(out, c);
          else out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    char32_t cp;
    const size_t len = decode_utf8(s, i, cp);
    if (cp >= 0xD800 && cp <= 0xDBFF && i + len < s.size()) {
      char32_t lo;
      const size_t len2 = decode_utf8(s, i + len, lo);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        const char32_t full = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        if (ensure_ascii) {
          append_u_escape(out, cp);
          append_u_escape(out, lo);
        } else {
          append_utf8(out, full);
        }
        i += len + len2;
        continue;
      }
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      append_u_escape(out, cp);  // JSON.stringify escapes lone surrogates
    } else if (ensure_ascii) {
      if (cp >= 0x10000) {
        append_u_escape(out, 0xD800 + ((cp - 0x10000) >> 10));
        append_u_escape(out, 0xDC00 + ((cp - 0x10000) & 0x3FF));
      } else {
        append_u_escape(out, cp);
      }
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out += '"';
}

std::string to_json(const Value& v, const JsonOptions& opt, int depth, bool undefined_to_null) {
  // Namespaces can be made to contain themselves; the reference overflows its stack there.
  if (depth > kMaxValueDepth) js_fail("Maximum call stack size exceeded (value nested too deeply)");
  const double indent = opt.indent.value_or(0);
  const bool indented = indent != 0 && !std::isnan(indent);
  std::string item_sep, key_sep;
  if (opt.separators) {
    item_sep = opt.separators->first;
    key_sep = opt.separators->second;
  } else if (indented) {
    item_sep = ",";
    key_sep = ": ";
  } else {
    item_sep = ", ";
    key_sep = ": ";
  }
  switch (v.kind) {
    case Kind::Null: return "null";
    case Kind::Undefined: return undefined_to_null ? "null" : "undefined";
    case Kind::Bool: return v.b() ? "true" : "false";
    case Kind::Int:
    case Kind::Float: return std::isfinite(v.num) ? js_number_to_string(v.num) : "null";
    case Kind::String: {
      std::string out;
      append_json_string(out, v.s(), opt.ensure_ascii);
      return out;
    }
    case Kind::Array:
    case Kind::Object:
    case Kind::Namespace: {
      std::string indent_str;
      if (indented) {
        if (indent < 0) js_fail("Invalid count value: " + js_number_to_string(indent));
        if (indent > 4096) js_fail("tojson indent too large");
        indent_str.assign(static_cast<size_t>(indent), ' ');
      }
      std::string base = "\n";
      for (int d = 0; d < depth; ++d) base += indent_str;
      const std::string children = base + indent_str;
      std::vector<std::string> core;
      if (v.kind == Kind::Array) {
        for (const Value& e : v.a()) core.push_back(to_json(need(e), opt, depth + 1, undefined_to_null));
        std::string out = "[";
        if (indented && !core.empty()) {
          out += children;
          for (size_t i = 0; i < core.size(); ++i) {
            if (i) out += item_sep + children;
            out += core[i];
          }
          out += base;
        } else {
          for (size_t i = 0; i < core.size(); ++i) {
            if (i) out += item_sep;
            out += core[i];
          }
        }
        return out + "]";
      }
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& e : v.obj->entries) entries.push_back(&e);
      if (opt.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
          return locale_compare(a->first, b->first) < 0;
        });
      }
      for (const auto* e : entries) {
        std::string item;
        if (indented) item = children;
        append_json_string(item, e->first, opt.ensure_ascii);
        item += key_sep;
        item += to_json(need(e->second), opt, depth + 1, undefined_to_null);
        core.push_back(std::move(item));
      }
      std::string out = "{";
      for (size_t i = 0; i < core.size(); ++i) {
        if (i) out += item_sep;
        out += core[i];
      }
      if (indented && !core.empty()) out += base;
      return out + "}";
    }
    case Kind::Missing: need(v); break;
    default: js_fail(std::string("Cannot convert to JSON: ") + type_name(v));
  }
  return {};
}

// ---- truthiness and equality ----

bool truthy(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined:
    case Kind::Null: return false;
    case Kind::Missing: need(v); return false;
    case Kind::Bool: return v.b();
    case Kind::Int:
    case Kind::Float: return v.num != 0 && !std::isnan(v.num);
    case Kind::String: return !v.s().empty();
    case Kind::Array:
    case Kind::Tuple: return !v.a().empty();
    case Kind::Object:
    case Kind::KwArgs: return !v.obj->entries.empty();
    case Kind::Namespace:
    case Kind::Function: return true;
  }
  return false;
}

bool raw_truthy(const Value& v) {
  switch (v.kind) {
    case Kind::Array:
    case Kind::Tuple:
    case Kind::Object:
    case Kind::KwArgs: return true;  // JavaScript objects are always truthy
    default: return truthy(v);
  }
}

namespace {

enum class RawType { Undefined, Null, Boolean, Number, String, Object };

RawType raw_type(const Value& v) {
  switch (v.kind) {
    case Kind::Undefined: return RawType::Undefined;
    case Kind::Missing: need(v); return RawType::Undefined;
    case Kind::Null: return RawType::Undefined;  // NullValue holds undefined (see to_display)
    case Kind::Bool: return RawType::Boolean;
    case Kind::Int:
    case Kind::Float: return RawType::Number;
    case Kind::String: return RawType::String;
    default: return RawType::Object;
  }
}

const void* identity(const Value& v) {
  if (v.arr) return v.arr.get();
  if (v.obj) return v.obj.get();
  return v.fn.get();
}

bool same_type_equal(const Value& a, const Value& b, RawType t) {
  switch (t) {
    case RawType::Undefined:
    case RawType::Null: return true;
    case RawType::Boolean:
    case RawType::Number: return a.num == b.num;
    case RawType::String: return a.s() == b.s();
    case RawType::Object: return identity(a) == identity(b);
  }
  return false;
}

}  // namespace

bool loose_equals(const Value& a, const Value& b) {
  const RawType ta = raw_type(a), tb = raw_type(b);
  if (ta == tb) return same_type_equal(a, b, ta);
  const auto nullish = [](RawType t) { return t == RawType::Null || t == RawType::Undefined; };
  if (nullish(ta) || nullish(tb)) return nullish(ta) && nullish(tb);
  if (ta == RawType::Number && tb == RawType::String) return a.num == js_string_to_number(b.s());
  if (ta == RawType::String && tb == RawType::Number) return js_string_to_number(a.s()) == b.num;
  if (ta == RawType::Boolean) return loose_equals(Value::integer(a.num), b);
  if (tb == RawType::Boolean) return loose_equals(a, Value::integer(b.num));
  if (ta == RawType::Object) return loose_equals(Value::string(raw_to_string(a)), b);
  if (tb == RawType::Object) return loose_equals(a, Value::string(raw_to_string(b)));
  return false;
}

bool strict_equals(const Value& a, const Value& b) {
  const RawType ta = raw_type(a), tb = raw_type(b);
  return ta == tb && same_type_equal(a, b, ta);
}

bool same_value_zero(const Value& a, const Value& b) {
  const RawType ta = raw_type(a), tb = raw_type(b);
  if (ta == RawType::Number && tb == RawType::Number && std::isnan(a.num) && std::isnan(b.num))
    return true;
  return ta == tb && same_type_equal(a, b, ta);
}

// ---- number parsing ----

namespace {

bool is_ascii_digit(char c) { return c >= '0' && c <= '9'; }

// Length of the longest StrDecimalLiteral prefix of s (sign, digits, fraction, exponent), 0 if none.
size_t decimal_prefix(std::string_view s, bool& is_infinity) {
  is_infinity = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (s.substr(i, 8) == "Infinity") {
    is_infinity = true;
    return i + 8;
  }
  size_t digits = 0;
  while (i < s.size() && is_ascii_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    size_t j = i + 1, frac = 0;
    while (j < s.size() && is_ascii_digit(s[j])) ++j, ++frac;
    if (digits + frac == 0) return 0;
    i = j;
  } else if (digits == 0) {
    return 0;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    size_t exp_digits = 0;
    while (j < s.size() && is_ascii_digit(s[j])) ++j, ++exp_digits;
    if (exp_digits > 0) i = j;
  }
  return i;
}

double parse_decimal(std::string_view s, size_t len, bool is_infinity) {
  if (is_infinity) return s[0] == '-' ? -INFINITY : INFINITY;
  const std::string text(s.substr(0, len));
  return std::strtod(text.c_str(), nullptr);
}

}  // namespace

double js_string_to_number(std::string_view s) {
  s = js_trim(s);
  if (s.empty()) return 0;
  if (s.size() > 2 && s[0] == '0') {
    int base = 0;
    if (s[1] == 'x' || s[1] == 'X') base = 16;
    if (s[1] == 'o' || s[1] == 'O') base = 8;
    if (s[1] == 'b' || s[1] == 'B') base = 2;
    if (base) {
      double v = 0;
      for (size_t i = 2; i < s.size(); ++i) {
        const char c = s[i];
        int d = is_ascii_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 99;
        if (d >= base) return NAN;
        v = v * base + d;
      }
      return v;
    }
  }
  bool inf;
  const size_t len = decimal_prefix(s, inf);
  if (len == 0 || len != s.size()) return NAN;
  return parse_decimal(s, len, inf);
}

double js_parse_int(std::string_view s) {
  s = js_trim_start(s);
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  const size_t start = i;
  while (i < s.size() && is_ascii_digit(s[i])) ++i;
  if (i == start) return NAN;
  const std::string digits(s.substr(start, i - start));
  const double v = std::strtod(digits.c_str(), nullptr);
  return neg ? -v : v;
}

double js_parse_float(std::string_view s) {
  s = js_trim_start(s);
  bool inf;
  const size_t len = decimal_prefix(s, inf);
  if (len == 0) return NAN;
  return parse_decimal(s, len, inf);
}

// ---- ordering ----

int compare_code_units(std::string_view a, std::string_view b) {
  if (is_ascii(a) || is_ascii(b)) {
    // UTF-8 byte order equals code-unit order unless both sides hold non-ASCII characters.
    const int c = a.compare(b);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  const std::u16string ua = to_utf16(a), ub = to_utf16(b);
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

int compare_values(const Value& a, const Value& b, bool case_sensitive) {
  need(a);
  need(b);
  if (a.kind == Kind::Null && b.kind == Kind::Null) return 0;
  if (a.kind == Kind::Null || b.kind == Kind::Null)
    js_fail(std::string("Cannot compare ") + type_name(a) + " with " + type_name(b));
  if (a.kind == Kind::Undefined && b.kind == Kind::Undefined) return 0;
  if (a.kind == Kind::Undefined || b.kind == Kind::Undefined)
    js_fail(std::string("Cannot compare ") + type_name(a) + " with " + type_name(b));
  if (a.is_numeric_like() && b.is_numeric_like()) return a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
  if (a.kind != b.kind)
    js_fail(std::string("Cannot compare different types: ") + type_name(a) + " and " + type_name(b));
  if (a.kind != Kind::String) js_fail(std::string("Cannot compare type: ") + type_name(a));
  if (case_sensitive) return compare_code_units(a.s(), b.s());
  return compare_code_units(js_to_lower(a.s()), js_to_lower(b.s()));
}

namespace {

// Primary collation order of ASCII under ICU's root collation (what Node's localeCompare uses
// for en-US), measured with the reference's Node: whitespace, punctuation, symbols, digits,
// letters (case-insensitive at this level). Control characters are ignorable (weight 0).
constexpr std::string_view kAsciiPrimaryOrder =
    "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789";

int ascii_primary(unsigned char c) {
  static const auto table = [] {
    std::array<int, 128> t{};
    int w = 1;
    for (char ch : kAsciiPrimaryOrder) t[static_cast<unsigned char>(ch)] = w++;
    for (int l = 0; l < 26; ++l) {
      t['a' + l] = w;
      t['A' + l] = w;
      ++w;
    }
    return t;
  }();
  return table[c];
}

void collation_keys(std::string_view s, std::vector<int>& primary, std::vector<int>& tertiary) {
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    i += decode_utf8(s, i, cp);
    int p, t = 0;
    if (cp < 128) {
      p = ascii_primary(static_cast<unsigned char>(cp));
      if (p == 0) continue;
      t = cp >= 'A' && cp <= 'Z' ? 1 : 0;
    } else {
      p = 1000 + static_cast<int>(cp);
    }
    primary.push_back(p);
    tertiary.push_back(t);
  }
}

}  // namespace

int locale_compare(std::string_view a, std::string_view b) {
  std::vector<int> pa, ta, pb, tb;
  collation_keys(a, pa, ta);
  collation_keys(b, pb, tb);
  if (pa != pb) return pa < pb ? -1 : 1;
  if (ta != tb) return ta < tb ? -1 : 1;
  return 0;
}

// ---- data conversion ----

namespace {

// Canonical array-index property names come first in JavaScript property order.
bool array_index_key(const std::string& k, uint64_t& index) {
  if (k.empty() || k.size() > 10) return false;
  if (k.size() > 1 && k[0] == '0') return false;
  uint64_t v = 0;
  for (char c : k) {
    if (!is_ascii_digit(c)) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 4294967294ULL) return false;
  index = v;
  return true;
}

}  // namespace

Value from_json(const nlohmann::ordered_json& j, int depth) {
  using T = nlohmann::ordered_json::value_t;
  if (depth > kMaxDataDepth && (j.is_array() || j.is_object()))
    throw TemplateError(cat("chat template: data nested deeper than ", kMaxDataDepth, " levels"));
  switch (j.type()) {
    case T::null: return Value::null();
    case T::boolean: return Value::boolean(j.get<bool>());
    case T::number_integer: return Value::integer(static_cast<double>(j.get<int64_t>()));
    case T::number_unsigned: return Value::integer(static_cast<double>(j.get<uint64_t>()));
    case T::number_float: return Value::number(j.get<double>());
    case T::string: return Value::string(j.get<std::string>());
    case T::array: {
      Array a;
      a.reserve(j.size());
      for (const auto& e : j) a.push_back(from_json(e, depth + 1));
      return Value::array(std::move(a));
    }
    case T::object: {
      // Keys of a JSON object are unique, so entries are appended without lookups.
      std::vector<std::pair<uint64_t, nlohmann::ordered_json::const_iterator>> indexed;
      for (auto it = j.begin(); it != j.end(); ++it) {
        uint64_t idx;
        if (array_index_key(it.key(), idx)) indexed.emplace_back(idx, it);
      }
      std::stable_sort(indexed.begin(), indexed.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      Object o;
      o.entries.reserve(j.size());
      for (const auto& [idx, it] : indexed) o.entries.emplace_back(it.key(), from_json(it.value(), depth + 1));
      for (auto it = j.begin(); it != j.end(); ++it) {
        uint64_t idx;
        if (!array_index_key(it.key(), idx)) o.entries.emplace_back(it.key(), from_json(it.value(), depth + 1));
      }
      return Value::object(std::move(o));
    }
    default: throw TemplateError("chat template: unsupported JSON value type in template data");
  }
}

}  // namespace hearth::chat::jinja

