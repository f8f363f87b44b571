// ChatTemplate (context building, the ChatML fallback, error propagation) and the
// `hearth template` command end to end: template files, GGUF models (template and BOS/EOS from
// the vocabulary), template variables, --batch, and failures as one line with exit 1.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "chat/chat_template.h"
#include "gguf/gguf.h"

namespace hearth::chat {
namespace {

using ojson = nlohmann::ordered_json;

const ojson kConversation = ojson::parse(R"([
  {"role": "system", "content": "Be brief."},
  {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "image"}, {"type": "text", "text": "there"}]},
  {"role": "assistant", "content": "Hello!"}
])");

TEST(ChatTemplate, ChatmlFallback) {
  const ChatTemplate t(ChatTemplate::chatml_source());
  RenderOptions opt;
  EXPECT_EQ(t.render(kConversation, opt),
            "<|im_start|>system\nBe brief.<|im_end|>\n"
            "<|im_start|>user\nHi there<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n"
            "<|im_start|>assistant\n");
  opt.add_generation_prompt = false;
  EXPECT_EQ(t.render(ojson::array({{{"role", "user"}, {"content", nullptr}}}), opt), "<|im_start|>user\n<|im_end|>\n");
}

TEST(ChatTemplate, ContextVariables) {
  const ChatTemplate t(
      "{{ bos_token }}|{{ eos_token }}|{{ add_generation_prompt }}|{{ tools is none }}|{{ messages | length }}|"
      "{{ enable_thinking }}|{% for t in tools or [] %}{{ t.function.name }}{% endfor %}");
  RenderOptions opt;
  opt.bos_token = "<s>";
  opt.eos_token = "</s>";
  opt.extra = {{"enable_thinking", false}};
  EXPECT_EQ(t.render(kConversation, opt), "<s>|</s>|true|true|3|false|");
  opt.tools = ojson::parse(R"([{"type": "function", "function": {"name": "f"}}])");
  opt.add_generation_prompt = false;
  EXPECT_EQ(t.render(kConversation, opt), "<s>|</s>|false|false|3|false|f");
}

TEST(ChatTemplate, ToolSchemasKeepKeyOrder) {
  const ChatTemplate t("{{ tools[0] | tojson }}");
  RenderOptions opt;
  opt.tools = ojson::parse(R"([{"type": "function", "function": {"name": "f", "parameters": {"z": 1, "a": 2}}}])");
  EXPECT_EQ(t.render(ojson::array(), opt),
            "{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"z\": 1, \"a\": 2}}}");
}

TEST(ChatTemplate, AcceptsUnorderedJson) {
  // nlohmann::json converts implicitly; its objects iterate keys in sorted order.
  const ChatTemplate t("{{ messages[0] | tojson }}");
  const nlohmann::json messages = nlohmann::json::parse(R"([{"role": "user", "content": "x"}])");
  EXPECT_EQ(t.render(messages, RenderOptions{}), "{\"content\": \"x\", \"role\": \"user\"}");
}

TEST(ChatTemplate, BadInputs) {
  const ChatTemplate t("x");
  RenderOptions opt;
  EXPECT_THROW(t.render(ojson::object(), opt), Error);
  opt.extra = {{"messages", 1}};
  EXPECT_THROW(t.render(ojson::array(), opt), Error);
  opt.extra = ojson::array();
  EXPECT_THROW(t.render(ojson::array(), opt), Error);
  opt.extra = nullptr;
  opt.tools = ojson::object();
  EXPECT_THROW(t.render(ojson::array(), opt), Error);
  EXPECT_THROW(ChatTemplate("{% if %}"), Error);
}

TEST(ChatTemplate, RaiseExceptionCarriesTheTemplateMessage) {
  const ChatTemplate t("{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% endfor %}");
  try {
    t.render(kConversation, RenderOptions{});
    FAIL();
  } catch (const jinja::RaisedError& e) {
    EXPECT_EQ(e.message(), "System role not supported");
  }
}

// ---- hearth template ----

struct CommandResult {
  int status;
  std::string out;
};

