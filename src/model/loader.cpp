// Hyperparameter reading and tensor binding shared by all architectures.
#include "model/loader.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "kernels/kernels.h"
#include "quant/quant.h"

namespace hearth::model {

void Loader::error(const std::string& what) const { fail(f_.name(), ": ", what); }

int64_t Loader::req_int(const std::string& suffix) const {
  const auto v = f_.get_int(key(suffix));
  if (!v) error(cat("key ", key(suffix), " is missing"));
  return *v;
}

int64_t Loader::opt_int(const std::string& suffix, int64_t def) const {
  const auto v = f_.get_int(key(suffix));
  return v ? *v : def;
}

float Loader::opt_float(const std::string& suffix, float def) const {
  const auto v = f_.get_float(key(suffix));
  return v ? float(*v) : def;
}

bool Loader::opt_bool(const std::string& suffix, bool def) const {
  const auto v = f_.get_bool(key(suffix));
  return v ? *v : def;
}

std::string Loader::opt_string(const std::string& suffix, const std::string& def) const {
  const auto v = f_.get_string(key(suffix));
  return v ? *v : def;
}

std::vector<int32_t> Loader::per_layer(const std::string& suffix, int64_t n_layer, int64_t def,
                                       bool required) const {
  const gguf::Value* v = f_.find(key(suffix));
  if (!v) {
    if (required) error(cat("key ", key(suffix), " is missing"));
    return std::vector<int32_t>(size_t(n_layer), int32_t(def));
  }
  std::vector<int32_t> r;
  if (v->type == gguf::ValueType::ARRAY) {
    const auto arr = f_.get_int_array(key(suffix));
    if (int64_t(arr->size()) != n_layer)
      error(cat("key ", key(suffix), " has ", arr->size(), " entries, expected ", n_layer));
    for (int64_t x : *arr) r.push_back(int32_t(x));
  } else {
    r.assign(size_t(n_layer), int32_t(req_int(suffix)));
  }
  for (int32_t x : r)
    if (x < 0 || x > (1 << 24)) error(cat("key ", key(suffix), " has an invalid value ", x));
  return r;
}

void Loader::load_common(HParams& hp) const {
  hp.arch = arch_;
  hp.name = f_.get_string("general.name").value_or("");
  hp.n_embd = req_int("embedding_length");
  hp.n_layer = req_int("block_count");
  hp.n_ctx_train = req_int("context_length");
  if (hp.n_embd <= 0 || hp.n_embd > (1 << 20)) error(cat("key ", key("embedding_length"), " is invalid"));
  if (hp.n_layer <= 0 || hp.n_layer > 4096) error(cat("key ", key("block_count"), " is invalid"));
  if (hp.n_ctx_train <= 0) error(cat("key ", key("context_length"), " is invalid"));
  hp.n_head = per_layer("attention.head_count", hp.n_layer, 0, true);
  hp.n_head_kv = per_layer("attention.head_count_kv", hp.n_layer, 0, false);
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    if (hp.n_head[il] <= 0) error(cat("key ", key("attention.head_count"), " must be positive"));
    if (!f_.has(key("attention.head_count_kv"))) hp.n_head_kv[il] = hp.n_head[il];
    if (hp.n_head_kv[il] <= 0 || hp.n_head[il] % hp.n_head_kv[il] != 0)
      error(cat("attention.head_count ", hp.n_head[il], " is not a multiple of head_count_kv ",
                hp.n_head_kv[il]));
  }
  hp.n_ff = per_layer("feed_forward_length", hp.n_layer, 0, false);
  const int64_t def_hd = hp.n_embd / hp.n_head[0];
  hp.head_dim_k = int32_t(opt_int("attention.key_length", def_hd));
  hp.head_dim_v = int32_t(opt_int("attention.value_length", def_hd));
  if (hp.head_dim_k <= 0 || hp.head_dim_v <= 0 || hp.head_dim_k > 4096 || hp.head_dim_v > 4096)
    error("invalid attention head size");
  hp.norm_eps = opt_float("attention.layer_norm_rms_epsilon", 1e-5f);
  hp.attn_scale = opt_float("attention.scale", 0.0f);

  RopeParams& r = hp.rope;
  r.n_rot = int32_t(opt_int("rope.dimension_count", hp.head_dim_k));
  if (r.n_rot <= 0 || r.n_rot > hp.head_dim_k || r.n_rot % 2)
    error(cat("key ", key("rope.dimension_count"), " = ", r.n_rot, " is invalid for head size ",
              hp.head_dim_k));
  r.freq_base = opt_float("rope.freq_base", 10000.0f);
  const std::string scaling = opt_string("rope.scaling.type", "linear");
  float factor = opt_float("rope.scaling.factor", 0.0f);
  if (!f_.has(key("rope.scaling.factor"))) factor = opt_float("rope.scale_linear", 0.0f);
  r.freq_scale = (factor == 0.0f) ? 1.0f : 1.0f / factor;
  r.n_ctx_orig = int32_t(opt_int("rope.scaling.original_context_length", hp.n_ctx_train));
  if (scaling == "yarn") {
    r.ext_factor = opt_float("rope.scaling.yarn_ext_factor", 1.0f);
    r.beta_fast = opt_float("rope.scaling.yarn_beta_fast", 32.0f);
    r.beta_slow = opt_float("rope.scaling.yarn_beta_slow", 1.0f);
    // llama.cpp makes the final cos/sin magnitude equal HF's attention_factor
    // (0.1 ln(factor) + 1 unless given); ggml multiplies by 1 + 0.1 ln(1/freq_scale) itself,
    // so the factor passed down is the HF value divided by that.
    const float hf = opt_float("rope.scaling.attn_factor", 0.0f);
    if (hf != 0.0f && r.freq_scale != 1.0f)
      r.attn_factor = hf / (1.0f + 0.1f * std::log(1.0f / r.freq_scale));
  } else if (scaling != "none" && scaling != "linear") {
    error(cat("unsupported rope scaling type '", scaling, "'"));
  }
}

