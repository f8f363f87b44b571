// `hearth tokenize`: prints the token ids (or ids and pieces) of a text for a GGUF's vocabulary,
// like llama.cpp's llama-tokenize. Only argument handling and output formatting live here.
//
//   hearth tokenize -m model.gguf "Hello world"        -> "9707 1879"
//   hearth tokenize -m model.gguf --file in.txt --json  -> [{"id":9707,"piece":"Hello"},...]
//   hearth tokenize -m model.gguf --jsonl - < in.jsonl  -> one {"ids":[...],"text":...} per line
//
// Developer options (hidden) write vocabulary-only GGUFs for tests:
//   --write-vocab-gguf OUT --hf-tokenizer tokenizer.json [--hf-config tokenizer_config.json]
//   --write-vocab-gguf OUT --synthetic-vocab N
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "gguf/gguf.h"
#include "model/vocab.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace hearth::cli {

namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  std::string file;
  bool json = false;
  bool jsonl = false;
  bool no_bos = false;
  bool no_special = false;
  std::string write_vocab;
  std::string hf_tokenizer;
  std::string hf_config;
  int32_t synthetic = 0;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string read_stdin() {
  std::ostringstream ss;
  ss << std::cin.rdbuf();
  return ss.str();
}

std::string to_hex(const std::string& bytes) {
  static const char* hex = "0123456789abcdef";
  std::string h;
  for (unsigned char c : bytes) {
    h.push_back(hex[c >> 4]);
    h.push_back(hex[c & 15]);
  }
  return h;
}

// A piece as a JSON value: valid UTF-8 as is; otherwise invalid bytes become U+FFFD and the
// exact bytes are given in hex alongside.
nlohmann::json piece_json(int32_t id, const std::string& piece) {
  nlohmann::json j = {{"id", id}};
  const std::vector<uint32_t> cps = tokenizer::unicode::decode_lenient(piece);
  std::string re;
  for (uint32_t cp : cps) tokenizer::unicode::append_utf8(re, cp);
  j["piece"] = re;
  if (re != piece) j["bytes"] = to_hex(piece);
  return j;
}

std::string hex_decode(const std::string& hex) {
  std::string out;
  int hi = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else if (c == ' ') continue;
    else fail("--jsonl: \"hex\" has a non-hex character '", c, "'");
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  if (hi >= 0) fail("--jsonl: \"hex\" has an odd number of digits");
  return out;
}

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write_vocab_gguf(const TokenizeOptions& o) {
  tokenizer::VocabSpec spec;
  if (o.synthetic > 0) {
    spec = tokenizer::synthetic_vocab(o.synthetic);
  } else if (!o.hf_tokenizer.empty()) {
    const std::string tj = read_file(o.hf_tokenizer);
    std::string cfg;
    if (!o.hf_config.empty()) cfg = read_file(o.hf_config);
    spec = tokenizer::vocab_from_hf(tj, o.hf_config.empty() ? nullptr : &cfg);
  } else {
    fail("--write-vocab-gguf needs --hf-tokenizer FILE or --synthetic-vocab N");
  }
  tokenizer::Tokenizer check(spec);  // refuse to write a vocabulary we cannot load
  gguf::Writer w;
  w.set_str("general.architecture", "llama");
  w.set_str("general.name", "vocab");
  // Minimal hyperparameters so llama.cpp accepts the file with vocab_only.
  w.set_u32("llama.context_length", 4096);
  w.set_u32("llama.embedding_length", 64);
  w.set_u32("llama.block_count", 1);
  w.set_u32("llama.feed_forward_length", 128);
  w.set_u32("llama.attention.head_count", 1);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  model::write_vocab(w, spec);
  w.write(o.write_vocab);
}

void run_tokenize(const TokenizeOptions& o) {
  if (!o.write_vocab.empty()) {
    write_vocab_gguf(o);
    return;
  }
  if (o.model.empty()) fail("tokenize: -m/--model FILE is required");
  std::string input;
  if (!o.file.empty()) {
    input = o.file == "-" ? read_stdin() : read_file(o.file);
  } else if (o.text == "-") {
    input = read_stdin();
  } else {
    input = o.text;
  }
  const auto file = gguf::File::open(o.model);
  const tokenizer::Tokenizer tok(model::read_vocab(*file));
  const bool add_special = !o.no_bos;
  const bool parse_special = !o.no_special;

  if (o.jsonl) {
    // One JSON object per input line: {"text": "..."} or {"hex": "e38182"} (raw bytes).
    std::istringstream lines(input);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      nlohmann::json in;
      try {
        in = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception& e) {
        fail("--jsonl: input line is not JSON: ", e.what());
      }
      std::string text;
      if (in.contains("text") && in["text"].is_string()) text = in["text"].get<std::string>();
      else if (in.contains("hex") && in["hex"].is_string()) text = hex_decode(in["hex"].get<std::string>());
      else fail("--jsonl: each line needs \"text\" or \"hex\"");
      const std::vector<int32_t> ids = tok.encode(text, add_special, parse_special);
      nlohmann::json out = {{"ids", ids}};
      const std::string decoded = tok.decode(ids, true);
      out["text"] = decoded;  // invalid UTF-8 shown as U+FFFD; exact bytes in text_hex
      out["text_hex"] = to_hex(decoded);
      std::fputs(dump(out).c_str(), stdout);
      std::fputc('\n', stdout);
    }
    return;
  }

  const std::vector<int32_t> ids = tok.encode(input, add_special, parse_special);
  if (o.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (int32_t id : ids) arr.push_back(piece_json(id, tok.token_to_piece(id, true)));
    std::fputs(dump(arr).c_str(), stdout);
    std::fputc('\n', stdout);
    return;
  }
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ' ';
    line += std::to_string(ids[i]);
  }
  line += '\n';
  std::fputs(line.c_str(), stdout);
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* sub = app.add_subcommand("tokenize", "Print the token ids of a text for a GGUF's vocabulary");
  sub->add_option("-m,--model", o->model, "GGUF file whose vocabulary to use");
  sub->add_option("text", o->text, "Text to tokenize ('-' reads standard input)");
  sub->add_option("--file", o->file, "Read the text from a file ('-' = standard input)");
  sub->add_flag("--json", o->json, "Print [{\"id\":..,\"piece\":\"..\"},...]");
  sub->add_flag("--jsonl", o->jsonl,
                "Input is JSON lines {\"text\":..} or {\"hex\":..}; print {\"ids\":[..],\"text\":..,\"text_hex\":..} per line");
  sub->add_flag("--no-bos", o->no_bos, "Do not add BOS/EOS even if the vocabulary asks for them");
  sub->add_flag("--no-special", o->no_special, "Do not turn control-token text into control tokens");
  sub->add_option("--write-vocab-gguf", o->write_vocab)->group("");
  sub->add_option("--hf-tokenizer", o->hf_tokenizer)->group("");
  sub->add_option("--hf-config", o->hf_config)->group("");
  sub->add_option("--synthetic-vocab", o->synthetic)->group("");
  sub->callback([o] { run_tokenize(*o); });
}

}  // namespace hearth::cli
