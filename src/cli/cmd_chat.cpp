// `hearth chat`: placeholder until implemented.
#include "cli/commands.h"

namespace hearth::cli {
void add_chat_command(CLI::App& app) { app.add_subcommand("chat", "(not implemented yet)"); }
}  // namespace hearth::cli
