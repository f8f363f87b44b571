// Model operations on top of the kernel table and the thread pool.
#include "model/ops.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/thread_pool.h"
#include "gguf/gguf.h"
#include "kernels/kernels.h"
#include "core/fp16.h"
#include "quant/quant.h"

namespace hearth::model::ops {
namespace {

// Elementwise work up to this many floats runs on the calling thread: a parallel region's
// fork/join (a few microseconds on a loaded machine) costs more than the work.
constexpr int64_t kInlineFloats = 8192;

// Smallest chunk of weights a decode product is cut into (see matmul).
constexpr int64_t kMinChunkBytes = 64 << 10;

int act_slot(DType t) {
  switch (t) {
    case DType::Q8_0: return 0;
    case DType::Q8_K: return 1;
    case DType::Q8_1: return 2;
    default: return 3;  // F32 / F16 / BF16 (rarely mixed within one input)
  }
}

}  // namespace

const QuantizedActs& quantize(const ForwardEnv& env, Workspace& ws, DType wt, const float* x,
                              int64_t m, int64_t k) {
  const DType at = kernels::act_type(wt);
  QuantizedActs& q = ws.acts[act_slot(at)];
  q.type = at;
  q.rows = m;
  q.cols = k;
  q.row_bytes = row_bytes(at, k);
  if (q.data.size() < size_t(m) * q.row_bytes) q.data.resize(size_t(m) * q.row_bytes);
  const auto fn = env.kernels->quantize_act[int(at)];
  if (!fn) fail("no activation quantizer for ", dtype_name(at));
  if (m == 1) {
    fn(x, q.data.data(), k);
  } else {
    env.pool->parallel_for(m, [&](int64_t r0, int64_t r1, int) {
      for (int64_t r = r0; r < r1; ++r) fn(x + r * k, q.data.data() + r * q.row_bytes, k);
    });
  }
  return q;
}

void matmul(const ForwardEnv& env, std::initializer_list<MatmulOut> outs, const QuantizedActs& x) {
  struct Job {
    kernels::GemmFn gemm;
    int64_t tile;
    const Weight* w;
    float* y;
  };
  Job jobs[8];
  size_t n_jobs = 0;
  if (outs.size() > std::size(jobs)) fail("internal: too many products in one matmul region");
  for (const MatmulOut& o : outs) {
    const Weight& w = *o.w;
    const auto gemm = w.repacked ? env.kernels->gemm_repacked[int(w.type)] : env.kernels->gemm[int(w.type)];
    if (!gemm) fail("no matrix multiplication kernel for ", dtype_name(w.type));
    if (x.type != kernels::act_type(w.type) || x.cols != w.n_in())
      fail("internal: activations do not match weight ", w.info ? w.info->name : "?");
    // Row ranges in multiples of the kernel's tile (8 rows, or the repacked row group).
    const int64_t tile = w.repacked ? std::max<int64_t>(8, env.kernels->repack_rows[int(w.type)]) : 8;
    jobs[n_jobs++] = {gemm, tile, &w, o.y};
  }
  auto rows_of = [&](const Job& jb, int64_t part, int64_t parts, int64_t* r0, int64_t* r1) {
    const int64_t n = jb.w->n_out();
    const int64_t tiles = (n + jb.tile - 1) / jb.tile;
    *r0 = std::min(n, tiles * part / parts * jb.tile);
    *r1 = std::min(n, tiles * (part + 1) / parts * jb.tile);
  };
  auto call = [&](const Job& jb, int64_t r0, int64_t r1) {
    if (r0 < r1)
      jb.gemm(jb.w->n_in(), jb.w->data, jb.w->row_bytes, r0, r1, x.data.data(), x.row_bytes,
              x.rows, jb.y, jb.w->n_out());
  };
  const int nth = env.pool->size();
  if (x.rows > kDecodeRows || nth == 1) {
    // Prefill: arithmetic-bound and even, one contiguous share of every product per thread.
    env.pool->run([&](int ith, int nth_) {
      for (size_t j = 0; j < n_jobs; ++j) {
        int64_t r0, r1;
        rows_of(jobs[j], ith, nth_, &r0, &r1);
        call(jobs[j], r0, r1);
      }
    });
  } else {
    // Decode: bandwidth-bound, and the cores of a shared machine do not stream equally fast, so
    // each product is cut into chunks (up to kDecodeChunksPerThread per thread, at least
    // kMinChunkBytes of weights each) handed out by ThreadPool::for_each_chunk: every thread
    // streams its own run of chunks, then takes what another has left. Small chunks keep the
    // tail short: chunks of equal bytes over all products of the region (~150 KiB for Qwen3-0.6B's
    // Q/K/V) decoded 3.5% slower than these (6 interleaved pairs).
    int64_t first[std::size(jobs) + 1] = {0};
    int64_t parts[std::size(jobs)];
    for (size_t j = 0; j < n_jobs; ++j) {
      const Job& jb = jobs[j];
      const int64_t tiles = (jb.w->n_out() + jb.tile - 1) / jb.tile;
      const int64_t bytes = jb.w->n_out() * int64_t(jb.w->row_bytes);
      parts[j] = std::clamp<int64_t>(bytes / kMinChunkBytes, 1, int64_t(nth) * kDecodeChunksPerThread);
      parts[j] = std::min(parts[j], tiles);
      first[j + 1] = first[j] + parts[j];
    }
    env.pool->for_each_chunk(first[n_jobs], [&](int64_t c, int) {
      size_t j = 0;
      while (c >= first[j + 1]) ++j;
      int64_t r0, r1;
      rows_of(jobs[j], c - first[j], parts[j], &r0, &r1);
      call(jobs[j], r0, r1);
    });
  }
  for (size_t j = 0; j < n_jobs; ++j) {
    const Job& jb = jobs[j];
    if (jb.w->scale != 1.0f) {
      const int64_t total = x.rows * jb.w->n_out();
      for (int64_t i = 0; i < total; ++i) jb.y[i] *= jb.w->scale;
    }
  }
}

void matmul(const ForwardEnv& env, const Weight& w, const QuantizedActs& x, float* y) {
  matmul(env, {MatmulOut{&w, y}}, x);
}

void matmul(const ForwardEnv& env, Workspace& ws, const Weight& w, const float* x, int64_t m,
            float* y) {
  matmul(env, w, quantize(env, ws, w.type, x, m, w.n_in()), y);
}

void add_bias(const std::vector<float>& bias, float* y, int64_t m, int64_t n) {
  if (bias.empty()) return;
  for (int64_t r = 0; r < m; ++r)
    for (int64_t i = 0; i < n; ++i) y[r * n + i] += bias[size_t(i)];
}

void rmsnorm(const ForwardEnv& env, const float* x, const std::vector<float>& w, float* y,
             int64_t m, int64_t n, float eps) {
  const float* wp = w.empty() ? nullptr : w.data();
  auto fn = env.kernels->rmsnorm;
  // Decode-sized work (a few rows, or one token's heads: ~2k floats) costs less than waking
  // the pool.
  if (m < 4 || m * n <= kInlineFloats) {
    for (int64_t r = 0; r < m; ++r) fn(x + r * n, wp, y + r * n, n, eps);
    return;
  }
  env.pool->parallel_for(m, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) fn(x + r * n, wp, y + r * n, n, eps);
  });
}

