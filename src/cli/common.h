// Helpers shared by CLI commands: loading a model with its tokenizer, the built-in default
// model, thread-count and output utilities.
#pragma once

#include <memory>
#include <string>

#include "gguf/gguf.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace hearth::cli {

struct LoadedModel {
  std::shared_ptr<const gguf::File> file;
  std::shared_ptr<model::Model> model;
  std::unique_ptr<tokenizer::Tokenizer> tok;
};

// Opens and validates a GGUF, builds the model and its tokenizer, and (unless `repack` is
// false) rewrites weights into the active kernels' repacked layouts.
LoadedModel load_model(const std::string& path, bool repack = true);

// The built-in default model: a small synthetic qwen3 (random weights) generated on first use
// into $XDG_CACHE_HOME/hearth (or ~/.cache/hearth). Returns its path.
std::string default_model_path(bool announce);

int default_threads();

}  // namespace hearth::cli
