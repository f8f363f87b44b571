// Public entry point of the Jinja engine used for chat templates: parse once, render many times
// with JSON data, byte-for-byte like @huggingface/jinja (see docs/CHAT_TEMPLATES.md).
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chat/jinja_interpreter.h"
#include "chat/jinja_value.h"

namespace hearth::chat::jinja {

struct RenderSettings {
  Limits limits;
  std::optional<std::time_t> now;  // time for strftime_now(); the current time when unset
};

class Template {
 public:
  // Parses the template; throws TemplateError ("... at line L, column C: ...") on bad syntax.
  explicit Template(std::string_view source, const Options& options = {});
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  // Renders with the variables of `context` (a JSON object; object key order is kept). Throws
  // TemplateError on runtime errors and RaisedError for raise_exception(). Thread-safe: a
  // Template may be rendered concurrently.
  std::string render(const nlohmann::ordered_json& context, const RenderSettings& settings = {}) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  Options options_;
  std::unique_ptr<Node> program_;
};

}  // namespace hearth::chat::jinja
