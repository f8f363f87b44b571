// The HTTP front of the batched engine (see server.h): request -> prompt tokens -> scheduler,
// and the scheduler's token callbacks -> JSON or SSE. One engine thread steps the scheduler;
// HTTP threads only parse, tokenize, wait and write.
#include "server/server.h"

#ifdef HEARTH_HAVE_HTTPLIB

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include "chat/chat_template.h"
#include "core/error.h"
#include "engine/scheduler.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/openai_api.h"
#include "server/text_stream.h"

namespace hearth::server {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxStopBytes = 256;
constexpr auto kPoll = std::chrono::milliseconds(100);

std::string dump(const ojson& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void write_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  res.set_content(dump(e.to_json()), "application/json");
}

std::string endpoint_label(const std::string& path) {
  if (path == "/v1/chat/completions") return "chat";
  if (path == "/v1/completions") return "completions";
  if (path.rfind("/v1/models", 0) == 0) return "models";
  if (path == "/health") return "health";
  if (path == "/metrics") return "metrics";
  return "other";
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    diff |= (unsigned char)((i < a.size() ? a[i] : 0) ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

// Detects a client that closed its connection while we generate. httplib does not expose the
// socket, so it is found once by its address pair in /proc/self/fd; a peer close shows as
// POLLRDHUP without reading (and so without consuming a pipelined request).
class PeerWatch {
 public:
  explicit PeerWatch(const httplib::Request& r) {
    DIR* d = ::opendir("/proc/self/fd");
    if (!d) return;
    while (dirent* e = ::readdir(d)) {
      char* end = nullptr;
      const long fd = std::strtol(e->d_name, &end, 10);
      if (end == e->d_name || *end != '\0') continue;
      struct stat st;
      if (::fstat(int(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
      if (port_of(int(fd), false) == r.local_port && port_of(int(fd), true) == r.remote_port &&
          addr_of(int(fd)) == r.remote_addr) {
        fd_ = int(fd);
        break;
      }
    }
    ::closedir(d);
  }
  bool closed() const {
    if (fd_ < 0) return false;
    pollfd p{fd_, POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  }

 private:
  static int port_of(int fd, bool peer) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                        : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    if (rc != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return -1;
  }
  static std::string addr_of(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
    char buf[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET)
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
    else if (ss.ss_family == AF_INET6)
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
    return buf;
  }
  int fd_ = -1;
};

// What the engine thread hands to the HTTP thread of one request.
struct Job {
  Job(const tokenizer::Tokenizer& tok, std::vector<std::string> stops, int32_t n_top, bool ignore_eos)
      : text(tok, std::move(stops), n_top, ignore_eos) {}
  std::mutex mu;
  std::condition_variable cv;
  TextAssembler text;        // guarded by mu
  bool finished = false;     // guarded by mu
  engine::Result result;     // guarded by mu
  uint64_t version = 0;      // bumped on every change, guarded by mu
};

const char* finish_reason_json(engine::FinishReason r) {
  return r == engine::FinishReason::kLength ? "length" : "stop";
}

}  // namespace

struct Server::Impl {
  Impl(ServedModel m, const ServerOptions& o) : sm(std::move(m)), opt(o), rng(std::random_device{}()) {}

  ServedModel sm;
  ServerOptions opt;
  std::unique_ptr<chat::ChatTemplate> tmpl;
  std::unique_ptr<engine::Scheduler> sched;
  Metrics metrics;
  httplib::Server http;
  std::thread engine;
  std::atomic<bool> stopping{false};
  std::atomic<bool> engine_done{false};
  std::mutex rng_mu;
  std::mt19937_64 rng;
  int port = -1;
  std::time_t started = std::time(nullptr);

  uint64_t random_u64() {
    std::lock_guard<std::mutex> lock(rng_mu);
    return rng();
  }
  std::string make_id(const char* prefix) {
    static const char kAlnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string id = prefix;
    for (int i = 0; i < 24; ++i) id += kAlnum[random_u64() % 62];
    return id;
  }

  void engine_loop() {
    while (!stopping.load()) {
      try {
        sched->wait_for_work(std::chrono::milliseconds(200));
        if (stopping.load()) break;
        sched->step();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "hearth serve: engine step failed: %s\n", e.what());
      }
      metrics.sample(sched->stats());
    }
    sched->cancel_all();
    engine_done.store(true);
  }

  std::vector<int32_t> chat_prompt(const GenerationRequest& g) {
    chat::RenderOptions ro;
    ro.add_generation_prompt = true;
    ro.bos_token = sm.bos_text;
    ro.eos_token = sm.eos_text;
    ro.tools = g.tools;
    ro.extra = g.template_kwargs;
    std::string text;
    try {
      text = tmpl->render(g.messages, ro);
    } catch (const Error& e) {
      throw ApiError(400, std::string("The chat template rejected the messages: ") + e.what(), "messages",
                     "invalid_value");
    }
    // A template that writes the BOS token itself must not get a second one from the tokenizer.
    const bool has_bos = !sm.bos_text.empty() && text.rfind(sm.bos_text, 0) == 0;
    return sm.tok->encode(text, !has_bos, true);
  }

  void handle_generation(const httplib::Request& hreq, httplib::Response& hres, Endpoint ep) {
    const int32_t n_vocab = int32_t(sm.model->hparams().n_vocab);
    GenerationRequest g = ep == Endpoint::kChat ? parse_chat_request(parse_body(hreq.body), n_vocab)
                                                : parse_completion_request(parse_body(hreq.body), n_vocab);
    for (const std::string& s : g.stop)
      if (s.size() > kMaxStopBytes)
        throw ApiError(400, "Invalid 'stop': stop sequences are limited to " + std::to_string(kMaxStopBytes) + " bytes.",
                       "stop", "invalid_value");
    std::vector<int32_t> prompt;
    if (ep == Endpoint::kChat) prompt = chat_prompt(g);
    else if (g.prompt_text) prompt = sm.tok->encode(*g.prompt_text, true, true);
    else prompt = g.prompt_tokens;
    if (prompt.empty())
      throw ApiError(400, "The prompt is empty (it has no tokens).", ep == Endpoint::kChat ? "messages" : "prompt");
    if (int64_t(prompt.size()) >= opt.ctx)
      throw ApiError(400, "This model's maximum context length is " + std::to_string(opt.ctx) +
                              " tokens. However, your " + (ep == Endpoint::kChat ? "messages" : "prompt") +
                              " resulted in " + std::to_string(prompt.size()) +
                              " tokens. Please reduce the length of the " +
                              (ep == Endpoint::kChat ? "messages." : "prompt."),
                     ep == Endpoint::kChat ? "messages" : "prompt", "context_length_exceeded");
    if (!g.seed_given) g.sampling.seed = random_u64();

    const int32_t n_top = g.logprobs ? g.top_logprobs : -1;
    auto job = std::make_shared<Job>(*sm.tok, g.stop, n_top, g.ignore_eos);
    auto req = std::make_shared<engine::Request>();
    req->prompt = std::move(prompt);
    req->params.sampling = g.sampling;
    req->params.max_tokens = g.max_tokens;
    req->params.n_logprobs = n_top;
    req->params.ignore_eos = g.ignore_eos;
    // The callbacks own the job, never the request (no reference cycle).
    req->on_token = [job](const engine::TokenEvent& ev) {
      std::lock_guard<std::mutex> lock(job->mu);
      const bool keep = job->text.push(ev);
      ++job->version;
      job->cv.notify_all();
      return keep;
    };
    Metrics* metrics_ptr = &metrics;
    req->on_finish = [job, metrics_ptr](const engine::Result& r) {
      metrics_ptr->observe_generation(r);
      std::lock_guard<std::mutex> lock(job->mu);
      if (r.reason == engine::FinishReason::kEog || r.reason == engine::FinishReason::kLength) job->text.finish();
      job->finished = true;
      job->result = r;
      ++job->version;
      job->cv.notify_all();
    };
    if (stopping.load()) throw ApiError(503, "The server is shutting down.");
    try {
      sched->submit(req);
    } catch (const Error& e) {
      throw ApiError(400, e.what());
    }

    const std::string id = make_id(ep == Endpoint::kChat ? "chatcmpl-" : "cmpl-");
    const std::time_t created = std::time(nullptr);
    const bool chat = ep == Endpoint::kChat;
    auto watch = std::make_shared<PeerWatch>(hreq);

    if (!g.stream) {
      engine::Result res;
      std::string text;
      std::vector<LogprobEntry> lps;
      {
        std::unique_lock<std::mutex> lock(job->mu);
        while (!job->finished) {
          job->cv.wait_for(lock, kPoll);
          if (job->finished) break;
          if (engine_done.load()) throw ApiError(503, "The server is shutting down.");
          if (watch->closed()) req->cancel();
        }
        res = job->result;
        text = job->text.take_text();
        lps = job->text.take_logprobs();
      }
      if (res.reason == engine::FinishReason::kError) throw ApiError(500, "Generation failed: " + res.error);
      if (res.reason == engine::FinishReason::kCancelled) throw ApiError(503, "The request was cancelled.");
      ojson choice = ojson::object();
      choice["index"] = 0;
      if (chat) choice["message"] = ojson{{"role", "assistant"}, {"content", utf8_string(text)}};
      else choice["text"] = utf8_string(text);
      choice["logprobs"] = !g.logprobs ? ojson() : chat ? chat_logprobs(lps) : completion_logprobs(lps);
      choice["finish_reason"] = finish_reason_json(res.reason);
      ojson out = ojson::object();
      out["id"] = id;
      out["object"] = chat ? "chat.completion" : "text_completion";
      out["created"] = int64_t(created);
      out["model"] = sm.id;
      out["choices"] = ojson::array({std::move(choice)});
      out["usage"] = usage_json(res.n_prompt, res.n_generated, res.n_reused);
      out["system_fingerprint"] = nullptr;
      hres.status = 200;
      hres.set_content(dump(out), "application/json");
      return;
    }

    // Streaming: the provider runs on this connection's thread after the handler returns.
    struct StreamState {
      std::shared_ptr<Job> job;
      std::shared_ptr<engine::Request> req;
      std::shared_ptr<PeerWatch> watch;
      uint64_t seen = 0;
      bool started = false;
    };
    auto st = std::make_shared<StreamState>();
    st->job = job;
    st->req = req;
    st->watch = watch;
    const bool logprobs = g.logprobs, include_usage = g.include_usage;
    const std::string model_id = sm.id;
    auto chunk = [=](ojson delta_or_text, ojson lp, ojson finish) {
      ojson c = ojson::object();
      c["index"] = 0;
      if (chat) c["delta"] = std::move(delta_or_text);
      else c["text"] = std::move(delta_or_text);
      c["logprobs"] = std::move(lp);
      c["finish_reason"] = std::move(finish);
      ojson out = ojson::object();
      out["id"] = id;
      out["object"] = chat ? "chat.completion.chunk" : "text_completion";
      out["created"] = int64_t(created);
      out["model"] = model_id;
      out["system_fingerprint"] = nullptr;
      out["choices"] = ojson::array({std::move(c)});
      if (include_usage) out["usage"] = nullptr;
      return out;
    };
    std::atomic<bool>* done_flag = &engine_done;
    hres.set_header("Cache-Control", "no-cache");
    hres.set_header("X-Accel-Buffering", "no");
    hres.set_chunked_content_provider(
        "text/event-stream",
        [=](size_t, httplib::DataSink& sink) -> bool {
          auto send = [&](const ojson& j) {
            const std::string s = "data: " + dump(j) + "\n\n";
            return sink.write(s.data(), s.size());
          };
          if (!st->started) {
            st->started = true;
            if (chat && !send(chunk(ojson{{"role", "assistant"}, {"content", ""}}, ojson(), ojson()))) {
              st->req->cancel();
              return false;
            }
          }
          std::string text;
          std::vector<LogprobEntry> lps;
          bool finished;
          engine::Result res;
          {
            std::unique_lock<std::mutex> lock(st->job->mu);
            st->job->cv.wait_for(lock, kPoll, [&] { return st->job->version != st->seen; });
            st->seen = st->job->version;
            text = st->job->text.take_text();
            lps = st->job->text.take_logprobs();
            finished = st->job->finished;
            res = st->job->result;
          }
          if (!text.empty() || !lps.empty()) {
            ojson lp = !logprobs ? ojson() : chat ? chat_logprobs(lps) : completion_logprobs(lps);
            ojson body = chat ? ojson{{"content", utf8_string(text)}} : utf8_string(text);
            if (!send(chunk(std::move(body), std::move(lp), ojson()))) {
              st->req->cancel();
              return false;
            }
          }
          if (finished) {
            if (res.reason == engine::FinishReason::kError) {
              send(ApiError(500, "Generation failed: " + res.error).to_json());
              sink.done();
              return true;
            }
            // Cancelled (shutdown or client gone): end the stream without [DONE].
            if (res.reason == engine::FinishReason::kCancelled) return false;
            send(chunk(chat ? ojson::object() : ojson(""), ojson(), finish_reason_json(res.reason)));
            if (include_usage) {
              ojson u = ojson::object();
              u["id"] = id;
              u["object"] = chat ? "chat.completion.chunk" : "text_completion";
              u["created"] = int64_t(created);
              u["model"] = model_id;
              u["system_fingerprint"] = nullptr;
              u["choices"] = ojson::array();
              u["usage"] = usage_json(res.n_prompt, res.n_generated, res.n_reused);
              send(u);
            }
            static const char kDone[] = "data: [DONE]\n\n";
            sink.write(kDone, sizeof kDone - 1);
            sink.done();
            return true;
          }
          if (done_flag->load()) return false;
          if (st->watch->closed()) st->req->cancel();
          return true;
        },
        [st](bool) {
          // However the response ended, a generation nobody reads any more must stop.
          bool finished;
          {
            std::lock_guard<std::mutex> lock(st->job->mu);
            finished = st->job->finished;
          }
          if (!finished) st->req->cancel();
        });
  }

  // Runs a handler body, turning every failure into an OpenAI error response.
  template <typename F>
  void guarded(httplib::Response& res, F&& f) {
    try {
      f();
    } catch (const ApiError& e) {
      write_error(res, e);
    } catch (const Error& e) {
      write_error(res, ApiError(400, e.what()));
    } catch (const std::bad_alloc&) {
      write_error(res, ApiError(500, "The server ran out of memory for this request."));
    } catch (const std::exception& e) {
      write_error(res, ApiError(500, std::string("Internal error: ") + e.what()));
    }
  }

  ojson model_json(const std::string& id) const {
    const model::HParams& hp = sm.model->hparams();
    return ojson{{"id", id},
                 {"object", "model"},
                 {"created", int64_t(started)},
                 {"owned_by", "hearth"},
                 {"meta",
                  {{"architecture", hp.arch},
                   {"n_vocab", hp.n_vocab},
                   {"n_ctx", opt.ctx},
                   {"n_ctx_train", hp.n_ctx_train},
                   {"n_params", sm.model->n_params()},
                   {"parallel", opt.parallel}}}};
  }

  void routes() {
    thread_local Clock::time_point t_start;
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      t_start = Clock::now();
      const bool protected_path = req.path.rfind("/v1/", 0) == 0 || req.path == "/metrics";
      if (opt.api_key.empty() || !protected_path) return httplib::Server::HandlerResponse::Unhandled;
      const std::string auth = req.get_header_value("Authorization");
      if (auth.empty()) {
        write_error(res, ApiError(401, "You didn't provide an API key. You need to provide your API key in an "
                                       "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                                  "", "missing_api_key"));
        return httplib::Server::HandlerResponse::Handled;
      }
      if (auth.rfind("Bearer ", 0) != 0 || !constant_time_equal(auth.substr(7), opt.api_key)) {
        write_error(res, ApiError(401, "Incorrect API key provided.", "", "invalid_api_key"));
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      metrics.count_request(endpoint_label(req.path), res.status);
      if (opt.log_requests) {
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t_start).count();
        std::fprintf(stderr, "hearth serve: %s %s %d %.0f ms\n", req.method.c_str(), req.path.c_str(), res.status, ms);
      }
    });
    http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      if (res.status == 413)
        write_error(res, ApiError(413, "The request body is too large.", "", "payload_too_large"));
      else if (res.status == 404)
        write_error(res, ApiError(404, "Unknown request URL: " + req.method + " " + req.path + ".", "", "unknown_url"));
      else
        write_error(res, ApiError(res.status, "The request could not be handled (HTTP " + std::to_string(res.status) + ")."));
      return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown error";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      write_error(res, ApiError(500, "Internal error: " + what));
    });

    http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { handle_generation(req, res, Endpoint::kChat); });
    });
    http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] { handle_generation(req, res, Endpoint::kCompletion); });
    });
    http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(dump(ojson{{"object", "list"}, {"data", ojson::array({model_json(sm.id)})}}), "application/json");
    });
    // Any model name is accepted while one model is served, so any id resolves to it.
    http.Get(R"(/v1/models/(.+))", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(dump(model_json(sm.id)), "application/json");
    });
    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      if (stopping.load()) {
        res.status = 503;
        res.set_content(R"({"status":"shutting down"})", "application/json");
      } else {
        res.set_content(R"({"status":"ok"})", "application/json");
      }
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.render(sched->stats()), "text/plain; version=0.0.4; charset=utf-8");
    });
    auto not_allowed = [](const char* allow) {
      return [allow](const httplib::Request& req, httplib::Response& res) {
        res.set_header("Allow", allow);
        write_error(res, ApiError(405, "Method " + req.method + " is not allowed for " + req.path + " (use " + allow + ").",
                                  "", "method_not_allowed"));
      };
    };
    for (const char* p : {"/v1/chat/completions", "/v1/completions"}) {
      http.Get(p, not_allowed("POST"));
      http.Put(p, not_allowed("POST"));
      http.Delete(p, not_allowed("POST"));
    }
    for (const char* p : {"/v1/models", "/health", "/metrics"}) {
      http.Post(p, not_allowed("GET"));
      http.Put(p, not_allowed("GET"));
      http.Delete(p, not_allowed("GET"));
    }
  }
};

