// Jinja interpreter core (see jinja_interpreter.h): expressions, operators, statements and
// scopes, following @huggingface/jinja's Interpreter method by method. Filters, tests, member
// builtins and global functions live in jinja_builtins.cpp.
#include "chat/jinja_interpreter.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "chat/jinja_lexer.h"
#include "chat/jinja_unicode.h"

namespace hearth::chat::jinja {

// ---- Env ----

const Value* Env::find_local(std::string_view name) const {
  for (const auto& [k, v] : vars_)
    if (k == name) return &v;
  return nullptr;
}

void Env::set(const std::string& name, Value v) {
  for (auto& [k, old] : vars_) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  vars_.emplace_back(name, std::move(v));
}

// ---- Interpreter ----

Interpreter::DepthGuard::DepthGuard(Interpreter& i) : in(i) {
  if (++in.depth_ > in.limits_.max_depth) {
    --in.depth_;
    js_fail(cat("template recursion deeper than ", in.limits_.max_depth, " levels"));
  }
}

void Interpreter::check_string(size_t bytes) const {
  if (bytes > limits_.max_string_bytes)
    js_fail(cat("template output exceeds ", limits_.max_string_bytes, " bytes"));
}

void Interpreter::check_array(size_t elements) const {
  if (elements > limits_.max_array_elements)
    js_fail(cat("template list exceeds ", limits_.max_array_elements, " elements"));
}

void Interpreter::charge(uint64_t units) {
  steps_ += units;
  if (steps_ > limits_.max_steps) js_fail(cat("template ran for more than ", limits_.max_steps, " steps"));
}

// Filters, calls and slices can build values as large as their input; charging their size keeps
// a loop over them from doing quadratic work within the step budget.
const Value& Interpreter::charged(const Value& v) {
  if (v.kind == Kind::String) charge(v.s().size() / 16);
  else if (v.arr) charge(v.a().size());
  else if (v.obj && v.kind != Kind::Namespace) charge(v.obj->entries.size());
  return v;
}

void Interpreter::step() {
  if (++steps_ > limits_.max_steps) js_fail(cat("template ran for more than ", limits_.max_steps, " steps"));
}

void Interpreter::fail_at(const Node& n, const std::string& msg) const {
  throw TemplateError(cat("chat template error at ", source_location(source_, n.pos), ": ", msg));
}

std::string Interpreter::run(const Node& program, const EnvPtr& globals) {
  std::string out;
  try {
    render_block(program.list, globals, out);
  } catch (const BreakSignal&) {
    throw TemplateError("chat template error: {% break %} outside of a loop");
  } catch (const ContinueSignal&) {
    throw TemplateError("chat template error: {% continue %} outside of a loop");
  }
  return sanitize_utf8(out);
}

Value Interpreter::lookup(const EnvPtr& env, const std::string& name) const {
  // Every scope of the reference holds its own `namespace` builtin, so only the innermost
  // scope can shadow it.
  if (name == "namespace") {
    const Value* v = env->find_local(name);
    if (!v) return namespace_fn_;
    return v->kind == Kind::Missing ? Value::undefined() : *v;
  }
  for (const Env* e = env.get(); e; e = e->parent().get()) {
    if (const Value* v = e->find_local(name)) return v->kind == Kind::Missing ? Value::undefined() : *v;
  }
  if (extensions_ && name == "dict") return dict_fn_;
  return Value::undefined();
}

Value Interpreter::evaluate(const Node& n, const EnvPtr& env) {
  try {
    DepthGuard guard(*this);
    step();
    return eval_node(n, env);
  } catch (const JsError& e) {
    fail_at(n, e.message);
  }
}

void Interpreter::render_block(const std::vector<NodePtr>& body, const EnvPtr& env, std::string& out) {
  for (const NodePtr& stmt : body) {
    try {
      DepthGuard guard(*this);
      step();
      exec_statement(*stmt, env, out);
      check_string(out.size());
    } catch (const JsError& e) {
      fail_at(*stmt, e.message);
    }
  }
}

void Interpreter::exec_statement(const Node& n, const EnvPtr& env, std::string& out) {
  switch (n.type) {
    case NodeType::StringLiteral:
      out += n.str;
      return;
    case NodeType::Comment:
      return;
    case NodeType::If: {
      const Value test = evaluate(*n.a, env);
      render_block(truthy(test) ? n.list : n.list2, env, out);
      return;
    }
    case NodeType::For:
      exec_for(n, env, out);
      return;
    case NodeType::Set:
      exec_set(n, env);
      return;
    case NodeType::Macro:
      exec_macro(n, env);
      return;
    case NodeType::Break:
      throw BreakSignal{};
    case NodeType::Continue:
      throw ContinueSignal{};
    case NodeType::CallStmt: {
      const Value v = exec_call_statement(n, env);
      if (!v.is_nullish()) out += to_display(v);
      return;
    }
    case NodeType::FilterStmt: {
      std::string body;
      render_block(n.list, env, body);
      const Value v = apply_filter(Value::string(std::move(body)), *n.a, env);
      if (!v.is_nullish()) out += to_display(v);
      return;
    }
    default: {
      const Value v = evaluate(n, env);
      if (!v.is_nullish()) out += to_display(v);
      return;
    }
  }
}

Value Interpreter::eval_node(const Node& n, const EnvPtr& env) {
  switch (n.type) {
    case NodeType::StringLiteral: return Value::string(n.str);
    case NodeType::IntegerLiteral: return Value::integer(n.num);
    case NodeType::FloatLiteral: return Value::floating(n.num);
    case NodeType::ArrayLiteral:
    case NodeType::TupleLiteral: {
      Array items;
      items.reserve(n.list.size());
      for (const NodePtr& e : n.list) items.push_back(evaluate(*e, env));
      return n.type == NodeType::ArrayLiteral ? Value::array(std::move(items)) : Value::tuple(std::move(items));
    }
    case NodeType::ObjectLiteral: {
      Object o;
      for (size_t i = 0; i < n.list.size(); ++i) {
        const Value key = evaluate(*n.list[i], env);
        if (key.kind != Kind::String) js_fail(cat("Object keys must be strings: got ", type_name(key)));
        o.set(key.s(), evaluate(*n.list2[i], env));
      }
      return Value::object(std::move(o));
    }
    case NodeType::Identifier: return lookup(env, n.str);
    case NodeType::Call: return eval_call(n, env);
    case NodeType::Member: return eval_member(n, env);
    case NodeType::Unary: return eval_unary(n, env);
    case NodeType::Binary: return eval_binary(n, env);
    case NodeType::Filter: {
      const Value operand = evaluate(*n.a, env);
      Value result = apply_filter(operand, *n.b, env);
      charged(result);
      return result;
    }
    case NodeType::Test: {
      const Value operand = evaluate(*n.a, env);
      Args args;
      for (const NodePtr& a : n.list) args.push_back(evaluate(*a, env));
      if (!has_test(n.str)) js_fail(cat("Unknown test: ", n.str));
      const bool result = run_test(n.str, operand, args);
      return Value::boolean(n.flag ? !result : result);
    }
    case NodeType::Select: {
      const Value predicate = evaluate(*n.b, env);
      if (!truthy(predicate)) return Value::undefined();
      return evaluate(*n.a, env);
    }
    case NodeType::Ternary: {
      const Value cond = evaluate(*n.a, env);
      return truthy(cond) ? evaluate(*n.b, env) : evaluate(*n.c, env);
    }
    default: js_fail("Unknown node type in an expression");
  }
}

// ---- operators ----

Value Interpreter::eval_unary(const Node& n, const EnvPtr& env) {
  const Value arg = evaluate(*n.a, env);
  if (n.op == Op::Not) return Value::boolean(!truthy(arg));
  const double sign = n.op == Op::Neg ? -1 : 1;
  if (arg.kind == Kind::Int || arg.kind == Kind::Float || arg.kind == Kind::Bool) {
    const double result = sign * arg.num;
    return arg.kind == Kind::Float ? Value::floating(result) : Value::integer(result);
  }
  js_fail(cat("Unknown operator \"", n.str, "\" for ", type_name(arg)));
}

// String(a) + String(b), checking the size before building the result.
Value Interpreter::concat_values(const Value& left, const Value& right) {
  std::string ltmp, rtmp;
  const std::string& ls = left.kind == Kind::String ? left.s() : (ltmp = raw_to_string(left));
  const std::string& rs = right.kind == Kind::String ? right.s() : (rtmp = raw_to_string(right));
  check_string(ls.size() + rs.size());
  charge((ls.size() + rs.size()) / 16);
  return Value::string(concat_strings(ls, rs));
}

Value Interpreter::eval_binary(const Node& n, const EnvPtr& env) {
  const Value left = evaluate(*n.a, env);
  if (n.op == Op::And) return truthy(left) ? evaluate(*n.b, env) : left;
  if (n.op == Op::Or) return truthy(left) ? left : evaluate(*n.b, env);
  const Value right = evaluate(*n.b, env);
  if (n.op == Op::Eq) return Value::boolean(loose_equals(left, right));
  if (n.op == Op::Ne) return Value::boolean(!loose_equals(left, right));
  need(left);
  need(right);

  if (left.kind == Kind::Undefined || right.kind == Kind::Undefined) {
    if (right.kind == Kind::Undefined && (n.op == Op::In || n.op == Op::NotIn))
      return Value::boolean(n.op == Op::NotIn);  // anything in undefined is false
    js_fail(cat("Cannot perform operation ", n.str, " on undefined values"));
  }
  if (left.kind == Kind::Null || right.kind == Kind::Null) js_fail("Cannot perform operation on null values");
  if (n.op == Op::Concat) return concat_values(left, right);
  if (n.op == Op::Pow && left.is_numeric_like() && right.is_numeric_like()) {
    const double a = left.num, b = right.num;
    if (a == 0 && b < 0) js_fail("0.0 cannot be raised to a negative power");
    const double result = std::pow(a, b);
    if (!std::isfinite(result)) js_fail("Exponentiation result is not a finite real number");
    const bool is_float = left.kind == Kind::Float || right.kind == Kind::Float || b < 0;
    return is_float ? Value::floating(result) : Value::integer(result);
  }
  if (left.is_number() && right.is_number()) {
    const double a = left.num, b = right.num;
    const bool is_float = left.kind == Kind::Float || right.kind == Kind::Float;
    const auto num = [&](double r) { return is_float ? Value::floating(r) : Value::integer(r); };
    switch (n.op) {
      case Op::Add: return num(a + b);
      case Op::Sub: return num(a - b);
      case Op::Mul: return num(a * b);
      case Op::Div: return Value::floating(a / b);
      case Op::FloorDiv: return num(std::floor(a / b));
      case Op::Mod: return num(std::fmod(a, b));
      case Op::Lt: return Value::boolean(a < b);
      case Op::Gt: return Value::boolean(a > b);
      case Op::Ge: return Value::boolean(a >= b);
      case Op::Le: return Value::boolean(a <= b);
      default: break;
    }
  } else if (left.is_array() && right.is_array()) {
    if (n.op == Op::Add) {
      check_array(left.a().size() + right.a().size());
      charge(left.a().size() + right.a().size());
      Array items = left.a();
      items.insert(items.end(), right.a().begin(), right.a().end());
      return Value::array(std::move(items));
    }
  } else if (right.is_array()) {
    if (n.op == Op::In || n.op == Op::NotIn) {
      bool member = false;
      for (const Value& e : right.a()) {
        if (strict_equals(e, left)) {
          member = true;
          break;
        }
      }
      return Value::boolean(n.op == Op::In ? member : !member);
    }
  }
  if ((left.kind == Kind::String || right.kind == Kind::String) && n.op == Op::Add) return concat_values(left, right);
  if (left.kind == Kind::String && right.kind == Kind::String && (n.op == Op::In || n.op == Op::NotIn)) {
    const bool found = right.s().find(left.s()) != std::string::npos;
    return Value::boolean(n.op == Op::In ? found : !found);
  }
  if (left.kind == Kind::String && right.is_object() && (n.op == Op::In || n.op == Op::NotIn)) {
    const bool found = right.obj->find(left.s()) != nullptr;
    return Value::boolean(n.op == Op::In ? found : !found);
  }
  js_fail(cat("Unknown operator \"", n.str, "\" between ", type_name(left), " and ", type_name(right)));
}

// ---- member access, slices, calls ----

Value Interpreter::eval_member(const Node& n, const EnvPtr& env) {
  const Value object = evaluate(*n.a, env);
  Value property;
  if (n.flag) {
    if (n.b->type == NodeType::Slice) {
      Value result = eval_slice(object, *n.b, env);
      charged(result);
      return result;
    }
    property = evaluate(*n.b, env);
  } else if (n.b->type == NodeType::IntegerLiteral) {
    property = Value::integer(n.b->num);
  } else {
    property = Value::string(n.b->str);
  }
  return get_member(object, property);
}

namespace {

// utils.slice(): Python slicing over a sequence of n items.
std::vector<size_t> slice_indices(size_t len, const Value& start_v, const Value& stop_v, const Value& step_v) {
  const double n = static_cast<double>(len);
  const double step = step_v.kind == Kind::Int ? step_v.num : 1;
  const double direction = step > 0 ? 1 : step < 0 ? -1 : 0;
  double start, stop;
  if (direction >= 0) {
    start = start_v.kind == Kind::Int ? start_v.num : 0;
    start = start < 0 ? std::max(n + start, 0.0) : std::min(start, n);
    stop = stop_v.kind == Kind::Int ? stop_v.num : n;
    stop = stop < 0 ? std::max(n + stop, 0.0) : std::min(stop, n);
  } else {
    start = start_v.kind == Kind::Int ? start_v.num : n - 1;
    start = start < 0 ? std::max(n + start, -1.0) : std::min(start, n - 1);
    stop = stop_v.kind == Kind::Int ? stop_v.num : -1;
    stop = stop < -1 ? std::max(n + stop, -1.0) : std::min(stop, n - 1);
  }
  std::vector<size_t> out;
  if (direction == 0) return out;  // the reference's loop never runs with step 0
  for (double i = start; direction * i < direction * stop; i += step) {
    if (i >= 0 && i < n) out.push_back(static_cast<size_t>(i));
  }
  return out;
}

}  // namespace

Value Interpreter::eval_slice(const Value& object, const Node& slice, const EnvPtr& env) {
  if (!object.is_array() && object.kind != Kind::String) js_fail("Slice object must be an array or string");
  const Value start = slice.a ? evaluate(*slice.a, env) : Value::undefined();
  const Value stop = slice.b ? evaluate(*slice.b, env) : Value::undefined();
  const Value step = slice.c ? evaluate(*slice.c, env) : Value::undefined();
  if (start.kind != Kind::Int && start.kind != Kind::Undefined) js_fail("Slice start must be numeric or undefined");
  if (stop.kind != Kind::Int && stop.kind != Kind::Undefined) js_fail("Slice stop must be numeric or undefined");
  if (step.kind != Kind::Int && step.kind != Kind::Undefined) js_fail("Slice step must be numeric or undefined");
  if (object.is_array()) {
    Array items;
    for (size_t i : slice_indices(object.a().size(), start, stop, step)) items.push_back(object.a()[i]);
    return Value::array(std::move(items));
  }
  // Strings slice by code point (Array.from).
  std::vector<std::pair<size_t, size_t>> cps;  // byte offset, length
  const std::string& s = object.s();
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t len = decode_utf8(s, i, cp);
    cps.emplace_back(i, len);
    i += len;
  }
  std::string out;
  for (size_t i : slice_indices(cps.size(), start, stop, step)) out.append(s, cps[i].first, cps[i].second);
  return Value::string(std::move(out));
}

