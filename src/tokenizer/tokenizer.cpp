// Tokenizer: vocabulary tables, llama.cpp's token-attribute fix-ups, special-token splitting,
// byte-level BPE and SentencePiece merging, and detokenization (see tokenizer.h).
// Hand-written because no Debian library implements GGUF's BPE/SPM semantics; every rule here
// follows llama.cpp's observable behaviour (src/llama-vocab.cpp), not its code.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cstring>
#include <queue>
#include <set>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"

namespace hearth::tokenizer {

namespace {

// Token attributes as llama.cpp derives them (a bit set: fix-ups add bits).
enum Attr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
};

uint32_t attr_of_type(int32_t type) {
  switch (type) {
    case kTypeNormal: return kAttrNormal;
    case kTypeUnknown: return kAttrUnknown;
    case kTypeControl: return kAttrControl;
    case kTypeUserDefined: return kAttrUserDefined;
    case kTypeUnused: return kAttrUnused;
    case kTypeByte: return kAttrByte;
    default: return kAttrUndefined;
  }
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;


void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (;;) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // "▁" U+2581

// One merge step candidate in a word being merged. `size` is the byte length of both symbols
// when the candidate was made: symbols only grow, so a changed sum means it went stale.
struct Bigram {
  int32_t left;
  int32_t right;
  float priority;  // BPE: -rank; SPM: token score (higher first)
  size_t size;
  int32_t result;  // symbol id after merging (BPE)
};
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    // std::priority_queue pops the "largest": highest priority, then leftmost.
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.left > b.left;
  }
};

struct Symbol {
  int32_t prev;
  int32_t next;
  size_t off;  // byte offset in the word
  size_t n;    // byte length; 0 = merged away
  int32_t id;  // BPE symbol id (token id, or a merge-only string id, or -1)
};

// Special-token matcher: a byte trie over the texts of control / user-defined / unknown tokens.
struct Trie {
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> next;  // sorted by byte
    int32_t token = -1;
  };
  std::vector<Node> nodes{Node{}};

  void insert(std::string_view s, int32_t id) {
    int32_t cur = 0;
    for (unsigned char c : s) {
      auto& nx = nodes[cur].next;
      auto it = std::lower_bound(nx.begin(), nx.end(), std::make_pair(c, int32_t{-1}));
      if (it != nx.end() && it->first == c) {
        cur = it->second;
      } else {
        const auto idx = static_cast<int32_t>(nodes.size());
        nx.insert(it, {c, idx});
        nodes.emplace_back();
        cur = idx;
      }
    }
    // Several ids with the same text: the one matched is the one text_to_token gives (last).
    nodes[cur].token = id;
  }
  int32_t step(int32_t cur, unsigned char c) const {
    const auto& nx = nodes[cur].next;
    auto it = std::lower_bound(nx.begin(), nx.end(), std::make_pair(c, int32_t{-1}));
    return (it != nx.end() && it->first == c) ? it->second : -1;
  }
};

struct Fragment {
  int32_t token;  // >= 0: a special token; -1: raw text [off, off + len)
  size_t off;
  size_t len;
};

}  // namespace

struct Tokenizer::Impl {
  VocabSpec spec;
  bool spm = false;
  std::vector<std::string> texts;  // token texts, empty ones renamed like llama.cpp
  std::vector<uint32_t> attrs;
  std::vector<float> scores;
  StringMap token_to_id;  // last id wins for duplicate texts, as in llama.cpp
  std::set<int32_t> eog;
  bool clean_spaces = false;

  // BPE
  PreConfig pre;
  std::unique_ptr<RegexSplitter> splitter;
  StringMap symbol_id;  // token texts + strings that only occur inside merges
  int32_t n_symbols = 0;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;  // (l,r) -> (rank, result)

  // special tokens, in the order llama.cpp tries them (longest text first)
  std::vector<int32_t> special_order;
  std::vector<int32_t> special_rank;  // id -> position in special_order, -1 if not special
  Trie special_trie;

