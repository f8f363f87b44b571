// Synthetic model generator. Every weight row is drawn from its own seeded stream
// (seed, tensor name, row), so output does not depend on thread count.
#include "model/synth.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

#include "core/error.h"
#include "core/fp16.h"
#include "core/thread_pool.h"
#include "gguf/gguf.h"
#include "model/vocab.h"
#include "quant/quant.h"
#include "tokenizer/tokenizer.h"

namespace hearth::model {
namespace {

// splitmix64: tiny, portable, good enough for weights.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }  // [0, 1)
  float normal() {  // Box-Muller
    const float u1 = std::max(uniform(), 1e-7f), u2 = uniform();
    return std::sqrt(-2.0f * std::log(u1)) * std::cos(6.2831853f * u2);
  }
};

uint64_t hash_name(const std::string& s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

const std::vector<SynthPreset>& all_presets_for(const std::string& arch) {
  //                name          embd layers head kv  hd   ff    vocab ctx     base     eps    tied  l3rope
  static const std::vector<SynthPreset> llama = {
      {"tiny", 256, 2, 4, 2, 64, 512, 0, 4096, 500000.f, 1e-5f, false, true},
      {"small", 512, 4, 8, 2, 64, 1024, 0, 4096, 500000.f, 1e-5f, true, true},
      {"llama3.2-1b", 2048, 16, 32, 8, 64, 8192, 128256, 131072, 500000.f, 1e-5f, true, true},
  };
  static const std::vector<SynthPreset> qwen2 = {
      {"tiny", 256, 2, 4, 2, 64, 512, 0, 4096, 1000000.f, 1e-6f, false, false},
      {"small", 512, 4, 8, 2, 64, 1024, 0, 4096, 1000000.f, 1e-6f, true, false},
      {"qwen2.5-0.5b", 896, 24, 14, 2, 64, 4864, 151936, 32768, 1000000.f, 1e-6f, true, false},
  };
  static const std::vector<SynthPreset> qwen3 = {
      {"tiny", 256, 2, 4, 2, 64, 512, 0, 4096, 1000000.f, 1e-6f, true, false},
      {"small", 512, 4, 8, 2, 128, 1024, 0, 4096, 1000000.f, 1e-6f, false, false},
      {"qwen3-0.6b", 1024, 28, 16, 8, 128, 3072, 151936, 40960, 1000000.f, 1e-6f, true, false},
      {"qwen3-1.7b", 2048, 28, 16, 8, 128, 6144, 151936, 40960, 1000000.f, 1e-6f, true, false},
  };
  // MoE presets: "tiny"/"small" for tests; real widths with fewer layers (and, for Qwen3, fewer
  // experts) for speed work, each over 1.5 GB in the types these models ship in.
  //                name          embd layers head kv  hd   ff    vocab ctx     base     eps    tied  l3rope
  //                experts used ff_exp swa yarn orig
  static const std::vector<SynthPreset> qwen3moe = {
      {"tiny", 256, 2, 4, 2, 64, 1024, 0, 4096, 1000000.f, 1e-6f, false, false,
       16, 4, 256, 0, 0.f, 0},
      {"small", 512, 4, 8, 2, 128, 2048, 0, 4096, 1000000.f, 1e-6f, false, false,
       32, 4, 512, 0, 0.f, 0},
      // Qwen3-30B-A3B: 48 layers and 128 experts; here 8 layers and 64 experts (~1.8 GB Q4_K).
      {"qwen3-30b-a3b", 2048, 8, 32, 4, 128, 6144, 151936, 40960, 1000000.f, 1e-6f, false, false,
       64, 8, 768, 0, 0.f, 0},
  };
  static const std::vector<SynthPreset> gpt_oss = {
      {"tiny", 256, 2, 4, 2, 64, 256, 0, 131072, 150000.f, 1e-5f, false, false,
       8, 4, 256, 128, 32.f, 4096},
      {"small", 512, 4, 8, 2, 64, 512, 0, 131072, 150000.f, 1e-5f, false, false,
       16, 4, 512, 128, 32.f, 4096},
      // gpt-oss-20b: 24 layers; here 4 (two sliding, two full; ~3 GB with mxfp4_moe).
      {"gpt-oss-20b", 2880, 4, 64, 8, 64, 2880, 201088, 131072, 150000.f, 1e-5f, false, false,
       32, 4, 2880, 128, 32.f, 4096},
  };
  static const std::vector<SynthPreset> none;
  if (arch == "llama") return llama;
  if (arch == "qwen2") return qwen2;
  if (arch == "qwen3") return qwen3;
  if (arch == "qwen3moe") return qwen3moe;
  if (arch == "gpt-oss") return gpt_oss;
  return none;
}

// How one tensor's values are drawn: normal(mean, std) or uniform [lo, hi).
struct Init {
  float mean = 0, std = 0;
  bool uniform = false;
  float lo = 0, hi = 0;
};

// NVFP4 second-level scales of one weight tensor (one per expert slab), computed on first use
// by whichever of the weight and its `.scale` tensor is written first.
struct GlobalScales {
  bool done = false;
  std::vector<float> s;
};

struct TensorPlan {
  std::string name;
  std::vector<int64_t> ne;  // ggml order; 3-D for expert tensors {in, out, n_expert}
  DType type;
  Init init;
  std::shared_ptr<GlobalScales> gscale = {};  // NVFP4 weights and their `.scale` tensors
};

// Values of row r of tensor t (rows counted over every dim but ne[0]).
void fill_row(const TensorPlan& t, uint64_t seed, int64_t r, std::vector<float>& buf) {
  Rng rng{seed ^ (uint64_t(r) * 0xD1B54A32D192ED03ull)};
  for (auto& v : buf)
    v = t.init.uniform ? t.init.lo + (t.init.hi - t.init.lo) * rng.uniform()
                       : t.init.mean + t.init.std * rng.normal();
}

// ModelOpt's NVFP4 recipe: a second-level scale amax / (6 * 448) per tensor (per expert), so
// block scales (E4M3, max 448) times the largest E2M1 value (6) reach the tensor's amax.
void compute_global_scales(const TensorPlan& t, uint64_t seed, ThreadPool& pool) {
  GlobalScales& g = *t.gscale;
  if (g.done) return;
  const int64_t row = t.ne[0], rows_per = t.ne[1], slabs = t.ne.size() > 2 ? t.ne[2] : 1;
  std::vector<float> amax(size_t(rows_per * slabs), 0.0f);
  pool.parallel_for(rows_per * slabs, [&](int64_t r0, int64_t r1, int) {
    std::vector<float> buf(static_cast<size_t>(row));
    for (int64_t r = r0; r < r1; ++r) {
      fill_row(t, seed, r, buf);
      for (float v : buf) amax[size_t(r)] = std::max(amax[size_t(r)], std::fabs(v));
    }
  });
  g.s.assign(size_t(slabs), 0.0f);
  for (int64_t e = 0; e < slabs; ++e) {
    float m = 0.0f;
    for (int64_t r = 0; r < rows_per; ++r) m = std::max(m, amax[size_t(e * rows_per + r)]);
    g.s[size_t(e)] = m > 0.0f ? m / (6.0f * 448.0f) : 1.0f;
  }
  g.done = true;
}

// The quantized type a 2-D weight gets: the requested one, falling back (as llama.cpp's
// quantizer does) when rows are not a whole number of blocks.
DType pick_type(DType want, int64_t row) {
  if (row % dtype_info(want).block_size == 0) return want;
  if (row % 32 == 0 && dtype_info(want).block_size > 32) return DType::Q8_0;
  return DType::F16;
}

}  // namespace

std::vector<SynthPreset> synth_presets(const std::string& arch) { return all_presets_for(arch); }

void synthesize(const SynthOptions& opt, const std::string& path) {
  const auto& presets = all_presets_for(opt.arch);
  if (presets.empty())
    fail("synth: unknown architecture '", opt.arch, "' (llama, qwen2, qwen3, qwen3moe, gpt-oss)");
  const SynthPreset* pp = nullptr;
  for (const auto& p : presets)
    if (p.name == opt.preset) pp = &p;
  if (!pp) {
    std::string names;
    for (const auto& p : presets) names += cat(names.empty() ? "" : ", ", p.name);
    fail("synth: unknown preset '", opt.preset, "' for ", opt.arch, " (", names, ")");
  }
  SynthPreset p = *pp;
  if (opt.n_layer) {
    if (*opt.n_layer <= 0 || *opt.n_layer > 1024) fail("synth: --layers must be in 1..1024");
    p.n_layer = *opt.n_layer;
  }

  // Weight types: one type for every matrix, or a Q4_K_M-like mix.
  const bool mix_q4km = opt.type == "q4_k_m" || opt.type == "Q4_K_M";
  const bool mix_mxfp4_moe = opt.type == "mxfp4_moe" || opt.type == "MXFP4_MOE";
  if (mix_mxfp4_moe && p.n_expert == 0)
    fail("synth: type mxfp4_moe needs an MoE architecture (qwen3moe, gpt-oss)");
  DType main_type = mix_mxfp4_moe ? DType::Q8_0 : DType::Q4_K;
  if (!mix_q4km && !mix_mxfp4_moe) {
    const auto t = dtype_from_name(opt.type);
    if (!t) fail("synth: unknown type '", opt.type, "'");
    main_type = *t;
    if (main_type != DType::F32 && !quant::can_quantize(main_type))
      fail("synth: cannot write weights of type ", dtype_name(main_type));
  }

  // Vocabulary: a real one from tokenizer.json, or the small synthetic one.
  tokenizer::VocabSpec vocab;
  if (!opt.tokenizer_json.empty()) {
    auto slurp = [](const std::string& f, bool required) -> std::optional<std::string> {
      std::ifstream in(f, std::ios::binary);
      if (!in) {
        if (required) fail("synth: cannot read ", f);
        return std::nullopt;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    };
    const std::string tj = *slurp(opt.tokenizer_json, true);
    const std::string dir = opt.tokenizer_json.substr(0, opt.tokenizer_json.find_last_of('/') + 1);
    const auto cfg = slurp(dir + "tokenizer_config.json", false);
    vocab = tokenizer::vocab_from_hf(tj, cfg ? &*cfg : nullptr);
  } else {
    vocab = tokenizer::synthetic_vocab(p.n_vocab > 0 ? int32_t(p.n_vocab) : 512);
  }
  const int64_t n_vocab = int64_t(vocab.tokens.size());

  gguf::Writer w;
  const std::string a = opt.arch;
  w.set_str("general.architecture", a);
  w.set_str("general.name", cat("hearth-synth ", a, " ", p.name, " ", opt.type, " (random weights)"));
  w.set_u32("general.alignment", 32);
  w.set_u32("general.quantization_version", 2);
  w.set_u32(a + ".context_length", uint32_t(p.n_ctx));
  w.set_u32(a + ".embedding_length", uint32_t(p.n_embd));
  w.set_u32(a + ".block_count", uint32_t(p.n_layer));
  w.set_u32(a + ".feed_forward_length", uint32_t(p.n_ff));
  w.set_u32(a + ".attention.head_count", uint32_t(p.n_head));
  w.set_u32(a + ".attention.head_count_kv", uint32_t(p.n_head_kv));
  w.set_u32(a + ".attention.key_length", uint32_t(p.head_dim));
  w.set_u32(a + ".attention.value_length", uint32_t(p.head_dim));
  w.set_u32(a + ".rope.dimension_count", uint32_t(p.head_dim));
  w.set_f32(a + ".rope.freq_base", p.rope_base);
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", p.norm_eps);
  w.set_u32(a + ".vocab_size", uint32_t(n_vocab));
  if (p.n_expert > 0) {
    w.set_u32(a + ".expert_count", uint32_t(p.n_expert));
    w.set_u32(a + ".expert_used_count", uint32_t(p.n_expert_used));
    w.set_u32(a + ".expert_feed_forward_length", uint32_t(p.n_ff_exp));
  }
  if (p.swa > 0) w.set_u32(a + ".attention.sliding_window", uint32_t(p.swa));
  if (p.yarn_factor > 0.0f) {
    w.set_str(a + ".rope.scaling.type", "yarn");
    w.set_f32(a + ".rope.scaling.factor", p.yarn_factor);
    w.set_u32(a + ".rope.scaling.original_context_length", uint32_t(p.yarn_orig_ctx));
  }
  write_vocab(w, vocab);

  // Scales (see docs/ARCHITECTURE.md, "synthetic models"): projections keep unit variance,
  // q/k a bit sharper so attention is not uniform, output logits std sqrt(2 (ln V - 3)) so
  // next-token entropy is about 3 nats.
  const float out_std = std::sqrt(2.0f * std::max(1.0f, std::log(float(n_vocab)) - 3.0f)) /
                        std::sqrt(float(p.n_embd));
  auto normal = [](float stdv) { Init i; i.std = stdv; return i; };
  auto uni = [](float lo, float hi) { Init i; i.uniform = true; i.lo = lo; i.hi = hi; return i; };
  auto mat = [&](const std::string& name) {
    if (mix_mxfp4_moe) return name.find("_exps.") != std::string::npos ? DType::MXFP4 : DType::Q8_0;
    // NVFP4 checkpoints (ModelOpt) quantize the linear layers only; llama.cpp applies no
    // `.scale` to the embedding lookup, so embeddings and the head stay Q8_0.
    if (main_type == DType::NVFP4 && (name == "token_embd.weight" || name == "output.weight"))
      return DType::Q8_0;
    if (!mix_q4km) return main_type;
    if (name == "output.weight" || name.find("attn_v.weight") != std::string::npos) return DType::Q6_K;
    if (name == "token_embd.weight" && p.tied) return DType::Q6_K;
    return DType::Q4_K;
  };
  std::vector<TensorPlan> plan;
  // A matrix (3-D with n_expert > 0: one per expert); NVFP4 ones get their `.scale` tensor.
  auto add_mat = [&](const std::string& name, int64_t in, int64_t out, int64_t n_expert,
                     Init init, DType type) {
    std::vector<int64_t> ne = {in, out};
    if (n_expert > 0) ne.push_back(n_expert);
    plan.push_back({name, ne, type, init});
    if (type == DType::NVFP4) {
      plan.back().gscale = std::make_shared<GlobalScales>();
      const std::string base = name.substr(0, name.rfind(".weight"));
      plan.push_back({base + ".scale", {n_expert > 0 ? n_expert : 1}, DType::F32, Init{},
                      plan.back().gscale});
    }
  };
  auto add2d = [&](const std::string& name, int64_t in, int64_t out, Init init) {
    add_mat(name, in, out, 0, init, pick_type(mat(name), in));
  };
  auto add3d = [&](const std::string& name, int64_t in, int64_t out, Init init) {
    add_mat(name, in, out, p.n_expert, init, pick_type(mat(name), in));
  };
  auto add1d = [&](const std::string& name, int64_t n, Init init) {
    plan.push_back({name, {n}, DType::F32, init});
  };
  // Per-expert biases {n, n_expert} and routers stay F32, as llama.cpp's converter and
  // quantizer leave them.
  auto add_f32_2d = [&](const std::string& name, int64_t in, int64_t out, Init init) {
    plan.push_back({name, {in, out}, DType::F32, init});
  };
  const float emb_std = p.tied ? out_std : 1.0f;
  add2d("token_embd.weight", p.n_embd, n_vocab, normal(emb_std));
  add1d("output_norm.weight", p.n_embd, uni(0.8f, 1.2f));
  if (!p.tied) add2d("output.weight", p.n_embd, n_vocab, normal(out_std));
  if (p.llama3_rope && a == "llama") add1d("rope_freqs.weight", p.head_dim / 2, Init{});
  const int64_t nq = p.n_head * p.head_dim, nkv = p.n_head_kv * p.head_dim;
  const float in_std = 1.0f / std::sqrt(float(p.n_embd));
  for (int64_t il = 0; il < p.n_layer; ++il) {
    const std::string b = cat("blk.", il, ".");
    add1d(b + "attn_norm.weight", p.n_embd, uni(0.8f, 1.2f));
    add2d(b + "attn_q.weight", p.n_embd, nq, normal(1.4f * in_std));
    add2d(b + "attn_k.weight", p.n_embd, nkv, normal(1.4f * in_std));
    add2d(b + "attn_v.weight", p.n_embd, nkv, normal(in_std));
    if (a == "qwen2") {
      add1d(b + "attn_q.bias", nq, normal(0.5f));
      add1d(b + "attn_k.bias", nkv, normal(0.5f));
      add1d(b + "attn_v.bias", nkv, normal(0.1f));
    }
    if (a == "qwen3") {
      add1d(b + "attn_q_norm.weight", p.head_dim, uni(1.0f, 1.6f));
      add1d(b + "attn_k_norm.weight", p.head_dim, uni(1.0f, 1.6f));
    }
    if (a == "qwen3moe") {
      add1d(b + "attn_q_norm.weight", p.head_dim, uni(1.0f, 1.6f));
      add1d(b + "attn_k_norm.weight", p.head_dim, uni(1.0f, 1.6f));
    }
    if (a == "gpt-oss") {
      add1d(b + "attn_q.bias", nq, normal(0.3f));
      add1d(b + "attn_k.bias", nkv, normal(0.3f));
      add1d(b + "attn_v.bias", nkv, normal(0.1f));
      add1d(b + "attn_output.bias", p.n_embd, normal(0.1f));
      // One learned logit per head; comparable to the scores so the sink takes a real share.
      add1d(b + "attn_sinks.weight", p.n_head, uni(-1.0f, 3.0f));
    }
    add2d(b + "attn_output.weight", nq, p.n_embd, normal(1.0f / std::sqrt(float(nq))));
    if (p.n_expert == 0) {
      add1d(b + "ffn_norm.weight", p.n_embd, uni(0.8f, 1.2f));
      add2d(b + "ffn_gate.weight", p.n_embd, p.n_ff, normal(in_std));
      add2d(b + "ffn_up.weight", p.n_embd, p.n_ff, normal(in_std));
      add2d(b + "ffn_down.weight", p.n_ff, p.n_embd, normal(1.0f / std::sqrt(float(p.n_ff))));
      continue;
    }
    // MoE FFN. Router logits with std ~3: routing is clear-cut for most tokens, as in trained
    // routers, so the top-k boundary rarely falls within float noise of a tie (a tie resolved
    // differently by two correct engines swaps an expert: see docs/MOE.md). gpt-oss's gate/up
    // are 3x wider so some values pass the SwiGLU clamp at 7.
    const bool oss = a == "gpt-oss";
    const float gu_std = (oss ? 3.0f : 1.0f) * in_std;
    const float down_std = (oss ? 0.25f : 1.0f) / std::sqrt(float(p.n_ff_exp));
    add1d(b + (oss ? "post_attention_norm.weight" : "ffn_norm.weight"), p.n_embd, uni(0.8f, 1.2f));
    add_f32_2d(b + "ffn_gate_inp.weight", p.n_embd, p.n_expert, normal(3.0f * in_std));
    add3d(b + "ffn_gate_exps.weight", p.n_embd, p.n_ff_exp, normal(gu_std));
    add3d(b + "ffn_up_exps.weight", p.n_embd, p.n_ff_exp, normal(gu_std));
    add3d(b + "ffn_down_exps.weight", p.n_ff_exp, p.n_embd, normal(down_std));
    if (oss) {
      add1d(b + "ffn_gate_inp.bias", p.n_expert, normal(0.5f));
      add_f32_2d(b + "ffn_gate_exps.bias", p.n_ff_exp, p.n_expert, normal(0.5f));
      add_f32_2d(b + "ffn_up_exps.bias", p.n_ff_exp, p.n_expert, normal(0.5f));
      add_f32_2d(b + "ffn_down_exps.bias", p.n_embd, p.n_expert, normal(0.1f));
    }
  }

  const int n_threads = opt.threads > 0 ? opt.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  auto pool = std::make_shared<ThreadPool>(n_threads);
  // Weight seeds by name; a `.scale` tensor needs its weight's seed and init to compute scales.
  std::map<std::string, const TensorPlan*> by_name;
  for (const TensorPlan& t : plan) by_name[t.name] = &t;
  for (const TensorPlan& t : plan) {
    const uint64_t seed = hash_name(t.name, opt.seed);
    if (t.gscale && t.type == DType::F32) {  // `<base>.scale` of an NVFP4 weight
      const TensorPlan& wt = *by_name.at(t.name.substr(0, t.name.rfind(".scale")) + ".weight");
      const uint64_t wseed = hash_name(wt.name, opt.seed);
      w.add_tensor(t.name, t.type, t.ne, [wt, wseed, pool](uint8_t* dst, size_t nbytes) {
        compute_global_scales(wt, wseed, *pool);
        std::memcpy(dst, wt.gscale->s.data(), nbytes);
      });
      continue;
    }
    w.add_tensor(t.name, t.type, t.ne, [t, seed, pool, p](uint8_t* dst, size_t nbytes) {
      const int64_t row = t.ne[0];
      int64_t rows = 1;
      for (size_t d = 1; d < t.ne.size(); ++d) rows *= t.ne[d];
      const size_t rb = row_bytes(t.type, row);
      if (t.gscale) compute_global_scales(t, seed, *pool);
      if (t.name == "rope_freqs.weight") {
        // Llama 3.1 "llama3" scaling (factor 32, low 1, high 4, original context 8192):
        // per-pair divisors of the RoPE frequencies.
        std::vector<float> f(static_cast<size_t>(row));
        const float factor = 32.0f, low = 1.0f, high = 4.0f, old_ctx = 8192.0f;
        for (int64_t i = 0; i < row; ++i) {
          const float freq = 1.0f / std::pow(p.rope_base, float(2 * i) / float(p.head_dim));
          const float wavelen = 2.0f * float(M_PI) / freq;
          if (wavelen < old_ctx / high) f[size_t(i)] = 1.0f;
          else if (wavelen > old_ctx / low) f[size_t(i)] = factor;
          else {
            const float s = (old_ctx / wavelen - low) / (high - low);
            f[size_t(i)] = 1.0f / ((1.0f - s) / factor + s);
          }
        }
        std::memcpy(dst, f.data(), nbytes);
        return;
      }
      pool->parallel_for(rows, [&](int64_t r0, int64_t r1, int) {
        std::vector<float> buf(static_cast<size_t>(row));
        for (int64_t r = r0; r < r1; ++r) {
          fill_row(t, seed, r, buf);
          if (t.gscale) {  // NVFP4: blocks encode w / (global scale of this row's expert)
            const float inv = 1.0f / t.gscale->s[size_t(r / t.ne[1])];
            for (auto& v : buf) v *= inv;
          }
          uint8_t* out = dst + size_t(r) * rb;
          if (t.type == DType::F32) std::memcpy(out, buf.data(), rb);
          else quant::quantize_row(t.type, buf.data(), out, row);
        }
      });
    });
  }
  w.write(path);
}

}  // namespace hearth::model
