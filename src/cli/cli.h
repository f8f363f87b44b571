// Command-line front end: `hearth <command> ...`. Parses arguments (CLI11), reports errors as
// one line on stderr with a non-zero exit code, never a crash.
#pragma once

namespace hearth::cli {
int main(int argc, char** argv);
}