Value Interpreter::call_function(const Value& fn, Args& args, const EnvPtr& env) {
  need(fn);
  if (fn.kind != Kind::Function)
    js_fail(cat("Cannot call something that is not a function: got ", type_name(fn)));
  DepthGuard guard(*this);
  return fn.fn->call(*this, args, env);
}

Value Interpreter::eval_call(const Node& n, const EnvPtr& env) {
  auto [args, kwargs] = evaluate_arguments(n.list, env);
  if (!kwargs.entries.empty()) args.push_back(Value::kwargs(std::move(kwargs)));
  const Value fn = evaluate(*n.a, env);
  Value result = call_function(fn, args, env);
  charged(result);
  return result;
}

std::pair<Args, Object> Interpreter::evaluate_arguments(const std::vector<NodePtr>& args, const EnvPtr& env) {
  Args positional;
  Object kwargs;
  for (const NodePtr& a : args) {
    if (a->type == NodeType::Spread) {
      const Value v = evaluate(*a->a, env);
      if (!v.is_array()) js_fail(cat("Cannot unpack non-iterable type: ", type_name(v)));
      positional.insert(positional.end(), v.a().begin(), v.a().end());
    } else if (a->type != NodeType::KwArg && a->type != NodeType::KwSpread) {
      positional.push_back(evaluate(*a, env));
    }
  }
  const auto add = [&](const std::string& key, Value v) {
    if (kwargs.find(key)) js_fail(cat("Got multiple values for keyword argument '", key, "'"));
    kwargs.entries.emplace_back(key, std::move(v));
  };
  for (const NodePtr& a : args) {
    if (a->type == NodeType::KwArg) {
      add(a->str, evaluate(*a->a, env));
    } else if (a->type == NodeType::KwSpread) {
      const Value v = evaluate(*a->a, env);
      if (!v.is_object()) js_fail(cat("Argument after ** must be a mapping, not ", type_name(v)));
      for (const auto& [k, val] : v.obj->entries) add(k, val);
    }
  }
  return {std::move(positional), std::move(kwargs)};
}