Server::Server(ServedModel m, const ServerOptions& opt) : impl_(std::make_unique<Impl>(std::move(m), opt)) {
  Impl& s = *impl_;
  if (!s.sm.model || !s.sm.tok) fail("server: no model or tokenizer");
  if (s.opt.ctx < 2) fail("--ctx must be >= 2 (got ", s.opt.ctx, ")");
  if (s.opt.http_threads < 1) fail("--http-threads must be >= 1");
  const std::string source = s.sm.chat_template.empty() ? chat::ChatTemplate::chatml_source() : s.sm.chat_template;
  s.tmpl = std::make_unique<chat::ChatTemplate>(source);
  engine::SchedulerOptions so;
  so.n_slots = s.opt.parallel;
  so.n_ctx = s.opt.ctx;
  so.n_batch = s.opt.batch;
  so.threads = s.opt.threads;
  std::shared_ptr<const tokenizer::Tokenizer> tok = s.sm.tok;
  so.is_eog = [tok](int32_t t) { return tok->is_eog(t); };
  s.sched = std::make_unique<engine::Scheduler>(s.sm.model, so);
  const int n_http = s.opt.http_threads;
  s.http.new_task_queue = [n_http] { return new httplib::ThreadPool(size_t(n_http)); };
  s.http.set_payload_max_length(s.opt.max_body_bytes);
  s.http.set_tcp_nodelay(true);
  s.http.set_keep_alive_max_count(1000);
  s.http.set_keep_alive_timeout(5);
  s.http.set_read_timeout(30);
  s.http.set_write_timeout(30);
  s.routes();
}

