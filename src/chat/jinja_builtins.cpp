// Jinja builtins (see jinja_interpreter.h): filters, tests, methods of strings/arrays/objects
// and the global functions, each mirroring @huggingface/jinja's runtime. Extensions (names the
// reference does not know at all) are marked and listed in docs/CHAT_TEMPLATES.md.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <unordered_set>

#include "chat/jinja_interpreter.h"
#include "chat/jinja_unicode.h"

namespace hearth::chat::jinja {
namespace {

bool is_word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// titleCase(): value.replace(/\b\w/g, c => c.toUpperCase()) — ASCII word characters only.
std::string title_case(const std::string& s) {
  std::string out = s;
  for (size_t i = 0; i < out.size(); ++i) {
    if (is_word_byte(out[i]) && (i == 0 || !is_word_byte(out[i - 1])) && out[i] >= 'a' && out[i] <= 'z')
      out[i] = static_cast<char>(out[i] - 32);
  }
  return out;
}

// charAt(0).toUpperCase() + slice(1): only the first UTF-16 unit changes; the rest is kept.
std::string capitalize(const std::string& s) {
  if (s.empty()) return s;
  char32_t cp;
  const size_t len = decode_utf8(s, 0, cp);
  if (cp >= 0x10000) return s;  // charAt(0) is a lone high surrogate: unchanged
  return js_to_upper(std::string_view(s).substr(0, len)) + s.substr(len);
}

// Arguments of the reference's builtins are read as `args[i] ?? fallback`, so a raw undefined
// argument counts as absent.
const Value* arg(const Args& args, size_t i) {
  return i < args.size() && args[i].kind != Kind::Missing ? &args[i] : nullptr;
}

const Value* kwarg(const Object* kwargs, std::string_view key) {
  if (!kwargs) return nullptr;
  const Value* v = kwargs->find(key);
  return v && v->kind != Kind::Missing ? v : nullptr;
}

Value first_of(std::initializer_list<const Value*> candidates, Value fallback) {
  for (const Value* c : candidates)
    if (c) return *c;
  return fallback;
}

std::vector<std::string> split_all(const std::string& s, const std::string& sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(sep, start);
    if (p == std::string::npos) break;
    parts.push_back(s.substr(start, p - start));
    start = p + sep.size();
  }
  parts.push_back(s.substr(start));
  return parts;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

// utils.replace(): Python's str.replace with an optional count.
std::string replace_impl(Interpreter& in, const std::string& s, const std::string& old_v,
                         const std::string& new_v, const Value& count) {
  if (count.kind == Kind::Int && count.num == 0) return s;
  double remaining = count.kind == Kind::Null || count.num < 0 ? std::numeric_limits<double>::infinity() : count.num;
  std::string out;
  if (old_v.empty()) {
    // An empty pattern matches at every code-point boundary, the end included.
    for (size_t i = 0;;) {
      if (remaining > 0) {
        --remaining;
        out += new_v;
        in.check_string(out.size());
      }
      if (i >= s.size()) break;
      char32_t cp;
      const size_t len = decode_utf8(s, i, cp);
      out.append(s, i, len);
      i += len;
    }
    return out;
  }
  size_t start = 0;
  while (remaining > 0) {
    const size_t p = s.find(old_v, start);
    if (p == std::string::npos) break;
    out.append(s, start, p - start);
    out += new_v;
    in.check_string(out.size());
    start = p + old_v.size();
    --remaining;
  }
  out.append(s, start, std::string::npos);
  in.check_string(out.size());
  return out;
}

bool str_starts(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool str_ends(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

Value string_method(Interpreter& in, const std::string& s, const std::string& name, Args& args) {
  if (name == "upper") return Value::string(js_to_upper(s));
  if (name == "lower") return Value::string(js_to_lower(s));
  if (name == "strip") return Value::string(std::string(js_trim(s)));  // arguments are ignored
  if (name == "title") return Value::string(title_case(s));
  if (name == "capitalize") return Value::string(capitalize(s));
  if (name == "rstrip") return Value::string(std::string(js_trim_end(s)));
  if (name == "lstrip") return Value::string(std::string(js_trim_start(s)));
  if (name == "startswith" || name == "endswith") {
    const bool starts = name == "startswith";
    if (args.empty()) js_fail(name + "() requires at least one argument");
    const Value& pattern = need(args[0]);
    const auto test = [&](const std::string& p) { return starts ? str_starts(s, p) : str_ends(s, p); };
    if (pattern.kind == Kind::String) return Value::boolean(test(pattern.s()));
    if (pattern.is_array()) {
      for (const Value& item : pattern.a()) {
        if (item.kind != Kind::String) js_fail(name + "() tuple elements must be strings");
        if (test(item.s())) return Value::boolean(true);
      }
      return Value::boolean(false);
    }
    js_fail(name + "() argument must be a string or tuple of strings");
  }
  if (name == "split") {
    const Value sep = first_of({arg(args, 0)}, Value::null());
    if (sep.kind != Kind::String && sep.kind != Kind::Null) js_fail("sep argument must be a string or null");
    const Value maxsplit = first_of({arg(args, 1)}, Value::integer(-1));
    if (maxsplit.kind != Kind::Int) js_fail("maxsplit argument must be a number");
    const double max = maxsplit.num;
    Array result;
    if (sep.kind == Kind::Null) {
      const std::string_view text = js_trim_start(s);
      size_t i = 0;
      while (i < text.size()) {
        while (size_t n = js_space_len(text, i)) i += n;
        if (i >= text.size()) break;
        const size_t start = i;
        while (i < text.size() && js_space_len(text, i) == 0) {
          char32_t cp;
          i += decode_utf8(text, i, cp);
        }
        if (max != -1 && static_cast<double>(result.size()) >= max) {
          result.push_back(Value::string(std::string(text.substr(start))));
          break;
        }
        result.push_back(Value::string(std::string(text.substr(start, i - start))));
      }
    } else {
      if (sep.s().empty()) js_fail("empty separator");
      std::vector<std::string> parts = split_all(s, sep.s());
      if (max != -1 && static_cast<double>(parts.size()) > max) {
        const double len = static_cast<double>(parts.size());
        const size_t k = static_cast<size_t>(max < 0 ? std::max(len + max, 0.0) : std::min(max, len));
        std::vector<std::string> tail(parts.begin() + static_cast<std::ptrdiff_t>(k), parts.end());
        parts.resize(k);
        parts.push_back(join(tail, sep.s()));
      }
      in.check_array(parts.size());
      for (std::string& p : parts) result.push_back(Value::string(std::move(p)));
    }
    return Value::array(std::move(result));
  }
  if (name == "replace") {
    if (args.size() < 2) js_fail("replace() requires at least two arguments");
    const Value& old_v = need(args[0]);
    const Value& new_v = need(args[1]);
    if (old_v.kind != Kind::String || new_v.kind != Kind::String) js_fail("replace() arguments must be strings");
    Value count = Value::null();
    if (args.size() > 2) {
      if (args[2].kind == Kind::KwArgs) count = first_of({kwarg(args[2].obj.get(), "count")}, Value::null());
      else count = need(args[2]);
    }
    if (count.kind != Kind::Int && count.kind != Kind::Null) js_fail("replace() count argument must be a number or null");
    return Value::string(replace_impl(in, s, old_v.s(), new_v.s(), count));
  }
  js_fail("unknown string method " + name);
}

bool is_string_method(const std::string& name) {
  static const char* const kNames[] = {"upper", "lower", "strip", "title", "capitalize", "rstrip",
                                       "lstrip", "startswith", "endswith", "split", "replace"};
  for (const char* n : kNames)
    if (name == n) return true;
  return false;
}

Value items_of(const Object& o) {
  Array items;
  items.reserve(o.entries.size());
  for (const auto& [k, v] : o.entries) items.push_back(Value::array({Value::string(k), v}));
  return Value::array(std::move(items));
}

Value object_method(Interpreter& in, const Value& self, const std::string& name, Args& args) {
  const Object& o = *self.obj;
  if (name == "get") {
    if (args.empty() || args[0].kind != Kind::String)
      js_fail(cat("Object key must be a string: got ", args.empty() ? "undefined" : type_name(args[0])));
    if (const Value* v = o.find(args[0].s()); v && v->kind != Kind::Missing) return *v;
    return first_of({arg(args, 1)}, Value::null());
  }
  if (name == "items") return items_of(o);
  if (name == "keys") {
    Array keys;
    for (const auto& [k, v] : o.entries) keys.push_back(Value::string(k));
    return Value::array(std::move(keys));
  }
  if (name == "values") {
    Array values;
    for (const auto& [k, v] : o.entries) values.push_back(v);
    return Value::array(std::move(values));
  }
  if (name == "dictsort") {
    const Object* kwargs = nullptr;
    Args positional;
    for (const Value& a : args) {
      if (a.kind == Kind::KwArgs) kwargs = a.obj.get();
      else positional.push_back(a);
    }
    const Value case_sensitive = first_of({arg(positional, 0), kwarg(kwargs, "case_sensitive")}, Value::boolean(false));
    if (case_sensitive.kind != Kind::Bool) js_fail("case_sensitive must be a boolean");
    const Value by = first_of({arg(positional, 1), kwarg(kwargs, "by")}, Value::string("key"));
    if (by.kind != Kind::String) js_fail("by must be a string");
    if (by.s() != "key" && by.s() != "value") js_fail("by must be either 'key' or 'value'");
    const Value reverse = first_of({arg(positional, 2), kwarg(kwargs, "reverse")}, Value::boolean(false));
    if (reverse.kind != Kind::Bool) js_fail("reverse must be a boolean");
    Array items = items_of(o).a();
    const size_t index = by.s() == "key" ? 0 : 1;
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
      const int r = compare_values(a.a()[index], b.a()[index], case_sensitive.b());
      return (reverse.b() ? -r : r) < 0;
    });
    (void)in;
    return Value::array(std::move(items));
  }
  js_fail("unknown object method " + name);
}

bool is_object_method(const std::string& name) {
  return name == "get" || name == "items" || name == "keys" || name == "values" || name == "dictsort";
}

Value bound_object_method(const Value& self, const std::string& name) {
  return Value::function(name, [self, name](Interpreter& in, Args& args, const EnvPtr&) {
    return object_method(in, self, name, args);
  });
}

// getAttributeValue(): dotted paths through objects and array indices ("a.b.0").
Value attribute_value(const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v.is_attr_container()) {
      const Value* f = v.obj->find(part);
      v = f && f->kind != Kind::Missing ? *f : Value::undefined();
    } else if (v.is_array()) {
      const double idx = js_parse_int(part);
      if (!std::isnan(idx) && idx >= 0 && idx < static_cast<double>(v.a().size())) {
        const Value next = v.a()[static_cast<size_t>(idx)];
        v = next;
      } else {
        return Value::undefined();
      }
    } else {
      return Value::undefined();
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return v;
}

// Key of a value in the reference's `unique` Set (SameValueZero on raw values).
std::string identity_key(const Value& v) {
  need(v);
  switch (v.kind) {
    case Kind::Undefined:
    case Kind::Null: return "u";  // both hold JavaScript's undefined
    case Kind::Bool: return v.b() ? "b1" : "b0";
    case Kind::Int:
    case Kind::Float: {
      double x = v.num == 0 ? 0.0 : v.num;  // +0 and -0 are the same key
      if (std::isnan(x)) return "nNaN";
      char buf[32];
      std::snprintf(buf, sizeof buf, "n%a", x);
      return buf;
    }
    case Kind::String: return "s" + v.s();
    default: {
      const void* p = v.arr ? static_cast<const void*>(v.arr.get())
                            : v.obj ? static_cast<const void*>(v.obj.get()) : static_cast<const void*>(v.fn.get());
      char buf[32];
      std::snprintf(buf, sizeof buf, "o%p", p);
      return buf;
    }
  }
}

// Python's round() for the `round` extension filter (round-half-even on the exact double).
double python_round(double x, int precision) {
  if (!std::isfinite(x)) return x;
  if (precision >= 0) {
    if (precision > 300) return x;
    char buf[512];
    std::snprintf(buf, sizeof buf, "%.*f", precision, x);
    return std::strtod(buf, nullptr);
  }
  const double scale = std::pow(10.0, -precision);
  return std::nearbyint(x / scale) * scale;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* const kMonthsShort[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const char* const kMonthsLong[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};

// utils.strftime(): only %Y %m %d %b %B %H %M %% are replaced; other sequences stay as written.
std::string strftime_js(std::time_t now, const std::string& format) {
  std::tm tm{};
  localtime_r(&now, &tm);
  const auto pad2 = [](int v) { return v < 10 ? "0" + std::to_string(v) : std::to_string(v); };
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '%' && i + 1 < format.size()) {
      const char c = format[i + 1];
      std::string rep;
      bool known = true;
      switch (c) {
        case 'Y': rep = std::to_string(tm.tm_year + 1900); break;
        case 'm': rep = pad2(tm.tm_mon + 1); break;
        case 'd': rep = pad2(tm.tm_mday); break;
        case 'b': rep = kMonthsShort[tm.tm_mon]; break;
        case 'B': rep = kMonthsLong[tm.tm_mon]; break;
        case 'H': rep = pad2(tm.tm_hour); break;
        case 'M': rep = pad2(tm.tm_min); break;
        case '%': rep = "%"; break;
        default: known = false;
      }
      if (known) {
        out += rep;
        ++i;
        continue;
      }
    }
    out += format[i];
  }
  return out;
}

// Entries for namespace() / dict(): an optional mapping or list of pairs plus keyword arguments.
Object mapping_from_args(Args args, const char* what) {
  Object kwargs;
  bool have_kwargs = false;
  if (!args.empty() && args.back().kind == Kind::KwArgs) {
    kwargs = *args.back().obj;
    have_kwargs = true;
    args.pop_back();
  }
  if (args.size() > 1) js_fail(cat(what, " expected at most 1 argument, got ", args.size()));
  Object entries;
  if (args.size() == 1) {
    const Value& source = need(args[0]);
    if (source.is_object()) {
      for (const auto& [k, v] : source.obj->entries) entries.set(k, v);
    } else if (source.is_array()) {
      for (const Value& pair : source.a()) {
        Array kv;
        if (pair.is_array()) {
          kv = pair.a();
        } else if (pair.kind == Kind::String) {
          for (size_t i = 0; i < pair.s().size();) {
            char32_t cp;
            const size_t len = decode_utf8(pair.s(), i, cp);
            kv.push_back(Value::string(pair.s().substr(i, len)));
            i += len;
          }
        }
        if (kv.size() != 2) js_fail(cat(what, " expected an object or an iterable of [key, value] pairs"));
        if (kv[0].kind != Kind::String) js_fail(cat(what, " keys must be strings"));
        entries.set(kv[0].s(), kv[1]);
      }
    } else {
      js_fail(cat("'", type_name(source), "' object is not iterable"));
    }
  }
  if (have_kwargs)
    for (const auto& [k, v] : kwargs.entries) entries.set(k, v);
  return entries;
}

// Raw values handed to the reference's JavaScript globals (range, raise_exception, ...).
double raw_number(const Value& v, const char* fn) {
  need(v);
  if (v.is_numeric_like()) return v.num;
  if (v.kind == Kind::Null) return 0;
  js_fail(cat(fn, "() expects numbers, got ", type_name(v)));
}

}  // namespace

// ---- globals ----

Interpreter::Interpreter(std::string_view source, const Limits& limits, std::time_t now, bool extensions)
    : source_(source), limits_(limits), now_(now), extensions_(extensions) {
  namespace_fn_ = Value::function("namespace", [](Interpreter& in, Args& args, const EnvPtr&) {
    Value ns = Value::name_space(mapping_from_args(args, "namespace"));
    in.namespaces_.push_back(ns.obj);
    return ns;
  });
  dict_fn_ = Value::function("dict", [](Interpreter&, Args& args, const EnvPtr&) {
    return Value::object(mapping_from_args(args, "dict"));
  });
}

Interpreter::~Interpreter() {
  for (const auto& ns : namespaces_) {
    std::vector<std::pair<std::string, Value>> entries;
    entries.swap(ns->entries);  // freed here, while every namespace is still held by the list
  }
}

bool Interpreter::is_global_name(std::string_view name) {
  static const char* const kNames[] = {"false", "true",  "none", "raise_exception", "range",
                                       "strftime_now", "True", "False", "None", "namespace"};
  for (const char* n : kNames)
    if (name == n) return true;
  return false;
}

EnvPtr Interpreter::make_globals() {
  auto env = std::make_shared<Env>(nullptr);
  env->set("false", Value::boolean(false));
  env->set("true", Value::boolean(true));
  env->set("none", Value::null());
  env->set("raise_exception", Value::function("raise_exception", [](Interpreter&, Args& args, const EnvPtr&) -> Value {
             for (const Value& a : args) need(a);
             // new Error(value): an undefined message is empty.
             const std::string message = args.empty() || args[0].kind == Kind::Undefined ? "" : raw_to_string(args[0]);
             throw RaisedError("chat template raised an exception: " + message, message);
           }));
  env->set("range", Value::function("range", [](Interpreter& in, Args& args, const EnvPtr&) {
             const auto present = [&](size_t i) { return i < args.size() && args[i].kind != Kind::Undefined; };
             double start = present(0) ? raw_number(args[0], "range") : 0;
             double stop;
             if (present(1)) {
               stop = raw_number(args[1], "range");
             } else {
               stop = start;
               start = 0;
             }
             const double step = present(2) ? raw_number(args[2], "range") : 1;
             if (step == 0) js_fail("range() step must not be zero");
             const double count = std::ceil((stop - start) / step);
             if (count > 0) {
               in.check_array(static_cast<size_t>(std::min(count, 1e18)));
               in.charge(static_cast<uint64_t>(count));
             }
             Array out;
             for (double i = start; step > 0 ? i < stop : i > stop; i += step) {
               in.check_array(out.size() + 1);
               out.push_back(Value::number(i));
             }
             return Value::array(std::move(out));
           }));
  env->set("strftime_now", Value::function("strftime_now", [](Interpreter& in, Args& args, const EnvPtr&) {
             if (args.empty() || need(args[0]).kind != Kind::String) js_fail("strftime_now() expects a format string");
             return Value::string(strftime_js(in.now(), args[0].s()));
           }));
  env->set("True", Value::boolean(true));
  env->set("False", Value::boolean(false));
  env->set("None", Value::null());
  return env;
}

// ---- member access ----

Value Interpreter::get_member(const Value& object, const Value& property) {
  need(object);
  if (object.is_attr_container()) {
    if (property.kind != Kind::String) js_fail(cat("Cannot access property with non-string: got ", type_name(property)));
    if (const Value* v = object.obj->find(property.s())) return v->kind == Kind::Missing ? Value::undefined() : *v;
    if (object.is_object() && is_object_method(property.s())) return bound_object_method(object, property.s());
    return Value::undefined();
  }
  if (object.is_array() || object.kind == Kind::String) {
    if (property.kind == Kind::Int) {
      // Array.prototype.at / String.prototype.at (negative indices count from the end).
      double idx = std::isnan(property.num) ? 0 : std::trunc(property.num);
      if (object.is_array()) {
        const double len = static_cast<double>(object.a().size());
        if (idx < 0) idx += len;
        if (idx < 0 || idx >= len) return Value::undefined();
        const Value& e = object.a()[static_cast<size_t>(idx)];
        return e.kind == Kind::Missing ? Value::undefined() : e;
      }
      const std::string& s = object.s();
      if (is_ascii(s)) {
        const double len = static_cast<double>(s.size());
        if (idx < 0) idx += len;
        if (idx < 0 || idx >= len) return Value::undefined();
        return Value::string(std::string(1, s[static_cast<size_t>(idx)]));
      }
      const std::u16string u = to_utf16(s);
      const double len = static_cast<double>(u.size());
      if (idx < 0) idx += len;
      if (idx < 0 || idx >= len) return Value::undefined();
      return Value::string(from_utf16(std::u16string_view(u).substr(static_cast<size_t>(idx), 1)));
    }
    if (property.kind == Kind::String) {
      const std::string& name = property.s();
      if (object.kind == Kind::String) {
        if (name == "length") return Value::integer(static_cast<double>(utf16_length(object.s())));
        if (is_string_method(name)) {
          auto recv = object.str;
          return Value::function(name, [recv, name](Interpreter& in, Args& args, const EnvPtr&) {
            return string_method(in, *recv, name, args);
          });
        }
        return Value::undefined();
      }
      if (name == "length") return Value::integer(static_cast<double>(object.a().size()));
      return Value::undefined();
    }
    js_fail(cat("Cannot access property with non-string/non-number: got ", type_name(property)));
  }
  if (property.kind != Kind::String) js_fail(cat("Cannot access property with non-string: got ", type_name(property)));
  return Value::undefined();
}

// ---- tests ----

namespace {
const char* const kTestNames[] = {"boolean", "callable", "odd",     "even",    "false",   "true",
                                  "none",    "string",   "number",  "integer", "iterable", "mapping",
                                  "sequence", "lower",   "upper",   "defined", "undefined", "equalto",
                                  "eq",      "divisibleby"};
}

bool Interpreter::has_test(const std::string& name) const {
  if (name == "divisibleby" && !extensions_) return false;
  for (const char* n : kTestNames)
    if (name == n) return true;
  return false;
}

bool Interpreter::run_test(const std::string& name, const Value& operand, const Args& args) {
  need(operand);
  const Value& v = operand;
  if (name == "boolean") return v.kind == Kind::Bool;
  if (name == "callable") return v.kind == Kind::Function;
  if (name == "odd" || name == "even") {
    if (v.kind != Kind::Int) js_fail(cat("cannot ", name, " on ", type_name(v)));
    const bool odd = std::fmod(v.num, 2) != 0;
    return name == "odd" ? odd : !odd;
  }
  if (name == "false") return v.kind == Kind::Bool && !v.b();
  if (name == "true") return v.kind == Kind::Bool && v.b();
  if (name == "none") return v.kind == Kind::Null;
  if (name == "string") return v.kind == Kind::String;
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind == Kind::Int;
  if (name == "iterable") return v.kind == Kind::Array || v.kind == Kind::String;
  if (name == "mapping") return v.is_object();
  if (name == "sequence") return v.is_array() || v.is_object() || v.kind == Kind::String;
  if (name == "lower") return v.kind == Kind::String && v.s() == js_to_lower(v.s());
  if (name == "upper") return v.kind == Kind::String && v.s() == js_to_upper(v.s());
  if (name == "defined") return v.kind != Kind::Undefined;
  if (name == "undefined") return v.kind == Kind::Undefined;
  if (name == "equalto" || name == "eq") {
    if (args.empty()) js_fail("Cannot read properties of undefined (reading 'value')");
    return strict_equals(v, args[0]);
  }
  if (name == "divisibleby") {  // extension
    if (args.empty() || !args[0].is_number() || !v.is_number()) js_fail("divisibleby expects numbers");
    return std::fmod(v.num, args[0].num) == 0;
  }
  js_fail(cat("Unknown test: ", name));
}

// ---- filters ----

Value Interpreter::apply_filter(const Value& operand, const Node& filter, const EnvPtr& env) {
  if (filter.type == NodeType::Identifier) {
    const std::string& name = filter.str;
    if (name == "safe") return operand;
    if (name == "tojson") return Value::string(to_json(operand, JsonOptions{}));
    // Extensions: filters the reference does not know, written as plain names.
    if (!extensions_) {
      // fall through to the reference's type dispatch, which rejects these names
    } else if (name == "d") {
      need(operand);
      return operand.kind == Kind::Undefined ? Value::string("") : operand;
    } else if (name == "count") {
      need(operand);
      if (operand.is_array()) return Value::integer(static_cast<double>(operand.a().size()));
      if (operand.kind == Kind::String) return Value::integer(static_cast<double>(utf16_length(operand.s())));
      if (operand.is_object()) return Value::integer(static_cast<double>(operand.obj->entries.size()));
      js_fail(cat("Cannot apply filter \"count\" to type: ", type_name(operand)));
    } else if (name == "e" || name == "escape") {
      need(operand);
      return Value::string(html_escape(operand.kind == Kind::Undefined ? "" : to_display(operand)));
    } else if (name == "round") {
      need(operand);
      if (!operand.is_number()) js_fail(cat("Cannot apply filter \"round\" to type: ", type_name(operand)));
      return operand.kind == Kind::Int ? operand : Value::floating(python_round(operand.num, 0));
    } else if (name == "select" || name == "reject") {
      need(operand);
      if (!operand.is_array()) js_fail(cat("Cannot apply filter \"", name, "\" to type: ", type_name(operand)));
      Array out;
      for (const Value& item : operand.a())
        if (truthy(item) == (name == "select")) out.push_back(item);
      return Value::array(std::move(out));
    }

    need(operand);
    if (operand.is_array()) {
      const Array& items = operand.a();
      if (name == "list") return operand;
      if (name == "first") return items.empty() ? Value::missing() : items.front();
      if (name == "last") return items.empty() ? Value::missing() : items.back();
      if (name == "length") return Value::integer(static_cast<double>(items.size()));
      if (name == "reverse") return Value::array(Array(items.rbegin(), items.rend()));
      if (name == "sort") {
        Array sorted = items;
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](const Value& a, const Value& b) { return compare_values(a, b, false) < 0; });
        return Value::array(std::move(sorted));
      }
      if (name == "join") {
        std::string out;
        for (const Value& e : items) {
          need(e);
          if (!e.is_nullish()) out += raw_to_string(e);
          check_string(out.size());
        }
        return Value::string(std::move(out));
      }
      if (name == "string") return Value::string(to_json(operand, JsonOptions{}, 0, false));
      if (name == "unique") {
        // A Set of raw values: SameValueZero, objects by identity.
        Array out;
        std::unordered_set<std::string> seen;
        for (const Value& e : items) {
          if (seen.insert(identity_key(e)).second) out.push_back(e);
        }
        return Value::array(std::move(out));
      }
      js_fail(cat("Unknown ArrayValue filter: ", name));
    }
    if (operand.kind == Kind::String) {
      const std::string& s = operand.s();
      if (name == "length") return Value::integer(static_cast<double>(utf16_length(s)));
      if (name == "upper" || name == "lower" || name == "title" || name == "capitalize") {
        Args none;
        return string_method(*this, s, name, none);
      }
      if (name == "trim") return Value::string(std::string(js_trim(s)));
      if (name == "indent") {
        std::vector<std::string> lines = split_all(s, "\n");
        for (size_t i = 0; i < lines.size(); ++i)
          if (i != 0 && !lines[i].empty()) lines[i] = "    " + lines[i];
        std::string out = join(lines, "\n");
        check_string(out.size());
        return Value::string(std::move(out));
      }
      if (name == "join" || name == "string") return operand;
      if (name == "int") {
        const double v = js_parse_int(s);
        return Value::integer(std::isnan(v) ? 0 : v);
      }
      if (name == "float") {
        const double v = js_parse_float(s);
        return Value::floating(std::isnan(v) ? 0 : v);
      }
      js_fail(cat("Unknown StringValue filter: ", name));
    }
    if (operand.is_number()) {
      if (name == "abs") return operand.kind == Kind::Int ? Value::integer(std::fabs(operand.num)) : Value::floating(std::fabs(operand.num));
      if (name == "int") return Value::integer(std::floor(operand.num));
      if (name == "float") return Value::floating(operand.num);
      if (name == "string") return Value::string(to_display(operand));
      js_fail(cat("Unknown NumericValue filter: ", name));
    }
    if (operand.is_object()) {
      if (name == "items") return items_of(*operand.obj);
      if (name == "length") return Value::integer(static_cast<double>(operand.obj->entries.size()));
      if (is_object_method(name)) {
        Args none;
        return object_method(*this, operand, name, none);
      }
      js_fail(cat("Unknown ObjectValue filter: ", name));
    }
    if (operand.kind == Kind::Bool) {
      if (name == "bool") return operand;
      if (name == "int") return Value::integer(operand.b() ? 1 : 0);
      if (name == "float") return Value::floating(operand.b() ? 1 : 0);
      if (name == "string") return Value::string(operand.b() ? "true" : "false");
      js_fail(cat("Unknown BooleanValue filter: ", name));
    }
    js_fail(cat("Cannot apply filter \"", name, "\" to type: ", type_name(operand)));
  }

  if (filter.type != NodeType::Call) js_fail("Unknown filter: MemberExpression");
  if (filter.a->type != NodeType::Identifier) js_fail("Unknown filter: not an identifier");
  const std::string& name = filter.a->str;
  const std::vector<NodePtr>& arg_nodes = filter.list;

  if (name == "tojson") {
    auto [args, kw] = evaluate_arguments(arg_nodes, env);
    JsonOptions opt;
    const Value indent = first_of({kwarg(&kw, "indent")}, Value::null());
    if (indent.kind != Kind::Int && indent.kind != Kind::Null) js_fail("If set, indent must be a number");
    if (indent.kind == Kind::Int) opt.indent = indent.num;
    const Value ensure_ascii = first_of({kwarg(&kw, "ensure_ascii")}, Value::boolean(false));
    if (ensure_ascii.kind != Kind::Bool) js_fail("If set, ensure_ascii must be a boolean");
    opt.ensure_ascii = ensure_ascii.b();
    const Value sort_keys = first_of({kwarg(&kw, "sort_keys")}, Value::boolean(false));
    if (sort_keys.kind != Kind::Bool) js_fail("If set, sort_keys must be a boolean");
    opt.sort_keys = sort_keys.b();
    const Value separators = first_of({kwarg(&kw, "separators")}, Value::null());
    if (separators.is_array()) {
      if (separators.a().size() != 2 || separators.a()[0].kind != Kind::String || separators.a()[1].kind != Kind::String)
        js_fail("separators must be a tuple of two strings");
      opt.separators = std::make_pair(separators.a()[0].s(), separators.a()[1].s());
    } else if (separators.kind != Kind::Null) {
      js_fail("If set, separators must be a tuple of two strings");
    }
    std::string out = to_json(operand, opt);
    check_string(out.size());
    return Value::string(std::move(out));
  }
  if (name == "join") {
    need(operand);
    std::vector<std::string> parts;
    if (operand.kind == Kind::String) {
      for (size_t i = 0; i < operand.s().size();) {
        char32_t cp;
        const size_t len = decode_utf8(operand.s(), i, cp);
        parts.push_back(operand.s().substr(i, len));
        i += len;
      }
    } else if (operand.is_array()) {
      for (const Value& e : operand.a()) {
        need(e);
        parts.push_back(e.is_nullish() ? "" : raw_to_string(e));
      }
    } else {
      js_fail(cat("Cannot apply filter \"join\" to type: ", type_name(operand)));
    }
    auto [args, kw] = evaluate_arguments(arg_nodes, env);
    const Value sep = first_of({arg(args, 0), kwarg(&kw, "separator")}, Value::string(""));
    if (sep.kind != Kind::String) js_fail("separator must be a string");
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) out += sep.s();
      out += parts[i];
      check_string(out.size());
    }
    return Value::string(std::move(out));
  }
  if (name == "int" || name == "float") {
    auto [args, kw] = evaluate_arguments(arg_nodes, env);
    const bool is_int = name == "int";
    const Value fallback = first_of({arg(args, 0), kwarg(&kw, "default")}, is_int ? Value::integer(0) : Value::floating(0));
    need(operand);
    if (operand.kind == Kind::String) {
      const double v = is_int ? js_parse_int(operand.s()) : js_parse_float(operand.s());
      if (std::isnan(v)) return fallback;
      return is_int ? Value::integer(v) : Value::floating(v);
    }
    if (operand.is_number()) return operand;
    if (operand.kind == Kind::Bool) return is_int ? Value::integer(operand.b() ? 1 : 0) : Value::floating(operand.b() ? 1 : 0);
    js_fail(cat("Cannot apply filter \"", name, "\" to type: ", type_name(operand)));
  }
  if (name == "default" || (extensions_ && name == "d")) {  // "d" is an extension alias
    auto [args, kw] = evaluate_arguments(arg_nodes, env);
    const Value fallback = first_of({arg(args, 0)}, Value::string(""));
    const Value boolean = first_of({arg(args, 1), kwarg(&kw, "boolean")}, Value::boolean(false));
    if (boolean.kind != Kind::Bool) js_fail("`default` filter flag must be a boolean");
    if (operand.kind == Kind::Undefined || (boolean.b() && !truthy(operand))) return fallback;
    return operand;
  }
  // Extensions with arguments.
  if (extensions_ && name == "round") {
    auto [args, kw] = evaluate_arguments(arg_nodes, env);
    const Value precision = first_of({arg(args, 0), kwarg(&kw, "precision")}, Value::integer(0));
    const Value method = first_of({arg(args, 1), kwarg(&kw, "method")}, Value::string("common"));
    need(operand);
    if (!operand.is_number() || precision.kind != Kind::Int || method.kind != Kind::String)
      js_fail("round expects a number, an integer precision and a method name");
    const int p = static_cast<int>(std::clamp(precision.num, -400.0, 400.0));
    if (method.s() == "common") {
      if (operand.kind == Kind::Int) return p >= 0 ? operand : Value::integer(python_round(operand.num, p));
      return Value::floating(python_round(operand.num, p));
    }
    if (method.s() != "ceil" && method.s() != "floor") js_fail("method must be common, ceil or floor");
    const double scale = std::pow(10.0, p);
    const double scaled = operand.num * scale;
    return Value::floating((method.s() == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / scale);
  }
  if (extensions_ && name == "batch") {
    auto [args, kw] = evaluate_arguments(arg_nodes, env);
    const Value count = first_of({arg(args, 0), kwarg(&kw, "linecount")}, Value::undefined());
    const Value* fill = args.size() > 1 ? &args[1] : kwarg(&kw, "fill_with");
    need(operand);
    if (!operand.is_array() || count.kind != Kind::Int || count.num < 1)
      js_fail("batch expects a list and a positive integer");
    const size_t n = static_cast<size_t>(count.num);
    Array out, row;
    for (const Value& e : operand.a()) {
      row.push_back(e);
      if (row.size() == n) {
        out.push_back(Value::array(std::move(row)));
        row.clear();
      }
    }
    if (!row.empty()) {
      if (fill)
        while (row.size() < n) row.push_back(*fill);
      out.push_back(Value::array(std::move(row)));
    }
    return Value::array(std::move(out));
  }
  if (extensions_ && (name == "select" || name == "reject")) {
    auto [args, kw] = evaluate_arguments(arg_nodes, env);
    need(operand);
    if (!operand.is_array()) js_fail(cat("Cannot apply filter \"", name, "\" to type: ", type_name(operand)));
    std::string test;
    if (!args.empty()) {
      if (args[0].kind != Kind::String) js_fail(cat(name, " expects a test name"));
      test = args[0].s();
      if (!has_test(test)) js_fail(cat("Unknown test: ", test));
    }
    const Args test_args(args.size() > 1 ? args.begin() + 1 : args.end(), args.end());
    Array out;
    for (const Value& item : operand.a()) {
      const bool r = test.empty() ? truthy(item) : run_test(test, item, test_args);
      if (r == (name == "select")) out.push_back(item);
    }
    return Value::array(std::move(out));
  }
  if (extensions_ && (name == "count" || name == "e" || name == "escape")) {
    Node plain(NodeType::Identifier, filter.pos);
    plain.str = name;
    return apply_filter(operand, plain, env);
  }

  need(operand);
  if (operand.is_array()) {
    const Array& items = operand.a();
    if (name == "sort") {
      auto [args, kw] = evaluate_arguments(arg_nodes, env);
      const Value reverse = first_of({arg(args, 0), kwarg(&kw, "reverse")}, Value::boolean(false));
      if (reverse.kind != Kind::Bool) js_fail("reverse must be a boolean");
      const Value case_sensitive = first_of({arg(args, 1), kwarg(&kw, "case_sensitive")}, Value::boolean(false));
      if (case_sensitive.kind != Kind::Bool) js_fail("case_sensitive must be a boolean");
      const Value attribute = first_of({arg(args, 2), kwarg(&kw, "attribute")}, Value::null());
      if (attribute.kind != Kind::String && attribute.kind != Kind::Int && attribute.kind != Kind::Null)
        js_fail("attribute must be a string, integer, or null");
      const auto key = [&](const Value& item) {
        if (attribute.kind == Kind::Null) return item;
        return attribute_value(item, attribute.kind == Kind::Int ? js_number_to_string(attribute.num) : attribute.s());
      };
      Array sorted = items;
      std::stable_sort(sorted.begin(), sorted.end(), [&](const Value& a, const Value& b) {
        const int r = compare_values(key(a), key(b), case_sensitive.b());
        return (reverse.b() ? -r : r) < 0;
      });
      return Value::array(std::move(sorted));
    }
    if (name == "selectattr" || name == "rejectattr") {
      const bool select = name == "selectattr";
      for (const Value& item : items)
        if (!item.is_attr_container()) js_fail(cat("`", name, "` can only be applied to array of objects"));
      for (const NodePtr& a : arg_nodes)
        if (a->type != NodeType::StringLiteral) js_fail(cat("arguments of `", name, "` must be strings"));
      Args args;
      for (const NodePtr& a : arg_nodes) args.push_back(evaluate(*a, env));
      if (!items.empty() && args.empty()) js_fail("Cannot read properties of undefined (reading 'value')");
      std::string test;
      if (args.size() > 1) {
        test = args[1].s();
        if (!has_test(test)) js_fail(cat("Unknown test: ", test));
      }
      const Args test_args(args.size() > 2 ? args.begin() + 2 : args.end(), args.end());
      Array out;
      for (const Value& item : items) {
        const Value* a = item.obj->find(args[0].s());
        bool result = false;
        if (a && a->kind != Kind::Missing) result = test.empty() ? truthy(*a) : run_test(test, *a, test_args);
        if (result == select) out.push_back(item);
      }
      return Value::array(std::move(out));
    }
    if (name == "map") {
      auto [args, kw] = evaluate_arguments(arg_nodes, env);
      const Value* attr = kw.find("attribute");
      if (!attr) js_fail("`map` expressions without `attribute` set are not currently supported.");
      if (attr->kind != Kind::String) js_fail("attribute must be a string");
      const Value* fallback = kwarg(&kw, "default");
      Array out;
      for (const Value& item : items) {
        if (!item.is_attr_container()) js_fail("items in map must be an object");
        Value v = attribute_value(item, attr->s());
        if (v.kind == Kind::Undefined && fallback) v = *fallback;
        out.push_back(std::move(v));
      }
      return Value::array(std::move(out));
    }
    js_fail(cat("Unknown ArrayValue filter: ", name));
  }
  if (operand.kind == Kind::String) {
    if (name == "indent") {
      auto [args, kw] = evaluate_arguments(arg_nodes, env);
      const Value width = first_of({arg(args, 0), kwarg(&kw, "width")}, Value::integer(4));
      if (width.kind != Kind::Int) js_fail("width must be a number");
      const Value first = first_of({arg(args, 1), kwarg(&kw, "first")}, Value::boolean(false));
      const Value blank = first_of({arg(args, 2), kwarg(&kw, "blank")}, Value::boolean(false));
      if (width.num < 0) js_fail("Invalid count value: " + js_number_to_string(width.num));
      if (width.num > 4096) js_fail("indent width too large");
      const std::string pad(static_cast<size_t>(width.num), ' ');
      std::vector<std::string> lines = split_all(operand.s(), "\n");
      for (size_t i = 0; i < lines.size(); ++i) {
        const bool keep = (!raw_truthy(first) && i == 0) || (!raw_truthy(blank) && lines[i].empty());
        if (!keep) lines[i] = pad + lines[i];
      }
      std::string out = join(lines, "\n");
      check_string(out.size());
      return Value::string(std::move(out));
    }
    if (name == "replace") {
      auto [args, kw] = evaluate_arguments(arg_nodes, env);
      args.push_back(Value::kwargs(std::move(kw)));
      return string_method(*this, operand.s(), "replace", args);
    }
    js_fail(cat("Unknown StringValue filter: ", name));
  }
  if (operand.is_object()) {
    if (is_object_method(name)) {
      auto [args, kw] = evaluate_arguments(arg_nodes, env);
      if (!kw.entries.empty()) args.push_back(Value::kwargs(std::move(kw)));
      return object_method(*this, operand, name, args);
    }
    js_fail(cat("Unknown ObjectValue filter: ", name));
  }
  js_fail(cat("Cannot apply filter \"", name, "\" to type: ", type_name(operand)));
}

}  // namespace hearth::chat::jinja

