// OpenAI request validation (every bad-input class gets a 400 naming the field; unknown fields
// are ignored), response JSON helpers, and the stop-sequence / text streaming logic.
#include <gtest/gtest.h>

#include "server/openai_api.h"
#include "server/text_stream.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {
namespace {

constexpr int32_t kVocab = 1000;

ojson J(const char* s) { return ojson::parse(s); }

// Expects an ApiError with this status and (when given) param.
template <typename F>
void expect_error(F&& f, int status, const std::string& param = {}, const std::string& code = {}) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), status) << e.what();
    if (!param.empty()) {
      EXPECT_EQ(e.param(), param) << e.what();
    }
    if (!code.empty()) {
      EXPECT_EQ(e.code(), code) << e.what();
    }
    const ojson j = e.to_json();
    EXPECT_TRUE(j["error"]["message"].is_string());
    EXPECT_TRUE(j["error"]["type"].is_string());
  }
}

TEST(OpenAiApi, ParseBodyRejectsBadJsonNonObjectsAndDeepNesting) {
  expect_error([] { parse_body("{\"model\": "); }, 400);
  expect_error([] { parse_body("[1, 2]"); }, 400);
  expect_error([] { parse_body(""); }, 400);
  std::string deep(200, '[');
  expect_error([&] { parse_body("{\"a\": " + deep + "}"); }, 400);
  // Brackets inside strings do not count.
  EXPECT_NO_THROW(parse_body("{\"a\": \"" + deep + "\\\"[[[\"}"));
  EXPECT_EQ(parse_body("{\"a\": 1}")["a"], 1);
}

TEST(OpenAiApi, ChatDefaultsAndUnknownFieldsIgnored) {
  const auto r = parse_chat_request(
      J(R"({"model":"whatever-name","messages":[{"role":"user","content":"hi"}],"top_k":5,"foo":{"bar":1},"user":"u"})"),
      kVocab);
  EXPECT_EQ(r.model, "whatever-name");
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(r.max_tokens, -1);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 1.0f);
  EXPECT_EQ(r.sampling.top_k, 5);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.0f);
  EXPECT_FALSE(r.seed_given);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0]["content"], "hi");
}

TEST(OpenAiApi, ChatFieldsParsed) {
  const auto r = parse_chat_request(J(R"({
    "messages":[{"role":"developer","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
                {"role":"user","content":"q"},
                {"role":"assistant","tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]},
                {"role":"tool","tool_call_id":"1","content":"42"}],
    "stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":7,"max_tokens":3,
    "temperature":0,"top_p":0.5,"seed":-3,"stop":["x","yy"],"logprobs":true,"top_logprobs":4,
    "presence_penalty":1.5,"logit_bias":{"17":-100,"3":2.5},"n":1,
    "tools":[{"type":"function","function":{"name":"get","parameters":{"type":"object"}}}],
    "chat_template_kwargs":{"enable_thinking":false},"response_format":{"type":"text"}})"),
                                    kVocab);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_EQ(r.sampling.temperature, 0.0f);
  EXPECT_EQ(r.sampling.seed, uint64_t(int64_t(-3)));
  EXPECT_TRUE(r.seed_given);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"x", "yy"}));
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 4);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, 1.5f);
  ASSERT_EQ(r.sampling.logit_bias.size(), 2u);
  EXPECT_EQ(r.sampling.logit_bias[0].first, 17);
  EXPECT_EQ(r.messages[0]["role"], "system");
  EXPECT_EQ(r.messages[0]["content"], "a\nb");
  EXPECT_EQ(r.messages[2]["content"], "");  // tool-call-only turn: templates need a string
  EXPECT_EQ(r.messages[2]["tool_calls"][0]["function"]["name"], "f");
  EXPECT_EQ(r.messages[3]["tool_call_id"], "1");
  EXPECT_EQ(r.tools[0]["function"]["name"], "get");
  EXPECT_EQ(r.template_kwargs["enable_thinking"], false);
}

