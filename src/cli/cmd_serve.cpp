// `hearth serve`: placeholder until implemented.
#include "cli/commands.h"

namespace hearth::cli {
void add_serve_command(CLI::App& app) { app.add_subcommand("serve", "(not implemented yet)"); }
}  // namespace hearth::cli
