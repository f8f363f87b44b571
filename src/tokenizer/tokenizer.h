// The tokenizer the engine uses: text <-> token ids for GGUF vocabularies (byte-level BPE
// "gpt2" and SentencePiece-style "llama"), matching llama.cpp's llama-vocab token for token.
// Depends on core/ only: no GGUF here (model/vocab.h converts GGUF keys to a VocabSpec).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::tokenizer {

// tokenizer.ggml.token_type values.
enum TokenType : int32_t {
  kTypeUndefined = 0,
  kTypeNormal = 1,
  kTypeUnknown = 2,
  kTypeControl = 3,
  kTypeUserDefined = 4,
  kTypeUnused = 5,
  kTypeByte = 6,
};

// Everything the GGUF tokenizer.* keys say, with llama.cpp's defaults already applied (so a
// VocabSpec means the same thing whether it came from a file, a tokenizer.json or a test).
struct VocabSpec {
  std::string model;  // "gpt2" (byte-level BPE) or "llama" (SentencePiece); others -> Error
  std::string pre;    // pre-tokenizer name ("qwen2", "llama-bpe", "deepseek-v3", "gpt-4o", ...)
  std::vector<std::string> tokens;
  std::vector<int32_t> types;   // TokenType per token; empty = all normal
  std::vector<float> scores;    // SPM merge priority per token; empty = all 0
  std::vector<std::string> merges;  // BPE "left right", rank = index
  int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1, sep = -1;  // -1 = none
  bool add_bos = false, add_eos = false, add_space_prefix = false;
  std::optional<std::string> chat_template;
};

class Tokenizer {
 public:
  // Validates (model known, pre-tokenizer known, array sizes agree, token types valid, special
  // ids in range, merges of the form "left right") and builds the lookup tables; throws
  // hearth::Error naming the field at fault.
  explicit Tokenizer(VocabSpec spec);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // llama_tokenize: add_special adds BOS/EOS as the vocabulary asks (add_bos/add_eos);
  // parse_special turns the text of control tokens into those tokens (user-defined tokens are
  // always matched, as in llama.cpp). Any bytes are accepted; invalid UTF-8 is tokenized the way
  // llama.cpp does it. Thread-safe.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // The bytes a token stands for (llama_token_to_piece): byte-level BPE tokens are un-mapped to
  // raw bytes, "▁" becomes " " for SPM, <0xXX> tokens become that byte. Control and unknown
  // tokens render as their text when `special`, else as "". Unused tokens render as "".
  std::string token_to_piece(int32_t id, bool special = true) const;
  // llama_detokenize(remove_special = false, unparse_special = special): concatenated pieces,
  // the SPM leading space removed when add_space_prefix, then llama.cpp's
  // clean_up_tokenization_spaces rules for vocabularies that use them (e.g. llama-bpe).
  std::string decode(std::span<const int32_t> ids, bool special = true) const;

  int32_t n_vocab() const;
  int32_t bos() const;
  int32_t eos() const;
  int32_t eot() const;  // detected from token texts when the file has none, as llama.cpp does
  bool add_bos() const;
  bool add_eos() const;
  // End of generation: eos, eot, eom and the tokens llama.cpp recognises by text
  // (<|im_end|>, <|eot_id|>, <end_of_turn>, <|return|>, <|call|>, ...).
  bool is_eog(int32_t id) const;
  bool is_control(int32_t id) const;  // after llama.cpp's attribute fix-ups
  std::vector<int32_t> eog_ids() const;
  const VocabSpec& spec() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Streams text token by token without ever splitting a UTF-8 character across outputs: bytes of
// an unfinished character are held until a later token completes it (or flush()). Invalid bytes
// are passed through, never held forever.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool special = true);
  std::string push(int32_t id);
  std::string flush();

 private:
  const Tokenizer* tok_;
  bool special_;
  std::string pending_;
};

// A byte-level BPE vocabulary of n_vocab tokens (256 byte tokens + merges trained on a small
// built-in English/code text + special tokens <|endoftext|>, <|im_start|>, <|im_end|>), for
// synthetic models given no real tokenizer. Deterministic; pre = "qwen2". n_vocab >= 260.
VocabSpec synthetic_vocab(int32_t n_vocab);

// Builds a VocabSpec from a Hugging Face tokenizer.json (+ optional tokenizer_config.json for
// bos/eos/add_bos/chat_template) the way llama.cpp's convert_hf_to_gguf.py does: tokens from
// model.vocab + added_tokens (CONTROL if special or special-looking, else USER_DEFINED), merges,
// pre-tokenizer name chosen from the pre_tokenizer regexes (qwen2, llama-bpe, deepseek-v3,
// gpt-4o). A SentencePiece-style BPE (byte_fallback with "▁", e.g. gemma3) becomes a "llama"
// vocabulary whose scores reproduce the merge order. Throws hearth::Error on anything else.
VocabSpec vocab_from_hf(const std::string& tokenizer_json_text,
                        const std::string* tokenizer_config_json_text);

}  // namespace hearth::tokenizer