TEST(OpenAiApi, ChatBadInputs) {
  const auto chat = [](const char* body) { return [=] { parse_chat_request(J(body), kVocab); }; };
  expect_error(chat(R"({})"), 400, "messages", "missing_required_parameter");
  expect_error(chat(R"({"messages":"hi"})"), 400, "messages", "invalid_type");
  expect_error(chat(R"({"messages":[]})"), 400, "messages");
  expect_error(chat(R"({"messages":[1]})"), 400, "messages[0]");
  expect_error(chat(R"({"messages":[{"content":"x"}]})"), 400, "messages[0].role");
  expect_error(chat(R"({"messages":[{"role":"wizard","content":"x"}]})"), 400, "messages[0].role");
  expect_error(chat(R"({"messages":[{"role":"user"}]})"), 400, "messages[0].content");
  expect_error(chat(R"({"messages":[{"role":"user","content":5}]})"), 400, "messages[0].content");
  expect_error(chat(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})"), 400,
               "messages[0].content[0].type", "unsupported_value");
  const char* m = R"("messages":[{"role":"user","content":"x"}])";
  auto with = [&](const std::string& extra) {
    const std::string body = "{" + std::string(m) + "," + extra + "}";
    return [body] { parse_chat_request(J(body.c_str()), kVocab); };
  };
  expect_error(with(R"("model":5)"), 400, "model", "invalid_type");
  expect_error(with(R"("temperature":"hot")"), 400, "temperature", "invalid_type");
  expect_error(with(R"("temperature":2.5)"), 400, "temperature", "invalid_value");
  expect_error(with(R"("temperature":-1)"), 400, "temperature");
  expect_error(with(R"("top_p":1.5)"), 400, "top_p");
  expect_error(with(R"("max_tokens":0)"), 400, "max_tokens");
  expect_error(with(R"("max_tokens":1.5)"), 400, "max_tokens", "invalid_type");
  expect_error(with(R"("max_tokens":"10")"), 400, "max_tokens", "invalid_type");
  expect_error(with(R"("n":2)"), 400, "n", "unsupported_value");
  expect_error(with(R"("n":0)"), 400, "n");
  expect_error(with(R"("stream":"yes")"), 400, "stream");
  expect_error(with(R"("stop":5)"), 400, "stop");
  expect_error(with(R"("stop":["a","b","c","d","e"])"), 400, "stop");
  expect_error(with(R"("stop":[""])"), 400, "stop");
  expect_error(with(R"("seed":"x")"), 400, "seed");
  expect_error(with(R"("logprobs":1)"), 400, "logprobs");
  expect_error(with(R"("top_logprobs":3)"), 400, "top_logprobs");
  expect_error(with(R"("logprobs":true,"top_logprobs":21)"), 400, "top_logprobs");
  expect_error(with(R"("logit_bias":{"abc":1})"), 400, "logit_bias");
  expect_error(with(R"("logit_bias":{"5000":1})"), 400, "logit_bias");
  expect_error(with(R"("logit_bias":{"5":101})"), 400, "logit_bias");
  expect_error(with(R"("presence_penalty":3)"), 400, "presence_penalty");
  expect_error(with(R"("tools":{})"), 400, "tools");
  expect_error(with(R"("tools":[{"type":"function"}])"), 400, "tools[0].function");
  expect_error(with(R"("response_format":{"type":"json_object"})"), 400, "response_format.type", "unsupported_value");
  expect_error(with(R"("stream_options":1)"), 400, "stream_options");
  // Null means "not given".
  EXPECT_NO_THROW(with(R"("temperature":null,"max_tokens":null,"stop":null,"seed":null)")());
}

TEST(OpenAiApi, CompletionPrompts) {
  auto r = parse_completion_request(J(R"({"prompt":"Once upon"})"), kVocab);
  EXPECT_EQ(*r.prompt_text, "Once upon");
  EXPECT_EQ(r.max_tokens, 16);  // OpenAI's default for completions
  r = parse_completion_request(J(R"({"prompt":["one"],"max_tokens":4,"logprobs":2})"), kVocab);
  EXPECT_EQ(*r.prompt_text, "one");
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 2);
  r = parse_completion_request(J(R"({"prompt":[1,2,3]})"), kVocab);
  EXPECT_FALSE(r.prompt_text);
  EXPECT_EQ(r.prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  r = parse_completion_request(J(R"({"prompt":[[4,5]]})"), kVocab);
  EXPECT_EQ(r.prompt_tokens, (std::vector<int32_t>{4, 5}));

  const auto cmpl = [](const char* body) { return [=] { parse_completion_request(J(body), kVocab); }; };
  expect_error(cmpl(R"({})"), 400, "prompt", "missing_required_parameter");
  expect_error(cmpl(R"({"prompt":5})"), 400, "prompt", "invalid_type");
  expect_error(cmpl(R"({"prompt":[]})"), 400, "prompt");
  expect_error(cmpl(R"({"prompt":["a","b"]})"), 400, "prompt", "unsupported_value");
  expect_error(cmpl(R"({"prompt":[1,"a"]})"), 400, "prompt");
  expect_error(cmpl(R"({"prompt":[1,1000]})"), 400, "prompt");
  expect_error(cmpl(R"({"prompt":"x","logprobs":6})"), 400, "logprobs");
  expect_error(cmpl(R"({"prompt":"x","logprobs":true})"), 400, "logprobs");
  expect_error(cmpl(R"({"prompt":"x","echo":true})"), 400, "echo");
  expect_error(cmpl(R"({"prompt":"x","best_of":2})"), 400, "best_of");
  expect_error(cmpl(R"({"prompt":"x","suffix":"y"})"), 400, "suffix");
}

