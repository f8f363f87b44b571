// The KV cache: a pool of fixed-size blocks (block_size positions x all layers) with reference
// counts, and per-sequence block tables. Prefix sharing (fork) and rollback (truncate) are
// operations on the tables; a shared block is copied before it is written (copy-on-write).
// Knows shapes only, never weights: testable without a model.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/huge_pages.h"
#include "model/model.h"

namespace hearth::engine {

class KvCache {
 public:
  struct Shape {
    std::vector<int32_t> n_head_kv;   // [n_layer]
    int32_t head_dim_k = 0, head_dim_v = 0;
  };
  static Shape shape_of(const model::HParams& hp);

  // Room for n_positions positions in total (over all sequences), rounded up to whole blocks.
  KvCache(Shape shape, int64_t n_positions, int32_t block_size = 32);
  ~KvCache();
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  int32_t block_size() const { return block_size_; }
  int32_t n_blocks() const { return int32_t(ref_.size()); }
  int32_t free_blocks() const { return int32_t(free_.size()); }
  uint64_t bytes() const { return bytes_; }
  // Bytes of cache one position takes over all layers (for "will it fit" estimates).
  static uint64_t bytes_per_position(const Shape& s);

  int32_t create_seq();
  void free_seq(int32_t seq);
  int32_t length(int32_t seq) const { return seqs_.at(size_t(seq)).length; }
  // Makes positions [length, n) writable (allocating blocks; copying a shared partial block).
  // Throws hearth::Error when the pool is exhausted, leaving the sequence unchanged.
  void extend(int32_t seq, int32_t n);
  // Forgets positions >= n (speculative rollback, prefix reuse). Frees blocks no longer used.
  void truncate(int32_t seq, int32_t n);
  // A new sequence sharing the first n positions of `seq` (whole blocks by reference).
  int32_t fork(int32_t seq, int32_t n);
  // Number of blocks that extend(seq, n) would need to allocate.
  int32_t blocks_needed(int32_t seq, int32_t n) const;

  // The view a forward pass uses for the given sequences (KvView::seqs[i] = seqs[i]).
  void fill_view(std::span<const int32_t> seqs, model::KvView& view) const;
  int32_t refcount(int32_t block) const { return ref_.at(size_t(block)); }
  const std::vector<int32_t>& blocks_of(int32_t seq) const { return seqs_.at(size_t(seq)).blocks; }

 private:
  struct Seq {
    bool live = false;
    int32_t length = 0;              // positions written (or reserved) so far
    std::vector<int32_t> blocks;     // block ids for positions [0, blocks.size() * block_size)
  };
  int32_t alloc_block();
  void release_block(int32_t b);
  void copy_block(int32_t from, int32_t to);
  Seq& seq_ref(int32_t seq);

  Shape shape_;
  int32_t block_size_;
  uint64_t bytes_ = 0;
  HugeBuffer pool_;                       // per layer: K [n_head_kv][n_blocks][block_size][hd], V
  size_t block_elems_ = 0;                 // elements of one block over all layers and heads
  std::vector<size_t> k_off_, v_off_;      // per layer: offset of its K / V region in the pool
  std::vector<int32_t> ref_;   // [n_blocks] reference counts
  std::vector<int32_t> free_;  // free block ids (stack)
  std::vector<Seq> seqs_;
};

}  // namespace hearth::engine
