// One function per `hearth <command>`: each adds its subcommand (options + callback) to the app.
// Callbacks throw hearth::Error for bad input; cli.cpp turns that into one line and exit 1.
#pragma once

#include <CLI/CLI.hpp>

namespace hearth::cli {

void add_run_command(CLI::App& app);       // cmd_run.cpp
void add_info_command(CLI::App& app);      // cmd_info.cpp
void add_tokenize_command(CLI::App& app);  // cmd_tokenize.cpp
void add_logprobs_command(CLI::App& app);  // cmd_logprobs.cpp
void add_synth_command(CLI::App& app);     // cmd_synth.cpp
void add_template_command(CLI::App& app);  // cmd_template.cpp
void add_bench_command(CLI::App& app);     // cmd_bench.cpp
void add_serve_command(CLI::App& app);     // cmd_serve.cpp
void add_chat_command(CLI::App& app);      // cmd_chat.cpp

}  // namespace hearth::cli
