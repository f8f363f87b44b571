// `hearth info`: placeholder until implemented.
#include "cli/commands.h"

namespace hearth::cli {
void add_info_command(CLI::App& app) { app.add_subcommand("info", "(not implemented yet)"); }
}  // namespace hearth::cli
