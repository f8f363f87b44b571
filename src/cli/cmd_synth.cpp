// `hearth synth`: placeholder until implemented.
#include "cli/commands.h"

namespace hearth::cli {
void add_synth_command(CLI::App& app) { app.add_subcommand("synth", "(not implemented yet)"); }
}  // namespace hearth::cli
