// The YAML study file, read into plain data.
//
// A study file names the study, its objective(s), the search space and what a trial runs (an
// external `command`, a built-in `function`, or a `model` to train on `data` with `fit` settings:
// see model_section.hpp), plus the sampler, scheduler and stopping rules; docs/study-file.md is the
// schema reference, examples/branin.yaml and examples/fashion_mnist.yaml worked examples. Reading
// checks shapes and the parameter rules (Param's constructors, Space::add) but does not look
// components up by name: the sampler, scheduler and function names and their options are checked by
// whoever builds them.
//
// Every problem is a UsageError on one line that starts "<file>:<line>: " and names the key:
//   study.yaml:9: space.units.int: expected [low, high], got [16]
// (malformed YAML adds the column: "study.yaml:3:7: malformed YAML: ..."). Nothing else escapes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/config/model_section.hpp"
#include "quarry/space/space.hpp"
#include "quarry/study/constraints.hpp"
#include "quarry/study/trial.hpp"

namespace quarry::config {

/// One objective: the metric the trial reports and whether lower or higher is better.
struct Metric {
  std::string name;
  study::Direction direction = study::Direction::Minimize;
};

/// `automl:` — tabular AutoML (quarry/automl) instead of a search over a space: the same as
/// `quarry automl TRAIN.csv --target COL ...`, stored in directory/study/ (quarry.db, model/).
/// Task, metric and family names are checked where the run starts (the AutoML library).
struct AutoMLSection {
  std::filesystem::path train;        ///< required (absolute)
  std::string target;                 ///< required
  std::string task = "auto";          ///< auto | binary | multiclass | regression
  std::string metric;                 ///< empty: the task's default
  double time = 60;                   ///< seconds for everything
  std::filesystem::path test;         ///< empty: none
  std::vector<std::string> families;  ///< empty: all
};

/// A study file's content. Paths are absolute; relative ones in the file resolve against base_dir.
struct StudyFile {
  std::filesystem::path path;       ///< the YAML file (absolute)
  std::filesystem::path base_dir;   ///< its folder
  std::string study;                ///< required: [A-Za-z0-9_.-]+
  std::filesystem::path directory;  ///< default base_dir; the study lives in directory/study/
  std::string storage;  ///< URL; default "sqlite://" + directory/study/quarry.db (absolute)
  std::vector<Metric> objectives;  ///< from `objective:` (one) or `objectives:` (a list)
  space::Space space;  ///< `space:` in file order, then the model's searched values; may be empty
  std::vector<std::string> command;  ///< argv template with {param} placeholders (or empty)
  std::string function;              ///< built-in objective name (or empty); exclusive with command
  std::optional<ModelTemplate> model;  ///< a model to train; exclusive with command and function
  /// Tabular AutoML; exclusive with command, function, model, space and objective (the metric is
  /// the section's).
  std::optional<AutoMLSection> automl;
  std::optional<DataSection> data;  ///< set exactly when model is
  std::optional<FitSection> fit;    ///< set exactly when model is (defaults when not given)
  /// `constraints:` ["params <= 100000", "latency_b1_ms <= 0.5"] (model studies): a trial that
  /// breaks one is infeasible (study/constraints.hpp); params and flops are checked before
  /// training.
  std::vector<study::Constraint> constraints;
  nlohmann::json function_options = nlohmann::json::object();  ///< e.g. {"dims": 10}
  std::map<std::string, std::string> env;                      ///< extra environment for `command`
  std::optional<double> trial_timeout;                         ///< seconds per trial
  std::string sampler = "auto";
  nlohmann::json sampler_options = nlohmann::json::object();
  std::string scheduler = "none";  ///< what runs next and at which budget (hyperband, asha...)
  nlohmann::json scheduler_options = nlohmann::json::object();
  /// What stops a running trial early (median, learning_curve). A file's `scheduler: median` (or
  /// learning_curve, whose `with` names the scheduler) is read as this pruner.
  std::string pruner = "none";
  nlohmann::json pruner_options = nlohmann::json::object();
  std::string pruner_key = "pruner";       ///< the key that named it: "pruner", or "scheduler"
  std::optional<std::int64_t> max_trials;  ///< stop after this many trials
  std::optional<double> timeout;           ///< stop after this many seconds
  /// Stop once this many trials failed in a row (the CLI's default: 3).
  std::optional<std::int64_t> max_consecutive_failures;
  /// A running trial whose worker sent no heartbeat for this many seconds is run again (the
  /// runner's default: 60).
  std::optional<double> stale_after;
  /// A trial whose worker died this many times is failed instead of run again (default: 3).
  std::optional<std::int64_t> max_attempts;
  std::optional<int> workers;  ///< parallel trials
  std::uint64_t seed = 0;
};

/// Reads and checks the file; throws UsageError ("cannot read study file '<path>': <reason>" when
/// it cannot be read).
StudyFile load_study_file(const std::filesystem::path& path);

/// The same from text already read; `path` names the file in errors and anchors relative paths.
StudyFile parse_study_file(const std::string& yaml_text, const std::filesystem::path& path);

}  // namespace quarry::config