// ---- statements ----

void Interpreter::exec_for(const Node& n, const EnvPtr& env, std::string& out) {
  auto scope = std::make_shared<Env>(env);
  const Node* test = nullptr;
  Value iterable;
  if (n.b->type == NodeType::Select) {
    iterable = evaluate(*n.b->a, scope);
    test = n.b->b.get();
  } else {
    iterable = evaluate(*n.b, scope);
  }
  need(iterable);
  if (!iterable.is_array() && !iterable.is_object())
    js_fail(cat("Expected iterable or object type in for loop: got ", type_name(iterable)));
  if (iterable.is_object()) {
    Array keys;
    for (const auto& [k, v] : iterable.obj->entries) keys.push_back(Value::string(k));
    iterable = Value::array(std::move(keys));
  }

  const Node& loopvar = *n.a;
  const auto bind = [&](const EnvPtr& target, const Value& current) {
    if (loopvar.type == NodeType::Identifier) {
      target->set(loopvar.str, current);
      return;
    }
    for (size_t j = 0; j < loopvar.list.size(); ++j) {
      if (loopvar.list[j]->type != NodeType::Identifier) js_fail("Cannot unpack non-identifier type");
      target->set(loopvar.list[j]->str, current.a()[j]);
    }
  };

  std::vector<Value> items;
  for (const Value& current : iterable.a()) {
    if (loopvar.type == NodeType::TupleLiteral) {
      if (current.kind != Kind::Array) js_fail(cat("Cannot unpack non-iterable type: ", type_name(current)));
      if (loopvar.list.size() != current.a().size())
        js_fail(loopvar.list.size() > current.a().size() ? "Too few items to unpack" : "Too many items to unpack");
    }
    if (test) {
      auto loop_scope = std::make_shared<Env>(scope);
      bind(loop_scope, current);
      step();
      if (!truthy(evaluate(*test, loop_scope))) continue;
    }
    items.push_back(current);
  }

  bool no_iteration = true;
  const double len = static_cast<double>(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    step();
    const double d = static_cast<double>(i);
    Object loop;
    loop.entries.reserve(9);
    loop.entries.emplace_back("index", Value::integer(d + 1));
    loop.entries.emplace_back("index0", Value::integer(d));
    loop.entries.emplace_back("revindex", Value::integer(len - d));
    loop.entries.emplace_back("revindex0", Value::integer(len - d - 1));
    loop.entries.emplace_back("first", Value::boolean(i == 0));
    loop.entries.emplace_back("last", Value::boolean(i + 1 == items.size()));
    loop.entries.emplace_back("length", Value::integer(len));
    loop.entries.emplace_back("previtem", i > 0 ? items[i - 1] : Value::undefined());
    loop.entries.emplace_back("nextitem", i + 1 < items.size() ? items[i + 1] : Value::undefined());
    scope->set("loop", Value::object(std::move(loop)));
    bind(scope, items[i]);
    // An iteration's output is kept only if its body finishes: {% continue %} and {% break %}
    // discard what the iteration printed (and, as in the reference, a loop whose every
    // iteration continued still runs its else block).
    std::string body;
    try {
      render_block(n.list, scope, body);
    } catch (const ContinueSignal&) {
      continue;
    } catch (const BreakSignal&) {
      break;
    }
    out += body;
    check_string(out.size());
    no_iteration = false;
  }
  if (no_iteration) render_block(n.list2, scope, out);
}

