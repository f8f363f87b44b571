// GGUF reader/writer: round trips of every metadata type, alignment, and one clear error (never
// a crash) for every kind of malformed file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "gguf/gguf.h"

namespace hearth::gguf {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("hearth_gguf_" + name)).string();
}

std::vector<uint8_t> read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A small valid file with every value type and two tensors.
std::vector<uint8_t> sample_file(uint32_t alignment = 32) {
  Writer w;
  if (alignment != 32) w.set_u32("general.alignment", alignment);
  w.set_str("general.architecture", "test");
  w.set_u32("test.u32", 7);
  w.set("test.i32", Value::of_i32(-5));
  w.set("test.u64", Value::of_u64(1ull << 40));
  w.set_f32("test.f32", 0.25f);
  w.set_bool("test.bool", true);
  w.set("test.strs", Value::of_str_array({"a", "", "ünï"}));
  w.set("test.ints", Value::of_i32_array({1, -2, 3}));
  w.set("test.floats", Value::of_f32_array({0.5f, -1.5f}));
  std::vector<uint8_t> a(4 * 3 * 4);
  for (size_t i = 0; i < a.size(); ++i) a[i] = uint8_t(i);
  w.add_tensor("tensor_a", DType::F32, {4, 3}, a);
  w.add_tensor("b", DType::Q8_0, {32, 2}, std::vector<uint8_t>(68, 1));
  const std::string p = temp_path("sample.gguf");
  w.write(p);
  auto bytes = read_all(p);
  std::filesystem::remove(p);
  return bytes;
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    File::parse(bytes.data(), bytes.size(), "x.gguf");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Gguf, RoundTripsEveryValueType) {
  const auto bytes = sample_file();
  auto f = File::parse(bytes.data(), bytes.size(), "s.gguf");
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->get_string("general.architecture"), "test");
  EXPECT_EQ(f->get_uint("test.u32"), 7u);
  EXPECT_EQ(f->get_int("test.i32"), -5);
  EXPECT_EQ(f->get_uint("test.u64"), 1ull << 40);
  EXPECT_FLOAT_EQ(float(*f->get_float("test.f32")), 0.25f);
  EXPECT_EQ(f->get_bool("test.bool"), true);
  ASSERT_NE(f->get_string_array("test.strs"), nullptr);
  EXPECT_EQ(*f->get_string_array("test.strs"), (std::vector<std::string>{"a", "", "ünï"}));
  EXPECT_EQ(*f->get_int_array("test.ints"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(*f->get_float_array("test.floats"), (std::vector<float>{0.5f, -1.5f}));
  EXPECT_FALSE(f->get_uint("missing").has_value());
  ASSERT_EQ(f->tensors().size(), 2u);
  const TensorInfo* a = f->find_tensor("tensor_a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->ne[0], 4);
  EXPECT_EQ(a->ne[1], 3);
  EXPECT_EQ(a->nbytes, 48u);
  EXPECT_EQ(a->data[5], 5);
  const TensorInfo* b = f->find_tensor("b");
  EXPECT_EQ(b->type, DType::Q8_0);
  EXPECT_EQ(b->nbytes, 68u);
  EXPECT_EQ((b->data - bytes.data()) % 32, 0);
}

TEST(Gguf, HonoursGeneralAlignment) {
  const auto bytes = sample_file(64);
  auto f = File::parse(bytes.data(), bytes.size(), "s.gguf");
  EXPECT_EQ(f->alignment(), 64u);
  for (const auto& t : f->tensors()) EXPECT_EQ((t.data - bytes.data()) % 64, 0) << t.name;
}

TEST(Gguf, WrongTypeIsAnErrorNamingTheKey) {
  const auto bytes = sample_file();
  auto f = File::parse(bytes.data(), bytes.size(), "s.gguf");
  try {
    f->get_uint("general.architecture");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("general.architecture"), std::string::npos);
  }
}

TEST(Gguf, RejectsNonGguf) {
  EXPECT_NE(parse_error({}).find("not a GGUF"), std::string::npos);
  EXPECT_NE(parse_error({'G', 'G', 'U', 'X', 3, 0, 0, 0}).find("bad magic"), std::string::npos);
}

TEST(Gguf, EveryTruncationIsACleanError) {
  const auto bytes = sample_file();
  // Every prefix that cuts into the header or tensor data must fail with an Error (never
  // crash); only the alignment padding after the last tensor may be dropped.
  auto full = File::parse(bytes.data(), bytes.size(), "s.gguf");
  size_t data_end = 0;
  for (const auto& t : full->tensors())
    data_end = std::max(data_end, size_t(t.data - bytes.data()) + size_t(t.nbytes));
  for (size_t n = 0; n < data_end; ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + long(n));
    EXPECT_FALSE(parse_error(cut).empty()) << "prefix " << n;
  }
}

