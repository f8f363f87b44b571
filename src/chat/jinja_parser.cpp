// Jinja parser (see jinja_parser.h). Function names follow the reference parser so the two can
// be compared side by side; nesting depth is bounded so hostile templates cannot blow the stack.
#include "chat/jinja_parser.h"

#include <cstdlib>
#include <initializer_list>

#include "chat/jinja_value.h"

namespace hearth::chat::jinja {
namespace {

constexpr int kMaxParseDepth = 200;

enum class ArgMode { Call, Parameters };

// findAccessedSpecialMacroArguments: does a macro (or call block) body read `kwargs` /
// `varargs` before declaring them, in Jinja's AST visit order.
class SpecialArgScan {
 public:
  void declare_name(const std::string& name) {
    if (name == "kwargs") declared_kwargs_ = true;
    if (name == "varargs") declared_varargs_ = true;
  }
  void declare_target(const Node* n) {
    if (!n) return;
    if (n->type == NodeType::Identifier) declare_name(n->str);
    else if (n->type == NodeType::TupleLiteral)
      for (const auto& e : n->list) declare_target(e.get());
  }
  void declare_argument(const Node* p) { declare_name(p->str); }
  void visit_defaults(const std::vector<NodePtr>& params) {
    for (const auto& p : params)
      if (p->type == NodeType::KwArg) visit(p->a.get());
  }
  void visit_filter(const Node* f) {
    if (f && f->type == NodeType::Call) visit(f->list);
  }
  void visit(const std::vector<NodePtr>& nodes) {
    for (const auto& n : nodes) visit(n.get());
  }
  void visit(const Node* n) {
    if (!n) return;
    switch (n->type) {
      case NodeType::For:
        declare_target(n->a.get());
        if (n->b->type == NodeType::Select) {
          visit(n->b->a.get());
          visit(n->list);
          visit(n->list2);
          visit(n->b->b.get());
          return;
        }
        visit(n->b.get());
        visit(n->list);
        visit(n->list2);
        return;
      case NodeType::Set:
        declare_target(n->a.get());
        visit(n->b.get());
        visit(n->list);
        return;
      case NodeType::Macro:
        for (const auto& p : n->list) declare_argument(p.get());
        visit_defaults(n->list);
        visit(n->list2);
        return;
      case NodeType::CallStmt:
        visit(n->a.get());
        for (const auto& p : n->list) declare_argument(p.get());
        visit_defaults(n->list);
        visit(n->list2);
        return;
      case NodeType::FilterStmt:
        visit(n->list);
        visit_filter(n->a.get());
        return;
      case NodeType::Identifier:
        if (n->str == "kwargs" && !declared_kwargs_) accessed_kwargs = true;
        if (n->str == "varargs" && !declared_varargs_) accessed_varargs = true;
        return;
      case NodeType::Member:
        visit(n->a.get());
        if (n->flag) visit(n->b.get());
        return;
      case NodeType::Filter:
        visit(n->a.get());
        visit_filter(n->b.get());
        return;
      case NodeType::Test:
        visit(n->a.get());
        visit(n->list);
        return;
      case NodeType::Select:
        visit(n->b.get());
        visit(n->a.get());
        return;
      case NodeType::KwArg:
        visit(n->a.get());
        return;
      case NodeType::ObjectLiteral:
        for (size_t i = 0; i < n->list.size(); ++i) {
          visit(n->list[i].get());
          visit(n->list2[i].get());
        }
        return;
      default:
        // Children in the reference's constructor-parameter order.
        visit(n->a.get());
        visit(n->b.get());
        visit(n->c.get());
        visit(n->list);
        visit(n->list2);
        return;
    }
  }

  bool accessed_kwargs = false;
  bool accessed_varargs = false;

