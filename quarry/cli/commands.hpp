// The `quarry` subcommands. Each takes the whole argv (argv[1] is its name) and returns the exit
// code; errors are thrown (UsageError and input errors: exit 2; anything else: exit 1).
#pragma once

#include <string>

namespace quarry::config {
struct StudyFile;
}  // namespace quarry::config

namespace quarry::cli {

class Args;

int search_command(int argc, char** argv);
int worker_command(int argc, char** argv);
int status_command(int argc, char** argv);
int best_command(int argc, char** argv);
int trials_command(int argc, char** argv);
int importance_command(int argc, char** argv);
int report_command(int argc, char** argv);
int dashboard_command(int argc, char** argv);
int ask_command(int argc, char** argv);
int tell_command(int argc, char** argv);
int heartbeat_command(int argc, char** argv);
int list_command(int argc, char** argv);
int bench_command(int argc, char** argv);
int automl_command(int argc, char** argv);
int predict_command(int argc, char** argv);
int analyze_command(int argc, char** argv);

/// `quarry search`'s run of one study (not AutoML) on `storage`, with search's options from
/// `args` (a worker's: workers, quiet). `from_file`: the file is on this machine, and its
/// definition is stored with the study for workers elsewhere (definition.hpp).
int run_search(const config::StudyFile& file, const std::string& storage, const Args& args,
               int argc, char** argv, bool from_file);

}  // namespace quarry::cli
