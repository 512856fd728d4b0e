// The `quarry` subcommands. Each takes the whole argv (argv[1] is its name) and returns the exit
// code; errors are thrown (UsageError and input errors: exit 2; anything else: exit 1).
#pragma once

namespace quarry::cli {

int search_command(int argc, char** argv);
int status_command(int argc, char** argv);
int best_command(int argc, char** argv);
int trials_command(int argc, char** argv);
int ask_command(int argc, char** argv);
int tell_command(int argc, char** argv);
int list_command(int argc, char** argv);
int bench_command(int argc, char** argv);
int automl_command(int argc, char** argv);
int predict_command(int argc, char** argv);
int analyze_command(int argc, char** argv);

}  // namespace quarry::cli
