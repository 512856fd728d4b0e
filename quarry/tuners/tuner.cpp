// The tuners: a study per project folder, each trial's model built by the user's function and
// trained by the trainer's train_trial (nn/trial_training.hpp).
#include "quarry/tuners/tuner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

#include "quarry/core/error.hpp"
#include "quarry/nn/metrics.hpp"
#include "quarry/nn/trial_training.hpp"
#include "quarry/runner/runner.hpp"
#include "quarry/samplers/gp.hpp"
#include "quarry/samplers/grid.hpp"
#include "quarry/samplers/random.hpp"
#include "quarry/schedulers/hyperband.hpp"
#include "quarry/storage/sqlite.hpp"
#include "quarry/tuners/summary.hpp"

namespace quarry::tuners {

using nn::Model;
using nn::TrainingData;

namespace {

Direction direction_of(const std::string& objective) {
  return nn::higher_is_better(objective) ? Direction::Maximize : Direction::Minimize;
}

/// Keras' validation_split: the last `fraction` of the rows, in order.
TrainingData split_tail(const data::Dataset& train, const SearchOptions& options) {
  if (options.validation_data)
    return {std::make_shared<const data::Dataset>(train),
            std::make_shared<const data::Dataset>(*options.validation_data)};
  if (options.validation_split <= 0) return {std::make_shared<const data::Dataset>(train), nullptr};
  if (options.validation_split >= 1)
    throw InvalidArgument("search: validation_split must be in [0, 1), got " +
                          std::to_string(options.validation_split));
  const std::int64_t rows = train.rows();
  const auto held = static_cast<std::int64_t>(static_cast<double>(rows) * options.validation_split);
  std::vector<std::int64_t> head, tail;
  for (std::int64_t i = 0; i < rows; ++i) (i < rows - held ? head : tail).push_back(i);
  return {std::make_shared<const data::Dataset>(train.take(head)),
          std::make_shared<const data::Dataset>(train.take(tail))};
}

/// Keras Tuner's _populate_initial_space: one build with the default values registers the
/// parameters it meets, so that the space is known before the first trial is asked for (a grid
/// numbers its combinations from it: otherwise the first trial takes the defaults, outside the
/// grid, and the grid repeats them later).
void populate_space(const HyperModel& hypermodel, Study& study) {
  HyperParameters defaults;
  hypermodel.build(defaults);
  study.register_space(defaults.space());
}

/// Keras Tuner's BayesianOptimizationOracle over the GP sampler: its start-up length follows the
/// space as it is at each proposal (3 per hyperparameter, at least 3) unless num_initial_points
/// fixes it. The sampler is stateless: a GpSampler with that n_startup answers each call.
class BayesianSampler final : public samplers::Sampler {
 public:
  BayesianSampler(samplers::GpOptions options, std::optional<std::int64_t> initial_points)
      : options_(std::move(options)), initial_points_(initial_points) {
    options_.n_startup = initial_points.value_or(3);
    samplers::GpSampler check(options_);  // InvalidArgument for options out of range
  }
  std::string name() const override { return "gp"; }
  Params sample_relative(const space::Space& space, const std::vector<Trial>& history,
                         std::int64_t number) override {
    return gp_for(space).sample_relative(space, history, number);
  }
  Value sample_independent(const space::Param& param, const Params& assigned,
                           const std::vector<Trial>& history, std::int64_t number) override {
    return samplers::GpSampler(options_).sample_independent(param, assigned, history, number);
  }

 private:
  samplers::GpSampler gp_for(const space::Space& space) const {
    samplers::GpOptions options = options_;
    options.n_startup = initial_points_.value_or(
        std::max<std::int64_t>(3 * static_cast<std::int64_t>(space.size()), 3));
    samplers::GpSampler gp(options);
    gp.attach(context());
    return gp;
  }

