// Tuners: Keras Tuner's API over Quarry's studies. A model-building function of HyperParameters&
// returns a compiled network (quarry::nn, the trainer); a tuner searches its hyperparameters on a
// dataset. Users write quarry::RandomSearch, quarry::GridSearch, quarry::BayesianOptimization and
// quarry::Hyperband (the tuner; the scheduler it runs is quarry::schedulers::Hyperband). Built into
// quarry_nn (LibTorch). The cross-validation tuner for any estimator, quarry::SklearnTuner, needs
// no LibTorch: quarry/tuners/sklearn_tuner.hpp.
//
//   auto model_builder = [](quarry::HyperParameters& hp) {
//     torch::nn::Sequential net(torch::nn::Flatten(),
//                               torch::nn::Linear(784, hp.Int("units", 16, 512, {.step = 16})),
//                               torch::nn::ReLU(), torch::nn::Dropout(0.2), torch::nn::Linear(...,
//                               10));
//     return quarry::nn::Compiled{net, quarry::nn::Adam(hp.Choice("learning_rate", {1e-2, 1e-3}))};
//   };
//   quarry::Hyperband tuner(model_builder, {.objective = "val_accuracy", .max_epochs = 10,
//                                           .factor = 3, .directory = "my_dir",
//                                           .project_name = "intro_to_kt"});
//   tuner.search(train, {.epochs = 50, .validation_split = 0.2,
//                        .callbacks = {quarry::nn::EarlyStopping({.monitor = "val_loss",
//                                                                 .patience = 5})}});
//   auto best = tuner.get_best_hyperparameters()[0];
//   auto model = tuner.hypermodel().build(best);
//
// The study lives in <directory>/<project_name>/ (quarry.db, checkpoints/): a search run again
// resumes it (finished trials stay; Hyperband continues its bracket) unless `overwrite` is set.
// The objective's direction follows Keras Tuner: maximise names containing "acc", else minimise
// (nn::higher_is_better).
// Trials run `workers` at a time, each with one math thread (nn::pin_math_threads).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quarry/nn/fit.hpp"
#include "quarry/nn/model.hpp"
#include "quarry/samplers/sampler.hpp"
#include "quarry/schedulers/scheduler.hpp"
#include "quarry/space/hyperparameters.hpp"
#include "quarry/study/study.hpp"

namespace quarry::tuners {

using Builder = std::function<nn::Compiled(HyperParameters&)>;

/// tuner.search's arguments (Keras' fit arguments).
struct SearchOptions {
  std::int64_t epochs = 10;  ///< per trial (Hyperband: each trial's budget instead)
  std::int64_t batch_size = 32;
  double validation_split = 0;  ///< the tail of the training rows, as Keras takes it
  const data::Dataset* validation_data = nullptr;
  std::vector<nn::EarlyStopping> callbacks;  ///< at most one EarlyStopping, copied for each trial
  bool shuffle = true;
  bool verbose = true;  ///< one line per finished trial on stdout
};

struct RandomSearchOptions {
  std::string objective = "val_loss";
  std::int64_t max_trials = 10;
  std::filesystem::path directory = ".";
  std::string project_name = "untitled_project";
  bool overwrite = false;
  std::uint64_t seed = 0;
  int workers = 1;
};
struct GridSearchOptions {
  std::string objective = "val_loss";
  std::optional<std::int64_t> max_trials;  ///< default: every combination
  std::filesystem::path directory = ".";
  std::string project_name = "untitled_project";
  bool overwrite = false;
  std::uint64_t seed = 0;
  int workers = 1;
};
/// Keras Tuner's BayesianOptimization: `num_initial_points` random trials, then each trial is the
/// maximum of GP-UCB, mean - beta * sd on the loss (the score negated when it is maximised), over
/// a Gaussian process with noise variance `alpha` (quarry::samplers::GpSampler with acquisition
/// "ucb", its beta = this beta squared, its noise = alpha; the losses it models are log-warped and
/// standardised, so alpha is in standardised units, as Keras Tuner's normalize_y makes it).
struct BayesianOptimizationOptions {
  std::string objective = "val_loss";
  std::int64_t max_trials = 10;
  /// Random trials before the GP (counted in complete trials); default: 3 per hyperparameter of
  /// the space, at least 3, as Keras Tuner.
  std::optional<std::int64_t> num_initial_points;
  double alpha = 1e-4;  ///< the GP's observation noise variance (> 0)
  double beta = 2.6;    ///< UCB's exploration weight on the standard deviation (>= 0)
  std::filesystem::path directory = ".";
  std::string project_name = "untitled_project";
  bool overwrite = false;
  std::uint64_t seed = 0;
  int workers = 1;
};
struct HyperbandTunerOptions {
  std::string objective = "val_loss";
  std::int64_t max_epochs = 100;
  std::int64_t factor = 3;
  std::int64_t hyperband_iterations = 1;
  std::filesystem::path directory = ".";
  std::string project_name = "untitled_project";
  bool overwrite = false;
  std::uint64_t seed = 0;
  int workers = 1;
};

/// Builds models from hyperparameters (Keras Tuner's tuner.hypermodel).
class HyperModel {
 public:
  HyperModel(Builder builder, std::vector<std::int64_t> input_shape)
      : builder_(std::move(builder)), input_shape_(std::move(input_shape)) {}
  /// A fresh, untrained model for `hp` (for inputs of the shape last searched on); the modules the
  /// builder makes draw their initial weights from `seed` (nn::build_seeded; for dropout masks
  /// that depend on it too, the builder uses nn::SeededDropout).
  nn::Model build(HyperParameters& hp, std::uint64_t seed = 0) const;
  nn::Model build(const HyperParameters& hp, std::uint64_t seed = 0) const;
  void set_input_shape(std::vector<std::int64_t> shape) { input_shape_ = std::move(shape); }