void rmsnorm_heads(const ForwardEnv& env, float* x, const std::vector<float>& w, int64_t m,
                   int64_t n_head, int64_t head_dim, float eps) {
  rmsnorm(env, x, w, x, m * n_head, head_dim, eps);
}

namespace {

// ggml_rope_yarn_corr_dims: the dims where YaRN switches from interpolation to extrapolation.
void yarn_corr_dims(int n_dims, int n_ctx_orig, float base, float beta_fast, float beta_slow,
                    float dims[2]) {
  auto corr = [&](float n_rot) {
    return float(n_dims) * std::log(float(n_ctx_orig) / (n_rot * 2.0f * float(M_PI))) /
           (2.0f * std::log(base));
  };
  dims[0] = std::max(0.0f, std::floor(corr(beta_fast)));
  dims[1] = std::min(float(n_dims - 1), std::ceil(corr(beta_slow)));
}

// cos/sin of every rotated pair of every batch token: [n_tokens, n_rot/2].
void build_rope_cache(Workspace& ws, const RopeParams& p, const Batch& batch) {
  const int64_t half = p.n_rot / 2;
  ws.rope_cos.resize(batch.size() * half);
  ws.rope_sin.resize(batch.size() * half);
  const float theta_scale = std::pow(p.freq_base, -2.0f / float(p.n_rot));
  float corr[2] = {0, 0};
  if (p.ext_factor != 0.0f)
    yarn_corr_dims(p.n_rot, p.n_ctx_orig, p.freq_base, p.beta_fast, p.beta_slow, corr);
  for (size_t t = 0; t < batch.size(); ++t) {
    float theta = float(batch.pos[t]);
    for (int64_t i = 0; i < half; ++i) {
      const float ff = p.freq_factors.empty() ? 1.0f : p.freq_factors[size_t(i)];
      // rope_yarn: interpolate, optionally mix with extrapolation near high frequencies.
      const float theta_extrap = theta / ff;
      const float theta_interp = p.freq_scale * theta_extrap;
      float th = theta_interp;
      float mscale = p.attn_factor;
      if (p.ext_factor != 0.0f) {
        const float y = (float(i) - corr[0]) / std::max(0.001f, corr[1] - corr[0]);
        const float ramp = (1.0f - std::min(1.0f, std::max(0.0f, y))) * p.ext_factor;
        th = theta_interp * (1.0f - ramp) + theta_extrap * ramp;
        mscale *= 1.0f + 0.1f * std::log(1.0f / p.freq_scale);
      }
      ws.rope_cos[t * half + i] = std::cos(th) * mscale;
      ws.rope_sin[t * half + i] = std::sin(th) * mscale;
      theta *= theta_scale;
    }
  }
  ws.rope_for = &p;
  ws.rope_batch = &batch;
}

}  // namespace

