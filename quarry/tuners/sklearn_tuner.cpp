// SklearnTuner: one study per project folder; each trial cross-validates the user's estimator on
// the same folds and reports the mean of its fold scores.
#include "quarry/tuners/sklearn_tuner.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/objectives/objective.hpp"
#include "quarry/runner/runner.hpp"
#include "quarry/samplers/registry.hpp"
#include "quarry/storage/sqlite.hpp"
#include "quarry/tuners/summary.hpp"

namespace quarry::tuners {

struct SklearnTuner::Data {
  automl::Matrix x;
  std::vector<double> y;
  automl::TaskType task = automl::TaskType::Regression;
  std::int64_t num_classes = 0;  // 0 for regression
  std::vector<automl::Fold> folds;
};

namespace {

constexpr const char* kWho = "SklearnTuner";

bool is_classification_metric(automl::Metric metric) {
  return automl::applies_to(metric, automl::TaskType::Binary) ||
         automl::applies_to(metric, automl::TaskType::Multiclass);
}

/// The scoring in use: the one given, else accuracy (classification) or R² (regression).
Scoring resolve_scoring(const SklearnTunerOptions& options) {
  if (options.scoring) {
    if (!options.scoring->metric && !options.task)
      throw InvalidArgument(std::string(kWho) + ": scoring '" + options.scoring->name +
                            "' is a function: set `task` (whether y holds classes or values)");
    return *options.scoring;
  }
  if (!options.task)
    throw InvalidArgument(std::string(kWho) +
                          ": set `scoring` or `task` (whether y holds classes or values)");
  return *options.task == automl::TaskType::Regression ? Scoring(automl::Metric::R2)
                                                       : Scoring(automl::Metric::Accuracy);
}

std::shared_ptr<samplers::Sampler> make_oracle_sampler(const Oracle& oracle) {
  if (const auto* given = std::get_if<std::shared_ptr<samplers::Sampler>>(&oracle.sampler)) {
    if (!*given) throw InvalidArgument(std::string(kWho) + ": the oracle's sampler is null");
    return *given;
  }
  return samplers::make_sampler(std::get<std::string>(oracle.sampler), nullptr, oracle.seed);
}

/// Class indices 0..k-1 with k >= 2: returns k; InvalidArgument naming the first bad row.
std::int64_t count_classes(const std::vector<double>& y) {
  double top = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double v = y[i];
    if (!(v >= 0 && v == std::floor(v) && v < 1e6))
      throw InvalidArgument(std::string(kWho) + ": y[" + std::to_string(i) +
                            "] = " + std::to_string(v) + " is not a class index (0, 1, 2...)");
    top = std::max(top, v);
  }
  const auto k = static_cast<std::int64_t>(top) + 1;
  if (k < 2) throw InvalidArgument(std::string(kWho) + ": y holds a single class");
  return k;
}

void check_folds(const std::vector<automl::Fold>& folds, std::int64_t rows) {
  for (std::size_t f = 0; f < folds.size(); ++f) {
    const auto& fold = folds[f];
    if (fold.train.empty() || fold.valid.empty())
      throw InvalidArgument(std::string(kWho) + ": fold " + std::to_string(f) +
                            " has no training or no validation rows");
    for (const auto* part : {&fold.train, &fold.valid})
      for (std::int64_t row : *part)
        if (row < 0 || row >= rows)
          throw InvalidArgument(std::string(kWho) + ": fold " + std::to_string(f) + " names row " +
                                std::to_string(row) + "; the data has " + std::to_string(rows) +
                                " rows");
  }
}

std::vector<double> take(const std::vector<double>& y, const std::vector<std::int64_t>& rows) {
  std::vector<double> out;
  out.reserve(rows.size());
  for (std::int64_t r : rows) out.push_back(y[static_cast<std::size_t>(r)]);
  return out;
}

}  // namespace

