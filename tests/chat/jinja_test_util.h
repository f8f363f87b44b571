// Helpers shared by the Jinja unit tests: render a template string with a JSON context.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/jinja.h"

namespace hearth::chat::jinja::testing {

using ojson = nlohmann::ordered_json;

inline std::string render(std::string_view source, const ojson& context = ojson::object(),
                          bool extensions = false, const RenderSettings& settings = {}) {
  Options options;
  options.extensions = extensions;
  return Template(source, options).render(context, settings);
}

// Renders with the extensions on (hearth's default).
inline std::string render_ext(std::string_view source, const ojson& context = ojson::object()) {
  return render(source, context, true);
}

// The message of the TemplateError a render throws, or "" if it renders.
inline std::string render_error(std::string_view source, const ojson& context = ojson::object(),
                                bool extensions = false, const RenderSettings& settings = {}) {
  try {
    render(source, context, extensions, settings);
  } catch (const TemplateError& e) {
    return e.what();
  }
  return "";
}

}  // namespace hearth::chat::jinja::testing
