// GGUF <-> tokenizer glue: reads the tokenizer.* keys of a GGUF into a VocabSpec (applying
// llama.cpp's defaults) and writes a VocabSpec back as those keys. No tokenization here.
#pragma once

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"

namespace hearth::model {

// Reads tokenizer.ggml.* (+ tokenizer.chat_template). Missing optional keys get llama.cpp's
// defaults (SPM: bos 1, eos 2, unk 0, add_bos, add_space_prefix; BPE: bos = eos = 11, add_bos
// per pre-tokenizer); an out-of-range special id keeps the default, as llama.cpp does.
// Errors name the file and key, e.g. "model.gguf: key tokenizer.ggml.tokens is missing".
tokenizer::VocabSpec read_vocab(const gguf::File& file);

// Writes the keys llama.cpp reads: model, pre, tokens, token_type, scores (if any), merges (BPE),
// special token ids that are set, add_bos/add_eos/add_space_prefix and the chat template.
void write_vocab(gguf::Writer& writer, const tokenizer::VocabSpec& spec);

}  // namespace hearth::model