void rope(const ForwardEnv& env, Workspace& ws, const RopeParams& p, const Batch& batch, float* x,
          int64_t n_head, int64_t head_dim) {
  // The cache is rebuilt when the params or the batch change (once per forward in practice;
  // callers invalidate rope_batch at the start of each forward).
  if (ws.rope_for != &p || ws.rope_batch != &batch) build_rope_cache(ws, p, batch);
  const int64_t half = p.n_rot / 2;
  const int64_t m = int64_t(batch.size());
  auto rotate = [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      const float* c = ws.rope_cos.data() + t * half;
      const float* s = ws.rope_sin.data() + t * half;
      for (int64_t h = 0; h < n_head; ++h) {
        float* v = x + (t * n_head + h) * head_dim;
        if (p.type == RopeType::kNorm) {
          for (int64_t i = 0; i < half; ++i) {
            const float x0 = v[2 * i], x1 = v[2 * i + 1];
            v[2 * i] = x0 * c[i] - x1 * s[i];
            v[2 * i + 1] = x0 * s[i] + x1 * c[i];
          }
        } else {
          for (int64_t i = 0; i < half; ++i) {
            const float x0 = v[i], x1 = v[i + half];
            v[i] = x0 * c[i] - x1 * s[i];
            v[i + half] = x0 * s[i] + x1 * c[i];
          }
        }
      }
    }
  };
  if (m * n_head * head_dim <= kInlineFloats)
    rotate(0, m, 0);
  else
    env.pool->parallel_for(m, rotate);
}

void get_rows(const ForwardEnv& env, const Weight& emb, const int32_t* tokens, int64_t m,
              float* out) {
  const int64_t n = emb.n_in();
  for (int64_t t = 0; t < m; ++t) {
    if (tokens[t] < 0 || tokens[t] >= emb.n_out())
      fail("token id ", tokens[t], " is outside the vocabulary (", emb.n_out(), " tokens)");
    quant::dequantize_row(emb.type, emb.data + size_t(tokens[t]) * emb.row_bytes, out + t * n, n);
  }
}

