// SklearnTuner: Keras Tuner's SklearnTuner, a cross-validated search over any estimator with fit
// and predict (quarry::automl::Estimator: a family of quarry::automl or the user's own). It needs
// no LibTorch: built into quarry_automl, next to the families it tunes.
//
//   const auto& xgboost = quarry::automl::family("xgboost");
//   quarry::SklearnTuner tuner(
//       {.objective = "score", .sampler = "gp", .max_trials = 10, .seed = 1},  // the oracle
//       [&](quarry::HyperParameters& hp) {  // the family's space, one value per parameter
//         quarry::space::Params params;
//         for (const auto& param : xgboost.params) params[param.name()] = hp.get(param);
//         return xgboost.make(params, quarry::automl::TaskType::Binary);
//       },
//       {.scoring = quarry::automl::Metric::Accuracy, .cv = 5, .directory = "my_dir",
//        .project_name = "sklearn"});
//   tuner.search(x, y);                              // x: rows x features, y: class indices
//   auto best = std::move(tuner.get_best_models(1)[0]);  // refitted on all of x, y
//
// Each trial builds one estimator per fold from the same hyperparameters, fits it on the fold's
// training rows, scores its predictions on the fold's validation rows and reports the mean score
// (the fold scores are kept in the trial attribute "fold_scores", a JSON array). Folds: `cv`-fold
// cross-validation from automl::make_validation (stratified by class for classification, shuffled
// with the oracle's seed; the same folds for every trial), or the `folds` given.
// The study lives in <directory>/<project_name>/quarry.db, as for the other tuners: a search run
// again resumes it (max_trials counts the trials already there) unless `overwrite` is set.
//
// The task (what y holds) comes from `task`, else from the scoring metric (a classification
// metric: binary with 2 classes in y, multiclass with more; a regression metric: regression).
// Classification targets are class indices 0..k-1. Without `scoring`, classification is scored by
// accuracy and regression by R² (what scikit-learn's estimator.score gives Keras Tuner).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "quarry/automl/estimator.hpp"
#include "quarry/automl/matrix.hpp"
#include "quarry/automl/metrics.hpp"
#include "quarry/automl/task.hpp"
#include "quarry/automl/validation.hpp"
#include "quarry/samplers/sampler.hpp"
#include "quarry/space/hyperparameters.hpp"
#include "quarry/study/study.hpp"

namespace quarry::tuners {

/// Keras Tuner's hypermodel for SklearnTuner: a fresh, untrained estimator for `hp`.
using EstimatorBuilder = std::function<std::unique_ptr<automl::Estimator>(HyperParameters& hp)>;
/// A score of one fold's predictions (automl::Matrix: rows x classes of probabilities, or rows x 1
/// values) against its truth.
using ScoreFunction =
    std::function<double(const std::vector<double>& y, const automl::Matrix& predicted)>;

/// How each fold is scored: an automl::Metric (its direction known), or a named function.
struct Scoring {
  Scoring(automl::Metric metric);  // NOLINT(google-explicit-constructor): `.scoring = Metric::R2`
  Scoring(std::string name, ScoreFunction function, bool greater_is_better = true);

  std::string name;                      ///< "accuracy", or the function's name
  std::optional<automl::Metric> metric;  ///< set when built from a metric
  ScoreFunction function;                ///< set when built from a function
  bool greater_is_better = true;
};

/// Keras Tuner's oracle: what is optimised, by which sampler, for how many trials.
struct Oracle {
  std::string objective = "score";     ///< the name the trials' value goes by
  std::optional<Direction> direction;  ///< default: the scoring's (max when greater is better)
  /// A registered sampler by name ("random", "tpe", "gp"...; seeded with `seed`) or an instance.
  std::variant<std::string, std::shared_ptr<samplers::Sampler>> sampler = std::string("random");
  std::int64_t max_trials = 10;
  std::uint64_t seed = 0;  ///< the sampler's (by name) and the folds' shuffling
};

struct SklearnTunerOptions {
  std::optional<Scoring> scoring;        ///< default: accuracy, or R² for regression
  int cv = 5;                            ///< folds of k-fold cross-validation (>= 2)
  std::vector<automl::Fold> folds;       ///< folds of row indices instead of `cv`
  std::optional<automl::TaskType> task;  ///< default: from the scoring metric (see above)
  std::filesystem::path directory = ".";
  std::string project_name = "untitled_project";
  bool overwrite = false;
  int workers = 1;      ///< trials side by side (threads); each fit gets one thread
  bool verbose = true;  ///< one line per finished trial on stdout
};

class SklearnTuner {
 public:
  /// Opens (or creates) the study; throws InvalidArgument for cv < 2, max_trials < 1,
  /// workers < 1 or an unknown sampler name.
  SklearnTuner(Oracle oracle, EstimatorBuilder hypermodel, SklearnTunerOptions options = {});

  /// Runs trials until the study holds max_trials. x: rows x features; y: one value per row.
  /// Throws InvalidArgument for mismatched sizes, a fold outside the rows, classes that are not
  /// 0..k-1 or a metric that does not fit the task.
  void search(const automl::Matrix& x, const std::vector<double>& y);
  /// The hyperparameters of the best `n` complete trials, best first.
  std::vector<HyperParameters> get_best_hyperparameters(std::size_t n = 1) const;
  /// The best `n` trials' estimators, refitted on all the rows of the last search (Keras Tuner
  /// reloads a fold's model instead). Throws InvalidArgument before any search in this process.
  std::vector<std::unique_ptr<automl::Estimator>> get_best_models(std::size_t n = 1) const;
  /// Keras Tuner's results_summary: printed to stdout and returned.
  std::string results_summary(std::size_t n = 10) const;

  /// An untrained estimator for `hp` (Keras Tuner's tuner.hypermodel.build(hp)).
  std::unique_ptr<automl::Estimator> build(const HyperParameters& hp) const;
  Study& study() { return *study_; }
  const std::filesystem::path& project_dir() const { return project_dir_; }
  /// The scoring in use and the objective's direction (after the defaults are applied).
  const Scoring& scoring() const { return scoring_; }
  Direction direction() const { return study_->directions().front(); }

 private:
  struct Data;  // the rows of the last search, with their task

  Oracle oracle_;
  EstimatorBuilder hypermodel_;
  SklearnTunerOptions options_;
  Scoring scoring_;
  std::filesystem::path project_dir_;
  std::unique_ptr<Study> study_;
  std::shared_ptr<const Data> data_;
};

}  // namespace quarry::tuners

namespace quarry {
using tuners::SklearnTuner;
}  // namespace quarry
