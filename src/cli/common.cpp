// Model loading and the built-in default model.
#include "cli/common.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/error.h"
#include "kernels/kernels.h"
#include "model/synth.h"
#include "model/vocab.h"

namespace hearth::cli {

LoadedModel load_model(const std::string& path, bool repack) {
  if (path.empty()) fail("no model given (-m FILE)");
  LoadedModel m;
  m.file = gguf::File::open(path);
  m.model = model::load_model(m.file);
  m.tok = std::make_unique<tokenizer::Tokenizer>(model::read_vocab(*m.file));
  if (m.tok->n_vocab() != m.model->hparams().n_vocab)
    fail(path, ": the tokenizer has ", m.tok->n_vocab(), " tokens but the model has ",
         m.model->hparams().n_vocab, " embedding rows");
  if (repack) m.model->repack_weights(kernels::active_table());
  return m;
}

std::string default_model_path(bool announce) {
  namespace fs = std::filesystem;
  std::string dir;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) dir = std::string(x) + "/hearth";
  else if (const char* h = std::getenv("HOME"); h && *h) dir = std::string(h) + "/.cache/hearth";
  else dir = "/tmp/hearth-cache";
  const std::string path = dir + "/default-qwen3-small-q8_0.gguf";
  if (fs::exists(path)) return path;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create ", dir, ": ", ec.message());
  if (announce)
    std::fprintf(stderr, "hearth: creating the built-in default model (synthetic qwen3, random "
                         "weights) at %s\n", path.c_str());
  model::SynthOptions opt;
  opt.arch = "qwen3";
  opt.preset = "small";
  opt.type = "q8_0";
  opt.seed = 42;
  model::synthesize(opt, path);
  return path;
}

int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n ? int(n) : 1;
}

}  // namespace hearth::cli