Scoring::Scoring(automl::Metric m)
    : name(automl::to_string(m)), metric(m), greater_is_better(automl::greater_is_better(m)) {}

Scoring::Scoring(std::string n, ScoreFunction f, bool greater)
    : name(std::move(n)), function(std::move(f)), greater_is_better(greater) {
  if (!function) throw InvalidArgument("Scoring '" + name + "': the function is empty");
}

SklearnTuner::SklearnTuner(Oracle oracle, EstimatorBuilder hypermodel, SklearnTunerOptions options)
    : oracle_(std::move(oracle)),
      hypermodel_(std::move(hypermodel)),
      options_(std::move(options)),
      scoring_(resolve_scoring(options_)),
      project_dir_(options_.directory / options_.project_name) {
  if (!hypermodel_) throw InvalidArgument(std::string(kWho) + ": the hypermodel is empty");
  require(oracle_.max_trials >= 1, kWho, "max_trials >= 1", oracle_.max_trials);
  require(options_.workers >= 1, kWho, "workers >= 1", options_.workers);
  if (options_.folds.empty()) require(options_.cv >= 2, kWho, "cv >= 2", options_.cv);
  const Direction direction = oracle_.direction.value_or(
      scoring_.greater_is_better ? Direction::Maximize : Direction::Minimize);
  auto sampler = make_oracle_sampler(oracle_);
  if (options_.overwrite) std::filesystem::remove_all(project_dir_);
  std::filesystem::create_directories(project_dir_);
  auto store = std::make_shared<storage::SqliteStorage>((project_dir_ / "quarry.db").string());
  study_ = std::make_unique<Study>(
      store, options_.project_name,
      StudyOptions{.directions = {direction}, .sampler = std::move(sampler)});
}