 private:
  bool declared_kwargs_ = false;
  bool declared_varargs_ = false;
};

void scan_special_args(Node& n, const std::vector<NodePtr>& params, const std::vector<NodePtr>& body) {
  SpecialArgScan scan;
  for (const auto& p : params) scan.declare_argument(p.get());
  scan.visit(body);
  n.uses_kwargs = scan.accessed_kwargs;
  n.uses_varargs = scan.accessed_varargs;
}

NodePtr make(NodeType t, uint32_t pos) { return std::make_unique<Node>(t, pos); }

Op binary_op(const std::string& v) {
  if (v == "and") return Op::And;
  if (v == "or") return Op::Or;
  if (v == "==") return Op::Eq;
  if (v == "!=") return Op::Ne;
  if (v == "<") return Op::Lt;
  if (v == ">") return Op::Gt;
  if (v == "<=") return Op::Le;
  if (v == ">=") return Op::Ge;
  if (v == "in") return Op::In;
  if (v == "not in") return Op::NotIn;
  if (v == "+") return Op::Add;
  if (v == "-") return Op::Sub;
  if (v == "~") return Op::Concat;
  if (v == "*") return Op::Mul;
  if (v == "/") return Op::Div;
  if (v == "//") return Op::FloorDiv;
  if (v == "%") return Op::Mod;
  if (v == "**") return Op::Pow;
  return Op::None;
}

class Parser {
 public:
  Parser(std::string_view source, std::vector<Token> tokens, bool test_arguments)
      : source_(source), tokens_(std::move(tokens)), test_arguments_(test_arguments),
        eof_{TokenType::EndOfInput, "", static_cast<uint32_t>(source.size())} {}

  NodePtr parse_program() {
    NodePtr program = make(NodeType::Program, 0);
    while (cur_ < tokens_.size()) program->list.push_back(parse_any(nullptr));
    return program;
  }

 private:
  struct DepthGuard {
    Parser& p;
    DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxParseDepth) p.fail(p.peek().pos, "template is nested too deeply");
    }
    ~DepthGuard() { --p.depth_; }
  };

  [[noreturn]] void fail(uint32_t pos, const std::string& msg) const {
    throw TemplateError(cat("chat template syntax error at ", source_location(source_, pos), ": ", msg));
  }

  const Token& tok(size_t i) const { return i < tokens_.size() ? tokens_[i] : eof_; }
  const Token& peek() const { return tok(cur_); }
  bool is(TokenType t) const { return peek().type == t; }
  bool is_statement(std::initializer_list<std::string_view> names) const {
    if (tok(cur_).type != TokenType::OpenStatement || tok(cur_ + 1).type != TokenType::Identifier)
      return false;
    for (std::string_view n : names)
      if (tok(cur_ + 1).value == n) return true;
    return false;
  }
  bool is_identifier(std::initializer_list<std::string_view> names) const {
    size_t i = cur_;
    for (std::string_view n : names) {
      if (tok(i).type != TokenType::Identifier || tok(i).value != n) return false;
      ++i;
    }
    return true;
  }
  const Token& expect(TokenType t, const char* what) {
    const Token& prev = tok(cur_++);
    if (prev.type != t)
      fail(prev.pos, cat(what, " (got ", token_type_name(prev.type),
                         prev.value.empty() ? "" : " '" + prev.value + "'", ")"));
    return prev;
  }
  void expect_identifier(std::string_view name) {
    if (!is_identifier({name})) fail(peek().pos, cat("Expected ", name));
    ++cur_;
  }

  // `closing` names the tag that should have ended the enclosing block, for EOF messages.
  NodePtr parse_any(const char* closing) {
    DepthGuard guard(*this);
    const Token& t = peek();
    switch (t.type) {
      case TokenType::Comment: {
        NodePtr n = make(NodeType::Comment, t.pos);
        ++cur_;
        return n;
      }
      case TokenType::Text: {
        NodePtr n = make(NodeType::StringLiteral, t.pos);
        n->str = t.value;
        ++cur_;
        return n;
      }
      case TokenType::OpenStatement: return parse_jinja_statement();
      case TokenType::OpenExpression: return parse_jinja_expression();
      case TokenType::EndOfInput:
        fail(t.pos, closing ? cat("unexpected end of template, expected ", closing)
                            : std::string("unexpected end of template"));
      default: fail(t.pos, cat("Unexpected token type: ", token_type_name(t.type)));
    }
  }

