// The OpenAI wire format: validation of /v1/chat/completions and /v1/completions bodies into a
// GenerationRequest, OpenAI-style error objects, and the JSON of responses and stream chunks.
// Pure functions of JSON: no HTTP, no model, no threads (unit-tested without a server).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampling/sampler.h"

namespace hearth::server {

using ojson = nlohmann::ordered_json;

// An error the client caused (or a server condition), rendered as OpenAI's error object:
// {"error": {"message", "type", "param", "code"}} with an HTTP status.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = {}, std::string code = {},
           std::string type = {});
  int status() const { return status_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }
  const std::string& type() const { return type_; }
  ojson to_json() const;

 private:
  int status_;
  std::string param_, code_, type_;
};

// Parses a request body. Rejects (400) invalid JSON, a top-level value that is not an object,
// and nesting deeper than kMaxJsonDepth (templates and serializers recurse over it).
constexpr int kMaxJsonDepth = 64;
ojson parse_body(std::string_view body);

enum class Endpoint { kChat, kCompletion };

// Everything a generation request asks for, validated. Unknown fields are ignored.
struct GenerationRequest {
  Endpoint endpoint = Endpoint::kChat;
  std::string model;                  // as sent (any name is accepted)
  bool stream = false;
  bool include_usage = false;         // stream_options.include_usage
  // chat
  ojson messages;                     // normalized: content is a string (null -> "")
  ojson tools;                        // null or array of tool definitions
  ojson template_kwargs;              // null or object (chat_template_kwargs extension)
  // completions: exactly one of prompt_text / prompt_tokens is used
  std::optional<std::string> prompt_text;
  std::vector<int32_t> prompt_tokens;
  // generation
  int32_t max_tokens = -1;            // < 0: until the context is full
  sampling::Params sampling;
  bool seed_given = false;
  std::vector<std::string> stop;
  bool logprobs = false;              // chat: logprobs; completions: logprobs given (>= 0)
  int32_t top_logprobs = 0;           // chat: top_logprobs; completions: the logprobs integer
  bool ignore_eos = false;            // extension
};

// n_vocab bounds logit_bias keys and token prompts.
GenerationRequest parse_chat_request(const ojson& body, int32_t n_vocab);
GenerationRequest parse_completion_request(const ojson& body, int32_t n_vocab);

// One generated token's logprob entry (bytes = the token's raw text, possibly part of a UTF-8
// character).
struct LogprobEntry {
  std::string token;
  size_t text_offset = 0;  // where this token's text starts in the completion text
  float logprob = 0;
  std::vector<std::pair<std::string, float>> top;
};

// JSON string of possibly invalid UTF-8 (invalid bytes become U+FFFD), and the bytes array.
ojson utf8_string(const std::string& s);
ojson byte_array(const std::string& s);

// choice.logprobs for chat ({"content": [...]}) and for completions ({"tokens", ...}).
ojson chat_logprobs(const std::vector<LogprobEntry>& entries);
ojson completion_logprobs(const std::vector<LogprobEntry>& entries);

ojson usage_json(int32_t prompt_tokens, int32_t completion_tokens, int32_t cached_tokens);

}  // namespace hearth::server
