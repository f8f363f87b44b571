// GGUF parser. Every count, length, offset and size is checked against the bytes that are
// actually there before it is used, so a hostile file yields one Error, never a crash or a huge
// allocation.
#include <cstring>
#include <limits>

#include "core/error.h"
#include "core/mmap_file.h"
#include "gguf/gguf.h"

namespace hearth::gguf {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian u32
constexpr int kMaxArrayDepth = 8;        // nested arrays deeper than this are rejected
constexpr uint32_t kMaxDims = 4;         // GGML_MAX_DIMS

size_t value_type_size(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    default: return 0;
  }
}

bool valid_value_type(uint32_t t) { return t <= 12; }

// Bounds-checked little-endian cursor over the file.
class Cursor {
 public:
  Cursor(const uint8_t* p, size_t n, const File* f,
         void (*err)(const File*, const std::string&))
      : p_(p), n_(n), f_(f), err_(err) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return n_ - pos_; }
  void need(uint64_t k, const char* what) {
    if (k > remaining())
      err_(f_, cat("truncated: ", what, " needs ", k, " bytes at offset ", pos_, ", only ",
                   remaining(), " left"));
  }
  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_string(const char* what) {
    const uint64_t len = read<uint64_t>(what);
    need(len, what);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), size_t(len));
    pos_ += size_t(len);
    return s;
  }
  const uint8_t* take(uint64_t k, const char* what) {
    need(k, what);
    const uint8_t* r = p_ + pos_;
    pos_ += size_t(k);
    return r;
  }

 private:
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
  const File* f_;
  void (*err_)(const File*, const std::string&);
};

bool mul_overflows(int64_t a, int64_t b) {
  return a != 0 && b > std::numeric_limits<int64_t>::max() / a;
}

}  // namespace