  void build();
  void fix_attributes();
  std::vector<Fragment> partition(std::string_view text, bool parse_special) const;
  void bpe_fragment(std::string_view text, std::vector<int32_t>& out) const;
  void bpe_word(const std::string& word, std::vector<int32_t>& out) const;
  void spm_fragment(std::string text, std::vector<int32_t>& out) const;
  int32_t text_to_token(std::string_view s) const {
    auto it = token_to_id.find(s);
    return it == token_to_id.end() ? -1 : it->second;
  }
  int32_t symbol_of(std::string_view s) {
    auto it = symbol_id.find(s);
    if (it != symbol_id.end()) return it->second;
    symbol_id.emplace(std::string(s), n_symbols);
    return n_symbols++;
  }
  std::string piece(int32_t id, bool special) const;
};

// ---- construction ------------------------------------------------------------------------------

void Tokenizer::Impl::build() {
  const size_t n = spec.tokens.size();
  if (spec.model == "gpt2") {
    spm = false;
  } else if (spec.model == "llama") {
    spm = true;
  } else {
    fail("unsupported tokenizer model '", spec.model, "' (tokenizer.ggml.model): expected gpt2 or llama");
  }
  if (n == 0) fail("tokenizer vocabulary is empty (tokenizer.ggml.tokens)");
  if (n > static_cast<size_t>(INT32_MAX / 2)) fail("tokenizer vocabulary too large: ", n, " tokens");
  if (!spec.types.empty() && spec.types.size() != n) {
    fail("tokenizer.ggml.token_type has ", spec.types.size(), " entries for ", n, " tokens");
  }
  if (!spec.scores.empty() && spec.scores.size() != n) {
    fail("tokenizer.ggml.scores has ", spec.scores.size(), " entries for ", n, " tokens");
  }
  const std::pair<const char*, int32_t> ids[] = {
      {"bos_token_id", spec.bos}, {"eos_token_id", spec.eos},     {"eot_token_id", spec.eot},
      {"eom_token_id", spec.eom}, {"unknown_token_id", spec.unk}, {"padding_token_id", spec.pad},
      {"seperator_token_id", spec.sep}};
  for (const auto& [key, id] : ids) {
    if (id < -1 || id >= static_cast<int64_t>(n)) {
      fail("tokenizer.ggml.", key, " = ", id, " is out of range for ", n, " tokens");
    }
  }

  texts.resize(n);
  attrs.resize(n);
  scores.assign(n, 0.0f);
  token_to_id.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    texts[i] = spec.tokens[i].empty() ? cat("[EMPTY_", i, "]") : spec.tokens[i];
    token_to_id[texts[i]] = static_cast<int32_t>(i);
    const int32_t type = spec.types.empty() ? kTypeNormal : spec.types[i];
    if (type < kTypeUndefined || type > kTypeByte) {
      fail("tokenizer.ggml.token_type[", i, "] = ", type, " is not a token type (0..6)");
    }
    attrs[i] = attr_of_type(type);
    if (!spec.scores.empty()) scores[i] = spec.scores[i];
  }

  if (!spm) {
    pre = pre_config(spec.pre);
    clean_spaces = pre.clean_spaces;
    splitter = std::make_unique<RegexSplitter>(pre.regexes);
    // Symbol ids: token ids first (same last-wins rule as token_to_id), then strings that only
    // appear in merges, so that merging works on integers.
    symbol_id = token_to_id;
    n_symbols = static_cast<int32_t>(n);
    merges.reserve(spec.merges.size());
    for (size_t r = 0; r < spec.merges.size(); ++r) {
      const std::string& m = spec.merges[r];
      // llama.cpp splits at the first space after the first byte.
      const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
      if (sp == std::string::npos) {
        fail("tokenizer.ggml.merges[", r, "] = '", m, "' is not of the form 'left right'");
      }
      const std::string_view left(m.data(), sp), right(m.data() + sp + 1, m.size() - sp - 1);
      if (right.empty()) continue;  // can never apply
      const int32_t l = symbol_of(left), rr = symbol_of(right);
      std::string joined(left);
      joined.append(right);
      const int32_t result = symbol_of(joined);
      const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(rr);
      merges.emplace(key, std::make_pair(static_cast<int32_t>(r), result));  // first rank wins
    }
  } else {
    clean_spaces = false;
  }

  fix_attributes();

  // Special tokens: longest text first (ties by id, for determinism).
  for (size_t i = 0; i < n; ++i) {
    if (attrs[i] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) {
      special_order.push_back(static_cast<int32_t>(i));
    }
  }
  std::stable_sort(special_order.begin(), special_order.end(), [&](int32_t a, int32_t b) {
    return texts[a].size() > texts[b].size();
  });
  special_rank.assign(n, -1);
  for (size_t k = 0; k < special_order.size(); ++k) {
    special_rank[special_order[k]] = static_cast<int32_t>(k);
  }
  // Insert in id order so that, for duplicate texts, the trie keeps the last id (like
  // token_to_id); the partition then uses that id.
  std::vector<int32_t> by_id = special_order;
  std::sort(by_id.begin(), by_id.end());
  for (int32_t id : by_id) special_trie.insert(texts[id], id);
}

