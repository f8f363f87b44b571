// OpenAI request validation and response JSON (see openai_api.h). Error messages follow the
// shape of OpenAI's ("Invalid type for 'x': expected ..., but got ... instead.") so clients
// that print them stay readable.
#include "server/openai_api.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace hearth::server {
namespace {

const char* kind_of(const ojson& v) {
  switch (v.type()) {
    case ojson::value_t::null: return "null";
    case ojson::value_t::boolean: return "a boolean";
    case ojson::value_t::string: return "a string";
    case ojson::value_t::array: return "an array";
    case ojson::value_t::object: return "an object";
    case ojson::value_t::number_float: return "a decimal";
    case ojson::value_t::number_integer:
    case ojson::value_t::number_unsigned: return "an integer";
    default: return "an unsupported value";
  }
}

std::string fmt_num(double x) {
  if (std::floor(x) == x && std::fabs(x) < 1e15) return std::to_string(int64_t(x));
  std::string s = std::to_string(x);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

[[noreturn]] void bad_type(const std::string& name, const char* expected, const ojson& got) {
  throw ApiError(400, "Invalid type for '" + name + "': expected " + expected + ", but got " +
                          kind_of(got) + " instead.", name, "invalid_type");
}

[[noreturn]] void bad_value(const std::string& name, const std::string& why) {
  throw ApiError(400, "Invalid '" + name + "': " + why, name, "invalid_value");
}

// The field, or nullptr when absent or null (OpenAI treats null as "not given").
const ojson* get(const ojson& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<double> number(const ojson& body, const char* name, double lo, double hi) {
  const ojson* v = get(body, name);
  if (!v) return std::nullopt;
  if (!v->is_number()) bad_type(name, "a number", *v);
  const double x = v->get<double>();
  if (!std::isfinite(x)) bad_value(name, "must be a finite number.");
  if (x < lo) bad_value(name, "Expected a value >= " + fmt_num(lo) + ", but got " + fmt_num(x) + " instead.");
  if (x > hi) bad_value(name, "Expected a value <= " + fmt_num(hi) + ", but got " + fmt_num(x) + " instead.");
  return x;
}

std::optional<int64_t> integer(const ojson& body, const char* name, int64_t lo, int64_t hi) {
  const ojson* v = get(body, name);
  if (!v) return std::nullopt;
  int64_t x;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    x = u > uint64_t(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max() : int64_t(u);
  } else if (v->is_number_integer()) {
    x = v->get<int64_t>();
  } else if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() &&
             std::fabs(v->get<double>()) < 9e18) {
    x = int64_t(v->get<double>());
  } else {
    bad_type(name, "an integer", *v);
  }
  if (x < lo) bad_value(name, "Expected a value >= " + std::to_string(lo) + ", but got " + std::to_string(x) + " instead.");
  if (x > hi) bad_value(name, "Expected a value <= " + std::to_string(hi) + ", but got " + std::to_string(x) + " instead.");
  return x;
}

std::optional<bool> boolean(const ojson& body, const char* name) {
  const ojson* v = get(body, name);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) bad_type(name, "a boolean", *v);
  return v->get<bool>();
}

// Fields shared by both endpoints.
void parse_common(const ojson& body, GenerationRequest& r, int32_t n_vocab) {
  if (!body.is_object()) throw ApiError(400, "The request body must be a JSON object.");
  if (const ojson* m = get(body, "model")) {
    if (!m->is_string()) bad_type("model", "a string", *m);
    r.model = m->get<std::string>();
  }
  r.stream = boolean(body, "stream").value_or(false);
  if (const ojson* so = get(body, "stream_options")) {
    if (!so->is_object()) bad_type("stream_options", "an object", *so);
    r.include_usage = boolean(*so, "include_usage").value_or(false);
  }
  if (auto n = integer(body, "n", 1, 128); n && *n != 1)
    throw ApiError(400, "Invalid 'n': only n = 1 is supported by this server.", "n", "unsupported_value");

  // OpenAI's defaults, not llama.cpp's: no top-k or min-p unless asked for.
  sampling::Params& sp = r.sampling;
  sp.temperature = float(number(body, "temperature", 0, 2).value_or(1.0));
  sp.top_p = float(number(body, "top_p", 0, 1).value_or(1.0));
  sp.top_k = int32_t(integer(body, "top_k", 0, std::numeric_limits<int32_t>::max()).value_or(0));
  sp.min_p = float(number(body, "min_p", 0, 1).value_or(0.0));
  sp.presence_penalty = float(number(body, "presence_penalty", -2, 2).value_or(0.0));
  sp.frequency_penalty = float(number(body, "frequency_penalty", -2, 2).value_or(0.0));
  sp.repeat_penalty = float(number(body, "repeat_penalty", 0.01, 10).value_or(1.0));
  sp.penalty_last_n = 64;
  if (auto seed = integer(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max())) {
    sp.seed = uint64_t(*seed);
    r.seed_given = true;
  }
  if (const ojson* lb = get(body, "logit_bias")) {
    if (!lb->is_object()) bad_type("logit_bias", "an object", *lb);
    for (auto it = lb->begin(); it != lb->end(); ++it) {
      const std::string& key = it.key();
      char* end = nullptr;
      errno = 0;
      const long long id = std::strtoll(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || errno != 0 || id < 0 || id >= n_vocab)
        bad_value("logit_bias", "key '" + key + "' is not a token id in [0, " + std::to_string(n_vocab) + ").");
      if (!it.value().is_number()) bad_type("logit_bias", "numbers as values", it.value());
      const double b = it.value().get<double>();
      if (!std::isfinite(b) || b < -100 || b > 100)
        bad_value("logit_bias", "values must be in [-100, 100], got " + fmt_num(b) + ".");
      sp.logit_bias.emplace_back(int32_t(id), float(b));
    }
  }
  if (const ojson* st = get(body, "stop")) {
    if (st->is_string()) {
      r.stop.push_back(st->get<std::string>());
    } else if (st->is_array()) {
      if (st->size() > 4) bad_value("stop", "at most 4 stop sequences are allowed, got " + std::to_string(st->size()) + ".");
      for (const ojson& s : *st) {
        if (!s.is_string()) bad_type("stop", "a string or an array of strings", s);
        r.stop.push_back(s.get<std::string>());
      }
    } else {
      bad_type("stop", "a string or an array of strings", *st);
    }
    for (const std::string& s : r.stop)
      if (s.empty()) bad_value("stop", "stop sequences must not be empty.");
  }
  r.ignore_eos = boolean(body, "ignore_eos").value_or(false);
}

// A chat message's content as the templates expect it: a string (text parts joined) or null.
ojson normalize_content(const ojson& content, size_t i) {
  const std::string name = "messages[" + std::to_string(i) + "].content";
  if (content.is_null() || content.is_string()) return content;
  if (!content.is_array()) bad_type(name, "a string or an array of content parts", content);
  std::string text;
  for (size_t k = 0; k < content.size(); ++k) {
    const ojson& part = content[k];
    const std::string pn = name + "[" + std::to_string(k) + "]";
    if (!part.is_object()) bad_type(pn, "an object", part);
    const ojson* type = get(part, "type");
    if (!type || !type->is_string()) throw ApiError(400, "Missing required parameter: '" + pn + ".type'.", pn + ".type", "missing_required_parameter");
    if (type->get<std::string>() != "text")
      throw ApiError(400, "Invalid '" + pn + ".type': only text content is supported, got '" +
                              type->get<std::string>() + "'.", pn + ".type", "unsupported_value");
    const ojson* t = get(part, "text");
    if (!t) throw ApiError(400, "Missing required parameter: '" + pn + ".text'.", pn + ".text", "missing_required_parameter");
    if (!t->is_string()) bad_type(pn + ".text", "a string", *t);
    if (k > 0) text += "\n";
    text += t->get<std::string>();
  }
  return text;
}

}  // namespace