  NodePtr parse_jinja_statement() {
    expect(TokenType::OpenStatement, "Expected opening statement token");
    const Token& name_tok = peek();
    if (name_tok.type != TokenType::Identifier)
      fail(name_tok.pos, cat("Unknown statement, got ", token_type_name(name_tok.type)));
    const std::string name = name_tok.value;
    const uint32_t pos = name_tok.pos;
    NodePtr result;
    if (name == "set") {
      ++cur_;
      result = parse_set_statement(pos);
    } else if (name == "if") {
      ++cur_;
      result = parse_if_statement(pos);
      expect(TokenType::OpenStatement, "Expected {% token");
      expect_identifier("endif");
      expect(TokenType::CloseStatement, "Expected %} token");
    } else if (name == "macro") {
      ++cur_;
      result = parse_macro_statement(pos);
      expect(TokenType::OpenStatement, "Expected {% token");
      expect_identifier("endmacro");
      expect(TokenType::CloseStatement, "Expected %} token");
    } else if (name == "for") {
      ++cur_;
      result = parse_for_statement(pos);
      expect(TokenType::OpenStatement, "Expected {% token");
      expect_identifier("endfor");
      expect(TokenType::CloseStatement, "Expected %} token");
    } else if (name == "call") {
      ++cur_;
      result = make(NodeType::CallStmt, pos);
      if (is(TokenType::OpenParen)) {
        result->flag = true;
        result->list = parse_args(ArgMode::Parameters);
      }
      NodePtr callee = parse_primary_expression();
      if (callee->type != NodeType::Identifier) fail(callee->pos, "Expected identifier following call statement");
      NodePtr call = make(NodeType::Call, callee->pos);
      call->list = parse_args(ArgMode::Call);
      call->a = std::move(callee);
      expect(TokenType::CloseStatement, "Expected closing statement token");
      while (!is_statement({"endcall"})) result->list2.push_back(parse_any("{% endcall %}"));
      expect(TokenType::OpenStatement, "Expected '{%'");
      expect_identifier("endcall");
      expect(TokenType::CloseStatement, "Expected closing statement token");
      result->a = std::move(call);
      scan_special_args(*result, result->list, result->list2);
    } else if (name == "break" || name == "continue") {
      ++cur_;
      expect(TokenType::CloseStatement, "Expected closing statement token");
      result = make(name == "break" ? NodeType::Break : NodeType::Continue, pos);
    } else if (name == "filter") {
      ++cur_;
      result = make(NodeType::FilterStmt, pos);
      NodePtr filter = parse_primary_expression();
      if (filter->type == NodeType::Identifier && is(TokenType::OpenParen))
        filter = parse_call_expression(std::move(filter));
      expect(TokenType::CloseStatement, "Expected closing statement token");
      while (!is_statement({"endfilter"})) result->list.push_back(parse_any("{% endfilter %}"));
      expect(TokenType::OpenStatement, "Expected '{%'");
      expect_identifier("endfilter");
      expect(TokenType::CloseStatement, "Expected '%}'");
      result->a = std::move(filter);
    } else {
      fail(pos, cat("Unknown statement type: ", name));
    }
    return result;
  }

  NodePtr parse_jinja_expression() {
    expect(TokenType::OpenExpression, "Expected opening expression token");
    NodePtr result = parse_expression();
    expect(TokenType::CloseExpression, "Expected closing expression token");
    return result;
  }

  NodePtr parse_set_statement(uint32_t pos) {
    NodePtr n = make(NodeType::Set, pos);
    n->a = parse_expression_sequence(false);
    if (is(TokenType::Equals)) {
      ++cur_;
      n->b = parse_expression_sequence(false);
    } else {
      expect(TokenType::CloseStatement, "Expected %} token");
      while (!is_statement({"endset"})) n->list.push_back(parse_any("{% endset %}"));
      expect(TokenType::OpenStatement, "Expected {% token");
      expect_identifier("endset");
    }
    expect(TokenType::CloseStatement, "Expected closing statement token");
    return n;
  }