void SklearnTuner::search(const automl::Matrix& x, const std::vector<double>& y) {
  if (static_cast<std::int64_t>(y.size()) != x.rows)
    throw InvalidArgument(std::string(kWho) + ": x has " + std::to_string(x.rows) +
                          " rows but y has " + std::to_string(y.size()) + " values");
  if (x.values.size() != static_cast<std::size_t>(x.rows * x.cols))
    throw InvalidArgument(std::string(kWho) + ": x holds " + std::to_string(x.values.size()) +
                          " values, not rows x cols = " + std::to_string(x.rows * x.cols));
  auto data = std::make_shared<Data>();
  data->x = x;
  data->y = y;
  if (options_.task) {
    data->task = *options_.task;
  } else if (is_classification_metric(*scoring_.metric)) {
    data->task = automl::TaskType::Multiclass;  // refined below from the classes
  } else {
    data->task = automl::TaskType::Regression;
  }
  if (data->task != automl::TaskType::Regression) {
    data->num_classes = count_classes(y);
    if (!options_.task)
      data->task = data->num_classes == 2 ? automl::TaskType::Binary : automl::TaskType::Multiclass;
  }
  if (scoring_.metric && !automl::applies_to(*scoring_.metric, data->task))
    throw InvalidArgument(std::string(kWho) + ": metric '" + scoring_.name +
                          "' does not apply to a " + automl::to_string(data->task) + " task");
  if (options_.folds.empty()) {
    data->folds =
        automl::make_validation(y, data->task,
                                {.seed = oracle_.seed,
                                 .folds = options_.cv,
                                 .max_kfold_rows = std::numeric_limits<std::int64_t>::max()})
            .folds;
  } else {
    data->folds = options_.folds;
  }
  check_folds(data->folds, x.rows);
  data_ = data;

  // Keras Tuner's _populate_initial_space: a build with the defaults registers the space, so the
  // sampler sees every parameter from the first trial on.
  HyperParameters defaults;
  hypermodel_(defaults);
  study_->register_space(defaults.space());

  const Data& d = *data;
  const Scoring& scoring = scoring_;
  const automl::FitOptions fit{.num_classes = d.num_classes, .seed = oracle_.seed, .threads = 1};
  Study& study = *study_;
  objectives::FunctionObjective objective(
      "estimator builder", [&](objectives::TrialContext& context) -> std::vector<double> {
        Trial trial;
        trial.number = context.number();
        trial.params = context.params();
        HyperParameters hp = study.hyperparameters(trial);
        std::vector<double> scores;
        for (const automl::Fold& fold : d.folds) {
          if (context.stop_requested()) throw TrialInterrupted();
          HyperParameters fold_hp = hp;
          std::unique_ptr<automl::Estimator> estimator = hypermodel_(fold_hp);
          if (!estimator) throw TrialFailed("the estimator builder returned no estimator");
          if (scores.empty()) study.record(trial.number, fold_hp);
          estimator->fit(d.x.take(fold.train), take(d.y, fold.train), fit);
          const automl::Matrix predicted = estimator->predict(d.x.take(fold.valid));
          const std::vector<double> truth = take(d.y, fold.valid);
          const double score = scoring.metric
                                   ? automl::score(*scoring.metric, d.task, truth, predicted)
                                   : scoring.function(truth, predicted);
          if (!std::isfinite(score))
            throw TrialFailed("fold " + std::to_string(scores.size()) + ": " + scoring.name +
                              " is " + std::to_string(score));
          scores.push_back(score);
        }
        context.set_attr("fold_scores", nlohmann::json(scores).dump());
        double mean = 0;
        for (double s : scores) mean += s;
        return {mean / static_cast<double>(scores.size())};
      });
  runner::RunOptions run{.workers = options_.workers, .max_trials = oracle_.max_trials};
  if (options_.verbose)
    run.on_event = [&](const runner::Event& e) {
      if (e.kind != runner::Event::Kind::Finished) return;
      const Trial& t = e.trial;
      std::printf("Trial %lld %s%s  %s  [%.2f s]\n", static_cast<long long>(t.number),
                  study::to_string(t.state).c_str(),
                  t.values.empty()
                      ? (t.failure.empty() ? "" : (": " + t.failure).c_str())
                      : (": " + oracle_.objective + " " + std::to_string(t.values[0])).c_str(),
                  format_params(t.params).c_str(), t.duration().value_or(0));
      std::fflush(stdout);
    };
  runner::run(study, objective, run);
}

std::vector<HyperParameters> SklearnTuner::get_best_hyperparameters(std::size_t n) const {
  std::vector<HyperParameters> out;
  for (const auto& t : best_complete_trials(*study_, n)) out.emplace_back(t.params);
  return out;
}

std::vector<std::unique_ptr<automl::Estimator>> SklearnTuner::get_best_models(std::size_t n) const {
  if (!data_)
    throw InvalidArgument(std::string(kWho) +
                          ": get_best_models refits on the data of the last search; run search "
                          "first");
  const Data& d = *data_;
  std::vector<std::unique_ptr<automl::Estimator>> out;
  for (const auto& t : best_complete_trials(*study_, n)) {
    auto estimator = build(HyperParameters(t.params));
    estimator->fit(d.x, d.y, {.num_classes = d.num_classes, .seed = oracle_.seed, .threads = 1});
    out.push_back(std::move(estimator));
  }
  return out;
}

std::string SklearnTuner::results_summary(std::size_t n) const {
  const std::string text =
      summary_text(project_dir_, oracle_.objective, study_->directions().front(),
                   best_complete_trials(*study_, n));
  std::cout << text << std::flush;
  return text;
}

std::unique_ptr<automl::Estimator> SklearnTuner::build(const HyperParameters& hp) const {
  HyperParameters copy = hp;
  auto estimator = hypermodel_(copy);
  if (!estimator)
    throw InvalidArgument(std::string(kWho) + ": the estimator builder returned no estimator");
  return estimator;
}

}  // namespace quarry::tuners