ApiError::ApiError(int status, std::string message, std::string param, std::string code, std::string type)
    : std::runtime_error(std::move(message)), status_(status), param_(std::move(param)),
      code_(std::move(code)), type_(std::move(type)) {
  if (type_.empty()) {
    type_ = status_ == 401 ? "authentication_error"
            : status_ == 404 ? "not_found_error"
            : status_ >= 500 ? (status_ == 503 ? "unavailable_error" : "server_error")
                             : "invalid_request_error";
  }
}

ojson ApiError::to_json() const {
  ojson e = ojson::object();
  e["message"] = utf8_string(what());
  e["type"] = type_;
  e["param"] = param_.empty() ? ojson() : ojson(param_);
  e["code"] = code_.empty() ? ojson() : ojson(code_);
  return ojson{{"error", e}};
}

ojson parse_body(std::string_view body) {
  // Depth first, without recursion, so a hostile body cannot exhaust the stack anywhere later.
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw ApiError(400, "The JSON body is nested more than " + std::to_string(kMaxJsonDepth) + " levels deep.");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  ojson j = ojson::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw ApiError(400, "We could not parse the JSON body of your request. (HINT: This likely means you "
                        "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)");
  if (!j.is_object()) throw ApiError(400, "The request body must be a JSON object.");
  return j;
}

