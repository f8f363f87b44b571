// GGUF v3 writer and Value constructors. Streams tensor data through one buffer and renames a
// temporary file into place only after everything was written.
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "gguf/gguf.h"

namespace hearth::gguf {
namespace {

template <typename T>
Value numeric_array(ValueType et, const std::vector<T>& v) {
  Value r;
  r.type = ValueType::ARRAY;
  r.elem_type = et;
  r.count = v.size();
  r.raw.resize(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(r.raw.data(), v.data(), r.raw.size());
  return r;
}

class Out {
 public:
  explicit Out(std::FILE* f, const std::string& path) : f_(f), path_(path) {}
  void bytes(const void* p, size_t n) {
    if (n && std::fwrite(p, 1, n, f_) != n) fail(path_, ": write failed (disk full?)");
    pos_ += n;
  }
  template <typename T>
  void pod(T v) { bytes(&v, sizeof(T)); }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  void pad_to(uint64_t align) {
    static const uint8_t zeros[64] = {};
    while (pos_ % align) bytes(zeros, std::min<uint64_t>(64, align - pos_ % align));
  }
  uint64_t pos() const { return pos_; }

 private:
  std::FILE* f_;
  std::string path_;
  uint64_t pos_ = 0;
};

void write_value(Out& o, const Value& v, bool with_type) {
  if (with_type) o.pod<uint32_t>(uint32_t(v.type));
  switch (v.type) {
    case ValueType::U8: case ValueType::BOOL: o.pod<uint8_t>(uint8_t(v.u)); break;
    case ValueType::I8: o.pod<int8_t>(int8_t(v.i)); break;
    case ValueType::U16: o.pod<uint16_t>(uint16_t(v.u)); break;
    case ValueType::I16: o.pod<int16_t>(int16_t(v.i)); break;
    case ValueType::U32: o.pod<uint32_t>(uint32_t(v.u)); break;
    case ValueType::I32: o.pod<int32_t>(int32_t(v.i)); break;
    case ValueType::U64: o.pod<uint64_t>(v.u); break;
    case ValueType::I64: o.pod<int64_t>(v.i); break;
    case ValueType::F32: o.pod<float>(float(v.f)); break;
    case ValueType::F64: o.pod<double>(v.f); break;
    case ValueType::STRING: o.str(v.str); break;
    case ValueType::ARRAY:
      o.pod<uint32_t>(uint32_t(v.elem_type));
      o.pod<uint64_t>(v.count);
      if (v.elem_type == ValueType::STRING) {
        for (const auto& s : v.strs) o.str(s);
      } else if (v.elem_type == ValueType::ARRAY) {
        for (const auto& n : v.nested) write_value(o, n, false);
      } else {
        o.bytes(v.raw.data(), v.raw.size());
      }
      break;
  }
}

}  // namespace

Value Value::of_u32(uint32_t v) { Value r; r.type = ValueType::U32; r.u = v; r.i = v; return r; }
Value Value::of_i32(int32_t v) {
  Value r; r.type = ValueType::I32; r.i = v; r.u = uint64_t(int64_t(v)); return r;
}
Value Value::of_u64(uint64_t v) { Value r; r.type = ValueType::U64; r.u = v; r.i = int64_t(v); return r; }
Value Value::of_f32(float v) { Value r; r.type = ValueType::F32; r.f = v; return r; }
Value Value::of_bool(bool v) { Value r; r.type = ValueType::BOOL; r.u = v; r.i = v; return r; }
Value Value::of_str(std::string v) { Value r; r.type = ValueType::STRING; r.str = std::move(v); return r; }
Value Value::of_str_array(std::vector<std::string> v) {
  Value r;
  r.type = ValueType::ARRAY;
  r.elem_type = ValueType::STRING;
  r.count = v.size();
  r.strs = std::move(v);
  return r;
}
Value Value::of_i32_array(const std::vector<int32_t>& v) { return numeric_array(ValueType::I32, v); }
Value Value::of_u32_array(const std::vector<uint32_t>& v) { return numeric_array(ValueType::U32, v); }
Value Value::of_f32_array(const std::vector<float>& v) { return numeric_array(ValueType::F32, v); }
Value Value::of_bool_array(const std::vector<bool>& v) {
  std::vector<uint8_t> b(v.begin(), v.end());
  return numeric_array(ValueType::BOOL, b);
}

void Writer::set(const std::string& key, Value v) {
  if (key == "general.alignment") {
    if (v.type != ValueType::U32 || v.u == 0 || (v.u & (v.u - 1)))
      fail("general.alignment must be a power-of-two u32");
    alignment_ = uint32_t(v.u);
  }
  for (auto& [k, old] : kv_)
    if (k == key) {
      old = std::move(v);
      return;
    }
  kv_.emplace_back(key, std::move(v));
}

void Writer::add_tensor(const std::string& name, DType type, std::vector<int64_t> ne, Fill fill) {
  if (ne.empty() || ne.size() > 4) fail("tensor ", name, ": 1 to 4 dimensions allowed");
  const DTypeInfo& info = dtype_info(type);
  if (ne[0] % info.block_size)
    fail("tensor ", name, ": row length ", ne[0], " is not a multiple of the ", info.name,
         " block size ", info.block_size);
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  for (const auto& t : tensors_)
    if (t.name == name) fail("duplicate tensor name ", name);
  const uint64_t nbytes = uint64_t(n / info.block_size) * info.type_size;
  tensors_.push_back({name, type, std::move(ne), nbytes, std::move(fill)});
}

void Writer::add_tensor(const std::string& name, DType type, std::vector<int64_t> ne,
                        std::vector<uint8_t> bytes) {
  auto data = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  add_tensor(name, type, std::move(ne), [data, name](uint8_t* dst, size_t n) {
    if (n != data->size())
      fail("tensor ", name, ": ", data->size(), " bytes given, ", n, " expected");
    std::memcpy(dst, data->data(), n);
  });
}

void Writer::write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) fail(path, ": cannot create ", tmp);
  try {
    Out o(f, tmp);
    o.pod<uint32_t>(0x46554747);
    o.pod<uint32_t>(3);
    o.pod<uint64_t>(tensors_.size());
    o.pod<uint64_t>(kv_.size());
    for (const auto& [k, v] : kv_) {
      o.str(k);
      write_value(o, v, true);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
      o.str(t.name);
      o.pod<uint32_t>(uint32_t(t.ne.size()));
      for (int64_t d : t.ne) o.pod<int64_t>(d);
      o.pod<uint32_t>(uint32_t(t.type));
      o.pod<uint64_t>(offset);
      offset += (t.nbytes + alignment_ - 1) / alignment_ * alignment_;
    }
    o.pad_to(alignment_);
    std::vector<uint8_t> buf;
    for (const auto& t : tensors_) {
      buf.assign(size_t(t.nbytes), 0);
      t.fill(buf.data(), buf.size());
      o.bytes(buf.data(), buf.size());
      o.pad_to(alignment_);
    }
    if (std::fclose(f) != 0) {
      f = nullptr;
      fail(path, ": write failed");
    }
    f = nullptr;
    std::filesystem::rename(tmp, path);
  } catch (...) {
    if (f) std::fclose(f);
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

}  // namespace hearth::gguf