  NodePtr parse_if_statement(uint32_t pos) {
    DepthGuard guard(*this);
    NodePtr n = make(NodeType::If, pos);
    n->a = parse_expression();
    expect(TokenType::CloseStatement, "Expected closing statement token");
    while (!is_statement({"elif", "else", "endif"})) n->list.push_back(parse_any("{% endif %}"));
    if (is_statement({"elif"})) {
      const uint32_t elif_pos = tok(cur_ + 1).pos;
      cur_ += 2;
      n->list2.push_back(parse_if_statement(elif_pos));
    } else if (is_statement({"else"})) {
      cur_ += 2;
      expect(TokenType::CloseStatement, "Expected closing statement token");
      while (!is_statement({"endif"})) n->list2.push_back(parse_any("{% endif %}"));
    }
    return n;
  }

  NodePtr parse_macro_statement(uint32_t pos) {
    NodePtr n = make(NodeType::Macro, pos);
    NodePtr name = parse_primary_expression();
    if (name->type != NodeType::Identifier) fail(name->pos, "Expected identifier following macro statement");
    n->str = name->str;
    n->list = parse_args(ArgMode::Parameters);
    expect(TokenType::CloseStatement, "Expected closing statement token");
    while (!is_statement({"endmacro"})) n->list2.push_back(parse_any("{% endmacro %}"));
    scan_special_args(*n, n->list, n->list2);
    return n;
  }

  NodePtr parse_expression_sequence(bool primary) {
    const uint32_t pos = peek().pos;
    std::vector<NodePtr> exprs;
    exprs.push_back(primary ? parse_primary_expression() : parse_expression());
    const bool is_tuple = is(TokenType::Comma);
    while (is_tuple) {
      ++cur_;
      exprs.push_back(primary ? parse_primary_expression() : parse_expression());
      if (!is(TokenType::Comma)) break;
    }
    if (!is_tuple) return std::move(exprs[0]);
    NodePtr t = make(NodeType::TupleLiteral, pos);
    t->list = std::move(exprs);
    return t;
  }

  NodePtr parse_for_statement(uint32_t pos) {
    NodePtr n = make(NodeType::For, pos);
    n->a = parse_expression_sequence(true);
    if (n->a->type != NodeType::Identifier && n->a->type != NodeType::TupleLiteral)
      fail(n->a->pos, "Expected identifier/tuple for the loop variable");
    if (!is_identifier({"in"})) fail(peek().pos, "Expected `in` keyword following loop variable");
    ++cur_;
    n->b = parse_expression();
    expect(TokenType::CloseStatement, "Expected closing statement token");
    while (!is_statement({"endfor", "else"})) n->list.push_back(parse_any("{% endfor %}"));
    if (is_statement({"else"})) {
      cur_ += 2;
      expect(TokenType::CloseStatement, "Expected closing statement token");
      while (!is_statement({"endfor"})) n->list2.push_back(parse_any("{% endfor %}"));
    }
    return n;
  }

  NodePtr parse_expression() {
    DepthGuard guard(*this);
    return parse_if_expression();
  }

  NodePtr parse_if_expression() {
    NodePtr a = parse_logical_or_expression();
    if (is_identifier({"if"})) {
      const uint32_t pos = peek().pos;
      ++cur_;
      NodePtr test = parse_logical_or_expression();
      if (is_identifier({"else"})) {
        ++cur_;
        DepthGuard guard(*this);
        NodePtr f = parse_if_expression();
        NodePtr t = make(NodeType::Ternary, pos);
        t->a = std::move(test);
        t->b = std::move(a);
        t->c = std::move(f);
        return t;
      }
      NodePtr s = make(NodeType::Select, pos);
      s->a = std::move(a);
      s->b = std::move(test);
      return s;
    }
    return a;
  }

  NodePtr binary(const Token& op_tok, std::string op_text, NodePtr left, NodePtr right) {
    NodePtr n = make(NodeType::Binary, op_tok.pos);
    n->op = binary_op(op_text);
    n->str = std::move(op_text);
    n->a = std::move(left);
    n->b = std::move(right);
    return n;
  }

  NodePtr parse_logical_or_expression() {
    NodePtr left = parse_logical_and_expression();
    while (is_identifier({"or"})) {
      const Token op = peek();
      ++cur_;
      NodePtr right = parse_logical_and_expression();
      left = binary(op, op.value, std::move(left), std::move(right));
    }
    return left;
  }

