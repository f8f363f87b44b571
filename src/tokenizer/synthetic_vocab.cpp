// synthetic_vocab: a small, deterministic byte-level BPE vocabulary for synthetic models that come
// without a real tokenizer. Trained here on a built-in text; no tokenization logic of its own.
#include <map>
#include <set>

#include "core/error.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace hearth::tokenizer {

namespace {

constexpr const char* kTrainingText = R"(The quick brown fox jumps over the lazy dog. A language model reads
text as a sequence of tokens and predicts the next one. Tokens are pieces of words: common words
are single tokens, rare words are split into several pieces, and any byte can always be written.
In the beginning the model knows nothing; after training on many documents it has learned which
token is likely to come next. This is a small example of English text that is used to train the
merges of a byte pair encoding, so that the most frequent pairs of characters become tokens first.
She said that they would meet at the station at seven o'clock, and then they went home together.
What is the capital of France? The capital of France is Paris. How many days are there in a week?
There are seven days in a week, twelve months in a year and about three hundred and sixty five days.

def fibonacci(n):
    """Return the n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a

int main(int argc, char** argv) {
    for (int i = 0; i < argc; ++i) {
        printf("%d: %s\n", i, argv[i]);
    }
    return 0;
}

function add(a, b) { return a + b; }
const result = items.filter((item) => item.value > 10).map((item) => item.name);
SELECT name, count(*) FROM users WHERE age > 21 GROUP BY name ORDER BY name;
)";

constexpr const char* kChatTemplate =
    "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

}  // namespace

VocabSpec synthetic_vocab(int32_t n_vocab) {
  const char* specials[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  const int32_t n_special = 3;
  if (n_vocab < 256 + n_special) {
    fail("synthetic vocabulary needs at least ", 256 + n_special, " tokens, asked for ", n_vocab);
  }
  const size_t n_normal = static_cast<size_t>(n_vocab - n_special);

  std::vector<std::string> tokens;
  std::set<std::string> known;
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(unicode::byte_to_gpt2(static_cast<uint8_t>(b)));
    known.insert(tokens.back());
  }
  std::vector<std::string> merges;

  // Words of the training text (qwen2 pre-tokenizer), as sequences of byte characters.
  const RegexSplitter splitter(pre_config("qwen2").regexes);
  std::map<std::string, int> word_count;
  for (const std::string& piece : splitter.split(kTrainingText)) ++word_count[piece];
  std::vector<std::pair<std::vector<std::string>, int>> words;
  for (const auto& [piece, count] : word_count) {
    std::vector<std::string> syms;
    for (unsigned char c : piece) syms.push_back(unicode::byte_to_gpt2(c));
    words.emplace_back(std::move(syms), count);
  }

  // Classic BPE training: merge the most frequent adjacent pair (ties: smallest pair), down to
  // pairs seen once, so every word of the text ends up a single token if there is room.
  while (tokens.size() < n_normal) {
    std::map<std::pair<std::string, std::string>, int> pairs;
    for (const auto& [syms, count] : words) {
      for (size_t i = 0; i + 1 < syms.size(); ++i) pairs[{syms[i], syms[i + 1]}] += count;
    }
    const std::pair<std::string, std::string>* best = nullptr;
    int best_count = 0;
    for (const auto& [p, c] : pairs) {
      if (c > best_count) {
        best = &p;
        best_count = c;
      }
    }
    if (!best) break;
    const std::string left = best->first, right = best->second, joined = left + right;
    merges.push_back(left + " " + right);
    if (known.insert(joined).second) tokens.push_back(joined);
    for (auto& [syms, count] : words) {
      std::vector<std::string> out;
      for (size_t i = 0; i < syms.size(); ++i) {
        if (i + 1 < syms.size() && syms[i] == left && syms[i + 1] == right) {
          out.push_back(joined);
          ++i;
        } else {
          out.push_back(syms[i]);
        }
      }
      syms = std::move(out);
    }
  }

  // The text is small: fill the rest with extensions of existing tokens by one lowercase letter
  // (each a real merge, so every token stays reachable from text).
  static const char* kLetters = "etaoinshrdlucmfwypvbgkjqxz";
  for (size_t t = 0; tokens.size() < n_normal; ++t) {
    for (const char* c = kLetters; *c && tokens.size() < n_normal; ++c) {
      const std::string base = tokens[t];
      const std::string joined = base + *c;
      if (!known.insert(joined).second) continue;
      merges.push_back(base + " " + std::string(1, *c));
      tokens.push_back(joined);
    }
  }

  VocabSpec spec;
  spec.model = "gpt2";
  spec.pre = "qwen2";
  spec.tokens = std::move(tokens);
  spec.types.assign(spec.tokens.size(), kTypeNormal);
  for (const char* s : specials) {
    spec.tokens.push_back(s);
    spec.types.push_back(kTypeControl);
  }
  spec.merges = std::move(merges);
  spec.bos = static_cast<int32_t>(n_normal);      // <|endoftext|>
  spec.eos = static_cast<int32_t>(n_normal) + 2;  // <|im_end|>
  spec.pad = static_cast<int32_t>(n_normal);
  spec.add_bos = false;
  spec.chat_template = kChatTemplate;
  return spec;
}

}  // namespace hearth::tokenizer
