// Helpers shared by the model-level tests: the KL divergence of two logit rows and a synthetic
// model in a temporary file that lives as long as the object. Test-only.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "gguf/gguf.h"
#include "model/model.h"
#include "model/synth.h"

namespace hearth::model::testing {

// KL(softmax(p) || softmax(q)) of two logit rows, in double.
inline double kl_logits(const float* p, const float* q, size_t n) {
  double mp = -INFINITY, mq = -INFINITY;
  for (size_t i = 0; i < n; ++i) mp = std::max(mp, double(p[i])), mq = std::max(mq, double(q[i]));
  double sp = 0, sq = 0;
  for (size_t i = 0; i < n; ++i) sp += std::exp(p[i] - mp), sq += std::exp(q[i] - mq);
  const double lp = mp + std::log(sp), lq = mq + std::log(sq);
  double r = 0;
  for (size_t i = 0; i < n; ++i) r += std::exp(p[i] - lp) * ((p[i] - lp) - (q[i] - lq));
  return std::max(0.0, r);
}

// Options for a "tiny" preset model of `arch` in weight type `type` (2 threads to write it).
inline SynthOptions tiny_options(const std::string& arch, const std::string& type, uint64_t seed) {
  SynthOptions o;
  o.arch = arch;
  o.preset = "tiny";
  o.type = type;
  o.seed = seed;
  o.threads = 2;
  return o;
}

// synthesize(o) into a per-process temporary file named after `tag`, loaded; the file is
// removed with the object.
struct TempSynthModel {
  TempSynthModel(const SynthOptions& o, const std::string& tag)
      : path((std::filesystem::temp_directory_path() /
              ("hearth_" + tag + "_" + std::to_string(::getpid()) + "_" + o.type + ".gguf")).string()) {
    synthesize(o, path);
    model = load_model(std::shared_ptr<const gguf::File>(gguf::File::open(path)));
  }
  ~TempSynthModel() {
    model.reset();
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  std::string path;
  std::shared_ptr<Model> model;
};

}  // namespace hearth::model::testing
