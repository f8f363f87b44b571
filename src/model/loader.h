// Reads an architecture's hyperparameters and binds its tensors by GGUF name with shape and
// type checks. Every failure names the file and the key or tensor at fault.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "model/model.h"

namespace hearth::model {

class Loader {
 public:
  Loader(const gguf::File& file, std::string arch) : f_(file), arch_(std::move(arch)) {}

  const gguf::File& file() const { return f_; }
  const std::string& arch() const { return arch_; }
  std::string key(const std::string& suffix) const { return arch_ + "." + suffix; }

  // "{arch}.<suffix>" getters; req_* throw when the key is absent.
  int64_t req_int(const std::string& suffix) const;
  int64_t opt_int(const std::string& suffix, int64_t def) const;
  float opt_float(const std::string& suffix, float def) const;
  bool opt_bool(const std::string& suffix, bool def) const;
  std::string opt_string(const std::string& suffix, const std::string& def) const;
  // A per-layer value stored either as a scalar or as an [n_layer] array.
  std::vector<int32_t> per_layer(const std::string& suffix, int64_t n_layer, int64_t def,
                                 bool required) const;

  // The generic hyperparameters every decoder has (llama.cpp's load_hparams), including RoPE
  // scaling keys. Architecture files adjust what differs (rope type, defaults).
  void load_common(HParams& hp) const;

  // Binds a tensor and checks its shape (ggml order). The required form throws if missing.
  Weight req(const std::string& name, std::initializer_list<int64_t> shape) const;
  Weight opt(const std::string& name, std::initializer_list<int64_t> shape) const;
  // A 1-D tensor of n values (norm weights, biases) converted to f32; empty if optional+missing.
  std::vector<float> req_vec(const std::string& name, int64_t n) const;
  std::vector<float> opt_vec(const std::string& name, int64_t n) const;
  // A 2-D tensor {n0, n1} (per-expert biases) converted to f32 [n1, n0]; empty if missing.
  std::vector<float> opt_mat(const std::string& name, int64_t n0, int64_t n1) const;

  // A 3-D expert tensor {n_in, n_out, n_expert}: expert e's matrix starts at
  // data + e * n_out * row_bytes. `scales` receives the per-expert output scales of
  // `<base>.scale` (NVFP4: n_expert f32, or one value for all) and stays empty without one.
  Weight req_experts(const std::string& name, int64_t n_in, int64_t n_out, int64_t n_expert,
                     std::vector<float>* scales) const;

  [[noreturn]] void error(const std::string& what) const;

 private:
  Weight bind(const gguf::TensorInfo& t, std::initializer_list<int64_t> shape) const;
  // Shape and type checks of bind() without the NVFP4 per-tensor scale.
  Weight bind_shape(const gguf::TensorInfo& t, std::initializer_list<int64_t> shape) const;
  const gguf::File& f_;
  std::string arch_;
};

}  // namespace hearth::model
