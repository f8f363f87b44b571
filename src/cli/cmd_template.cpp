// `hearth template`: renders a chat template (from a GGUF's tokenizer.chat_template or a file)
// over OpenAI-style messages and prints the prompt to stdout, nothing else.
//
//   hearth template -m model.gguf --messages chat.json [--tools tools.json] [--var enable_thinking=false]
//   hearth template --template t.jinja --messages chat.json --bos '<s>' --eos '</s>' --no-generation-prompt
//   hearth template --template t.jinja --batch cases.jsonl   -> one JSON string (or {"error":...}) per line
//
// A --batch line is an object with "messages" and optionally "tools", "add_generation_prompt",
// "bos_token", "eos_token" and "extra" (template variables); absent fields take the values given
// on the command line.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "cli/commands.h"
#include "core/error.h"
#include "gguf/gguf.h"

namespace hearth::cli {

namespace {

using ojson = nlohmann::ordered_json;

struct TemplateOptions {
  std::string model;
  std::string template_file;
  std::string template_name;
  std::string messages_file;
  std::string tools_file;
  std::string batch_file;
  bool no_generation_prompt = false;
  bool strict = false;
  std::string bos, eos;
  bool bos_set = false, eos_set = false;
  std::vector<std::string> vars;
};

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

ojson read_json_file(const std::string& path) {
  const std::string text = read_text_file(path);
  try {
    return ojson::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": invalid JSON: ", e.what());
  }
}

// The template and default special tokens of a GGUF model.
struct ModelTemplate {
  std::string source;
  std::string bos, eos;
  bool found = false;
};

ModelTemplate read_model_template(const std::string& path, const std::string& name) {
  ModelTemplate out;
  auto file = gguf::File::open(path);
  const std::string key = name.empty() ? "tokenizer.chat_template" : "tokenizer.chat_template." + name;
  if (auto s = file->get_string(key)) {
    out.source = *s;
    out.found = true;
  } else if (!name.empty()) {
    fail(path, ": no ", key, " in the model");
  }
  const std::vector<std::string>* tokens = file->get_string_array("tokenizer.ggml.tokens");
  const auto token = [&](const char* id_key) -> std::string {
    const auto id = file->get_uint(id_key);
    if (!id || !tokens) return {};
    if (*id >= tokens->size()) fail(path, ": ", id_key, " = ", *id, " is outside the vocabulary");
    return (*tokens)[*id];
  };
  out.bos = token("tokenizer.ggml.bos_token_id");
  out.eos = token("tokenizer.ggml.eos_token_id");
  return out;
}

ojson parse_vars(const std::vector<std::string>& vars) {
  ojson extra = ojson::object();
  for (const std::string& v : vars) {
    const size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0) fail("--var ", v, ": expected KEY=JSON");
    try {
      extra[v.substr(0, eq)] = ojson::parse(v.substr(eq + 1));
    } catch (const nlohmann::json::exception&) {
      fail("--var ", v, ": the value is not valid JSON (strings need quotes: KEY='\"text\"')");
    }
  }
  return extra;
}

chat::jinja::Options jinja_options(const TemplateOptions& o) {
  chat::jinja::Options opt;
  opt.extensions = !o.strict;
  return opt;
}

