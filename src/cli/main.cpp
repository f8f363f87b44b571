// hearth executable entry point: dispatches to cli/ commands.
#include "cli/cli.h"

int main(int argc, char** argv) { return hearth::cli::main(argc, argv); }