std::string_view value_type_name(ValueType t) {
  static const char* const kNames[] = {"u8",  "i8",  "u16",    "i16",   "u32", "i32", "f32",
                                       "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = uint32_t(t);
  return i <= 12 ? kNames[i] : "invalid";
}

bool Value::is_integer() const {
  switch (type) {
    case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
    case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
      return true;
    default:
      return false;
  }
}

bool Value::is_numeric_array() const {
  return type == ValueType::ARRAY && elem_type != ValueType::STRING &&
         elem_type != ValueType::ARRAY;
}

std::string TensorInfo::shape_string() const {
  std::string s = "{";
  for (uint32_t d = 0; d < n_dims; ++d) s += cat(d ? ", " : "", ne[d]);
  return s + "}";
}

File::~File() = default;

void File::error(const std::string& what) const { fail(name_, ": ", what); }

std::unique_ptr<File> File::open(const std::string& path) {
  auto map = std::make_unique<MappedFile>(path);
  std::unique_ptr<File> f(new File());
  f->name_ = path;
  f->base_ = map->data();
  f->size_ = map->size();
  f->map_ = std::move(map);
  f->parse_all();
  return f;
}

std::unique_ptr<File> File::parse(const uint8_t* data, size_t size, std::string name) {
  std::unique_ptr<File> f(new File());
  f->name_ = std::move(name);
  f->base_ = data;
  f->size_ = size;
  f->parse_all();
  return f;
}

namespace {

void read_scalar(Cursor& c, ValueType t, Value& v) {
  v.type = t;
  switch (t) {
    case ValueType::U8: v.u = c.read<uint8_t>("u8 value"); v.i = int64_t(v.u); break;
    case ValueType::I8: v.i = c.read<int8_t>("i8 value"); v.u = uint64_t(v.i); break;
    case ValueType::U16: v.u = c.read<uint16_t>("u16 value"); v.i = int64_t(v.u); break;
    case ValueType::I16: v.i = c.read<int16_t>("i16 value"); v.u = uint64_t(v.i); break;
    case ValueType::U32: v.u = c.read<uint32_t>("u32 value"); v.i = int64_t(v.u); break;
    case ValueType::I32: v.i = c.read<int32_t>("i32 value"); v.u = uint64_t(v.i); break;
    case ValueType::U64: v.u = c.read<uint64_t>("u64 value"); v.i = int64_t(v.u); break;
    case ValueType::I64: v.i = c.read<int64_t>("i64 value"); v.u = uint64_t(v.i); break;
    case ValueType::F32: v.f = c.read<float>("f32 value"); break;
    case ValueType::F64: v.f = c.read<double>("f64 value"); break;
    case ValueType::BOOL: v.u = c.read<uint8_t>("bool value"); v.i = int64_t(v.u); break;
    case ValueType::STRING: v.str = c.read_string("string value"); break;
    default: break;
  }
}

}  // namespace

void File::parse_all() {
  auto err = [](const File* f, const std::string& what) { f->error(what); };
  Cursor c(base_, size_, this, err);
  if (size_ < 4) error("not a GGUF file (too small to hold the magic)");
  const uint32_t magic = c.read<uint32_t>("magic");
  if (magic != kMagic) error("not a GGUF file (bad magic)");
  version_ = c.read<uint32_t>("version");
  if (version_ == 1) error("GGUF version 1 is not supported (re-convert the model)");
  if (version_ > 0xFFFF && (version_ >> 24) <= 3)
    error("big-endian GGUF files are not supported");
  if (version_ != 2 && version_ != 3) error(cat("unsupported GGUF version ", version_));
  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  const uint64_t n_kv = c.read<uint64_t>("metadata count");
  // Smallest encodings: kv = 8 (key len) + 4 (type) + 1 (u8); tensor = 8 + 4 + 4 + 8.
  if (n_kv > c.remaining() / 13) error(cat("metadata count ", n_kv, " exceeds the file size"));
  if (n_tensors > c.remaining() / 24)
    error(cat("tensor count ", n_tensors, " exceeds the file size"));

  // Reads one value of type t (arrays recursively) into v.
  std::function<void(ValueType, Value&, int, const std::string&)> read_value =
      [&](ValueType t, Value& v, int depth, const std::string& key) {
        if (t != ValueType::ARRAY) {
          read_scalar(c, t, v);
          return;
        }
        if (depth >= kMaxArrayDepth) error(cat("key ", key, ": arrays nested too deeply"));
        v.type = ValueType::ARRAY;
        const uint32_t et = c.read<uint32_t>("array element type");
        if (!valid_value_type(et))
          error(cat("key ", key, ": invalid array element type ", et));
        v.elem_type = ValueType(et);
        v.count = c.read<uint64_t>("array length");
        const size_t esz = value_type_size(v.elem_type);
        if (esz) {
          if (v.count > c.remaining() / esz)
            error(cat("key ", key, ": array of ", v.count, " elements runs past the end"));
          const uint8_t* p = c.take(v.count * esz, "array data");
          v.raw.assign(p, p + v.count * esz);
        } else if (v.elem_type == ValueType::STRING) {
          if (v.count > c.remaining() / 8)
            error(cat("key ", key, ": array of ", v.count, " strings runs past the end"));
          v.strs.reserve(size_t(v.count));
          for (uint64_t k = 0; k < v.count; ++k) v.strs.push_back(c.read_string("array string"));
        } else {  // nested arrays: each needs at least 12 bytes (type + length)
          if (v.count > c.remaining() / 12)
            error(cat("key ", key, ": array of ", v.count, " arrays runs past the end"));
          v.nested.resize(size_t(v.count));
          for (uint64_t k = 0; k < v.count; ++k)
            read_value(ValueType::ARRAY, v.nested[size_t(k)], depth + 1, key);
        }
      };

  kv_.reserve(size_t(n_kv));
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = c.read_string("metadata key");
    const uint32_t t = c.read<uint32_t>("metadata value type");
    if (!valid_value_type(t)) error(cat("key ", key, ": invalid value type ", t));
    Value v;
    read_value(ValueType(t), v, 0, key);
    if (kv_index_.count(key)) error(cat("duplicate metadata key ", key));
    kv_index_.emplace(key, kv_.size());
    kv_.emplace_back(std::move(key), std::move(v));
  }

  if (const Value* a = find("general.alignment")) {
    if (a->type != ValueType::U32) error("general.alignment must be a u32");
    if (a->u == 0 || (a->u & (a->u - 1)) != 0)
      error(cat("general.alignment ", a->u, " is not a power of two"));
    alignment_ = uint32_t(a->u);
  }

  tensors_.reserve(size_t(n_tensors));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo ti;
    ti.name = c.read_string("tensor name");
    ti.n_dims = c.read<uint32_t>("tensor dimension count");
    if (ti.n_dims == 0 || ti.n_dims > kMaxDims)
      error(cat("tensor ", ti.name, ": ", ti.n_dims, " dimensions (1 to 4 allowed)"));
    int64_t n = 1;
    for (uint32_t d = 0; d < ti.n_dims; ++d) {
      ti.ne[d] = c.read<int64_t>("tensor dimension");
      if (ti.ne[d] < 0) error(cat("tensor ", ti.name, ": negative dimension ", ti.ne[d]));
      if (mul_overflows(n, ti.ne[d])) error(cat("tensor ", ti.name, ": element count overflows"));
      n *= ti.ne[d];
    }
    const uint32_t type_id = c.read<uint32_t>("tensor type");
    const auto info = dtype_info(type_id);
    if (!info) error(cat("tensor ", ti.name, ": unknown tensor type id ", type_id));
    ti.type = info->type;
    if (ti.ne[0] % info->block_size != 0)
      error(cat("tensor ", ti.name, ": row length ", ti.ne[0], " is not a multiple of the ",
                info->name, " block size ", info->block_size));
    ti.offset = c.read<uint64_t>("tensor offset");
    const int64_t blocks = n / info->block_size;
    if (mul_overflows(blocks, info->type_size)) error(cat("tensor ", ti.name, ": size overflows"));
    ti.nbytes = uint64_t(blocks) * info->type_size;
    if (tensor_index_.count(ti.name)) error(cat("duplicate tensor name ", ti.name));
    tensor_index_.emplace(ti.name, tensors_.size());
    tensors_.push_back(std::move(ti));
  }

  // Data blob starts at the next multiple of the alignment.
  const uint64_t pos = c.pos();
  data_offset_ = (pos + alignment_ - 1) / alignment_ * alignment_;
  if (!tensors_.empty() && data_offset_ > size_)
    error(cat("truncated: tensor data should start at offset ", data_offset_, " but the file has ",
              size_, " bytes"));
  const uint64_t blob = size_ >= data_offset_ ? size_ - data_offset_ : 0;
  for (TensorInfo& ti : tensors_) {
    if (ti.offset % alignment_ != 0)
      error(cat("tensor ", ti.name, ": offset ", ti.offset, " is not a multiple of the alignment ",
                alignment_));
    if (ti.offset > blob || ti.nbytes > blob - ti.offset)
      error(cat("tensor ", ti.name, " (", ti.nbytes, " bytes at data offset ", ti.offset,
                ") extends past the end of the file (data section is ", blob,
                " bytes): file truncated?"));
    ti.data = base_ + data_offset_ + ti.offset;
  }
}