GenerationRequest parse_chat_request(const ojson& body, int32_t n_vocab) {
  GenerationRequest r;
  r.endpoint = Endpoint::kChat;
  parse_common(body, r, n_vocab);
  // max_completion_tokens is the newer name; it wins when both are given.
  auto mt = integer(body, "max_tokens", 1, std::numeric_limits<int32_t>::max());
  if (auto mct = integer(body, "max_completion_tokens", 1, std::numeric_limits<int32_t>::max())) mt = mct;
  r.max_tokens = mt ? int32_t(*mt) : -1;

  const ojson* msgs = get(body, "messages");
  if (!msgs) throw ApiError(400, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
  if (!msgs->is_array()) bad_type("messages", "an array", *msgs);
  if (msgs->empty()) bad_value("messages", "empty array. Expected an array with minimum length 1, but got an empty array instead.");
  r.messages = ojson::array();
  for (size_t i = 0; i < msgs->size(); ++i) {
    const ojson& m = (*msgs)[i];
    const std::string name = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) bad_type(name, "an object", m);
    const ojson* role = get(m, "role");
    if (!role) throw ApiError(400, "Missing required parameter: '" + name + ".role'.", name + ".role", "missing_required_parameter");
    if (!role->is_string()) bad_type(name + ".role", "a string", *role);
    std::string rs = role->get<std::string>();
    if (rs == "developer") rs = "system";  // OpenAI's newer name; templates know "system"
    if (rs != "system" && rs != "user" && rs != "assistant" && rs != "tool" && rs != "function")
      throw ApiError(400, "Invalid value: '" + rs + "'. Supported values are: 'system', 'developer', 'user', "
                          "'assistant', 'tool' and 'function'.", name + ".role", "invalid_value");
    ojson out = m;  // other fields (name, tool_calls, tool_call_id, ...) pass through to the template
    out["role"] = rs;
    auto c = m.find("content");
    if (c == m.end() && rs != "assistant")
      throw ApiError(400, "Missing required parameter: '" + name + ".content'.", name + ".content", "missing_required_parameter");
    // An assistant turn with only tool calls has null content; templates do string operations
    // on content (Qwen3's `'</think>' in message.content` fails on null), so it becomes "".
    out["content"] = c == m.end() || c->is_null() ? ojson("") : normalize_content(*c, i);
    if (const ojson* tc = get(m, "tool_calls"); tc && !tc->is_array()) bad_type(name + ".tool_calls", "an array", *tc);
    r.messages.push_back(std::move(out));
  }
  if (const ojson* tools = get(body, "tools")) {
    if (!tools->is_array()) bad_type("tools", "an array", *tools);
    for (size_t i = 0; i < tools->size(); ++i) {
      const ojson& t = (*tools)[i];
      const std::string name = "tools[" + std::to_string(i) + "]";
      if (!t.is_object()) bad_type(name, "an object", t);
      const ojson* fn = get(t, "function");
      if (!fn) throw ApiError(400, "Missing required parameter: '" + name + ".function'.", name + ".function", "missing_required_parameter");
      if (!fn->is_object()) bad_type(name + ".function", "an object", *fn);
      const ojson* fname = get(*fn, "name");
      if (!fname) throw ApiError(400, "Missing required parameter: '" + name + ".function.name'.", name + ".function.name", "missing_required_parameter");
      if (!fname->is_string()) bad_type(name + ".function.name", "a string", *fname);
    }
    if (!tools->empty()) r.tools = *tools;
  }
  if (const ojson* rf = get(body, "response_format")) {
    if (!rf->is_object()) bad_type("response_format", "an object", *rf);
    const ojson* t = get(*rf, "type");
    if (!t || !t->is_string()) throw ApiError(400, "Missing required parameter: 'response_format.type'.", "response_format.type", "missing_required_parameter");
    if (t->get<std::string>() != "text")
      throw ApiError(400, "Invalid 'response_format.type': '" + t->get<std::string>() +
                              "' is not supported by this server (only 'text').", "response_format.type", "unsupported_value");
  }
  if (const ojson* kw = get(body, "chat_template_kwargs")) {
    if (!kw->is_object()) bad_type("chat_template_kwargs", "an object", *kw);
    r.template_kwargs = *kw;
  }
  r.logprobs = boolean(body, "logprobs").value_or(false);
  if (auto tl = integer(body, "top_logprobs", 0, 20)) {
    if (!r.logprobs)
      throw ApiError(400, "Invalid 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.", "top_logprobs", "invalid_value");
    r.top_logprobs = int32_t(*tl);
  }
  return r;
}

