// The hearth executable on bad input: one clear line on stderr naming what is wrong, exit code
// 1, no crash (no signal), nothing half-written. Malformed models are made by rewriting a valid
// synthetic model with one thing broken.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include "gguf/gguf.h"

namespace hearth {
namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;       // exit code, or -signal
  std::string out, err;
};

std::string tmpdir() {
  static const std::string d = [] {
    const fs::path p = fs::temp_directory_path() / ("hearth_cli_test_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p.string();
  }();
  return d;
}

Result run(const std::string& args) {
  const std::string err_file = tmpdir() + "/stderr.txt";
  const std::string cmd = std::string(HEARTH_BINARY) + " " + args + " 2>" + err_file;
  Result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

// A valid tiny model, built once.
const std::string& tiny_model() {
  static const std::string path = [] {
    const std::string p = tmpdir() + "/tiny.gguf";
    const Result r = run("synth --arch qwen3 --preset tiny --type q8_0 -o " + p);
    EXPECT_EQ(r.code, 0) << r.err;
    return p;
  }();
  return path;
}

// Copies `src` to `dst` through the GGUF reader and writer, letting `edit` change metadata and
// tensors on the way.
struct Edit {
  std::function<void(std::vector<std::pair<std::string, gguf::Value>>&)> kv;
  std::function<bool(const gguf::TensorInfo&, DType&, std::vector<int64_t>&)> tensor;  // false: drop
};
std::string rewrite(const std::string& name, const Edit& e) {
  auto f = gguf::File::open(tiny_model());
  auto kv = f->metadata();
  if (e.kv) e.kv(kv);
  gguf::Writer w;
  for (auto& [k, v] : kv) w.set(k, v);
  for (const auto& t : f->tensors()) {
    DType type = t.type;
    std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
    if (e.tensor && !e.tensor(t, type, ne)) continue;
    const gguf::TensorInfo* tp = &t;
    w.add_tensor(t.name, type, ne, [tp](uint8_t* dst, size_t nb) {
      std::memset(dst, 0, nb);
      std::memcpy(dst, tp->data, std::min<size_t>(nb, tp->nbytes));
    });
  }
  const std::string out = tmpdir() + "/" + name;
  w.write(out);
  return out;
}

// Exactly one line on stderr, starting with "error:", containing `want`.
void expect_clean_error(const Result& r, const std::string& want) {
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(want), std::string::npos) << "expected '" << want << "' in: " << r.err;
}

TEST(CliErrors, MissingFile) {
  expect_clean_error(run("info -m /nonexistent/dir/model.gguf"), "/nonexistent/dir/model.gguf: cannot open");
}

TEST(CliErrors, NotAGguf) {
  const std::string p = tmpdir() + "/text.gguf";
  std::ofstream(p) << "this is not a model\n";
  expect_clean_error(run("info -m " + p), "not a GGUF file");
}

TEST(CliErrors, TruncatedFile) {
  const std::string p = tmpdir() + "/truncated.gguf";
  fs::copy_file(tiny_model(), p, fs::copy_options::overwrite_existing);
  fs::resize_file(p, fs::file_size(p) / 2);
  expect_clean_error(run("run -m " + p + " -p hi -n 1"), "extends past the end of the file");
}

TEST(CliErrors, WrongTensorShape) {
  const std::string p = rewrite("shape.gguf", {nullptr, [](const gguf::TensorInfo& t, DType&, std::vector<int64_t>& ne) {
                                  if (t.name == "blk.1.attn_k.weight") ne[1] /= 2;
                                  return true;
                                }});
  expect_clean_error(run("info -m " + p), "tensor blk.1.attn_k.weight has shape {256, 64}, expected {256, 128}");
}

TEST(CliErrors, MissingTensor) {
  const std::string p = rewrite("missing.gguf", {nullptr, [](const gguf::TensorInfo& t, DType&, std::vector<int64_t>&) {
                                  return t.name != "blk.0.ffn_down.weight";
                                }});
  expect_clean_error(run("info -m " + p), "tensor blk.0.ffn_down.weight is missing");
}

TEST(CliErrors, UnknownArchitecture) {
  const std::string p = rewrite("arch.gguf", {[](auto& kv) {
                                  for (auto& [k, v] : kv)
                                    if (k == "general.architecture") v = gguf::Value::of_str("mystery");
                                }, nullptr});
  expect_clean_error(run("run -m " + p + " -p hi"), "unknown architecture 'mystery'");
}

TEST(CliErrors, UnsupportedTensorTypeNamesIt) {
  const std::string p = rewrite("iq2.gguf", {nullptr, [](const gguf::TensorInfo& t, DType& type, std::vector<int64_t>&) {
                                  if (t.name == "blk.0.attn_q.weight") type = DType::IQ2_XXS;
                                  return true;
                                }});
  expect_clean_error(run("info -m " + p), "type iq2_xxs");
}

TEST(CliErrors, MissingHyperparameter) {
  const std::string p = rewrite("nokey.gguf", {[](auto& kv) {
                                  std::erase_if(kv, [](const auto& e) { return e.first == "qwen3.block_count"; });
                                }, nullptr});
  expect_clean_error(run("info -m " + p), "key qwen3.block_count is missing");
}

TEST(CliErrors, PromptLongerThanContext) {
  expect_clean_error(run("run -m " + tiny_model() + " --ctx 8 -p \"" + std::string(200, 'x') + " and more words here\""),
                     "too long");
}

TEST(CliErrors, TokenOutsideVocabulary) {
  expect_clean_error(run("logprobs -m " + tiny_model() + " --tokens 1,2,999999"), "outside the vocabulary");
}

TEST(CliErrors, SynthDoesNotLeaveAPartialFile) {
  const std::string p = tmpdir() + "/bad-synth.gguf";
  const Result r = run("synth --arch qwen3 --preset nosuch --type q8_0 -o " + p);
  expect_clean_error(r, "unknown preset 'nosuch'");
  EXPECT_FALSE(fs::exists(p));
  EXPECT_FALSE(fs::exists(p + ".tmp"));
}

TEST(CliErrors, UnknownOptionIsAUsageError) {
  const Result r = run("run --no-such-flag");
  EXPECT_NE(r.code, 0);
  EXPECT_GT(r.code, 0);  // not a signal
}

TEST(Cli, RunGeneratesAndReportsSpeed) {
  const Result r = run("run -m " + tiny_model() + " -p hello -n 5 --temp 0");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("prompt:"), std::string::npos);
  EXPECT_NE(r.err.find("tok/s"), std::string::npos);
}