void Interpreter::exec_set(const Node& n, const EnvPtr& env) {
  Value rhs;
  if (n.b) {
    rhs = evaluate(*n.b, env);
  } else {
    std::string body;
    render_block(n.list, env, body);
    rhs = Value::string(std::move(body));
  }
  const Node& target = *n.a;
  if (target.type == NodeType::Identifier) {
    env->set(target.str, std::move(rhs));
  } else if (target.type == NodeType::TupleLiteral) {
    need(rhs);
    if (!rhs.is_array()) js_fail(cat("Cannot unpack non-iterable type in set: ", type_name(rhs)));
    if (rhs.a().size() != target.list.size())
      js_fail(target.list.size() > rhs.a().size() ? "Too few items to unpack in set" : "Too many items to unpack in set");
    for (size_t i = 0; i < target.list.size(); ++i) {
      if (target.list[i]->type != NodeType::Identifier) js_fail("Cannot unpack to non-identifier in set");
      env->set(target.list[i]->str, rhs.a()[i]);
    }
  } else if (target.type == NodeType::Member) {
    const Value object = evaluate(*target.a, env);
    if (object.kind != Kind::Namespace) js_fail("cannot assign attribute on non-namespace object");
    if (target.b->type != NodeType::Identifier) js_fail("Cannot assign to member with non-identifier property");
    object.obj->set(target.b->str, std::move(rhs));
  } else {
    js_fail("Invalid LHS inside assignment expression");
  }
}

