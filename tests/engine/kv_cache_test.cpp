// KV cache block pool: allocation, prefix sharing with copy-on-write, rollback, exhaustion.
#include <gtest/gtest.h>

#include "core/error.h"
#include "engine/kv_cache.h"

namespace hearth::engine {
namespace {

KvCache::Shape tiny_shape() {
  KvCache::Shape s;
  s.n_head_kv = {2, 2};
  s.head_dim_k = 4;
  s.head_dim_v = 4;
  return s;
}

TEST(KvCache, ExtendAllocatesWholeBlocks) {
  KvCache c(tiny_shape(), 64, 16);
  EXPECT_EQ(c.n_blocks(), 4);
  const int32_t s = c.create_seq();
  c.extend(s, 17);
  EXPECT_EQ(c.length(s), 17);
  EXPECT_EQ(c.blocks_of(s).size(), 2u);
  EXPECT_EQ(c.free_blocks(), 2);
  c.truncate(s, 16);
  EXPECT_EQ(c.blocks_of(s).size(), 1u);
  EXPECT_EQ(c.free_blocks(), 3);
  c.free_seq(s);
  EXPECT_EQ(c.free_blocks(), 4);
}

TEST(KvCache, FullCacheIsAnErrorAndLeavesTheSequenceUnchanged) {
  KvCache c(tiny_shape(), 32, 16);
  const int32_t s = c.create_seq();
  c.extend(s, 20);
  EXPECT_THROW(c.extend(s, 40), Error);
  EXPECT_EQ(c.length(s), 20);
  EXPECT_EQ(c.free_blocks(), 0);
}

TEST(KvCache, ForkSharesBlocksAndCopiesOnWrite) {
  KvCache c(tiny_shape(), 128, 16);
  const int32_t a = c.create_seq();
  c.extend(a, 20);
  model::KvView v;
  const int32_t seqs_a[1] = {a};
  c.fill_view(seqs_a, v);
  // Write a marker at position 18 (second block) of layer 1, head 1.
  v.k_at(1, 0, 18, 1)[2] = 0x1234;
  const int32_t b = c.fork(a, 20);
  EXPECT_EQ(c.blocks_of(b), c.blocks_of(a));
  EXPECT_EQ(c.refcount(c.blocks_of(a)[1]), 2);
  // Appending to b writes into the shared partial block: it must be copied first.
  c.extend(b, 21);
  EXPECT_NE(c.blocks_of(b)[1], c.blocks_of(a)[1]);
  EXPECT_EQ(c.blocks_of(b)[0], c.blocks_of(a)[0]);  // full blocks stay shared
  const int32_t seqs_b[1] = {b};
  model::KvView vb;
  c.fill_view(seqs_b, vb);
  EXPECT_EQ(vb.k_at(1, 0, 18, 1)[2], 0x1234);  // the copy kept the data
  vb.k_at(1, 0, 18, 1)[2] = 0x5678;
  c.fill_view(seqs_a, v);
  EXPECT_EQ(v.k_at(1, 0, 18, 1)[2], 0x1234);   // a is untouched
  c.free_seq(a);
  c.free_seq(b);
  EXPECT_EQ(c.free_blocks(), c.n_blocks());
}

TEST(KvCache, BlocksNeededCountsCopyOnWrite) {
  KvCache c(tiny_shape(), 128, 16);
  const int32_t a = c.create_seq();
  c.extend(a, 20);
  const int32_t b = c.fork(a, 20);
  EXPECT_EQ(c.blocks_needed(b, 21), 1);  // copy of the shared partial block
  EXPECT_EQ(c.blocks_needed(b, 40), 2);  // copy + one new block
  EXPECT_EQ(c.blocks_needed(a, 20), 0);
}

}  // namespace
}  // namespace hearth::engine
