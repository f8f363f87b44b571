// Template: ties the lexer, parser and interpreter together (see jinja.h).
#include "chat/jinja.h"

#include "chat/jinja_lexer.h"
#include "chat/jinja_parser.h"
#include "chat/jinja_unicode.h"

namespace hearth::chat::jinja {

Template::Template(std::string_view source, const Options& options)
    : source_(sanitize_utf8(source)), options_(options) {
  program_ = parse(source_, tokenize(source_, options_.extensions), options_.extensions);
}

Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

std::string Template::render(const nlohmann::ordered_json& context, const RenderSettings& settings) const {
  if (!context.is_object() && !context.is_null())
    throw TemplateError("chat template: the render context must be a JSON object");
  Interpreter interpreter(source_, settings.limits, settings.now.value_or(std::time(nullptr)), options_.extensions);
  EnvPtr globals = interpreter.make_globals();
  if (context.is_object()) {
    for (auto it = context.begin(); it != context.end(); ++it) {
      // The reference declares context variables next to its globals and refuses duplicates.
      if (Interpreter::is_global_name(it.key()))
        throw TemplateError(cat("chat template: variable already declared: ", it.key()));
      globals->set(it.key(), from_json(it.value()));
    }
  }
  return interpreter.run(*program_, globals);
}

}  // namespace hearth::chat::jinja

