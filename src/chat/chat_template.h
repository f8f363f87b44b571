// Chat templates: renders OpenAI-style messages into a model prompt with the model's Jinja
// template (GGUF tokenizer.chat_template), as the Hugging Face stack does. No tokenization here.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "chat/jinja.h"

namespace hearth::chat {

// JSON data keeps key order (nlohmann::ordered_json): templates print tool schemas with
// `tojson`, and the reference prints keys in the order the client sent them.
struct RenderOptions {
  bool add_generation_prompt = true;
  std::string bos_token, eos_token;
  nlohmann::ordered_json tools;  // null, or an array of OpenAI-style tool definitions
  nlohmann::ordered_json extra;  // null, or an object of extra variables (e.g. enable_thinking)
};

class ChatTemplate {
 public:
  // Parses once; throws hearth::Error (jinja::TemplateError) naming line and column on bad syntax.
  explicit ChatTemplate(std::string source, const jinja::Options& options = {});

  // messages: array of {role, content (string, null or list of parts), tool_calls, ...}, passed
  // to the template unchanged as `messages`, with add_generation_prompt, tools (none when
  // absent), bos_token, eos_token and the extra variables. Throws hearth::Error on template
  // errors; raise_exception() in the template throws jinja::RaisedError with its message.
  std::string render(const nlohmann::ordered_json& messages, const RenderOptions& options,
                     const jinja::RenderSettings& settings = {}) const;

  const std::string& source() const { return template_.source(); }

  // ChatML (<|im_start|>role\ncontent<|im_end|>), for models that ship no template.
  static const char* chatml_source();

 private:
  jinja::Template template_;
};

// The context object render() hands to the template (exposed for tests and `hearth template`).
nlohmann::ordered_json make_context(const nlohmann::ordered_json& messages, const RenderOptions& options);

}  // namespace hearth::chat
