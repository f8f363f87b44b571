// Jinja interpreter: evaluates a parsed template over runtime values with the semantics of
// @huggingface/jinja (scoping, undefined handling, operators, filters, tests, builtins), with
// step, depth and size limits so that no template can hang or exhaust memory.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace hearth::chat::jinja {

// Constructs the reference rejects but Jinja2 (and so transformers) accepts: {% raw %}, tests
// with arguments, divisibleby, dict(), and the filters d, count, e/escape, round, batch, select,
// reject. With extensions off, hearth fails exactly where the reference does.
struct Options {
  bool extensions = true;
};

struct Limits {
  uint64_t max_steps = 20'000'000;          // evaluated nodes + loop iterations per render
  int max_depth = 400;                      // nested evaluation (expressions, blocks, macro calls)
  size_t max_string_bytes = 64u << 20;      // any string, including the output
  size_t max_array_elements = 1u << 19;     // any array built by the template
};

// A variable scope. Lookups walk to the parent; assignments stay local (Jinja's rules as the
// reference implements them: `for` bodies and macro calls get a scope, `if` blocks do not).
class Env {
 public:
  explicit Env(EnvPtr parent) : parent_(std::move(parent)) {}
  const Value* find_local(std::string_view name) const;
  void set(const std::string& name, Value v);
  const EnvPtr& parent() const { return parent_; }

 private:
  EnvPtr parent_;
  std::vector<std::pair<std::string, Value>> vars_;
};

struct BreakSignal {};
struct ContinueSignal {};

class Interpreter {
 public:
  Interpreter(std::string_view source, const Limits& limits, std::time_t now, bool extensions);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // The global scope with the reference's globals (true, none, range, raise_exception, ...).
  EnvPtr make_globals();
  static bool is_global_name(std::string_view name);
  std::string run(const Node& program, const EnvPtr& globals);

  Value evaluate(const Node& n, const EnvPtr& env);
  void render_block(const std::vector<NodePtr>& body, const EnvPtr& env, std::string& out);
  Value lookup(const EnvPtr& env, const std::string& name) const;

  // Builtins (jinja_builtins.cpp).
  Value apply_filter(const Value& operand, const Node& filter, const EnvPtr& env);
  bool run_test(const std::string& name, const Value& operand, const Args& args);
  bool has_test(const std::string& name) const;
  Value get_member(const Value& object, const Value& property);
  std::pair<Args, Object> evaluate_arguments(const std::vector<NodePtr>& args, const EnvPtr& env);
  Value call_function(const Value& fn, Args& args, const EnvPtr& env);
  void bind_macro_arguments(const std::string& display_name, const std::vector<NodePtr>& params,
                            bool uses_kwargs, bool uses_varargs, Args args, const EnvPtr& scope);

  // Limits.
  void check_string(size_t bytes) const;
  void check_array(size_t elements) const;
  void step();
  void charge(uint64_t units);  // work proportional to data copied (list items, 16-byte chunks)
  const Value& charged(const Value& v);
  std::time_t now() const { return now_; }
  bool extensions() const { return extensions_; }

 private:
  struct DepthGuard {
    Interpreter& in;
    explicit DepthGuard(Interpreter& i);
    ~DepthGuard() { --in.depth_; }
  };

  Value eval_node(const Node& n, const EnvPtr& env);
  void exec_statement(const Node& n, const EnvPtr& env, std::string& out);
  Value eval_binary(const Node& n, const EnvPtr& env);
  Value concat_values(const Value& left, const Value& right);
  Value eval_unary(const Node& n, const EnvPtr& env);
  Value eval_member(const Node& n, const EnvPtr& env);
  Value eval_slice(const Value& object, const Node& slice, const EnvPtr& env);
  Value eval_call(const Node& n, const EnvPtr& env);
  void exec_for(const Node& n, const EnvPtr& env, std::string& out);
  void exec_set(const Node& n, const EnvPtr& env);
  void exec_macro(const Node& n, const EnvPtr& env);
  Value exec_call_statement(const Node& n, const EnvPtr& env);
  [[noreturn]] void fail_at(const Node& n, const std::string& msg) const;

  std::string_view source_;
  Limits limits_;
  std::time_t now_;
  bool extensions_;
  uint64_t steps_ = 0;
  int depth_ = 0;
  Value namespace_fn_;
  // Every namespace of this render. Namespaces are mutable and can end up containing each other
  // (or themselves); the destructor empties them all so that no cycle leaks and no long chain
  // is freed recursively.
  std::vector<std::shared_ptr<Object>> namespaces_;
  Value dict_fn_;
};

}  // namespace hearth::chat::jinja
