// GGUF v2/v3 container: a validating reader over a memory map (zero-copy tensor data) and an
// atomic writer. Knows the container format only: no model, tokenizer or quantization logic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace hearth {
class MappedFile;
}

namespace hearth::gguf {

// gguf_type ids (gguf.h).
enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
std::string_view value_type_name(ValueType t);

// One metadata value. Scalars keep their stored type; numeric arrays keep their raw
// little-endian bytes (converted on access), string arrays are owned strings.
struct Value {
  ValueType type = ValueType::U8;
  // scalar payload (integers in i / u by signedness, floats in f, bool in u)
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
  std::string str;
  // arrays
  ValueType elem_type = ValueType::U8;
  uint64_t count = 0;
  std::vector<uint8_t> raw;        // numeric/bool elements as stored
  std::vector<std::string> strs;   // string elements
  std::vector<Value> nested;       // array elements that are arrays

  bool is_integer() const;
  bool is_float() const { return type == ValueType::F32 || type == ValueType::F64; }
  bool is_numeric_array() const;

  // Constructors for writers.
  static Value of_u32(uint32_t v);
  static Value of_i32(int32_t v);
  static Value of_u64(uint64_t v);
  static Value of_f32(float v);
  static Value of_bool(bool v);
  static Value of_str(std::string v);
  static Value of_str_array(std::vector<std::string> v);
  static Value of_i32_array(const std::vector<int32_t>& v);
  static Value of_f32_array(const std::vector<float>& v);
  static Value of_u32_array(const std::vector<uint32_t>& v);
  static Value of_bool_array(const std::vector<bool>& v);
};

struct TensorInfo {
  std::string name;
  uint32_t n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};  // ne[0] is the contiguous dimension (ggml order)
  DType type = DType::F32;
  uint64_t offset = 0;           // relative to the data blob
  const uint8_t* data = nullptr; // into the mapping (or the parsed buffer)
  uint64_t nbytes = 0;
  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  std::string shape_string() const;  // "{4096, 151936}"
};

class File {
 public:
  // Maps and parses a file; throws hearth::Error with "<path>: <what is wrong>".
  static std::unique_ptr<File> open(const std::string& path);
  // Parses a buffer that outlives the File (fuzzing, tests). `name` prefixes errors.
  static std::unique_ptr<File> parse(const uint8_t* data, size_t size, std::string name);
  ~File();

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  size_t file_size() const { return size_; }
  const uint8_t* file_data() const { return base_; }
  const MappedFile* mapping() const { return map_.get(); }

  // Metadata in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters: nullopt if absent, Error naming file and key if present with the wrong type.
  std::optional<uint64_t> get_uint(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;  // accepts integers too
  std::optional<bool> get_bool(std::string_view key) const;
  std::optional<std::string> get_string(std::string_view key) const;
  // Arrays: absent -> nullopt. Numeric arrays convert from any numeric element type.
  std::optional<std::vector<int64_t>> get_int_array(std::string_view key) const;
  std::optional<std::vector<float>> get_float_array(std::string_view key) const;
  const std::vector<std::string>* get_string_array(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

 private:
  File() = default;
  void parse_all();
  [[noreturn]] void error(const std::string& what) const;

  std::string name_;
  std::unique_ptr<MappedFile> map_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Writes GGUF v3 atomically: to "<path>.tmp" then rename, so a failure leaves no partial file.
class Writer {
 public:
  using Fill = std::function<void(uint8_t* dst, size_t nbytes)>;

  void set(const std::string& key, Value v);  // replaces an existing key, keeps order
  void set_u32(const std::string& key, uint32_t v) { set(key, Value::of_u32(v)); }
  void set_f32(const std::string& key, float v) { set(key, Value::of_f32(v)); }
  void set_bool(const std::string& key, bool v) { set(key, Value::of_bool(v)); }
  void set_str(const std::string& key, std::string v) { set(key, Value::of_str(std::move(v))); }

  // ne in ggml order (ne[0] contiguous). `fill` is called once, at write time, with a buffer of
  // exactly the tensor's byte size, so huge models stream through a small buffer.
  void add_tensor(const std::string& name, DType type, std::vector<int64_t> ne, Fill fill);
  void add_tensor(const std::string& name, DType type, std::vector<int64_t> ne,
                  std::vector<uint8_t> bytes);

  void write(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    uint64_t nbytes;
    Fill fill;
  };
  std::vector<std::pair<std::string, Value>> kv_;
  std::vector<PendingTensor> tensors_;
  uint32_t alignment_ = 32;
};

}  // namespace hearth::gguf
