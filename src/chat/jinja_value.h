// Runtime values of the Jinja interpreter and their JavaScript semantics (printing, JSON,
// equality, truthiness, number parsing), mirroring @huggingface/jinja. No parsing, no AST here.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace hearth::chat::jinja {

// Every template failure (syntax or runtime) is a TemplateError; raise_exception() throws the
// subclass RaisedError carrying the template's own message.
class TemplateError : public Error {
 public:
  using Error::Error;
};

class RaisedError : public TemplateError {
 public:
  RaisedError(const std::string& what, std::string message)
      : TemplateError(what), message_(std::move(message)) {}
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

// Internal failure without a source position; the interpreter adds line/column.
struct JsError {
  std::string message;
};
[[noreturn]] void js_fail(std::string message);

// Kinds follow the reference's runtime classes. Missing is JavaScript's raw `undefined` (what
// `[]|first` yields): unlike Undefined, almost any use of it throws.
enum class Kind : unsigned char {
  Undefined, Missing, Null, Bool, Int, Float, String, Array, Tuple, Object, KwArgs, Namespace,
  Function,
};

struct Value;
class Interpreter;
class Env;
using EnvPtr = std::shared_ptr<Env>;
using Array = std::vector<Value>;
using Args = std::vector<Value>;  // positional; keyword arguments come last as one KwArgs value

// Insertion-ordered map (JavaScript Map).
struct Object {
  std::vector<std::pair<std::string, Value>> entries;
  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value v);
  void erase(std::string_view key);
};

struct Function {
  std::string name;
  std::function<Value(Interpreter&, Args&, const EnvPtr&)> call;
};

// Containers deeper than this are refused: values are printed and freed recursively.
constexpr int kMaxValueDepth = 512;

struct Value {
  Kind kind = Kind::Undefined;
  unsigned short depth = 0;  // nesting of containers (at construction; namespaces may change later)
  double num = 0;                          // Int, Float; Bool as 0/1
  std::shared_ptr<const std::string> str;  // String
  std::shared_ptr<const Array> arr;        // Array, Tuple (never mutated once built)
  std::shared_ptr<Object> obj;             // Object, KwArgs (never mutated), Namespace (mutable)
  std::shared_ptr<const Function> fn;      // Function

  static Value undefined() { return Value{}; }
  static Value missing();
  static Value null();
  static Value boolean(bool b);
  static Value integer(double v);
  static Value floating(double v);
  static Value number(double v);  // Int when integral (Number.isInteger), else Float
  static Value string(std::string s);
  static Value array(Array a);
  static Value tuple(Array a);
  static Value object(Object o);
  static Value kwargs(Object o);
  static Value name_space(Object o);
  static Value function(std::string name, std::function<Value(Interpreter&, Args&, const EnvPtr&)> f);

  bool is(Kind k) const { return kind == k; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float; }
  bool is_numeric_like() const { return is_number() || kind == Kind::Bool; }
  bool is_array() const { return kind == Kind::Array || kind == Kind::Tuple; }     // instanceof ArrayValue
  bool is_object() const { return kind == Kind::Object || kind == Kind::KwArgs; }  // instanceof ObjectValue
  bool is_attr_container() const { return is_object() || kind == Kind::Namespace; }
  bool is_nullish() const { return kind == Kind::Null || kind == Kind::Undefined; }
  bool b() const { return num != 0; }
  const std::string& s() const { return *str; }
  const Array& a() const { return *arr; }
};

// Class name of the reference runtime ("StringValue"), for error messages and tests.
const char* type_name(const Value& v);
// Throws if v is Missing (a use of JavaScript's raw undefined).
const Value& need(const Value& v);

// Number::toString as JavaScript prints numbers.
std::string js_number_to_string(double v);
// FloatValue.toString(): integral floats keep one decimal ("3.0").
std::string float_to_string(double v);
// RuntimeValue.toString(): what {{ v }} prints (containers print as JSON).
std::string to_display(const Value& v);
// String(v.value): the raw JavaScript conversion used by `~`, `+` and join.
std::string raw_to_string(const Value& v);

struct JsonOptions {
  std::optional<double> indent;
  bool ensure_ascii = false;
  std::optional<std::pair<std::string, std::string>> separators;
  bool sort_keys = false;
};
std::string to_json(const Value& v, const JsonOptions& opt, int depth = 0,
                    bool undefined_to_null = true);
// JSON.stringify of a string, plus the reference's ensure_ascii escaping.
void append_json_string(std::string& out, std::string_view s, bool ensure_ascii);

bool truthy(const Value& v);      // __bool__()
bool raw_truthy(const Value& v);  // !!v.value
bool loose_equals(const Value& a, const Value& b);   // a.value == b.value
bool strict_equals(const Value& a, const Value& b);  // a.value === b.value
bool same_value_zero(const Value& a, const Value& b);

double js_string_to_number(std::string_view s);  // Number("...")
double js_parse_int(std::string_view s);         // parseInt(s, 10)
double js_parse_float(std::string_view s);       // parseFloat(s)

// compareRuntimeValues: -1/0/1, throws for values of incomparable types.
int compare_values(const Value& a, const Value& b, bool case_sensitive);
// String.prototype.localeCompare under the reference's default (en-US) collation, approximated:
// exact order for ASCII keys, code-point order after ASCII for other characters.
int locale_compare(std::string_view a, std::string_view b);
// JavaScript "<" on strings (UTF-16 code-unit order).
int compare_code_units(std::string_view a, std::string_view b);

// Data from the caller. Objects keep JavaScript property order: integer-like keys first
// (ascending), then the rest in insertion order; integral floats become Int. Nesting deeper
// than kMaxDataDepth is refused (values are printed and freed recursively).
constexpr int kMaxDataDepth = kMaxValueDepth / 2;
Value from_json(const nlohmann::ordered_json& j, int depth = 0);

}  // namespace hearth::chat::jinja