Weight Loader::bind_shape(const gguf::TensorInfo& t, std::initializer_list<int64_t> shape) const {
  bool ok = t.n_dims == shape.size() ||
            (t.n_dims < shape.size() && [&] {  // trailing 1s may be omitted
              size_t d = 0;
              for (int64_t s : shape)
                if (d++ >= t.n_dims && s != 1) return false;
              return true;
            }());
  size_t d = 0;
  for (int64_t s : shape) ok = ok && t.ne[d++] == s;
  if (!ok) {
    std::string want = "{";
    d = 0;
    for (int64_t s : shape) want += cat(d++ ? ", " : "", s);
    error(cat("tensor ", t.name, " has shape ", t.shape_string(), ", expected ", want, "}"));
  }
  if (!dtype_info(t.type).supported)
    error(cat("tensor ", t.name, " has type ", dtype_name(t.type),
              ", which Hearth cannot compute with"));
  Weight w;
  w.info = &t;
  w.type = t.type;
  for (int i = 0; i < 4; ++i) w.ne[i] = t.ne[i];
  w.data = t.data;
  w.row_bytes = row_bytes(t.type, t.ne[0]);
  return w;
}

Weight Loader::bind(const gguf::TensorInfo& t, std::initializer_list<int64_t> shape) const {
  Weight w = bind_shape(t, shape);
  if (t.type == DType::NVFP4) {
    const gguf::TensorInfo* s = f_.find_tensor(t.name.substr(0, t.name.rfind(".weight")) + ".scale");
    if (s) {
      if (s->type != DType::F32 || s->n_elements() != 1)
        error(cat("tensor ", s->name, " must be a single f32 scale"));
      std::memcpy(&w.scale, s->data, 4);
    }
  }
  return w;
}

Weight Loader::req(const std::string& name, std::initializer_list<int64_t> shape) const {
  const gguf::TensorInfo* t = f_.find_tensor(name);
  if (!t) error(cat("tensor ", name, " is missing"));
  return bind(*t, shape);
}

Weight Loader::opt(const std::string& name, std::initializer_list<int64_t> shape) const {
  const gguf::TensorInfo* t = f_.find_tensor(name);
  return t ? bind(*t, shape) : Weight{};
}

std::vector<float> Loader::req_vec(const std::string& name, int64_t n) const {
  const Weight w = req(name, {n});
  std::vector<float> values(static_cast<size_t>(n));
  quant::dequantize_row(w.type, w.data, values.data(), n);
  return values;
}

std::vector<float> Loader::opt_vec(const std::string& name, int64_t n) const {
  return f_.find_tensor(name) ? req_vec(name, n) : std::vector<float>{};
}

std::vector<float> Loader::opt_mat(const std::string& name, int64_t n0, int64_t n1) const {
  const gguf::TensorInfo* t = f_.find_tensor(name);
  if (!t) return {};
  const Weight w = bind_shape(*t, {n0, n1});
  std::vector<float> values(static_cast<size_t>(n0 * n1));
  for (int64_t r = 0; r < n1; ++r)
    quant::dequantize_row(w.type, w.data + size_t(r) * w.row_bytes, values.data() + r * n0, n0);
  return values;
}

Weight Loader::req_experts(const std::string& name, int64_t n_in, int64_t n_out, int64_t n_expert,
                           std::vector<float>* scales) const {
  const gguf::TensorInfo* t = f_.find_tensor(name);
  if (!t) error(cat("tensor ", name, " is missing"));
  Weight w = bind_shape(*t, {n_in, n_out, n_expert});
  if (scales) {
    scales->clear();
    const std::string base = name.substr(0, name.rfind(".weight"));
    if (const gguf::TensorInfo* s = f_.find_tensor(base + ".scale")) {
      if (s->type != DType::F32 || (s->n_elements() != n_expert && s->n_elements() != 1))
        error(cat("tensor ", s->name, " must hold 1 or ", n_expert, " f32 scales, has ",
                  s->n_elements(), " of type ", dtype_name(s->type)));
      scales->resize(size_t(n_expert));
      const float* v = reinterpret_cast<const float*>(s->data);
      for (int64_t e = 0; e < n_expert; ++e) {
        float x;
        std::memcpy(&x, v + (s->n_elements() == 1 ? 0 : e), 4);
        (*scales)[size_t(e)] = x;
      }
    }
  }
  return w;
}

}  // namespace hearth::model
