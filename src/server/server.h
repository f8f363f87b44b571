// The OpenAI-compatible HTTP server: endpoints, authentication, streaming (SSE), cancellation
// on client disconnect, metrics, and the engine thread that steps the scheduler. Does not load
// files or parse command lines (cli/cmd_serve.cpp does) and never sees the network beyond HTTP.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace hearth::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port (see Server::port())
  int32_t parallel = 1;               // slots
  int64_t ctx = 4096;                 // positions per slot
  int32_t batch = 128;                // token budget per step
  int threads = 0;                    // 0: all cores
  std::string api_key;                // empty: no authentication
  size_t max_body_bytes = 8u << 20;   // larger bodies get 413
  int http_threads = 64;              // connections served at once (keep-alive holds one each)
  bool log_requests = true;           // one line per request on stderr
};

struct ServedModel {
  std::shared_ptr<model::Model> model;
  std::shared_ptr<const tokenizer::Tokenizer> tok;
  std::string id;              // the name /v1/models reports and responses carry
  std::string chat_template;   // Jinja source; empty: ChatML
  std::string bos_text, eos_text;
};

class Server {
 public:
  // Builds the scheduler and the template; throws hearth::Error on bad options or template.
  Server(ServedModel m, const ServerOptions& opt);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket (throws hearth::Error if it cannot) and returns the port.
  int bind();
  // Serves until stop(); then cancels every request, waits for connections to end, returns.
  void serve();
  // Thread-safe, idempotent: begins shutdown (in-flight generations are cancelled).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::server