CommandResult run(const std::string& args) {
  const std::string cmd = std::string("'") + HEARTH_BINARY + "' template " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  CommandResult r{-1, ""};
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class TemplateCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("hearth_template_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(TemplateCommand, TemplateFile) {
  const std::string tmpl = write("t.jinja", "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}"
                                            "{% if add_generation_prompt %}>{% endif %}{{ x }}{{ tools | length if tools else '' }}");
  const std::string msgs = write("m.json", R"([{"role": "user", "content": "hé"}])");
  const std::string tools = write("tools.json", R"([{"type": "function"}, {"type": "function"}])");
  CommandResult r = run("--template '" + tmpl + "' --messages '" + msgs + "' --bos '<s>' --var 'x=\"X\"'");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "<s>[user:hé]>X");
  r = run("--template '" + tmpl + "' --messages '" + msgs + "' --no-generation-prompt --tools '" + tools + "'");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "[user:hé]2");
}

TEST_F(TemplateCommand, ModelTemplateAndSpecialTokens) {
  gguf::Writer w;
  w.set_str("general.architecture", "llama");
  w.set_str("tokenizer.chat_template", "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}");
  w.set("tokenizer.ggml.tokens", gguf::Value::of_str_array({"<unk>", "<s>", "</s>", "hi"}));
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  const std::string model = (dir_ / "m.gguf").string();
  w.write(model);
  const std::string msgs = write("m.json", R"([{"role": "user", "content": "hi"}])");
  CommandResult r = run("-m '" + model + "' --messages '" + msgs + "'");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "<s>hi</s>");
  r = run("-m '" + model + "' --messages '" + msgs + "' --eos ''");
  EXPECT_EQ(r.out, "<s>hi");

  // Without a template the model falls back to ChatML (with a note on stderr).
  gguf::Writer bare;
  bare.set_str("general.architecture", "llama");
  const std::string bare_model = (dir_ / "bare.gguf").string();
  bare.write(bare_model);
  r = run("-m '" + bare_model + "' --messages '" + msgs + "'");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"), std::string::npos) << r.out;
}

TEST_F(TemplateCommand, Batch) {
  const std::string tmpl = write("t.jinja", "{% if messages | length == 0 %}{{ raise_exception('empty') }}{% endif %}"
                                            "{{ messages[0].content }}{{ '!' if add_generation_prompt }}{{ v }}");
  const std::string batch = write("b.jsonl",
                                  R"({"messages": [{"role": "user", "content": "a\nb"}]})" "\n"
                                  R"({"messages": [], "extra": {"v": 1}})" "\n"
                                  "\n"
                                  R"({"messages": [{"role": "user", "content": "c"}], "add_generation_prompt": false, "extra": {"v": 2}})" "\n");
  const CommandResult r = run("--template '" + tmpl + "' --batch '" + batch + "'");
  EXPECT_EQ(r.status, 0);
  std::istringstream lines(r.out);
  std::string l1, l2, l3;
  std::getline(lines, l1);
  std::getline(lines, l2);
  std::getline(lines, l3);
  EXPECT_EQ(ojson::parse(l1), "a\nb!");
  EXPECT_EQ(ojson::parse(l2).at("error").get<std::string>().find("empty") != std::string::npos, true) << l2;
  EXPECT_EQ(ojson::parse(l3), "c2");
}

TEST_F(TemplateCommand, FailuresAreOneLineAndExitOne) {
  const std::string msgs = write("m.json", R"([{"role": "user", "content": "x"}])");
  const std::string bad = write("bad.jinja", "line 1\n{% for x in %}");
  CommandResult r = run("--template '" + bad + "' --messages '" + msgs + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out.rfind("error: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("line 2"), std::string::npos) << r.out;
  r = run("--template '" + bad + "'");
  EXPECT_EQ(r.status, 1);
  r = run("--template '" + write("ok.jinja", "x") + "' --messages '" + msgs + "' --var novalue");
  EXPECT_EQ(r.status, 1);
  r = run("--template '" + write("ok2.jinja", "x") + "' --messages '" + write("bad.json", "[{") + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("bad.json"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hearth::chat