void kv_store(const ForwardEnv& env, const KvView& kv, int layer, const Batch& batch,
              const float* k, const float* v) {
  const KvView::Layer& l = kv.layers[size_t(layer)];
  auto store = [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      for (int h = 0; h < l.n_head_kv; ++h) {
        env.kernels->f32_to_f16(k + (t * l.n_head_kv + h) * l.head_dim_k,
                                kv.k_at(layer, batch.seq[size_t(t)], batch.pos[size_t(t)], h), l.head_dim_k);
        env.kernels->f32_to_f16(v + (t * l.n_head_kv + h) * l.head_dim_v,
                                kv.v_at(layer, batch.seq[size_t(t)], batch.pos[size_t(t)], h), l.head_dim_v);
      }
    }
  };
  // Prefill writes (and first touches) many cache pages: split it; each token has its own slots.
  const int64_t m = int64_t(batch.size());
  if (m * l.n_head_kv * (l.head_dim_k + l.head_dim_v) <= kInlineFloats)
    store(0, m, 0);
  else
    env.pool->parallel_for(m, store);
}

namespace {

// Queries per attention tile: K/V rows are read once per tile.
constexpr int64_t kQueryTile = 16;
// Keys per attn_scores_f16 / attn_pv_f16 call (their f32 copies of K/V stay in L1/L2).
constexpr int64_t kKeyBlock = 64;
// The per-row loops (decode below the table's attn_block_rows) prefetch the K/V row this many
// keys ahead: a head's rows are contiguous only across blocks allocated in order (one growing
// sequence), and the hardware prefetchers restart wherever they are not (the AVX-512 block
// kernels do the same internally).
constexpr int32_t kRowsAhead = 48;

void prefetch_row(const uint16_t* row, int64_t n) {
  const char* p = reinterpret_cast<const char*>(row);
  for (int64_t b = 0; b < 2 * n; b += 64) __builtin_prefetch(p + b);
}

}  // namespace