const Value* File::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::optional<uint64_t> File::get_uint(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer() && v->type != ValueType::BOOL)
    error(cat("key ", key, " has type ", value_type_name(v->type), ", expected an integer"));
  if (v->i < 0 && v->type != ValueType::U64)
    error(cat("key ", key, " is negative (", v->i, "), expected a non-negative integer"));
  return v->u;
}

std::optional<int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer())
    error(cat("key ", key, " has type ", value_type_name(v->type), ", expected an integer"));
  return v->i;
}

std::optional<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_float()) return v->f;
  if (v->is_integer()) return double(v->i);
  error(cat("key ", key, " has type ", value_type_name(v->type), ", expected a number"));
}

std::optional<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type == ValueType::BOOL || v->is_integer()) return v->u != 0;
  error(cat("key ", key, " has type ", value_type_name(v->type), ", expected a bool"));
}

std::optional<std::string> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != ValueType::STRING)
    error(cat("key ", key, " has type ", value_type_name(v->type), ", expected a string"));
  return v->str;
}

namespace {
template <typename T>
T load_elem(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
// Element k of a numeric array as double / int64.
double elem_as_double(const Value& v, size_t k) {
  const size_t sz = value_type_size(v.elem_type);
  const uint8_t* p = v.raw.data() + k * sz;
  switch (v.elem_type) {
    case ValueType::U8: case ValueType::BOOL: return load_elem<uint8_t>(p);
    case ValueType::I8: return load_elem<int8_t>(p);
    case ValueType::U16: return load_elem<uint16_t>(p);
    case ValueType::I16: return load_elem<int16_t>(p);
    case ValueType::U32: return load_elem<uint32_t>(p);
    case ValueType::I32: return load_elem<int32_t>(p);
    case ValueType::U64: return double(load_elem<uint64_t>(p));
    case ValueType::I64: return double(load_elem<int64_t>(p));
    case ValueType::F32: return load_elem<float>(p);
    case ValueType::F64: return load_elem<double>(p);
    default: return 0;
  }
}
int64_t elem_as_int(const Value& v, size_t k) {
  const size_t sz = value_type_size(v.elem_type);
  const uint8_t* p = v.raw.data() + k * sz;
  switch (v.elem_type) {
    case ValueType::U64: return int64_t(load_elem<uint64_t>(p));
    case ValueType::I64: return load_elem<int64_t>(p);
    default: return int64_t(elem_as_double(v, k));
  }
}
}  // namespace

std::optional<std::vector<int64_t>> File::get_int_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_numeric_array() || v->elem_type == ValueType::F32 || v->elem_type == ValueType::F64)
    error(cat("key ", key, " is not an array of integers"));
  std::vector<int64_t> r(size_t(v->count));
  for (size_t k = 0; k < r.size(); ++k) r[k] = elem_as_int(*v, k);
  return r;
}

std::optional<std::vector<float>> File::get_float_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_numeric_array()) error(cat("key ", key, " is not a numeric array"));
  std::vector<float> r(size_t(v->count));
  for (size_t k = 0; k < r.size(); ++k) r[k] = float(elem_as_double(*v, k));
  return r;
}

const std::vector<std::string>* File::get_string_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return nullptr;
  if (v->type != ValueType::ARRAY || v->elem_type != ValueType::STRING)
    error(cat("key ", key, " is not an array of strings"));
  return &v->strs;
}

}  // namespace hearth::gguf