  samplers::GpOptions options_;
  std::optional<std::int64_t> initial_points_;
};

std::shared_ptr<samplers::Sampler> bayesian_sampler(const BayesianOptimizationOptions& o) {
  if (o.num_initial_points)
    require(*o.num_initial_points >= 1, "BayesianOptimization", "num_initial_points >= 1",
            *o.num_initial_points);
  require(std::isfinite(o.alpha) && o.alpha > 0, "BayesianOptimization", "alpha > 0", o.alpha);
  require(std::isfinite(o.beta) && o.beta >= 0, "BayesianOptimization", "beta >= 0", o.beta);
  return std::make_shared<BayesianSampler>(
      samplers::GpOptions{
          .seed = o.seed, .acquisition = "ucb", .beta = o.beta * o.beta, .noise = o.alpha},
      o.num_initial_points);
}

}  // namespace

Model HyperModel::build(HyperParameters& hp, std::uint64_t seed) const {
  std::optional<nn::Compiled> compiled;
  nn::build_seeded(seed, [&] { compiled = builder_(hp); });
  return Model(std::move(*compiled), input_shape_);
}

Model HyperModel::build(const HyperParameters& hp, std::uint64_t seed) const {
  HyperParameters copy = hp;
  return build(copy, seed);
}

Tuner::Tuner(Builder builder, const Common& common, std::shared_ptr<samplers::Sampler> sampler,
             std::shared_ptr<schedulers::Scheduler> scheduler)
    : hypermodel_(std::move(builder), {}),
      common_(common),
      project_dir_(common.directory / common.project_name) {
  require(common_.workers >= 1, "tuner", "workers >= 1", common_.workers);
  if (common_.overwrite) std::filesystem::remove_all(project_dir_);
  std::filesystem::create_directories(project_dir_);
  auto store = std::make_shared<storage::SqliteStorage>((project_dir_ / "quarry.db").string());
  study_ = std::make_unique<Study>(store, common_.project_name,
                                   StudyOptions{.directions = {direction_of(common_.objective)},
                                                .sampler = std::move(sampler),
                                                .scheduler = std::move(scheduler)});
}

void Tuner::search(const data::Dataset& train, const SearchOptions& options) {
  if (options.callbacks.size() > 1)
    throw InvalidArgument("search: at most one EarlyStopping callback, got " +
                          std::to_string(options.callbacks.size()));
  hypermodel_.set_input_shape(train.shape);
  populate_space(hypermodel_, *study_);
  const TrainingData data = split_tail(train, options);
  nn::TrainingOptions training{.objective = common_.objective,
                               .epochs = options.epochs,
                               .batch_size = options.batch_size,
                               .shuffle = options.shuffle,
                               .checkpoints = project_dir_ / "checkpoints",
                               .seed = common_.seed};
  training.trials = [this] { return study_->trials(); };
  if (!options.callbacks.empty()) training.early_stopping = options.callbacks.front().options();
  Study& study = *study_;
  objectives::FunctionObjective objective(
      "model builder", [&](objectives::TrialContext& context) -> std::vector<double> {
        nn::pin_math_threads();
        Trial trial;
        trial.number = context.number();
        trial.params = context.params();
        HyperParameters hp = study.hyperparameters(trial);
        Model model = hypermodel_.build(hp, nn::trial_seed(training, trial.number));
        study.record(trial.number, hp);
        return nn::train_trial(model, context, data, training);
      });
  runner::RunOptions run_options{.workers = common_.workers, .max_trials = common_.max_trials};
  if (options.verbose)
    run_options.on_event = [&](const runner::Event& e) {
      if (e.kind != runner::Event::Kind::Finished) return;
      const Trial& t = e.trial;
      std::printf("Trial %lld %s%s  %s  [%.1f s]\n", static_cast<long long>(t.number),
                  study::to_string(t.state).c_str(),
                  t.values.empty()
                      ? ""
                      : (": " + common_.objective + " " + std::to_string(t.values[0])).c_str(),
                  format_params(t.params).c_str(), t.duration().value_or(0));
      std::fflush(stdout);
    };
  runner::run(study, objective, run_options);
}

std::vector<Trial> Tuner::best_trials(std::size_t n) const {
  return best_complete_trials(*study_, n);
}

std::vector<HyperParameters> Tuner::get_best_hyperparameters(std::size_t n) const {
  std::vector<HyperParameters> out;
  for (const auto& t : best_trials(n)) out.emplace_back(t.params);
  return out;
}

std::vector<Model> Tuner::get_best_models(std::size_t n) const {
  std::vector<Model> out;
  for (const auto& t : best_trials(n)) {
    HyperParameters hp(t.params);
    Model model = hypermodel_.build(hp);
    const auto path = nn::checkpoint_path(project_dir_ / "checkpoints", t.number);
    if (const auto problem = nn::checkpoint_problem(t.number, t.attrs, path))
      throw InvalidArgument("get_best_models: " + *problem);
    model.load_checkpoint(path.string());
    out.push_back(std::move(model));
  }
  return out;
}

std::string Tuner::results_summary(std::size_t n) const {
  const std::string text = summary_text(project_dir_, common_.objective,
                                        direction_of(common_.objective), best_trials(n));
  std::cout << text << std::flush;
  return text;
}

RandomSearch::RandomSearch(Builder builder, RandomSearchOptions o)
    : Tuner(
          std::move(builder),
          {o.objective, o.max_trials, o.directory, o.project_name, o.overwrite, o.seed, o.workers},
          std::make_shared<samplers::RandomSampler>(samplers::RandomOptions{.seed = o.seed}),
          nullptr) {}

GridSearch::GridSearch(Builder builder, GridSearchOptions o)
    : Tuner(
          std::move(builder),
          {o.objective, o.max_trials, o.directory, o.project_name, o.overwrite, o.seed, o.workers},
          std::make_shared<samplers::GridSampler>(), nullptr) {}

BayesianOptimization::BayesianOptimization(Builder builder, BayesianOptimizationOptions o)
    : Tuner(
          std::move(builder),
          {o.objective, o.max_trials, o.directory, o.project_name, o.overwrite, o.seed, o.workers},
          bayesian_sampler(o), nullptr) {}

Hyperband::Hyperband(Builder builder, HyperbandTunerOptions o)
    : Tuner(
          std::move(builder),
          {o.objective, std::nullopt, o.directory, o.project_name, o.overwrite, o.seed, o.workers},
          std::make_shared<samplers::RandomSampler>(samplers::RandomOptions{.seed = o.seed}),
          std::make_shared<schedulers::Hyperband>(
              schedulers::HyperbandOptions{.max_epochs = o.max_epochs,
                                           .factor = o.factor,
                                           .hyperband_iterations = o.hyperband_iterations})) {}

}  // namespace quarry::tuners