 private:
  Builder builder_;
  std::vector<std::int64_t> input_shape_;
};

class Tuner {
 public:
  virtual ~Tuner() = default;
  /// Runs trials until max_trials (or the schedule) is reached.
  void search(const data::Dataset& train, const SearchOptions& options = {});
  /// The hyperparameters of the best `n` complete trials, best first.
  std::vector<HyperParameters> get_best_hyperparameters(std::size_t n = 1) const;
  /// The best `n` models with the weights of their trials' best epochs.
  std::vector<nn::Model> get_best_models(std::size_t n = 1) const;
  /// Keras Tuner's results_summary: the best `n` trials, their hyperparameters and score; printed
  /// to stdout and returned.
  std::string results_summary(std::size_t n = 10) const;
  const HyperModel& hypermodel() const { return hypermodel_; }
  Study& study() { return *study_; }
  /// The folder of the study: <directory>/<project_name>.
  const std::filesystem::path& project_dir() const { return project_dir_; }

 protected:
  struct Common {
    std::string objective;
    std::optional<std::int64_t> max_trials;
    std::filesystem::path directory;
    std::string project_name;
    bool overwrite;
    std::uint64_t seed;
    int workers;
  };
  Tuner(Builder builder, const Common& common, std::shared_ptr<samplers::Sampler> sampler,
        std::shared_ptr<schedulers::Scheduler> scheduler);

 private:
  std::vector<Trial> best_trials(std::size_t n) const;

  HyperModel hypermodel_;
  Common common_;
  std::filesystem::path project_dir_;
  std::unique_ptr<Study> study_;
};

class RandomSearch final : public Tuner {
 public:
  RandomSearch(Builder builder, RandomSearchOptions options);
};
class GridSearch final : public Tuner {
 public:
  GridSearch(Builder builder, GridSearchOptions options);
};
class BayesianOptimization final : public Tuner {
 public:
  /// Throws InvalidArgument for num_initial_points < 1, alpha <= 0 or beta < 0.
  BayesianOptimization(Builder builder, BayesianOptimizationOptions options);
};
class Hyperband final : public Tuner {
 public:
  Hyperband(Builder builder, HyperbandTunerOptions options);
};

}  // namespace quarry::tuners

namespace quarry {
using tuners::BayesianOptimization;
using tuners::GridSearch;
using tuners::Hyperband;
using tuners::RandomSearch;
}  // namespace quarry