TEST(Cli, GreedyRunIsDeterministic) {
  const Result a = run("run -m " + tiny_model() + " -p hello -n 12 --temp 0");
  const Result b = run("run -m " + tiny_model() + " -p hello -n 12 --temp 0 -t 1");
  EXPECT_EQ(a.out, b.out);
  const Result c = run("run -m " + tiny_model() + " -p hello -n 12 --seed 5");
  const Result d = run("run -m " + tiny_model() + " -p hello -n 12 --seed 5");
  EXPECT_EQ(c.out, d.out);
}

// --moe-stats: one histogram per layer whose counts add up to the selections, which are the
// evaluated tokens (prompt + generated - 1: the last sampled token is never fed back) times the
// experts per token (4 in the tiny qwen3moe preset).
TEST(Cli, RunMoeStatsHistograms) {
  const std::string p = tmpdir() + "/tiny_moe.gguf";
  const Result s = run("synth --arch qwen3moe --preset tiny --type q8_0 -o " + p);
  ASSERT_EQ(s.code, 0) << s.err;
  const Result r = run("run -m " + p + " -p 'hello world' -n 7 --temp 0 --ignore-eos --moe-stats");
  ASSERT_EQ(r.code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex(R"(prompt: +(\d+) tokens)"))) << r.err;
  const long n_prompt = std::stol(m[1]);
  ASSERT_TRUE(std::regex_search(r.err, m, std::regex(R"(generation: +(\d+) tokens)"))) << r.err;
  const long n_gen = std::stol(m[1]);
  EXPECT_EQ(n_gen, 7);
  const std::regex layer_re(R"(layer +(\d+): (\d+) selections, (\d+)/16 experts used, top: [^\n]*\n  counts: ([0-9 ]+))");
  int layers = 0;
  for (auto it = std::sregex_iterator(r.err.begin(), r.err.end(), layer_re); it != std::sregex_iterator(); ++it) {
    const std::smatch& lm = *it;
    EXPECT_EQ(std::stol(lm[1]), layers);
    const long sel = std::stol(lm[2]);
    EXPECT_EQ(sel, (n_prompt + n_gen - 1) * 4);
    std::istringstream counts(lm[4].str());
    long sum = 0, v, n = 0, used = 0;
    while (counts >> v) sum += v, ++n, used += v > 0;
    EXPECT_EQ(n, 16);
    EXPECT_EQ(sum, sel);
    EXPECT_EQ(used, std::stol(lm[3]));
    ++layers;
  }
  EXPECT_EQ(layers, 2) << r.err;
  const Result d = run("run -m " + tiny_model() + " -p hello -n 2 --moe-stats");
  EXPECT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.err.find("not a mixture-of-experts model"), std::string::npos) << d.err;
}

}  // namespace
}  // namespace hearth
