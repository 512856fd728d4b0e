// What the `quarry` subcommands share: finding the study a command line names, and building the
// sampler, scheduler and objective a study file describes.
#pragma once

#include <atomic>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "quarry/cli/args.hpp"
#include "quarry/config/study_file.hpp"
#include "quarry/objectives/objective.hpp"
#include "quarry/study/study.hpp"

namespace quarry::cli {

/// Ctrl-C, SIGTERM and SIGHUP (the terminal closed): the first sets the returned flag (stop
/// gracefully: running trials go back to the queue), the second kills child processes and exits at
/// once with 128 + the signal (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP). The first prints
/// `message` (static text; by default the search's "stopping; running trials go back...").
const std::atomic<bool>& install_interrupt_handlers(const char* message = nullptr);
/// The exit code of a search the flag stopped: 128 + the first signal (130, 143 or 129).
int interrupted_exit_code();

/// `quarry search` on a study file with an `automl:` section (args: search's options).
int automl_study(const config::StudyFile& file, const Args& args, int argc, char** argv);

/// Options every command that reads a study accepts.
inline const std::set<std::string> kStudyOptions = {"storage", "study"};

/// The study a command line names: `STUDY.yaml` (its store and name), or `--storage URL --study
/// NAME` (which also override the file's). `file` is set when a study file was given.
struct StudyRef {
  std::optional<config::StudyFile> file;
  std::string storage;
  std::string name;
};
StudyRef resolve_study(const Args& args, const std::string& command);

/// Throws InvalidArgument ("<prefix>the store 'F' does not exist...") when `url` names a SQLite
/// file that is not there: a command that only reads must not create a store.
void require_existing_store(const std::string& url, const std::string& prefix = "");

/// Opens an existing study (no sampler needed); `read_only` for commands that only read, so that
/// a store the user may not write can still be read.
Study open_existing(const StudyRef& ref, bool read_only = false);

/// The search space of a study file: its `space`, else its built-in function's.
Space space_of(const config::StudyFile& file);
/// The objective of a study file: its command or its built-in function.
std::unique_ptr<objectives::Objective> objective_of(const config::StudyFile& file);
/// Opens (or creates) the study a file describes, with its sampler and scheduler, and stores its
/// space and metric names. (A pointer: a Study holds a mutex, so it cannot be moved.)
std::unique_ptr<Study> open_for_search(const config::StudyFile& file, const std::string& storage,
                                       std::uint64_t seed);

/// Metric names of a study, as its file named them when the search ran (stored with the study).
std::vector<std::string> metric_names(Study& study);

/// `v` with `digits` digits after the point; "-" for NaN (terminal tables).
std::string fixed(double v, int digits);
/// `s` padded with spaces to `width` characters (never cut).
std::string pad(const std::string& s, std::size_t width);

/// Calls `write` with the file `path` (created or replaced), or stdout when there is none; throws
/// InvalidArgument naming it when it cannot be opened or the write fails.
void write_output(const std::optional<std::string>& path,
                  const std::function<void(std::ostream&)>& write);

}  // namespace quarry::cli