void Interpreter::bind_macro_arguments(const std::string& display_name, const std::vector<NodePtr>& params,
                                       bool uses_kwargs, bool uses_varargs, Args args, const EnvPtr& scope) {
  Object kwargs;
  if (!args.empty() && args.back().kind == Kind::KwArgs) {
    kwargs = *args.back().obj;
    args.pop_back();
  }
  std::vector<const Node*> pending;
  for (size_t i = 0; i < params.size(); ++i) {
    const Node& p = *params[i];
    const std::string& name = p.str;
    std::optional<Value> value;
    if (i < args.size() && args[i].kind != Kind::Missing) value = args[i];
    if (!value) {
      if (const Value* kv = kwargs.find(name)) {
        if (kv->kind != Kind::Missing) value = *kv;
        kwargs.erase(name);
      }
    }
    if (!value && p.type == NodeType::KwArg) pending.push_back(&p);
    scope->set(name, value ? std::move(*value) : Value::undefined());
  }
  if (uses_kwargs) {
    scope->set("kwargs", Value::object(kwargs));
  } else if (!kwargs.entries.empty()) {
    js_fail(cat("macro ", display_name, " takes no keyword argument '", kwargs.entries.front().first, "'"));
  }
  if (uses_varargs) {
    Array rest;
    for (size_t i = params.size(); i < args.size(); ++i) rest.push_back(args[i]);
    scope->set("varargs", Value::array(std::move(rest)));
  } else if (args.size() > params.size()) {
    js_fail(cat("macro ", display_name, " takes not more than ", params.size(), " argument(s)"));
  }
  for (const Node* p : pending) scope->set(p->str, evaluate(*p->a, scope));
}

