// `hearth template`: placeholder until implemented.
#include "cli/commands.h"

namespace hearth::cli {
void add_template_command(CLI::App& app) { app.add_subcommand("template", "(not implemented yet)"); }
}  // namespace hearth::cli
