// Syntax tree of a parsed Jinja template (one generic node type; field use per node type is
// documented below). Built by jinja_parser.cpp, walked by jinja_interpreter.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hearth::chat::jinja {

enum class NodeType : unsigned char {
  Program,         // list = body
  StringLiteral,   // str (template text is a StringLiteral too)
  IntegerLiteral,  // num
  FloatLiteral,    // num
  ArrayLiteral,    // list
  TupleLiteral,    // list
  ObjectLiteral,   // list = keys, list2 = values
  Identifier,      // str
  Member,          // a = object, b = property, flag = computed (obj[...])
  Slice,           // a = start, b = stop, c = step (each may be null)
  Call,            // a = callee, list = arguments
  KwArg,           // str = name, a = value (also a parameter default)
  Spread,          // a   (*expr)
  KwSpread,        // a   (**expr)
  Binary,          // op, str = operator text, a = left, b = right
  Unary,           // op, str, a
  Filter,          // a = operand, b = filter (Identifier or Call)
  Test,            // a = operand, str = test name, flag = negated, list = arguments (extension)
  Select,          // a = value, b = condition   (`x if c` without else)
  Ternary,         // a = condition, b = if true, c = if false
  If,              // a = test, list = body, list2 = alternate
  For,             // a = loop variable(s), b = iterable, list = body, list2 = else block
  Set,             // a = target, b = value (null for a block set), list = block body
  Macro,           // str = name, list = parameters, list2 = body, uses_kwargs/uses_varargs
  CallStmt,        // a = Call node, list = caller parameters, list2 = body, flag = has (params)
  FilterStmt,      // a = filter (Identifier or Call), list = body
  Break,
  Continue,
  Comment,
};

enum class Op : unsigned char {
  None, And, Or, Not, Eq, Ne, Lt, Gt, Le, Ge, In, NotIn, Add, Sub, Concat, Mul, Div, FloorDiv,
  Mod, Pow, Neg, Pos,
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

struct Node {
  NodeType type;
  uint32_t pos = 0;  // byte offset in the template source
  Op op = Op::None;
  bool flag = false;
  bool uses_kwargs = false;   // Macro / CallStmt body reads `kwargs`
  bool uses_varargs = false;  // Macro / CallStmt body reads `varargs`
  double num = 0;
  std::string str;
  NodePtr a, b, c;
  std::vector<NodePtr> list, list2;

  Node(NodeType t, uint32_t p) : type(t), pos(p) {}
  // Iterative, so that a very deep tree (e.g. `1 + 1 + ... + 1`) cannot overflow the stack.
  ~Node() {
    std::vector<NodePtr> pending;
    const auto take = [&pending](Node& n) {
      if (n.a) pending.push_back(std::move(n.a));
      if (n.b) pending.push_back(std::move(n.b));
      if (n.c) pending.push_back(std::move(n.c));
      for (NodePtr& child : n.list) pending.push_back(std::move(child));
      for (NodePtr& child : n.list2) pending.push_back(std::move(child));
      n.list.clear();
      n.list2.clear();
    };
    take(*this);
    while (!pending.empty()) {
      NodePtr n = std::move(pending.back());
      pending.pop_back();
      if (n) take(*n);
    }
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
};

}  // namespace hearth::chat::jinja
