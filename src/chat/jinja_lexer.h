// Jinja lexer: the reference's preprocessing (trailing newline, lstrip_blocks, trim_blocks,
// {% generation %} removal) and tokenizer, with token positions in the original source.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::chat::jinja {

enum class TokenType : unsigned char {
  Text, NumericLiteral, StringLiteral, Identifier, Equals, OpenParen, CloseParen, OpenStatement,
  CloseStatement, OpenExpression, CloseExpression, OpenSquareBracket, CloseSquareBracket,
  OpenCurlyBracket, CloseCurlyBracket, Comma, Dot, Colon, Pipe, AdditiveBinaryOperator,
  MultiplicativeBinaryOperator, ExponentiationBinaryOperator, ComparisonBinaryOperator,
  UnaryOperator, Comment, EndOfInput,
};
const char* token_type_name(TokenType t);

struct Token {
  TokenType type;
  std::string value;
  uint32_t pos;  // byte offset of the token in the original template source
};

// "line L, column C" (1-based; columns count code points) of a byte offset in source.
std::string source_location(std::string_view source, uint32_t offset);

// Tokenizes a template the way @huggingface/jinja does with lstrip_blocks and trim_blocks on.
// Extension (when raw_blocks): {% raw %}...{% endraw %} becomes one text token. Throws
// TemplateError naming the line and column on bad input.
std::vector<Token> tokenize(std::string_view source, bool raw_blocks = true);

}  // namespace hearth::chat::jinja