  NodePtr parse_logical_and_expression() {
    NodePtr left = parse_logical_negation_expression();
    while (is_identifier({"and"})) {
      const Token op = peek();
      ++cur_;
      NodePtr right = parse_logical_negation_expression();
      left = binary(op, op.value, std::move(left), std::move(right));
    }
    return left;
  }

  NodePtr parse_logical_negation_expression() {
    DepthGuard guard(*this);
    NodePtr right;
    while (is_identifier({"not"})) {
      const uint32_t pos = peek().pos;
      ++cur_;
      NodePtr arg = parse_logical_negation_expression();
      right = make(NodeType::Unary, pos);
      right->op = Op::Not;
      right->str = "not";
      right->a = std::move(arg);
    }
    return right ? std::move(right) : parse_comparison_expression();
  }

  NodePtr parse_comparison_expression() {
    NodePtr left = parse_additive_expression();
    while (true) {
      Token op = peek();
      if (is_identifier({"not", "in"})) {
        op.value = "not in";
        cur_ += 2;
      } else if (is_identifier({"in"})) {
        ++cur_;
      } else if (is(TokenType::ComparisonBinaryOperator)) {
        ++cur_;
      } else {
        break;
      }
      NodePtr right = parse_additive_expression();
      left = binary(op, op.value, std::move(left), std::move(right));
    }
    return left;
  }

  NodePtr parse_additive_expression() {
    NodePtr left = parse_multiplicative_expression();
    while (is(TokenType::AdditiveBinaryOperator)) {
      const Token op = peek();
      ++cur_;
      NodePtr right = parse_multiplicative_expression();
      left = binary(op, op.value, std::move(left), std::move(right));
    }
    return left;
  }

  NodePtr parse_call_member_expression() {
    NodePtr member = parse_member_expression(parse_primary_expression());
    if (is(TokenType::OpenParen)) return parse_call_expression(std::move(member));
    return member;
  }

  NodePtr parse_call_expression(NodePtr callee) {
    DepthGuard guard(*this);
    NodePtr call = make(NodeType::Call, callee->pos);
    call->list = parse_args(ArgMode::Call);
    call->a = std::move(callee);
    NodePtr expr = parse_member_expression(std::move(call));
    if (is(TokenType::OpenParen)) expr = parse_call_expression(std::move(expr));
    return expr;
  }

  std::vector<NodePtr> parse_args(ArgMode mode) {
    expect(TokenType::OpenParen, "Expected opening parenthesis for arguments list");
    std::vector<NodePtr> args = parse_arguments_list(mode);
    expect(TokenType::CloseParen, "Expected closing parenthesis for arguments list");
    return args;
  }

  std::vector<NodePtr> parse_arguments_list(ArgMode mode) {
    std::vector<NodePtr> args;
    std::vector<std::string> names;
    bool saw_keyword = false, saw_spread = false;
    while (!is(TokenType::CloseParen)) {
      const Token& t = peek();
      if (t.type == TokenType::EndOfInput) fail(t.pos, "unexpected end of template in argument list");
      const bool kw_spread = t.type == TokenType::ExponentiationBinaryOperator;
      const bool pos_spread = t.type == TokenType::MultiplicativeBinaryOperator && t.value == "*";
      if (mode == ArgMode::Parameters && (kw_spread || pos_spread))
        fail(t.pos, "Argument unpacking is not allowed in parameter declarations");
      if (kw_spread) {
        ++cur_;
        NodePtr n = make(NodeType::KwSpread, t.pos);
        n->a = parse_expression();
        args.push_back(std::move(n));
        if (is(TokenType::Comma)) ++cur_;
        if (!is(TokenType::CloseParen))
          fail(peek().pos, "Expected closing parenthesis: `**` must be applied to the final argument");
        break;
      }
      NodePtr argument;
      if (pos_spread) {
        if (saw_spread) fail(t.pos, "Only one `*` argument unpacking is allowed");
        saw_spread = true;
        ++cur_;
        argument = make(NodeType::Spread, t.pos);
        argument->a = parse_expression();
      } else {
        argument = parse_expression();
        if (is(TokenType::Equals)) {
          ++cur_;
          if (argument->type != NodeType::Identifier)
            fail(argument->pos, mode == ArgMode::Parameters ? "Expected identifier for parameter declaration"
                                                            : "Expected identifier for keyword argument");
          NodePtr kw = make(NodeType::KwArg, argument->pos);
          kw->str = argument->str;
          kw->a = parse_expression();
          argument = std::move(kw);
        }
        if (mode == ArgMode::Parameters) {
          if (argument->type != NodeType::Identifier && argument->type != NodeType::KwArg)
            fail(argument->pos, "Expected identifier for parameter declaration");
          for (const std::string& n : names)
            if (n == argument->str) fail(argument->pos, cat("Duplicate parameter name: ", n));
          names.push_back(argument->str);
        }
        if (argument->type == NodeType::KwArg) {
          saw_keyword = true;
        } else if (saw_keyword) {
          fail(argument->pos, mode == ArgMode::Call ? "Positional arguments must come before keyword arguments"
                                                    : "Non-default argument follows default argument");
        } else if (saw_spread) {
          fail(argument->pos, "Positional arguments must not follow `*` argument unpacking");
        }
      }
      args.push_back(std::move(argument));
      if (is(TokenType::Comma)) ++cur_;
    }
    return args;
  }

