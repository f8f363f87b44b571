// Top-level command dispatch: every command reports failure as one "error: ..." line, exit 1.
#include "cli/cli.h"

#include <cstdio>

#include "cli/commands.h"
#include "core/error.h"

namespace hearth::cli {

int main(int argc, char** argv) {
  CLI::App app{"Hearth: run open-weight language models from GGUF files"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  add_run_command(app);
  add_info_command(app);
  add_tokenize_command(app);
  add_logprobs_command(app);
  add_synth_command(app);
  add_template_command(app);
  add_bench_command(app);
  add_serve_command(app);
  add_chat_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace hearth::cli