std::string json_line(const ojson& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void run_template(const TemplateOptions& o) {
  if (o.model.empty() == o.template_file.empty()) fail("hearth template: give exactly one of -m MODEL.gguf or --template FILE");
  if (o.batch_file.empty() && o.messages_file.empty()) fail("hearth template: --messages FILE.json is required");

  std::string source;
  chat::RenderOptions base;
  if (!o.model.empty()) {
    ModelTemplate mt = read_model_template(o.model, o.template_name);
    if (mt.found) {
      source = std::move(mt.source);
    } else {
      std::fprintf(stderr, "note: %s has no tokenizer.chat_template; using ChatML\n", o.model.c_str());
      source = chat::ChatTemplate::chatml_source();
    }
    base.bos_token = mt.bos;
    base.eos_token = mt.eos;
  } else {
    source = read_text_file(o.template_file);
  }
  if (o.bos_set) base.bos_token = o.bos;
  if (o.eos_set) base.eos_token = o.eos;
  base.add_generation_prompt = !o.no_generation_prompt;
  if (!o.tools_file.empty()) base.tools = read_json_file(o.tools_file);
  base.extra = parse_vars(o.vars);

  if (o.batch_file.empty()) {
    const chat::ChatTemplate tmpl(std::move(source), jinja_options(o));
    const std::string out = tmpl.render(read_json_file(o.messages_file), base);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return;
  }

  // Batch: a syntax error is reported on every line, so the caller sees one answer per case.
  std::unique_ptr<chat::ChatTemplate> tmpl;
  std::string syntax_error;
  try {
    tmpl = std::make_unique<chat::ChatTemplate>(std::move(source), jinja_options(o));
  } catch (const Error& e) {
    syntax_error = e.what();
  }
  std::ifstream in(o.batch_file, std::ios::binary);
  if (!in) fail(o.batch_file, ": cannot open");
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string answer;
    try {
      ojson c;
      try {
        c = ojson::parse(line);
      } catch (const nlohmann::json::exception& e) {
        fail(o.batch_file, ":", line_no, ": invalid JSON: ", e.what());
      }
      if (!c.is_object() || !c.contains("messages")) fail(o.batch_file, ":", line_no, ": expected an object with \"messages\"");
      if (!syntax_error.empty()) throw Error(syntax_error);
      chat::RenderOptions opt = base;
      if (c.contains("tools")) opt.tools = c["tools"];
      if (c.contains("add_generation_prompt")) opt.add_generation_prompt = c["add_generation_prompt"].get<bool>();
      if (c.contains("bos_token")) opt.bos_token = c["bos_token"].get<std::string>();
      if (c.contains("eos_token")) opt.eos_token = c["eos_token"].get<std::string>();
      if (c.contains("extra")) opt.extra = c["extra"];
      answer = json_line(ojson(tmpl->render(c["messages"], opt)));
    } catch (const Error& e) {
      answer = json_line(ojson{{"error", e.what()}});
    } catch (const nlohmann::json::exception& e) {
      answer = json_line(ojson{{"error", cat(o.batch_file, ":", line_no, ": ", e.what())}});
    }
    std::fwrite(answer.data(), 1, answer.size(), stdout);
  }
  std::fflush(stdout);
}

}  // namespace

void add_template_command(CLI::App& app) {
  auto opts = std::make_shared<TemplateOptions>();
  CLI::App* cmd = app.add_subcommand("template", "Render a chat template over messages and print the prompt");
  cmd->add_option("-m,--model", opts->model, "GGUF model whose tokenizer.chat_template is used");
  cmd->add_option("--template", opts->template_file, "Jinja template file (instead of a model)");
  cmd->add_option("--template-name", opts->template_name, "Use tokenizer.chat_template.NAME from the model");
  cmd->add_option("--messages", opts->messages_file, "JSON file with the messages array");
  cmd->add_option("--tools", opts->tools_file, "JSON file with an array of tool definitions");
  cmd->add_flag("--no-generation-prompt", opts->no_generation_prompt, "Set add_generation_prompt to false");
  cmd->add_option("--bos", opts->bos, "bos_token string (default: the model's BOS token)")
      ->each([opts](const std::string&) { opts->bos_set = true; });
  cmd->add_option("--eos", opts->eos, "eos_token string (default: the model's EOS token)")
      ->each([opts](const std::string&) { opts->eos_set = true; });
  cmd->add_option("--var", opts->vars, "Template variable KEY=JSON (repeatable), e.g. enable_thinking=false");
  cmd->add_flag("--strict", opts->strict,
                "Reject the Jinja2 features @huggingface/jinja lacks (raw blocks, test arguments, extra filters)");
  cmd->add_option("--batch", opts->batch_file, "JSON lines of cases; prints one JSON string (or {\"error\":...}) per line");
  cmd->callback([opts] { run_template(*opts); });
}

}  // namespace hearth::cli
