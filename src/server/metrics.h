// Server metrics: HTTP request counters, latency histograms, recent token rates, and the
// Prometheus text exposition (format 0.0.4) of those plus the scheduler's gauges.
// Thread-safe; knows nothing of HTTP libraries or the model.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/scheduler.h"

namespace hearth::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void observe(double v);
  // Appends the _bucket/_sum/_count lines of `name` (caller holds the lock of the owner).
  void render(std::string& out, const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // [bounds + 1], non-cumulative
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  // One HTTP exchange: endpoint label ("chat", "completions", "models", ...) and status.
  void count_request(const std::string& endpoint, int status);
  // A finished generation request.
  void observe_generation(const engine::Result& r);
  // The engine loop calls this often; it keeps ~10 s of (time, totals) samples for rates.
  void sample(const engine::SchedulerStats& s);

  std::string render(const engine::SchedulerStats& s) const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Sample {
    Clock::time_point t;
    uint64_t generated, prompt_computed;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, uint64_t> finish_reasons_;
  Histogram ttft_, duration_;
  std::deque<Sample> samples_;
  Clock::time_point start_;
};

}  // namespace hearth::server