TEST(Gguf, TensorPastTheEndNamesTheTensor) {
  auto bytes = sample_file();
  bytes.resize(bytes.size() - 40);  // past the 28 bytes of trailing padding, into tensor b
  const std::string e = parse_error(bytes);
  EXPECT_NE(e.find("tensor b"), std::string::npos) << e;
  EXPECT_NE(e.find("past the end"), std::string::npos) << e;
}

TEST(Gguf, HostileCountsDoNotAllocate) {
  auto bytes = sample_file();
  // metadata count (bytes 16..23) set to 2^60: must fail before allocating.
  uint64_t huge = 1ull << 60;
  auto b1 = bytes;
  std::memcpy(b1.data() + 16, &huge, 8);
  EXPECT_NE(parse_error(b1).find("metadata count"), std::string::npos);
  auto b2 = bytes;
  std::memcpy(b2.data() + 8, &huge, 8);
  EXPECT_NE(parse_error(b2).find("tensor count"), std::string::npos);
  // First key length (bytes 24..31) huge: truncated string.
  auto b3 = bytes;
  std::memcpy(b3.data() + 24, &huge, 8);
  EXPECT_NE(parse_error(b3).find("truncated"), std::string::npos);
}

TEST(Gguf, RandomCorruptionNeverCrashes) {
  const auto bytes = sample_file();
  uint64_t s = 12345;
  for (int iter = 0; iter < 3000; ++iter) {
    auto b = bytes;
    for (int k = 0; k < 4; ++k) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      b[size_t(s >> 33) % b.size()] = uint8_t(s >> 20);
    }
    try {
      auto f = File::parse(b.data(), b.size(), "c.gguf");
      for (const auto& t : f->tensors()) ASSERT_LE(t.data + t.nbytes, b.data() + b.size());
    } catch (const Error&) {
    }
  }
}

TEST(Gguf, UnknownTensorTypeNamesItself) {
  auto bytes = sample_file();
  const auto f = File::parse(bytes.data(), bytes.size(), "s.gguf");
  // Tensor tensor_a's type field follows its name, n_dims (4 bytes) and 2 dims (16 bytes).
  const uint8_t needle[] = {8, 0, 0, 0, 0, 0, 0, 0, 't', 'e', 'n', 's', 'o', 'r', '_', 'a'};
  auto it = std::search(bytes.begin(), bytes.end(), std::begin(needle), std::end(needle));
  ASSERT_NE(it, bytes.end());
  const size_t type_off = size_t(it - bytes.begin()) + sizeof(needle) + 4 + 16;
  const uint32_t bogus = 77;
  std::memcpy(bytes.data() + type_off, &bogus, 4);
  const std::string e = parse_error(bytes);
  EXPECT_NE(e.find("unknown tensor type id 77"), std::string::npos) << e;
}

TEST(Gguf, WriterIsAtomic) {
  Writer w;
  w.set_str("general.architecture", "test");
  w.add_tensor("t", DType::F32, {4}, [](uint8_t*, size_t) { throw Error("generator failed"); });
  const std::string p = temp_path("atomic.gguf");
  std::filesystem::remove(p);
  EXPECT_THROW(w.write(p), Error);
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_FALSE(std::filesystem::exists(p + ".tmp"));
}

TEST(Gguf, OpenMissingFileNamesIt) {
  try {
    File::open("/nonexistent/model.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
  }
}

}  // namespace
}  // namespace hearth::gguf
