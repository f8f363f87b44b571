// The model layer's public face: hyperparameters, bound weights, the batch a forward pass
// consumes, the KV view it writes to, and the Model interface each architecture implements.
// Knows nothing of scheduling, sampling or text.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/huge_pages.h"

namespace hearth {
class ThreadPool;
namespace gguf {
class File;
struct TensorInfo;
}  // namespace gguf
namespace kernels {
struct KernelTable;
}
}  // namespace hearth

namespace hearth::model {

enum class RopeType { kNorm, kNeox };  // pairs (2i, 2i+1) vs (i, i + n_rot/2)

struct RopeParams {
  RopeType type = RopeType::kNorm;
  int32_t n_rot = 0;          // rotated dims per head (<= head_dim)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;    // 1 / rope.scaling.factor for linear and YaRN scaling
  float ext_factor = 0.0f;    // YaRN extrapolation mix (1 when scaling type is yarn)
  float attn_factor = 1.0f;   // magnitude applied to cos/sin
  float beta_fast = 32.0f, beta_slow = 1.0f;
  int32_t n_ctx_orig = 0;     // YaRN original context
  std::vector<float> freq_factors;  // [n_rot/2] divisors (Llama 3 rope_freqs), empty if none
};

struct HParams {
  std::string arch;
  std::string name;            // general.name
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_ctx_train = 0;
  std::vector<int32_t> n_head;     // [n_layer]
  std::vector<int32_t> n_head_kv;  // [n_layer]
  std::vector<int32_t> n_ff;       // [n_layer]
  int32_t head_dim_k = 0, head_dim_v = 0;
  float norm_eps = 1e-5f;
  float attn_scale = 0.0f;     // kq scale; 0 means 1/sqrt(head_dim_k)
  RopeParams rope;
  bool tied_output = false;
  // Mixture of experts (0 when dense)
  int32_t n_expert = 0, n_expert_used = 0, n_ff_exp = 0;

  int32_t max_head_kv() const;
};

// One weight tensor bound by name, shape-checked at load. Data points into the GGUF mapping
// (or into a repacked copy owned by the model).
struct Weight {
  const gguf::TensorInfo* info = nullptr;
  DType type = DType::F32;
  int64_t ne[4] = {0, 1, 1, 1};  // ggml order: ne[0] = row length (input features)
  const uint8_t* data = nullptr;
  size_t row_bytes = 0;          // bytes between consecutive rows
  float scale = 1.0f;            // NVFP4 per-tensor scale (`<name>.scale`), 1 otherwise
  bool repacked = false;         // data is in the kernel table's repacked layout for `type`
  explicit operator bool() const { return data != nullptr; }
  int64_t n_in() const { return ne[0]; }
  int64_t n_out() const { return ne[1]; }
};

// A forward batch: tokens from one or more sequences, each with its own position.
// Decode is one token per sequence; prefill a run of tokens; verification k+1 tokens.
struct Batch {
  std::vector<int32_t> tokens;       // [n] token ids
  std::vector<int32_t> pos;          // [n] position of each token in its sequence
  std::vector<int32_t> seq;          // [n] index into KvView::seqs
  std::vector<uint8_t> want_logits;  // [n] 1 if this token's next-token logits are needed
  size_t size() const { return tokens.size(); }
  void add(int32_t token, int32_t position, int32_t seq_index, bool logits) {
    tokens.push_back(token);
    pos.push_back(position);
    seq.push_back(seq_index);
    want_logits.push_back(logits ? 1 : 0);
  }
  void clear() { tokens.clear(); pos.clear(); seq.clear(); want_logits.clear(); }
};

// Where the KV cache lives, as a forward pass sees it (filled by engine::KvCache).
// Layout per layer, F16: K rows [n_head_kv][pool_blocks][block_size][head_dim] from k (V the
// same from v): one head's rows of consecutive cache blocks are adjacent, so a sequence whose
// blocks were allocated in order reads each head's keys as one stream (see engine::KvCache).
struct KvView {
  int32_t block_size = 0;
  struct Layer {
    uint16_t* k = nullptr;  // this layer's K rows of head 0, block 0
    uint16_t* v = nullptr;
    int32_t pool_blocks = 0;  // blocks in the pool (one head's rows of them are contiguous)
    int32_t n_head_kv = 0, head_dim_k = 0, head_dim_v = 0;
  };
  std::vector<Layer> layers;  // [n_layer]
  struct Seq {
    const int32_t* blocks = nullptr;  // block ids covering positions [0, n_blocks * block_size)
    int32_t n_blocks = 0;
  };
  std::vector<Seq> seqs;  // indexed by Batch::seq

