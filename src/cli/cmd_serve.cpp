// `hearth serve`: loads a model and runs the OpenAI-compatible server (src/server/) on loopback
// by default. SIGINT/SIGTERM shut it down cleanly (a second one exits at once). Argument
// parsing and process signals only; the server itself lives in src/server/.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "server/server.h"

namespace hearth::cli {
namespace {

struct ServeOptions {
  std::string model, alias;
  server::ServerOptions srv;
  size_t max_body_mb = 8;
};

void serve(ServeOptions o) {
  // Signals go to one thread that waits for them; block them before any thread exists.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  if (o.model.empty()) fail("hearth serve: -m FILE is required");
  LoadedModel m = load_model(o.model);
  const model::HParams& hp = m.model->hparams();
  if (o.srv.ctx <= 0) o.srv.ctx = std::min<int64_t>(hp.n_ctx_train > 0 ? hp.n_ctx_train : 4096, 4096);
  o.srv.max_body_bytes = o.max_body_mb << 20;

  server::ServedModel sm;
  sm.model = m.model;
  const tokenizer::VocabSpec& spec = m.tok->spec();
  if (spec.chat_template) sm.chat_template = *spec.chat_template;
  if (spec.bos >= 0 && size_t(spec.bos) < spec.tokens.size()) sm.bos_text = spec.tokens[size_t(spec.bos)];
  if (spec.eos >= 0 && size_t(spec.eos) < spec.tokens.size()) sm.eos_text = spec.tokens[size_t(spec.eos)];
  sm.tok = std::shared_ptr<const tokenizer::Tokenizer>(std::move(m.tok));
  if (!o.alias.empty()) {
    sm.id = o.alias;
  } else {
    sm.id = std::filesystem::path(o.model).filename().string();
    if (sm.id.size() > 5 && sm.id.compare(sm.id.size() - 5, 5, ".gguf") == 0) sm.id.resize(sm.id.size() - 5);
  }
  if (sm.chat_template.empty())
    std::fprintf(stderr, "hearth serve: the model has no tokenizer.chat_template; chat uses ChatML\n");

  server::Server srv(sm, o.srv);
  const int port = srv.bind();
  std::fprintf(stderr,
               "hearth serve: model %s (%s), %d slot(s) x %lld positions, batch %d tokens\n"
               "hearth serve: listening on http://%s:%d\n",
               sm.id.c_str(), hp.arch.c_str(), o.srv.parallel, (long long)o.srv.ctx, o.srv.batch,
               o.srv.host.c_str(), port);
  std::fflush(stderr);

  std::atomic<bool> finished{false};
  std::thread signals([&] {
    bool stopping = false;
    while (!finished.load()) {
      timespec ts{0, 200 * 1000 * 1000};
      const int sig = sigtimedwait(&set, nullptr, &ts);
      if (sig == SIGINT || sig == SIGTERM) {
        if (stopping) {
          std::fprintf(stderr, "hearth serve: second signal, exiting now\n");
          std::_Exit(130);
        }
        std::fprintf(stderr, "hearth serve: shutting down\n");
        stopping = true;
      }
      // Repeated: a stop() that raced with the start of listening is not lost.
      if (stopping) srv.stop();
    }
  });
  srv.serve();
  finished.store(true);
  signals.join();
  std::fprintf(stderr, "hearth serve: stopped\n");
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve a model over an OpenAI-compatible HTTP API");
  auto o = std::make_shared<ServeOptions>();
  o->srv.ctx = 0;
  cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
  cmd->add_option("--host", o->srv.host, "Address to listen on (loopback by default)")->capture_default_str();
  cmd->add_option("--port", o->srv.port, "Port (0: any free port, printed at start)")->capture_default_str();
  cmd->add_option("--parallel", o->srv.parallel, "Requests generated at once (slots); more wait in a queue")
      ->capture_default_str();
  cmd->add_option("-c,--ctx", o->srv.ctx, "Context positions per slot (default: min(trained, 4096))");
  cmd->add_option("-b,--batch", o->srv.batch, "Token budget of one engine step (decode tokens + prompt chunks)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", o->srv.threads, "Threads for the model (default: all cores)");
  cmd->add_option("--api-key", o->srv.api_key, "Require 'Authorization: Bearer KEY' on /v1/* and /metrics");
  cmd->add_option("--alias", o->alias, "Model id reported by /v1/models (default: the file name)");
  cmd->add_option("--max-body-mb", o->max_body_mb, "Largest request body in MiB (larger: 413)")->capture_default_str();
  cmd->add_option("--http-threads", o->srv.http_threads, "Connections handled at once")->capture_default_str();
  cmd->add_flag("!--no-log", o->srv.log_requests, "Do not log one line per request");
  cmd->callback([o] { serve(*o); });
}

}  // namespace hearth::cli
