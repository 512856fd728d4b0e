// Tabular AutoML: from a CSV table and a target column to a trained model, within a time budget.
//
//   auto train = quarry::data::read_table("train.csv");
//   auto result = quarry::automl::fit(train, {.target = "species", .time_budget = 60,
//                                             .out = "automl_out"});
//   // result.leaderboard, result.model_dir; AutoModel::load(result.model_dir).predict(table)
//
// What it does, in order:
//  1. Detects the task (task.hpp), plans the columns (used, dropped and why), picks the metric
//     (the AutoML Benchmark's default for the task unless given) and the validation
//     (validation.hpp: the same seeded folds for every trial).
//  2. Fits a cheap fallback (the linear family's cheap configuration, or the first family that
//     applies) on all the training rows and saves it as the model: even a tiny budget returns one.
//  3. Searches a study stored in <out>/quarry.db (resumable: run again with the same `out` and
//     the finished trials count): the choice parameter "family" and each family's conditional
//     space; every family's cheap configuration first, cheapest first (FLAML's cost-aware start),
//     then the TPE sampler, with successive halving (ASHA) over each family's budget: new
//     configurations train with 1/9 of their boosting rounds, trees or epochs, the best third of
//     each rung is promoted to 1/3, then to all of it. A trial fits the preprocessing and the model
//     inside each fold (no leakage) and keeps its out-of-fold predictions (<out>/oof/<trial>.bin).
//  4. Builds a greedy ensemble (ensemble.hpp) of the best trials' out-of-fold predictions, and
//     ranks it on the leaderboard with the single models.
//  5. Refits the winner (the ensemble's members, or the best single model) on all the training
//     rows and saves it as <out>/model, then computes permutation importance, time-capped.
// The budget covers all of it: the search ends early enough for the refit, whose time is estimated
// from the folds' fit times; fits stop at the deadline and keep what they have.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quarry/automl/ensemble.hpp"
#include "quarry/automl/metrics.hpp"
#include "quarry/automl/task.hpp"
#include "quarry/automl/validation.hpp"
#include "quarry/data/table.hpp"

namespace quarry::automl {

struct AutoMLOptions {
  std::string target;                        ///< the column to predict (required)
  std::optional<TaskType> task;              ///< default: detected
  std::optional<Metric> metric;              ///< default: default_metric(task)
  double time_budget = 60;                   ///< seconds for everything (> 0)
  int workers = 1;                           ///< trials side by side, one thread each
  std::filesystem::path out = "automl_out";  ///< the study, out-of-fold predictions, the model
  std::string study = "automl";              ///< the study's name in <out>/quarry.db
  std::uint64_t seed = 0;
  std::vector<std::string> families;        ///< families to try (default: every registered one)
  std::optional<std::int64_t> max_trials;   ///< in the study, earlier runs included
  const std::atomic<bool>* stop = nullptr;  ///< set it (Ctrl-C) to end the search early
};

struct LeaderboardRow {
  std::string model;                ///< "xgboost #12", "ensemble"
  std::string family;               ///< "xgboost", "ensemble"
  std::int64_t trial = -1;          ///< the trial (-1 for the ensemble)
  double validation_score = 0;      ///< the metric on out-of-fold predictions
  double fit_time = 0;              ///< seconds, all folds
  double predict_time_per_row = 0;  ///< seconds
  double budget_fraction = 1;  ///< of the family's rounds / trees / epochs (successive halving)
};

/// Reported while the search runs (the CLI's live leaderboard).
struct Progress {
  LeaderboardRow row;   ///< the trial that just finished (validation_score NaN if it failed)
  std::string failure;  ///< why it failed, if it did
  LeaderboardRow best;  ///< the best so far
  double elapsed = 0;   ///< seconds since fit() started
};

struct AutoMLResult {
  Target target;  ///< task, why, classes (y left empty)
  std::vector<ColumnPlan> columns;
  Metric metric = Metric::RocAuc;
  std::string validation;  ///< "569 rows <= 10000: stratified 5-fold cross-validation"
  std::vector<LeaderboardRow> leaderboard;  ///< best first
  std::string winner;                       ///< the leaderboard's first model name
  double validation_score = 0;              ///< the winner's
  double best_single_validation_score = 0;
  Ensemble ensemble;  ///< weights over `ensemble_trials`
  std::vector<std::int64_t> ensemble_trials;
  std::filesystem::path model_dir;
  /// Members of the winner whose refit on all the rows failed ("xgboost #12: why"); they are left
  /// out of the saved model (which is the fallback when none could be refitted).
  std::vector<std::string> refit_errors;
  std::vector<std::pair<std::string, double>> importance;  ///< column, loss increase; largest first
  /// Finished trials in the study (all runs; promotions included), and the failed among them.
  std::int64_t trials = 0, failed = 0;
  double elapsed = 0;  ///< seconds
};

/// Runs the steps above. InvalidArgument (one line) for bad input: the target (task.hpp), a metric
/// that does not apply to the task, no family for the task, a budget too small to fit even the
/// fallback, a study in `out` made for other data.
AutoMLResult fit(const data::Table& train, const AutoMLOptions& options,
                 const std::function<void(const Progress&)>& on_progress = {});

}  // namespace quarry::automl
