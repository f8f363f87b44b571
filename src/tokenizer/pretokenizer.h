// Byte-level BPE pre-tokenizers: the regex lists llama.cpp applies for each tokenizer.ggml.pre
// name, run with PCRE2 (JIT) over the same category-collapsed text llama.cpp matches against.
// Splits text into pieces only; knows nothing of vocabularies or merges.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::tokenizer {

// What a pre-tokenizer name implies besides its regexes (llama.cpp's llama_vocab::impl::load).
struct PreConfig {
  std::string name;                  // canonical family name, e.g. "llama3", "qwen2"
  std::vector<std::string> regexes;  // applied in sequence
  bool ignore_merges = false;        // a piece that is a whole token is emitted as is
  bool add_bos = false;              // default for tokenizer.ggml.add_bos_token
  bool clean_spaces = true;          // clean_up_tokenization_spaces when detokenizing
};

// Throws hearth::Error naming the pre-tokenizer if llama.cpp would not accept it either, or if
// it needs one of llama.cpp's non-regex splitters Hearth does not implement.
PreConfig pre_config(std::string_view pre);
// The names pre_config accepts (for messages and tests).
std::vector<std::string> known_pre_names();

class RegexSplitter {
 public:
  // Compiles each regex once (JIT). A regex that uses \p{N}, \p{L}, \p{P}, \p{S}, \p{M} or
  // \p{Lu,Ll,Lt,Lm,Lo} is matched against "collapsed" text (one byte per code point: ASCII as
  // is, other code points by category), exactly as llama.cpp does; others against the code
  // points themselves. Throws hearth::Error for a regex PCRE2 rejects.
  explicit RegexSplitter(std::vector<std::string> regexes);
  ~RegexSplitter();
  RegexSplitter(RegexSplitter&&) noexcept;
  RegexSplitter& operator=(RegexSplitter&&) noexcept;

  // Splits `text` into pieces: every regex in turn splits each current piece into its matches
  // and the text between them (both kept). Pieces are UTF-8; bytes that are not valid UTF-8
  // arrive as U+FFFD (llama.cpp's behaviour). Thread-safe.
  std::vector<std::string> split(std::string_view text) const;

  // Same, but returns piece lengths in code points over `cpts` (for tests).
  std::vector<size_t> split_cpts(const std::vector<uint32_t>& cpts) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::tokenizer