void Interpreter::exec_macro(const Node& n, const EnvPtr& env) {
  const Node* node = &n;
  env->set(n.str, Value::function(n.str, [node](Interpreter& in, Args& args, const EnvPtr& caller_env) {
             auto scope = std::make_shared<Env>(caller_env);
             in.bind_macro_arguments("'" + node->str + "'", node->list, node->uses_kwargs,
                                     node->uses_varargs, args, scope);
             std::string out;
             in.render_block(node->list2, scope, out);
             return Value::string(std::move(out));
           }));
}

Value Interpreter::exec_call_statement(const Node& n, const EnvPtr& env) {
  const Node* node = &n;
  EnvPtr call_site = env;
  Value caller = Value::function("caller", [node, call_site](Interpreter& in, Args& args, const EnvPtr&) {
    auto scope = std::make_shared<Env>(call_site);
    in.bind_macro_arguments("None", node->list, node->uses_kwargs, node->uses_varargs, args, scope);
    std::string out;
    in.render_block(node->list2, scope, out);
    return Value::string(std::move(out));
  });
  const Node& call = *n.a;
  auto [args, kwargs] = evaluate_arguments(call.list, env);
  args.push_back(Value::kwargs(std::move(kwargs)));
  const Value fn = evaluate(*call.a, env);
  need(fn);
  if (fn.kind != Kind::Function) js_fail(cat("Cannot call something that is not a function: got ", type_name(fn)));
  auto scope = std::make_shared<Env>(env);
  scope->set("caller", std::move(caller));
  return call_function(fn, args, scope);
}

}  // namespace hearth::chat::jinja

