// Metrics counters and the Prometheus text format (see metrics.h).
#include "server/metrics.h"

#include <cstdio>

namespace hearth::server {
namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void line(std::string& out, const std::string& name, const char* type, const char* help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void metric(std::string& out, const std::string& name, const char* type, const char* help, double v) {
  line(out, name, type, help);
  out += name + " " + num(v) + "\n";
}

}  // namespace

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name) const {
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cum) + "\n";
  out += name + "_sum " + num(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : ttft_({0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}),
      duration_({0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}),
      start_(Clock::now()) {}

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{endpoint, status}];
}

void Metrics::observe_generation(const engine::Result& r) {
  std::lock_guard<std::mutex> lock(mu_);
  ++finish_reasons_[engine::finish_reason_name(r.reason)];
  if (r.n_generated > 0) ttft_.observe(r.ttft_s);
  duration_.observe(r.total_s);
}

void Metrics::sample(const engine::SchedulerStats& s) {
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (!samples_.empty() && now - samples_.back().t < std::chrono::milliseconds(250)) return;
  samples_.push_back({now, s.generated_tokens, s.prompt_tokens_computed});
  while (samples_.size() > 2 && now - samples_[1].t > std::chrono::seconds(10)) samples_.pop_front();
}

std::string Metrics::render(const engine::SchedulerStats& s) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  line(out, "hearth_http_requests_total", "counter", "HTTP requests answered, by endpoint and status.");
  for (const auto& [key, n] : requests_)
    out += "hearth_http_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  line(out, "hearth_generations_total", "counter", "Generation requests finished, by reason (eog, length, stopped, cancelled, error).");
  for (const auto& [reason, n] : finish_reasons_)
    out += "hearth_generations_total{reason=\"" + reason + "\"} " + std::to_string(n) + "\n";
  metric(out, "hearth_prompt_tokens_total", "counter", "Prompt tokens of admitted requests.", double(s.prompt_tokens));
  metric(out, "hearth_prompt_tokens_cached_total", "counter", "Prompt tokens served from the KV cache (common prefix reuse).", double(s.prompt_tokens_reused));
  metric(out, "hearth_prompt_tokens_computed_total", "counter", "Prompt tokens run through the model.", double(s.prompt_tokens_computed));
  metric(out, "hearth_generation_tokens_total", "counter", "Tokens generated.", double(s.generated_tokens));
  double gen_rate = 0, prompt_rate = 0;
  if (samples_.size() >= 2) {
    const Sample& a = samples_.front();
    const Sample& b = samples_.back();
    const double dt = std::chrono::duration<double>(b.t - a.t).count();
    if (dt > 0) {
      gen_rate = double(b.generated - a.generated) / dt;
      prompt_rate = double(b.prompt_computed - a.prompt_computed) / dt;
    }
  }
  metric(out, "hearth_generation_tokens_per_second", "gauge", "Generated tokens per second over the last ~10 s.", gen_rate);
  metric(out, "hearth_prompt_tokens_per_second", "gauge", "Prompt tokens computed per second over the last ~10 s.", prompt_rate);
  metric(out, "hearth_queue_depth", "gauge", "Requests waiting for a slot.", s.queue_depth);
  metric(out, "hearth_slots_busy", "gauge", "Slots running a request.", s.slots_busy);
  metric(out, "hearth_slots_total", "gauge", "Slots (--parallel).", s.n_slots);
  metric(out, "hearth_kv_cache_blocks_used", "gauge", "KV cache blocks holding positions (running or cached for reuse).", s.kv_blocks_used);
  metric(out, "hearth_kv_cache_blocks_total", "gauge", "KV cache blocks.", s.kv_blocks_total);
  metric(out, "hearth_kv_cache_usage_ratio", "gauge", "Fraction of KV cache blocks in use.",
         s.kv_blocks_total > 0 ? double(s.kv_blocks_used) / double(s.kv_blocks_total) : 0.0);
  metric(out, "hearth_engine_steps_total", "counter", "Forward passes run by the scheduler.", double(s.steps));
  metric(out, "hearth_engine_busy_seconds_total", "counter", "Seconds the engine spent in steps with work.", s.busy_s);
  metric(out, "hearth_uptime_seconds", "gauge", "Seconds since the server started.",
         std::chrono::duration<double>(Clock::now() - start_).count());
  line(out, "hearth_time_to_first_token_seconds", "histogram", "Submit to first generated token.");
  ttft_.render(out, "hearth_time_to_first_token_seconds");
  line(out, "hearth_generation_duration_seconds", "histogram", "Submit to end of a generation request.");
  duration_.render(out, "hearth_generation_duration_seconds");
  return out;
}

}  // namespace hearth::server