GenerationRequest parse_completion_request(const ojson& body, int32_t n_vocab) {
  GenerationRequest r;
  r.endpoint = Endpoint::kCompletion;
  parse_common(body, r, n_vocab);
  // OpenAI's legacy default for /v1/completions.
  r.max_tokens = int32_t(integer(body, "max_tokens", 1, std::numeric_limits<int32_t>::max()).value_or(16));

  const ojson* p = get(body, "prompt");
  if (!p) throw ApiError(400, "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter");
  auto tokens_of = [&](const ojson& arr, const std::string& name) {
    std::vector<int32_t> out;
    for (const ojson& t : arr) {
      if (!t.is_number_integer()) bad_type(name, "an array of token ids (integers)", t);
      const int64_t id = t.get<int64_t>();
      if (id < 0 || id >= n_vocab)
        bad_value(name, "token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(n_vocab) + ").");
      out.push_back(int32_t(id));
    }
    return out;
  };
  if (p->is_string()) {
    r.prompt_text = p->get<std::string>();
  } else if (p->is_array()) {
    if (p->empty()) bad_value("prompt", "the prompt is empty.");
    const ojson& first = (*p)[0];
    if (first.is_string() || first.is_array()) {
      // A list of prompts: one completion per prompt would need n > 1 choices.
      if (p->size() != 1)
        throw ApiError(400, "Invalid 'prompt': only one prompt per request is supported by this server.", "prompt", "unsupported_value");
      if (first.is_string()) r.prompt_text = first.get<std::string>();
      else r.prompt_tokens = tokens_of(first, "prompt");
    } else {
      r.prompt_tokens = tokens_of(*p, "prompt");
    }
    if (!r.prompt_text && r.prompt_tokens.empty()) bad_value("prompt", "the prompt is empty.");
  } else {
    bad_type("prompt", "a string, an array of strings or an array of token ids", *p);
  }
  if (const ojson* lp = get(body, "logprobs")) {
    if (lp->is_boolean()) bad_type("logprobs", "an integer", *lp);
    r.top_logprobs = int32_t(*integer(body, "logprobs", 0, 5));
    r.logprobs = true;
  }
  if (boolean(body, "echo").value_or(false))
    throw ApiError(400, "Invalid 'echo': echo is not supported by this server.", "echo", "unsupported_value");
  if (auto bo = integer(body, "best_of", 1, 20); bo && *bo != 1)
    throw ApiError(400, "Invalid 'best_of': only best_of = 1 is supported by this server.", "best_of", "unsupported_value");
  if (const ojson* sfx = get(body, "suffix")) {
    if (!sfx->is_string()) bad_type("suffix", "a string", *sfx);
    if (!sfx->get<std::string>().empty())
      throw ApiError(400, "Invalid 'suffix': suffix is not supported by this server.", "suffix", "unsupported_value");
  }
  return r;
}

ojson utf8_string(const std::string& s) {
  // Round-trip through dump's replacement handler: invalid bytes become U+FFFD.
  const std::string dumped = ojson(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return ojson::parse(dumped);
}

ojson byte_array(const std::string& s) {
  ojson a = ojson::array();
  for (unsigned char c : s) a.push_back(int(c));
  return a;
}

ojson chat_logprobs(const std::vector<LogprobEntry>& entries) {
  ojson content = ojson::array();
  for (const LogprobEntry& e : entries) {
    ojson top = ojson::array();
    for (const auto& [tok, lp] : e.top)
      top.push_back(ojson{{"token", utf8_string(tok)}, {"logprob", lp}, {"bytes", byte_array(tok)}});
    content.push_back(ojson{{"token", utf8_string(e.token)}, {"logprob", e.logprob},
                            {"bytes", byte_array(e.token)}, {"top_logprobs", std::move(top)}});
  }
  return ojson{{"content", std::move(content)}, {"refusal", nullptr}};
}

ojson completion_logprobs(const std::vector<LogprobEntry>& entries) {
  ojson tokens = ojson::array(), lps = ojson::array(), tops = ojson::array(), offs = ojson::array();
  for (size_t i = 0; i < entries.size(); ++i) {
    const LogprobEntry& e = entries[i];
    tokens.push_back(utf8_string(e.token));
    lps.push_back(e.logprob);
    ojson top = ojson::object();
    for (const auto& [tok, lp] : e.top) {
      const std::string key = utf8_string(tok).get<std::string>();
      if (!top.contains(key)) top[key] = lp;  // two byte tokens may both read U+FFFD
    }
    tops.push_back(std::move(top));
    offs.push_back(e.text_offset);
  }
  return ojson{{"tokens", std::move(tokens)}, {"token_logprobs", std::move(lps)},
               {"top_logprobs", std::move(tops)}, {"text_offset", std::move(offs)}};
}

ojson usage_json(int32_t prompt_tokens, int32_t completion_tokens, int32_t cached_tokens) {
  return ojson{{"prompt_tokens", prompt_tokens},
               {"completion_tokens", completion_tokens},
               {"total_tokens", prompt_tokens + completion_tokens},
               {"prompt_tokens_details", {{"cached_tokens", cached_tokens}}}};
}

}  // namespace hearth::server