// llama.cpp adjusts token attributes and collects end-of-generation tokens from token texts;
// these decide how special tokens split text, so they are replicated exactly.
void Tokenizer::Impl::fix_attributes() {
  const int32_t n = static_cast<int32_t>(texts.size());
  auto mark_control = [&](int32_t id) { attrs[id] |= kAttrControl; };
  // Lowest id among tokens whose text is in `names` (llama.cpp takes whichever its hash map
  // yields first; any choice gives the same attributes and EOG set).
  auto find_first = [&](std::initializer_list<std::string_view> names) -> int32_t {
    int32_t best = -1;
    for (auto name : names) {
      const int32_t id = text_to_token(name);
      if (id >= 0 && (best < 0 || id < best)) best = id;
    }
    return best;
  };
  if (spec.eot < 0) {
    spec.eot = find_first({"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                           "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
                           "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                           "<end_of_utterance>"});
    if (spec.eot >= 0) mark_control(spec.eot);
  }
  if (spec.eom < 0) {
    spec.eom = find_first({"<|eom_id|>"});
    if (spec.eom >= 0) mark_control(spec.eom);
  }
  const std::string fim_pre_deepseek = "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>";
  const std::string fim_suf_deepseek = "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "hole\xEF\xBD\x9C>";
  const std::string fim_mid_deepseek = "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>";
  const int32_t fim_pre = find_first({"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", fim_pre_deepseek,
                                      "<PRE>", "\xE2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>"});
  const int32_t fim_suf = find_first({"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", fim_suf_deepseek,
                                      "<SUF>", "\xE2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>"});
  const int32_t fim_mid = find_first({"<|fim_middle|>", "<fim-middle>", "<fim_middle>", fim_mid_deepseek,
                                      "<MID>", "\xE2\x96\x81<MID>", "<|code_middle|>", "<|middle|>"});
  const int32_t fim_pad = find_first({"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"});
  const int32_t fim_rep = find_first({"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
  const int32_t fim_sep = find_first({"<|file_sep|>"});
  for (int32_t id : {fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep}) {
    if (id >= 0) mark_control(id);
  }
  // Control tokens named "unused..." are unused.
  for (int32_t id = 0; id < n; ++id) {
    if ((attrs[id] & kAttrControl) && texts[id].find("unused") != std::string::npos) {
      attrs[id] |= kAttrUnused;
    }
  }
  for (int32_t id : {fim_pad, fim_rep, fim_sep}) {
    if (id >= 0) eog.insert(id);
  }
  static const std::initializer_list<std::string_view> kEogTexts = {
      "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
      "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
      "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
      "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", "[e~["};
  for (auto name : kEogTexts) {
    // Every id carrying this text counts (llama.cpp walks its text->id map, which holds the
    // last id per text).
    const int32_t id = text_to_token(name);
    if (id >= 0) {
      eog.insert(id);
      mark_control(id);
    }
  }
  // gpt-oss (harmony) structure tokens are always rendered and always split out of text.
  for (auto name : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
    const int32_t id = text_to_token(name);
    if (id >= 0) attrs[id] = kAttrUserDefined;
  }
  for (int32_t id : {spec.eos, spec.eot, spec.eom}) {
    if (id >= 0) eog.insert(id);
  }
  // harmony / solar-open: "<|end|>" ends a message, not the generation.
  {
    bool has_return = false, has_call = false, has_flush = false;
    int32_t end_id = -1;
    for (int32_t id : eog) {
      const std::string& t = texts[id];
      if (t == "<|return|>") has_return = true;
      else if (t == "<|call|>" || t == "<|calls|>") has_call = true;
      else if (t == "<|flush|>") has_flush = true;
      else if (t == "<|end|>") end_id = id;
    }
    if (end_id >= 0 && ((has_return && has_call) || (has_call && has_flush))) {
      eog.erase(end_id);
      attrs[end_id] = kAttrUserDefined;
    }
  }
  // gemma4 / paddleocr: "</s>" is not an end of generation when "<|tool_response>" is.
  {
    bool has_tool_response = false;
    int32_t s_id = -1;
    for (int32_t id : eog) {
      if (texts[id] == "<|tool_response>") has_tool_response = true;
      else if (texts[id] == "</s>") s_id = id;
    }
    if (has_tool_response && s_id >= 0) {
      eog.erase(s_id);
      attrs[s_id] = kAttrNormal;
    }
  }
}

// ---- encoding ----------------------------------------------------------------------------------

// llama.cpp tries special tokens longest first; each one splits every remaining raw fragment at
// its non-overlapping occurrences, scanning left to right. The trie finds which special tokens
// occur at all, so only those are searched for.
std::vector<Fragment> Tokenizer::Impl::partition(std::string_view text, bool parse_special) const {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({-1, 0, text.size()});
  if (special_order.empty()) return frags;

  std::vector<char> present(special_order.size(), 0);
  bool any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    int32_t node = 0;
    for (size_t j = i; j < text.size(); ++j) {
      node = special_trie.step(node, static_cast<unsigned char>(text[j]));
      if (node < 0) break;
      const int32_t id = special_trie.nodes[node].token;
      if (id < 0) continue;
      if (!parse_special && (attrs[id] & (kAttrControl | kAttrUnknown))) continue;
      present[special_rank[id]] = 1;
      any = true;
    }
  }
  if (!any) return frags;

  std::vector<Fragment> next;
  for (size_t rank = 0; rank < special_order.size(); ++rank) {
    if (!present[rank]) continue;
    const int32_t id = special_order[rank];
    const std::string_view needle = texts[id];
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      const std::string_view region = text.substr(f.off, f.len);
      size_t pos = 0;
      for (;;) {
        const size_t hit = region.find(needle, pos);
        if (hit == std::string_view::npos) break;
        if (hit > pos) next.push_back({-1, f.off + pos, hit - pos});
        next.push_back({id, f.off + hit, needle.size()});
        pos = hit + needle.size();
      }
      if (pos < region.size()) next.push_back({-1, f.off + pos, region.size() - pos});
    }
    frags.swap(next);
  }
  return frags;
}

void Tokenizer::Impl::bpe_word(const std::string& word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (pre.ignore_merges) {
    const int32_t id = text_to_token(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  std::vector<Symbol> syms;
  syms.reserve(word.size());
  for (size_t off = 0; off < word.size();) {
    const size_t len = std::min(word.size() - off,
                                unicode::sequence_length(static_cast<uint8_t>(word[off])));
    auto it = symbol_id.find(std::string_view(word).substr(off, len));
    const auto idx = static_cast<int32_t>(syms.size());
    syms.push_back({idx - 1, off + len == word.size() ? -1 : idx + 1, off, len,
                    it == symbol_id.end() ? -1 : it->second});
    off += len;
  }
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_add = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0 || syms[l].id < 0 || syms[r].id < 0) return;
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(syms[l].id)) << 32) |
                         static_cast<uint32_t>(syms[r].id);
    auto it = merges.find(key);
    if (it == merges.end()) return;
    queue.push({l, r, -static_cast<float>(it->second.first), syms[l].n + syms[r].n, it->second.second});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = syms[b.left];
    Symbol& r = syms[b.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    l.id = b.result;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  for (int32_t i = 0; i != -1; i = syms[i].next) {
    const Symbol& s = syms[i];
    const std::string_view text = std::string_view(word).substr(s.off, s.n);
    const int32_t id = text_to_token(text);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // Not a token (a vocabulary without some byte, or a merge whose result is not a token):
    // llama.cpp looks each byte up as a one-byte text and drops the ones it cannot find.
    for (char c : text) {
      const int32_t b = text_to_token(std::string_view(&c, 1));
      if (b >= 0) out.push_back(b);
    }
  }
}

void Tokenizer::Impl::bpe_fragment(std::string_view text, std::vector<int32_t>& out) const {
  for (const std::string& piece : splitter->split(text)) {
    std::string word;
    word.reserve(piece.size() * 2);
    for (unsigned char c : piece) word += unicode::byte_to_gpt2(c);
    bpe_word(word, out);
  }
}

void Tokenizer::Impl::spm_fragment(std::string text, std::vector<int32_t>& out) const {
  replace_all(text, " ", kSpmSpace);
  if (text.empty()) return;
  std::vector<Symbol> syms;
  syms.reserve(text.size());
  for (size_t off = 0; off < text.size();) {
    const size_t len = std::min(text.size() - off,
                                unicode::sequence_length(static_cast<uint8_t>(text[off])));
    const auto idx = static_cast<int32_t>(syms.size());
    syms.push_back({idx - 1, off + len == text.size() ? -1 : idx + 1, off, len, -1});
    off += len;
  }
  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  auto try_add = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    // Adjacent live symbols are contiguous in the text.
    const std::string_view joined = std::string_view(text).substr(syms[l].off, syms[l].n + syms[r].n);
    const int32_t id = text_to_token(joined);
    if (id < 0) return;
    queue.push({l, r, scores[id], joined.size(), id});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(syms.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = syms[b.left];
    Symbol& r = syms[b.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  static const char* hex = "0123456789ABCDEF";
  for (int32_t i = 0; i != -1; i = syms[i].next) {
    const std::string_view piece = std::string_view(text).substr(syms[i].off, syms[i].n);
    const int32_t id = text_to_token(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // Byte fallback: <0xXX>, else the byte itself as a token. llama.cpp aborts when neither
    // exists; Hearth emits the unknown token (or nothing) instead.
    for (unsigned char c : piece) {
      const char buf[6] = {'<', '0', 'x', hex[c >> 4], hex[c & 15], '>'};
      int32_t b = text_to_token(std::string_view(buf, 6));
      if (b < 0) b = text_to_token(std::string_view(reinterpret_cast<const char*>(&c), 1));
      if (b < 0) b = spec.unk;
      if (b >= 0) out.push_back(b);
    }
  }
}

// ---- decoding ----------------------------------------------------------------------------------

std::string Tokenizer::Impl::piece(int32_t id, bool special) const {
  if (id < 0 || id >= static_cast<int32_t>(texts.size())) {
    fail("token id ", id, " is out of range for a vocabulary of ", texts.size(), " tokens");
  }
  const uint32_t a = attrs[id];
  const std::string& text = texts[id];
  if (!special && (a & (kAttrUnknown | kAttrControl))) return {};
  if (a & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return text;
  if (a & kAttrNormal) {
    if (spm) {
      std::string s = text;
      replace_all(s, kSpmSpace, " ");
      return s;
    }
    // Un-map GPT-2 byte characters; a character outside the map is reported inline, as
    // llama.cpp does.
    std::string out;
    for (uint32_t cp : unicode::decode_lenient(text)) {
      const int b = unicode::gpt2_to_byte(cp);
      if (b >= 0) {
        out.push_back(static_cast<char>(b));
      } else {
        std::string utf8;
        unicode::append_utf8(utf8, cp);
        out += "[UNK_BYTE_0x";
        static const char* hex = "0123456789abcdef";
        for (unsigned char c : utf8) {
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        }
        out += text + "]";
      }
    }
    return out;
  }
  if (a & kAttrByte) {
    // "<0xXX>"
    if (text.size() >= 5) {
      return std::string(1, static_cast<char>(std::strtol(text.substr(3, 2).c_str(), nullptr, 16)));
    }
    return {};
  }
  return {};
}

// ---- public --------------------------------------------------------------------------------

Tokenizer::Tokenizer(VocabSpec spec) : impl_(std::make_unique<Impl>()) {
  impl_->spec = std::move(spec);
  impl_->build();
}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special,
                                       bool parse_special) const {
  const Impl& m = *impl_;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  const bool add_bos = add_special && m.spec.add_bos;
  const bool add_eos = add_special && m.spec.add_eos;
  if (add_bos && m.spec.bos < 0) fail("the vocabulary asks for a BOS token but has none");
  if (add_eos && m.spec.eos < 0) fail("the vocabulary asks for an EOS token but has none");
  if (add_bos) out.push_back(m.spec.bos);
  const std::vector<Fragment> frags = m.partition(text, parse_special);
  bool prev_special = true;  // SPM: a space is prefixed to text at the start or after a token
  for (const Fragment& f : frags) {
    if (f.token >= 0) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    const std::string_view raw = text.substr(f.off, f.len);
    if (m.spm) {
      std::string s;
      if (m.spec.add_space_prefix && prev_special) s = " ";
      s.append(raw);
      m.spm_fragment(std::move(s), out);
      prev_special = false;
    } else {
      m.bpe_fragment(raw, out);
    }
  }
  if (add_eos) out.push_back(m.spec.eos);
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id, bool special) const {
  return impl_->piece(id, special);
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool special) const {
  const Impl& m = *impl_;
  std::string text;
  bool strip_space = m.spec.add_space_prefix;
  for (int32_t id : ids) {
    std::string p = m.piece(id, special);
    if (strip_space && !p.empty() && p[0] == ' ') p.erase(0, 1);
    strip_space = false;
    text += p;
  }
  if (!m.clean_spaces || text.empty()) return text;
  // clean_up_tokenization_spaces, llama.cpp's three passes.
  // 1. " ?", " !", " .", " ," lose the space.
  std::string a;
  a.reserve(text.size());
  a.push_back(text[0]);
  for (size_t i = 1; i < text.size(); ++i) {
    const char x = text[i];
    if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) a.pop_back();
    a.push_back(x);
  }
  // 2. " ' " becomes "'".
  std::string b;
  b.reserve(a.size());
  b.push_back(a[0]);
  for (size_t i = 1; i < a.size(); ++i) {
    const char x = a[i];
    if (x == '\'' && i + 1 < a.size() && a[i - 1] == ' ' && a[i + 1] == ' ') {
      b.pop_back();
      a[i + 1] = '\0';  // the next space is dropped (and no longer counts as a space)
      b.push_back(x);
      ++i;
      continue;
    }
    b.push_back(x);
  }
  // 3. " 's", " 'm", " 're", " 've" lose the space.
  std::string c;
  c.reserve(b.size());
  c.push_back(b[0]);
  for (size_t i = 1; i < b.size(); ++i) {
    const char x = b[i];
    if (b[i - 1] == ' ' && x == '\'' && i + 1 < b.size()) {
      const char x1 = b[i + 1];
      if (x1 == 's' || x1 == 'm') {
        c.pop_back();
      } else if (i + 2 < b.size()) {
        const char x2 = b[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) c.pop_back();
      }
    }
    c.push_back(x);
  }
  return c;
}

int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(impl_->texts.size()); }
int32_t Tokenizer::bos() const { return impl_->spec.bos; }
int32_t Tokenizer::eos() const { return impl_->spec.eos; }
int32_t Tokenizer::eot() const { return impl_->spec.eot; }
bool Tokenizer::add_bos() const { return impl_->spec.add_bos; }
bool Tokenizer::add_eos() const { return impl_->spec.add_eos; }
bool Tokenizer::is_eog(int32_t id) const { return impl_->eog.count(id) > 0; }
bool Tokenizer::is_control(int32_t id) const {
  return id >= 0 && id < n_vocab() && (impl_->attrs[id] & kAttrControl) != 0;
}
std::vector<int32_t> Tokenizer::eog_ids() const { return {impl_->eog.begin(), impl_->eog.end()}; }
const VocabSpec& Tokenizer::spec() const { return impl_->spec; }

// ---- streaming ---------------------------------------------------------------------------------

StreamDecoder::StreamDecoder(const Tokenizer& tok, bool special) : tok_(&tok), special_(special) {}

std::string StreamDecoder::push(int32_t id) {
  pending_ += tok_->token_to_piece(id, special_);
  const unicode::Utf8Tail t = unicode::utf8_tail(pending_);
  std::string out = pending_.substr(0, t.complete);
  pending_.erase(0, t.complete);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace hearth::tokenizer