TEST(OpenAiApi, ErrorJsonShape) {
  const ojson j = ApiError(401, "bad key", "", "invalid_api_key").to_json();
  EXPECT_EQ(j["error"]["message"], "bad key");
  EXPECT_EQ(j["error"]["type"], "authentication_error");
  EXPECT_TRUE(j["error"]["param"].is_null());
  EXPECT_EQ(j["error"]["code"], "invalid_api_key");
  EXPECT_EQ(ApiError(400, "x").to_json()["error"]["type"], "invalid_request_error");
}

TEST(OpenAiApi, Utf8AndLogprobJson) {
  EXPECT_EQ(utf8_string("a\xff").get<std::string>(), "a\xef\xbf\xbd");
  EXPECT_EQ(byte_array("\xe2\x82"), ojson::parse("[226, 130]"));
  std::vector<LogprobEntry> e(2);
  e[0].token = "He";
  e[0].logprob = -0.5f;
  e[0].top = {{"He", -0.5f}, {"A", -1.0f}};
  e[1].token = "llo";
  e[1].text_offset = 2;
  e[1].logprob = -0.25f;
  const ojson c = chat_logprobs(e);
  EXPECT_EQ(c["content"][1]["token"], "llo");
  EXPECT_EQ(c["content"][0]["top_logprobs"][1]["token"], "A");
  EXPECT_EQ(c["content"][0]["bytes"], ojson::parse("[72, 101]"));
  const ojson k = completion_logprobs(e);
  EXPECT_EQ(k["tokens"], ojson::parse(R"(["He","llo"])"));
  EXPECT_EQ(k["text_offset"], ojson::parse("[0, 2]"));
  EXPECT_FLOAT_EQ(k["top_logprobs"][0]["A"].get<float>(), -1.0f);
}

std::string feed(StopMatcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += m.push(p);
  return out;
}

TEST(StopMatcher, FindsStopsAcrossPiecesAndHoldsOnlyPossiblePrefixes) {
  StopMatcher m({"END", "\n\n"});
  EXPECT_EQ(m.push("hello E"), "hello ");  // "E" may start END
  EXPECT_EQ(m.push("N"), "");
  EXPECT_EQ(m.push("x"), "ENx");  // it did not
  EXPECT_EQ(m.push("ab\n"), "ab");
  EXPECT_EQ(m.push("\nmore"), "");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.push("later"), "");
  EXPECT_EQ(m.flush(), "");

  StopMatcher a({"abcabd"});
  EXPECT_EQ(feed(a, {"xxabcab", "cabd", "zz"}), "xxabc");
  EXPECT_TRUE(a.stopped());

  StopMatcher b({"stop"});
  EXPECT_EQ(feed(b, {"a st", "o"}), "a ");
  EXPECT_FALSE(b.stopped());
  EXPECT_EQ(b.flush(), "sto");  // end of generation: the held text was not a stop

  StopMatcher none({});
  EXPECT_EQ(none.push("abc"), "abc");
}

TEST(TextAssembler, StreamsTextStopsAndLogprobs) {
  tokenizer::Tokenizer tok(tokenizer::synthetic_vocab(300));
  const std::vector<int32_t> ids = tok.encode("Hello world, hello there.", false, false);
  ASSERT_GT(ids.size(), 3u);
  // Whole text, no stops.
  {
    TextAssembler t(tok, {}, 2, false);
    for (size_t i = 0; i < ids.size(); ++i) {
      engine::TokenEvent ev;
      ev.token = ids[i];
      ev.logprob = -1.0f * float(i);
      ev.top = {{ids[i], -0.1f}, {0, -3.0f}};
      EXPECT_TRUE(t.push(ev));
    }
    t.finish();
    EXPECT_EQ(t.take_text(), "Hello world, hello there.");
    EXPECT_EQ(t.take_text(), "");
    const auto lps = t.take_logprobs();
    ASSERT_EQ(lps.size(), ids.size());
    std::string joined;
    for (const auto& e : lps) {
      EXPECT_EQ(e.text_offset, joined.size());
      joined += e.token;
      EXPECT_EQ(e.top.size(), 2u);
    }
    EXPECT_EQ(joined, "Hello world, hello there.");
  }
  // A stop sequence ends it and is not part of the text; EOG tokens are not text.
  {
    TextAssembler t(tok, {"lo th"}, -1, false);
    bool keep = true;
    size_t n = 0;
    for (; n < ids.size() && keep; ++n) {
      engine::TokenEvent ev;
      ev.token = ids[n];
      keep = t.push(ev);
    }
    EXPECT_FALSE(keep);
    EXPECT_TRUE(t.stopped());
    EXPECT_EQ(t.text(), "Hello world, hel");
    EXPECT_TRUE(t.take_logprobs().empty());
  }
  {
    TextAssembler t(tok, {}, -1, false);
    engine::TokenEvent ev;
    ev.token = tok.eos() >= 0 ? tok.eos() : 0;
    ev.eog = true;
    EXPECT_TRUE(t.push(ev));
    t.finish();
    EXPECT_EQ(t.text(), "");
  }
}

}  // namespace
}  // namespace hearth::server
