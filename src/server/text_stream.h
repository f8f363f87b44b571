// Generated tokens -> the text a client receives: UTF-8-safe streaming detokenization, stop
// sequences (text from the stop on is dropped; text that might start one is held back until it
// cannot), and logprob entries. One per request; not thread-safe. No HTTP, no JSON here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/scheduler.h"
#include "server/openai_api.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {

// Finds the first occurrence of any stop sequence in streamed text.
class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  // Appends text and returns what may be emitted now: everything before a matched stop (then
  // stopped() is true and later input is ignored), or everything that cannot be the start of
  // a stop sequence.
  std::string push(std::string_view text);
  // The held-back text (at the end of generation, when no stop can complete any more).
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

class TextAssembler {
 public:
  // n_top < 0: no logprobs. ignore_eos: end-of-generation tokens are ordinary text.
  TextAssembler(const tokenizer::Tokenizer& tok, std::vector<std::string> stops, int32_t n_top,
                bool ignore_eos);

  // Consumes one generated token; returns false once a stop sequence matched.
  bool push(const engine::TokenEvent& ev);
  // End of generation: releases text held for an unfinished character or a possible stop.
  void finish();

  // Text and logprob entries produced since the last take.
  std::string take_text();
  std::vector<LogprobEntry> take_logprobs();

  const std::string& text() const { return text_; }  // all text released so far
  bool stopped() const { return stop_.stopped(); }

 private:
  void emit(std::string s);

  const tokenizer::Tokenizer* tok_;
  tokenizer::StreamDecoder dec_;
  StopMatcher stop_;
  int32_t n_top_;
  bool ignore_eos_;
  size_t produced_ = 0;  // bytes of text decoded so far (released or held)
  std::string text_;
  size_t taken_ = 0;     // bytes of text_ already taken
  std::vector<LogprobEntry> logprobs_;
};

}  // namespace hearth::server