Server::~Server() {
  stop();
  if (impl_->engine.joinable()) impl_->engine.join();
}

int Server::bind() {
  Impl& s = *impl_;
  if (s.opt.port == 0) {
    s.port = s.http.bind_to_any_port(s.opt.host);
    if (s.port < 0) fail("cannot listen on ", s.opt.host, " (any port)");
  } else {
    if (!s.http.bind_to_port(s.opt.host, s.opt.port))
      fail("cannot listen on ", s.opt.host, ":", s.opt.port, " (address in use, or not a local address?)");
    s.port = s.opt.port;
  }
  return s.port;
}

void Server::serve() {
  Impl& s = *impl_;
  if (s.port < 0) bind();
  s.engine = std::thread([&s] { s.engine_loop(); });
  if (!s.stopping.load()) s.http.listen_after_bind();
  // listen_after_bind returns once stop() closed the socket and every connection ended; the
  // connections end because stop() also made the engine cancel what was running.
  s.stopping.store(true);
  s.sched->wake();
  if (s.engine.joinable()) s.engine.join();
}

void Server::stop() {
  Impl& s = *impl_;
  s.stopping.store(true);
  if (s.sched) s.sched->wake();
  s.http.stop();
}

}  // namespace hearth::server

#else  // !HEARTH_HAVE_HTTPLIB

// Built without cpp-httplib: the build links libcpp-httplib (Debian ships it as a shared
// library) and defines HEARTH_HAVE_HTTPLIB; until then `hearth serve` says so and fails.
#include "core/error.h"

namespace hearth::server {

struct Server::Impl {};

Server::Server(ServedModel, const ServerOptions&) {
  fail("this hearth was built without the HTTP server: link libcpp-httplib and define HEARTH_HAVE_HTTPLIB "
       "(see docs/SERVER.md)");
}
Server::~Server() = default;
int Server::bind() { return -1; }
void Server::serve() {}
void Server::stop() {}

}  // namespace hearth::server

#endif  // HEARTH_HAVE_HTTPLIB