  NodePtr parse_member_expression_arguments_list() {
    const uint32_t pos = peek().pos;
    std::vector<NodePtr> slices;  // null entries are omitted slice parts
    bool is_slice = false;
    while (!is(TokenType::CloseSquareBracket)) {
      if (is(TokenType::Colon)) {
        slices.push_back(nullptr);
        ++cur_;
        is_slice = true;
      } else {
        slices.push_back(parse_expression());
        if (is(TokenType::Colon)) {
          ++cur_;
          is_slice = true;
        }
      }
    }
    if (slices.empty()) fail(pos, "Expected at least one argument for member/slice expression");
    if (is_slice) {
      if (slices.size() > 3) fail(pos, "Expected 0-3 arguments for slice expression");
      NodePtr s = make(NodeType::Slice, pos);
      s->a = std::move(slices[0]);
      if (slices.size() > 1) s->b = std::move(slices[1]);
      if (slices.size() > 2) s->c = std::move(slices[2]);
      return s;
    }
    return std::move(slices[0]);
  }

  NodePtr parse_member_expression(NodePtr object) {
    while (is(TokenType::Dot) || is(TokenType::OpenSquareBracket)) {
      const Token op = peek();
      ++cur_;
      const bool computed = op.type == TokenType::OpenSquareBracket;
      NodePtr property;
      if (computed) {
        DepthGuard guard(*this);
        property = parse_member_expression_arguments_list();
        expect(TokenType::CloseSquareBracket, "Expected closing square bracket");
      } else {
        property = parse_primary_expression();
        if (property->type != NodeType::Identifier && property->type != NodeType::IntegerLiteral)
          fail(property->pos, "Expected identifier or integer following dot operator");
      }
      NodePtr m = make(NodeType::Member, op.pos);
      m->a = std::move(object);
      m->b = std::move(property);
      m->flag = computed;
      object = std::move(m);
    }
    return object;
  }

  NodePtr parse_multiplicative_expression() {
    NodePtr left = parse_power_expression();
    while (is(TokenType::MultiplicativeBinaryOperator)) {
      const Token op = peek();
      ++cur_;
      NodePtr right = parse_power_expression();
      left = binary(op, op.value, std::move(left), std::move(right));
    }
    return left;
  }

  NodePtr parse_power_expression() {
    NodePtr left = parse_test_expression();
    while (is(TokenType::ExponentiationBinaryOperator)) {
      const Token op = peek();
      ++cur_;
      NodePtr right = parse_test_expression();
      left = binary(op, op.value, std::move(left), std::move(right));
    }
    return left;
  }

