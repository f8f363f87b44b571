// Jinja lexing and whitespace handling: token stream shapes, the reference's preprocessing
// (trailing newline, lstrip_blocks, trim_blocks, {% generation %}), "-" whitespace control,
// comments, string escapes and syntax-error positions.
#include <gtest/gtest.h>

#include "chat/jinja_lexer.h"
#include "jinja_test_util.h"

namespace hearth::chat::jinja {
namespace {

using testing::render;
using testing::render_error;

std::vector<TokenType> types(const std::vector<Token>& tokens) {
  std::vector<TokenType> t;
  for (const Token& tok : tokens) t.push_back(tok.type);
  return t;
}

TEST(JinjaLexer, ExpressionTokens) {
  const auto tokens = tokenize("a {{ x.y[0] + 1 }}");
  using T = TokenType;
  EXPECT_EQ(types(tokens), (std::vector<T>{T::Text, T::OpenExpression, T::Identifier, T::Dot, T::Identifier,
                                           T::OpenSquareBracket, T::NumericLiteral, T::CloseSquareBracket,
                                           T::AdditiveBinaryOperator, T::NumericLiteral, T::CloseExpression}));
  EXPECT_EQ(tokens[0].value, "a ");
  EXPECT_EQ(tokens[0].pos, 0u);
  EXPECT_EQ(tokens[2].pos, 5u);  // "x" in the source
}

TEST(JinjaLexer, UnaryMinusBecomesPartOfTheNumber) {
  // After "(" a minus is unary and joins the literal; after an operand it is binary.
  const auto a = tokenize("{{ (-1.5) }}");
  EXPECT_EQ(a[2].type, TokenType::NumericLiteral);
  EXPECT_EQ(a[2].value, "-1.5");
  const auto b = tokenize("{{ x -1 }}");
  EXPECT_EQ(b[2].type, TokenType::AdditiveBinaryOperator);
  EXPECT_EQ(b[3].value, "1");
}

TEST(JinjaLexer, OperatorsAreLongestMatch) {
  const auto t = tokenize("{{ a ** b // c <= d != e }}");
  EXPECT_EQ(t[2].value, "**");
  EXPECT_EQ(t[2].type, TokenType::ExponentiationBinaryOperator);
  EXPECT_EQ(t[4].value, "//");
  EXPECT_EQ(t[6].value, "<=");
  EXPECT_EQ(t[8].value, "!=");
}

TEST(JinjaLexer, StringEscapes) {
  EXPECT_EQ(render(R"({{ "a\tb\n\\\"\'" }})"), "a\tb\n\\\"'");
  EXPECT_EQ(render(R"({{ "\x41\u00e9" }})"), "A\xC3\xA9");
  // Two \u escapes forming a surrogate pair are one character.
  EXPECT_EQ(render(R"({{ "\ud83d\ude00" }})"), "\xF0\x9F\x98\x80");
  // A lone surrogate cannot be encoded and prints as U+FFFD.
  EXPECT_EQ(render(R"({{ "\ud83d" }})"), "\xEF\xBF\xBD");
  EXPECT_NE(render_error(R"({{ "\q" }})"), "");
  EXPECT_NE(render_error(R"({{ "\x4" }})"), "");
}

TEST(JinjaLexer, AdjacentStringLiteralsConcatenate) { EXPECT_EQ(render(R"({{ "a" 'b' "c" }})"), "abc"); }

TEST(JinjaWhitespace, TrailingNewlineOfTheTemplateIsDropped) {
  EXPECT_EQ(render("x\n"), "x");
  EXPECT_EQ(render("x\n\n"), "x\n");
}

TEST(JinjaWhitespace, TrimAndLstripBlocks) {
  // lstrip_blocks removes the indentation before a block tag, trim_blocks the newline after it.
  EXPECT_EQ(render("a\n  {% if true %}\n  b\n  {% endif %}\nc"), "a\n  b\nc");
  // Expressions are not block tags: their surroundings stay.
  EXPECT_EQ(render("a\n  {{ 1 }}\nb"), "a\n  1\nb");
  // Text before a tag on the same line keeps its spaces.
  EXPECT_EQ(render("x  {% if true %}y{% endif %}"), "x  y");
  // A comment is trimmed like a block.
  EXPECT_EQ(render("a\n  {# c #}\nb"), "a\nb");
}

TEST(JinjaWhitespace, DashControl) {
  EXPECT_EQ(render("a  {%- if true -%}  b  {%- endif -%}  c"), "abc");
  EXPECT_EQ(render("a \n {{- 'b' -}} \n c"), "abc");
  EXPECT_EQ(render("a \n{#- c -#}\n b"), "ab");
  // Unicode whitespace (no-break space, ideographic space) is whitespace to the reference.
  EXPECT_EQ(render("a\xC2\xA0\xE3\x80\x80{{- 'b' }}"), "ab");
}

TEST(JinjaWhitespace, GenerationTagsAreRemoved) {
  EXPECT_EQ(render("a {% generation %}b{% endgeneration %} c"), "a b c");
  EXPECT_EQ(render("a   {%- generation -%}   b   {%- endgeneration -%}   c"), "abc");
}

TEST(JinjaLexer, Comments) {
  EXPECT_EQ(render("a{# {{ x }} {% if %} #}b"), "ab");
  EXPECT_EQ(render("a{#\nmulti\nline\n#}b"), "ab");
  EXPECT_NE(render_error("a{# open"), "");
}

TEST(JinjaLexer, SyntaxErrorsNameLineAndColumn) {
  const std::string e = render_error("line one\n{{ a @ b }}");
  EXPECT_NE(e.find("line 2, column 6"), std::string::npos) << e;
  EXPECT_NE(e.find("Unexpected character: @"), std::string::npos) << e;
  // Columns count characters, not bytes.
  const std::string u = render_error("\xC3\xA9\xC3\xA9{{ ? }}");
  EXPECT_NE(u.find("line 1, column 6"), std::string::npos) << u;
  // Positions survive the preprocessing that removes text (lstrip_blocks, trailing newline).
  const std::string p = render_error("a\n    {% if %}\n");
  EXPECT_NE(p.find("line 2, column 11"), std::string::npos) << p;
}

TEST(JinjaLexer, UnterminatedInput) {
  EXPECT_NE(render_error("{{ 'abc"), "");
  EXPECT_NE(render_error("{{ x"), "");
  EXPECT_NE(render_error("{{ x "), "");
  EXPECT_NE(render_error("{% if"), "");
}

}  // namespace
}  // namespace hearth::chat::jinja
