// `hearth logprobs`: placeholder until implemented.
#include "cli/commands.h"

namespace hearth::cli {
void add_logprobs_command(CLI::App& app) { app.add_subcommand("logprobs", "(not implemented yet)"); }
}  // namespace hearth::cli