void attention(const ForwardEnv& env, Workspace& ws, const KvView& kv, int layer,
               const Batch& batch, const float* q, int64_t n_head, const AttentionParams& p,
               float* out) {
  // Numerics follow llama.cpp's (non flash-attention) graph with an F16 KV cache:
  // kq = mul_mat(K f16, Q) converts Q to f16 first; softmax(kq * scale) in f32 with a double
  // sum; kqv = mul_mat(V f16, P) converts the probabilities P to f16 first. Reproducing both
  // roundings keeps later activation quantization from flipping (see tests/conformance).
  //
  // Work is tiled so each K and V row is read once per tile of queries (up to 16 consecutive
  // tokens x the query heads sharing its KV head) instead of once per query head: decode reads
  // the cache once per KV head (GQA), prefill once per 16 tokens. Two passes per tile (scores,
  // then P·V) because P is rounded after normalization, as in llama.cpp.
  //
  // Tiles of >= kt.attn_block_rows query rows (prefill; GQA decode with AVX-512) run both
  // passes through the block kernels
  // attn_scores_f16 / attn_pv_f16 over kKeyBlock keys at a time: each K/V row is converted to
  // f32 once per block (not once per query row) and register-blocked micro-kernels replace the
  // per-(row, key) dot products (horizontal sums) and axpys (output row streamed per key). They
  // compute every (row, key) pair of the block, masked ones included; masked scores are never
  // read by the softmax and masked probabilities are set to 0 before P·V. Smaller tiles (decode)
  // keep the per-row dot_f32_f16 / axpy_f16 loops, which skip masked pairs.
  const KvView::Layer& l = kv.layers[size_t(layer)];
  const int64_t m = int64_t(batch.size());
  const int64_t group = n_head / l.n_head_kv;
  const int64_t hdk = l.head_dim_k, hdv = l.head_dim_v;

  // Tiles: runs of tokens with the same sequence and consecutive positions.
  std::vector<AttnTile>& tiles = ws.attn_tiles;
  tiles.clear();
  int64_t max_span = 1;
  for (int64_t t = 0; t < m;) {
    int64_t e = t + 1;
    while (e < m && e - t < kQueryTile && batch.seq[size_t(e)] == batch.seq[size_t(t)] &&
           batch.pos[size_t(e)] == batch.pos[size_t(e - 1)] + 1)
      ++e;
    const int32_t p_first = batch.pos[size_t(t)], p_last = batch.pos[size_t(e - 1)];
    const int32_t lo = p.window > 0 ? std::max(0, p_first - p.window + 1) : 0;
    max_span = std::max<int64_t>(max_span, p_last - lo + 1);
    for (int32_t g = 0; g < l.n_head_kv; ++g) tiles.push_back({t, e - t, g});
    t = e;
  }
  const int64_t rows_max = kQueryTile * group;
  const size_t per_thread = size_t(rows_max) * size_t(max_span + hdk);
  const size_t n_threads = size_t(env.pool->size());
  ws.att.resize(n_threads);
  ws.attn_rows.resize(n_threads);
  ws.attn_out_rows.resize(n_threads);
  for (size_t i = 0; i < n_threads; ++i) {
    if (ws.att[i].size() < per_thread) ws.att[i].resize(per_thread);
    if (ws.attn_rows[i].size() < size_t(max_span)) ws.attn_rows[i].resize(size_t(max_span));
    if (ws.attn_out_rows[i].size() < size_t(rows_max)) ws.attn_out_rows[i].resize(size_t(rows_max));
  }

  const kernels::KernelTable& kt = *env.kernels;
  // Tiles differ in cost (a causal tile late in the prompt reads many more keys than an early
  // one), so a contiguous split would give the last thread most of the work: threads take tiles
  // from a shared counter instead, the most expensive (last) first.
  const int64_t n_tiles = int64_t(tiles.size());
  std::atomic<int64_t> next{0};
  env.pool->run([&](int ith, int) {
    float* const buf = ws.att[size_t(ith)].data();
    uint16_t q16[512];
    std::vector<const uint16_t*>& kp = ws.attn_rows[size_t(ith)];
    std::vector<float*>& orow = ws.attn_out_rows[size_t(ith)];
    for (int64_t taken; (taken = next.fetch_add(1, std::memory_order_relaxed)) < n_tiles;) {
      const AttnTile& tile = tiles[size_t(n_tiles - 1 - taken)];
      const int32_t seq = batch.seq[size_t(tile.t0)];
      const int32_t p_first = batch.pos[size_t(tile.t0)];
      const int32_t p_last = p_first + int32_t(tile.nq) - 1;
      const int32_t lo = p.window > 0 ? std::max(0, p_first - p.window + 1) : 0;
      const int64_t span = p_last - lo + 1;
      const int64_t rows = tile.nq * group;  // row r = query (r / group), head g*group + r % group
      const bool blocked = rows >= kt.attn_block_rows;
      float* sc = buf;                       // [rows, span] scores, then probabilities
      float* qr = buf + rows * span;         // [rows, hdk] queries rounded to f16
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t t = tile.t0 + r / group, h = int64_t(tile.g) * group + r % group;
        const float* src = q + (t * n_head + h) * hdk;
        for (int64_t d0 = 0; d0 < hdk; d0 += 512) {
          const int64_t nd = std::min<int64_t>(512, hdk - d0);
          kt.f32_to_f16(src + d0, q16, nd);
          kt.f16_to_f32(q16, qr + r * hdk + d0, nd);
        }
      }
      // Row r sees keys [lo_r, p_r]: causal, and within the window if there is one.
      auto row_lo = [&](int64_t r) {
        const int32_t pr = p_first + int32_t(r / group);
        return p.window > 0 ? std::max(0, pr - p.window + 1) : 0;
      };
      auto row_hi = [&](int64_t r) { return p_first + int32_t(r / group); };
      // Rows of the tile from r_first on see key j0 (earlier rows end before it).
      auto first_row = [&](int32_t j0) {
        return std::max<int64_t>(0, int64_t(j0 - p_first)) * group;
      };
      // One query token (decode): every row sees every key, so each pass is one call over the
      // whole span (the kernels block it themselves and can prefetch across cache blocks).
      const int64_t key_block = tile.nq == 1 ? span : kKeyBlock;
      kv.rows_at(false, layer, seq, lo, span, tile.g, kp.data());  // kp[j - lo]: K row of key j
      if (blocked) {
        // Pass 1: scores of all rows x blocks of key_block keys (each K row converted once per
        // block call); masked entries are computed and then ignored. Scale and soft-cap after.
        for (int32_t j0 = lo; j0 <= p_last; j0 += int32_t(key_block)) {
          const int64_t nk = std::min<int64_t>(key_block, p_last - j0 + 1);
          const int64_t r0 = first_row(j0);
          kt.attn_scores_f16(qr + r0 * hdk, hdk, rows - r0, kp.data() + (j0 - lo), nk, hdk,
                             sc + r0 * span + (j0 - lo), span);
        }
        if (p.softcap > 0.0f) {  // otherwise attn_softmax applies the scale
          for (int64_t r = 0; r < rows; ++r) {
            float* srow = sc + r * span;
            for (int32_t j = row_lo(r); j <= row_hi(r); ++j)
              srow[j - lo] = p.softcap * std::tanh(srow[j - lo] * p.scale / p.softcap);
          }
        }
      } else {
        // Pass 1 for few rows (decode): one K row at a time for every query row of the tile.
        for (int32_t j = lo; j <= p_last; ++j) {
          const uint16_t* k = kp[size_t(j - lo)];
          if (j + kRowsAhead <= p_last) prefetch_row(kp[size_t(j + kRowsAhead - lo)], hdk);
          for (int64_t r = first_row(j); r < rows; ++r) {
            if (j < row_lo(r)) continue;
            float s = kt.dot_f32_f16(qr + r * hdk, k, hdk);
            if (p.softcap > 0.0f) s = p.softcap * std::tanh(s * p.scale / p.softcap);
            sc[r * span + (j - lo)] = s;
          }
        }
      }
      // Softmax per row (scale, optional sink logit, probabilities rounded to f16); scores are
      // stored unscaled unless a soft-cap needed the scaled value (then scale 1 here).
      for (int64_t r = 0; r < rows; ++r) {
        float* srow = sc + r * span;
        const int32_t a = row_lo(r), b = row_hi(r);
        const int64_t h = int64_t(tile.g) * group + r % group;
        kt.attn_softmax(srow + (a - lo), b - a + 1, p.softcap > 0.0f ? 1.0f : p.scale,
                        p.sinks ? p.sinks[h] : -INFINITY);
        if (blocked) {  // masked keys the P·V block reads: probability 0
          for (int32_t j = lo; j < a; ++j) srow[j - lo] = 0.0f;
          for (int32_t j = b + 1; j <= p_last; ++j) srow[j - lo] = 0.0f;
        }
        const int64_t t = tile.t0 + r / group;
        orow[r] = out + (t * n_head + h) * hdv;
        std::memset(orow[r], 0, sizeof(float) * size_t(hdv));
      }
      kv.rows_at(true, layer, seq, lo, span, tile.g, kp.data());  // kp[j - lo]: V row of key j
      if (blocked) {
        // Pass 2: o_r += sum_j P_rj V_j over blocks of key_block keys.
        for (int32_t j0 = lo; j0 <= p_last; j0 += int32_t(key_block)) {
          const int64_t nk = std::min<int64_t>(key_block, p_last - j0 + 1);
          const int64_t r0 = first_row(j0);
          kt.attn_pv_f16(sc + r0 * span + (j0 - lo), span, rows - r0, kp.data() + (j0 - lo), nk, hdv,
                         orow.data() + r0);
        }
      } else {
        // Pass 2 for few rows: o_r += P_rj V_j, one V row at a time.
        for (int32_t j = lo; j <= p_last; ++j) {
          const uint16_t* v = kp[size_t(j - lo)];
          if (j + kRowsAhead <= p_last) prefetch_row(kp[size_t(j + kRowsAhead - lo)], hdv);
          for (int64_t r = first_row(j); r < rows; ++r) {
            if (j < row_lo(r)) continue;
            const float pj = sc[r * span + (j - lo)];
            if (pj == 0.0f) continue;
            kt.axpy_f16(orow[r], pj, v, hdv);
          }
        }
      }
    }
  });
}

void swiglu(const ForwardEnv& env, const float* g, const float* u, float* y, int64_t m, int64_t n) {
  auto fn = env.kernels->swiglu;
  if (m == 1) {
    fn(g, u, y, n);
    return;
  }
  env.pool->parallel_for(m, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) fn(g + r * n, u + r * n, y + r * n, n);
  });
}

void add(const ForwardEnv& env, float* y, const float* x, int64_t count) {
  env.kernels->add(y, x, count);
}

}  // namespace hearth::model::ops
