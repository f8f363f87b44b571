// ChatTemplate (see chat_template.h): builds the template context the way transformers does
// (messages, tools, add_generation_prompt, special tokens, extra kwargs) and renders it.
#include "chat/chat_template.h"

namespace hearth::chat {

namespace {

// Content may be a string or a list of parts; text parts are joined, other parts dropped.
constexpr const char* kChatml =
    "{%- for message in messages -%}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}\n"
    "{%- if message['content'] is string -%}\n"
    "{{- message['content'] -}}\n"
    "{%- elif message['content'] is iterable -%}\n"
    "{%- for part in message['content'] -%}\n"
    "{%- if part['type'] == 'text' -%}{{- part['text'] -}}{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- endif -%}\n"
    "{{- '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n";

}  // namespace

ChatTemplate::ChatTemplate(std::string source, const jinja::Options& options) : template_(source, options) {}

const char* ChatTemplate::chatml_source() { return kChatml; }

nlohmann::ordered_json make_context(const nlohmann::ordered_json& messages, const RenderOptions& options) {
  if (!messages.is_array()) throw Error("chat template: messages must be a JSON array");
  if (!options.tools.is_null() && !options.tools.is_array())
    throw Error("chat template: tools must be a JSON array or null");
  if (!options.extra.is_null() && !options.extra.is_object())
    throw Error("chat template: extra variables must be a JSON object");
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  context["messages"] = messages;
  context["add_generation_prompt"] = options.add_generation_prompt;
  context["tools"] = options.tools;
  context["bos_token"] = options.bos_token;
  context["eos_token"] = options.eos_token;
  if (options.extra.is_object()) {
    for (auto it = options.extra.begin(); it != options.extra.end(); ++it) {
      if (context.contains(it.key()))
        throw Error(cat("chat template: extra variable '", it.key(), "' would replace a built-in variable"));
      context[it.key()] = it.value();
    }
  }
  return context;
}

std::string ChatTemplate::render(const nlohmann::ordered_json& messages, const RenderOptions& options,
                                 const jinja::RenderSettings& settings) const {
  return template_.render(make_context(messages, options), settings);
}

}  // namespace hearth::chat

