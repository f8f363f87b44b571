// `hearth bench`: placeholder until implemented.
#include "cli/commands.h"

namespace hearth::cli {
void add_bench_command(CLI::App& app) { app.add_subcommand("bench", "(not implemented yet)"); }
}  // namespace hearth::cli