  NodePtr parse_test_expression() {
    NodePtr operand = parse_filter_expression();
    while (is_identifier({"is"})) {
      const uint32_t pos = peek().pos;
      ++cur_;
      const bool negate = is_identifier({"not"});
      if (negate) ++cur_;
      NodePtr test = parse_primary_expression();
      if (test->type != NodeType::Identifier) fail(test->pos, "Expected identifier for the test");
      NodePtr n = make(NodeType::Test, pos);
      n->str = test->str;
      n->flag = negate;
      // Extension: tests with arguments, e.g. `x is divisibleby(3)` (a parse error in the reference).
      if (test_arguments_ && is(TokenType::OpenParen)) n->list = parse_args(ArgMode::Call);
      n->a = std::move(operand);
      operand = std::move(n);
    }
    return operand;
  }

  NodePtr parse_filter_expression() {
    NodePtr operand = parse_unary_sign_expression();
    while (is(TokenType::Pipe)) {
      const uint32_t pos = peek().pos;
      ++cur_;
      NodePtr filter = parse_primary_expression();
      if (filter->type != NodeType::Identifier) fail(filter->pos, "Expected identifier for the filter");
      if (is(TokenType::OpenParen)) filter = parse_call_expression(std::move(filter));
      NodePtr n = make(NodeType::Filter, pos);
      n->a = std::move(operand);
      n->b = std::move(filter);
      operand = std::move(n);
    }
    return operand;
  }

  NodePtr parse_unary_sign_expression() {
    DepthGuard guard(*this);
    const Token& t = peek();
    if ((t.type == TokenType::UnaryOperator || t.type == TokenType::AdditiveBinaryOperator) &&
        (t.value == "-" || t.value == "+")) {
      const Token op = t;
      ++cur_;
      NodePtr arg = parse_unary_sign_expression();
      NodePtr n = make(NodeType::Unary, op.pos);
      n->op = op.value == "-" ? Op::Neg : Op::Pos;
      n->str = op.value;
      n->a = std::move(arg);
      return n;
    }
    return parse_call_member_expression();
  }

  NodePtr parse_primary_expression() {
    DepthGuard guard(*this);
    const Token& t = tok(cur_++);
    switch (t.type) {
      case TokenType::NumericLiteral: {
        const bool is_float = t.value.find('.') != std::string::npos;
        NodePtr n = make(is_float ? NodeType::FloatLiteral : NodeType::IntegerLiteral, t.pos);
        n->num = std::strtod(t.value.c_str(), nullptr);
        return n;
      }
      case TokenType::StringLiteral: {
        NodePtr n = make(NodeType::StringLiteral, t.pos);
        n->str = t.value;
        while (is(TokenType::StringLiteral)) n->str += tok(cur_++).value;
        return n;
      }
      case TokenType::Identifier: {
        NodePtr n = make(NodeType::Identifier, t.pos);
        n->str = t.value;
        return n;
      }
      case TokenType::OpenParen: {
        NodePtr e = parse_expression_sequence(false);
        expect(TokenType::CloseParen, "Expected closing parenthesis");
        return e;
      }
      case TokenType::OpenSquareBracket: {
        NodePtr n = make(NodeType::ArrayLiteral, t.pos);
        while (!is(TokenType::CloseSquareBracket)) {
          n->list.push_back(parse_expression());
          if (is(TokenType::Comma)) ++cur_;
        }
        ++cur_;
        return n;
      }
      case TokenType::OpenCurlyBracket: {
        NodePtr n = make(NodeType::ObjectLiteral, t.pos);
        while (!is(TokenType::CloseCurlyBracket)) {
          n->list.push_back(parse_expression());
          expect(TokenType::Colon, "Expected colon between key and value in object literal");
          n->list2.push_back(parse_expression());
          if (is(TokenType::Comma)) ++cur_;
        }
        ++cur_;
        return n;
      }
      case TokenType::EndOfInput: fail(t.pos, "unexpected end of template");
      default: fail(t.pos, cat("Unexpected token: ", token_type_name(t.type)));
    }
  }

  std::string_view source_;
  std::vector<Token> tokens_;
  bool test_arguments_;
  Token eof_;
  size_t cur_ = 0;
  int depth_ = 0;
};

}  // namespace

NodePtr parse(std::string_view source, std::vector<Token> tokens, bool test_arguments) {
  return Parser(source, std::move(tokens), test_arguments).parse_program();
}

}  // namespace hearth::chat::jinja

