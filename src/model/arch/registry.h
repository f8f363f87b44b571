// Loader functions of every architecture (one per file in model/arch/).
#pragma once

#include <memory>

#include "model/model.h"

namespace hearth::model {

std::unique_ptr<Model> load_llama(std::shared_ptr<const gguf::File> f);
std::unique_ptr<Model> load_qwen2(std::shared_ptr<const gguf::File> f);
std::unique_ptr<Model> load_qwen3(std::shared_ptr<const gguf::File> f);
std::unique_ptr<Model> load_qwen3moe(std::shared_ptr<const gguf::File> f);
std::unique_ptr<Model> load_gpt_oss(std::shared_ptr<const gguf::File> f);

}  // namespace hearth::model