  uint16_t* k_at(int layer, int seq, int32_t pos, int head) const {
    return row(layers[layer], false, seqs[seq].blocks[pos / block_size], head, pos % block_size);
  }
  uint16_t* v_at(int layer, int seq, int32_t pos, int head) const {
    return row(layers[layer], true, seqs[seq].blocks[pos / block_size], head, pos % block_size);
  }
  // rows[i] = the K (or V) row of positions first + i, i < n, walking cache blocks (one divide
  // per call, not per position: decode fills a whole context's rows per head and layer).
  void rows_at(bool values, int layer, int seq, int32_t first, int64_t n, int head,
               const uint16_t** rows) const {
    const Layer& l = layers[layer];
    const size_t hd = size_t(values ? l.head_dim_v : l.head_dim_k);
    const int32_t* blocks = seqs[seq].blocks;
    int32_t b = first / block_size, off = first % block_size;
    for (int64_t i = 0; i < n; ++b, off = 0) {
      const uint16_t* base = row(l, values, blocks[b], head, off);
      for (int32_t o = off; o < block_size && i < n; ++o, ++i) rows[i] = base + size_t(o - off) * hd;
    }
  }

 private:
  // The K (or V) row of slot `off` of cache block `blk` for KV head `head`.
  uint16_t* row(const Layer& l, bool values, int32_t blk, int head, int32_t off) const {
    const size_t hd = size_t(values ? l.head_dim_v : l.head_dim_k);
    const size_t slot = (size_t(head) * size_t(l.pool_blocks) + size_t(blk)) * size_t(block_size) + size_t(off);
    return (values ? l.v : l.k) + slot * hd;
  }
};

// Called with every named intermediate when tracing is on: name like "attn_out", layer (-1 for
// none), data [rows, cols] f32.
using TraceFn = std::function<void(const std::string& name, int layer, const float* data,
                                   int64_t rows, int64_t cols)>;

// Everything a forward pass runs with besides weights and inputs.
struct ForwardEnv {
  ThreadPool* pool = nullptr;
  const kernels::KernelTable* kernels = nullptr;
  TraceFn trace;  // may be empty
};

class Model {
 public:
  virtual ~Model();
  const HParams& hparams() const { return hp_; }
  const gguf::File& file() const { return *file_; }

  // Runs the batch, writes K/V of every token into the cache and, for each token with
  // want_logits, one row of n_vocab logits into `logits` (rows in batch order).
  // The cache must already hold blocks for every position in the batch.
  virtual void forward(const ForwardEnv& env, const Batch& batch, const KvView& kv,
                       std::vector<float>& logits) = 0;

  // Total parameter count and how many of them one token reads (differs for MoE).
  int64_t n_params() const;
  int64_t n_params_active() const;
  // Bytes of weights read per generated token (active weights, excluding the embedding table).
  uint64_t bytes_per_token() const;

  // Mixture-of-experts models: how often each expert was selected since load,
  // [n_layer][n_expert] (empty rows for dense layers). nullptr for dense models.
  virtual const std::vector<std::vector<uint64_t>>* expert_counts() const { return nullptr; }

  // Every weight read by a matmul (what repacking may rewrite). Default: none.
  virtual void matmul_weights(std::vector<Weight*>& out) { (void)out; }
  // Rewrites matmul weights into the kernel table's repacked layouts where the table has one,
  // into memory the model owns, and lets the kernel drop the mapped pages of the originals (so
  // two copies are never resident). Returns the number of bytes repacked.
  uint64_t repack_weights(const kernels::KernelTable& table);

 protected:
  explicit Model(std::shared_ptr<const gguf::File> file) : file_(std::move(file)) {}
  std::shared_ptr<const gguf::File> file_;
  HParams hp_;
  std::vector<HugeBuffer> owned_;  // repacked weight data
};

// Loads the architecture named by general.architecture (the registry is the only place that
// switches on it). Throws hearth::Error for unknown architectures and bad tensors.
std::unique_ptr<Model> load_model(std::shared_ptr<const gguf::File> file);
// Names of the architectures Hearth can run.
std::vector<std::string> supported_architectures();

}  // namespace hearth::model
