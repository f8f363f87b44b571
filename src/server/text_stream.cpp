// Stop sequences and token-to-text streaming for one request (see text_stream.h).
#include "server/text_stream.h"

#include <algorithm>

namespace hearth::server {

std::string StopMatcher::push(std::string_view text) {
  if (stopped_) return {};
  held_.append(text);
  if (stops_.empty()) {
    std::string out;
    out.swap(held_);
    return out;
  }
  // Every stop that could start in the released text was ruled out before, so a match can only
  // start inside held_.
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  // Hold back the longest tail of held_ that is a proper prefix of some stop sequence.
  size_t hold = 0;
  for (const std::string& s : stops_) {
    const size_t max_k = std::min(s.size() - 1, held_.size());
    for (size_t k = max_k; k > hold; --k)
      if (held_.compare(held_.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
  }
  std::string out = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return out;
}

std::string StopMatcher::flush() {
  std::string out;
  if (!stopped_) out.swap(held_);
  held_.clear();
  return out;
}

TextAssembler::TextAssembler(const tokenizer::Tokenizer& tok, std::vector<std::string> stops,
                             int32_t n_top, bool ignore_eos)
    : tok_(&tok), dec_(tok), stop_(std::move(stops)), n_top_(n_top), ignore_eos_(ignore_eos) {}

void TextAssembler::emit(std::string s) { text_ += s; }

bool TextAssembler::push(const engine::TokenEvent& ev) {
  if (stop_.stopped()) return false;
  // The end-of-generation token itself is not text (unless the client asked to ignore it).
  if (ev.eog && !ignore_eos_) return true;
  if (n_top_ >= 0) {
    LogprobEntry e;
    e.token = tok_->token_to_piece(ev.token);
    e.text_offset = produced_;
    e.logprob = ev.logprob;
    for (const auto& [id, lp] : ev.top) e.top.emplace_back(tok_->token_to_piece(id), lp);
    logprobs_.push_back(std::move(e));
  }
  const std::string piece = dec_.push(ev.token);
  produced_ += piece.size();
  emit(stop_.push(piece));
  return !stop_.stopped();
}

void TextAssembler::finish() {
  if (stop_.stopped()) return;
  emit(stop_.push(dec_.flush()));
  emit(stop_.flush());
}

std::string TextAssembler::take_text() {
  std::string out = text_.substr(taken_);
  taken_ = text_.size();
  return out;
}

std::vector<LogprobEntry> TextAssembler::take_logprobs() {
  std::vector<LogprobEntry> out;
  out.swap(logprobs_);
  return out;
}

}  // namespace hearth::server
