// Jinja parser: tokens -> syntax tree, a port of @huggingface/jinja's parser (same precedence
// and quirks) plus the extensions listed in docs/CHAT_TEMPLATES.md.
#pragma once

#include <string_view>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_lexer.h"

namespace hearth::chat::jinja {

// Throws TemplateError naming the line and column on a syntax error. test_arguments enables the
// `x is test(args)` extension.
NodePtr parse(std::string_view source, std::vector<Token> tokens, bool test_arguments = true);

}  // namespace hearth::chat::jinja
