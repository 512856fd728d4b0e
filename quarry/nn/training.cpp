#include "quarry/nn/training.hpp"

#include <cmath>
#include <exception>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/core/sha256.hpp"
#include "quarry/nn/metrics.hpp"
#include "quarry/nn/trial_training.hpp"

namespace quarry::nn {

namespace {

nlohmann::json complexity_json(const Complexity& c) {
  return {{"parameters", c.parameters},
          {"flops", c.flops},
          {"latency_b1_ms", c.latency_b1_ms},
          {"latency_b256_ms", c.latency_b256_ms}};
}

nlohmann::json history_json(const History& history) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < history.epochs.size(); ++i) {
    nlohmann::json epoch(history.epochs[i]);
    epoch["epoch"] = history.initial_epoch + static_cast<std::int64_t>(i) + 1;
    out.push_back(std::move(epoch));
  }
  return out;
}

/// The stored trial `number` (for its recorded checkpoint checksum); nullopt when the options
/// cannot read the study's trials or it is not there.
std::optional<study::Trial> stored_trial(const TrainingOptions& options, std::int64_t number) {
  if (!options.trials) return std::nullopt;
  for (auto& t : options.trials())
    if (t.number == number) return std::move(t);
  return std::nullopt;
}

/// Epochs the trial starts from: its parent's checkpoint when it has one and the parent trained
/// the same network (budgets in epochs or rows; other fidelities change the network or its input).
/// A checkpoint that is missing or does not match the checksum recorded with the parent is not
/// used: the trial trains from scratch and records why ("inheritance": "none",
/// "inheritance_problem").
std::int64_t inherit(Model& model, objectives::TrialContext& context,
                     const TrainingOptions& options) {
  if (!context.parent() || options.checkpoints.empty()) return 0;
  if (options.fidelity != Fidelity::Epochs && options.fidelity != Fidelity::Rows) return 0;
  const auto path = checkpoint_path(options.checkpoints, *context.parent());
  const auto parent = stored_trial(options, *context.parent());
  auto problem = checkpoint_problem(
      *context.parent(), parent ? parent->attrs : std::map<std::string, std::string>{}, path);
  std::int64_t epochs = 0;
  if (!problem) {
    try {
      epochs = model.load_checkpoint(path.string());
    } catch (const InvalidArgument& e) {  // a checkpoint of another network, or unreadable
      problem = e.what();
    }
  }
  if (problem) {
    record_no_inheritance(context, *problem);
    return 0;
  }
  context.set_attr("inherited_from", std::to_string(*context.parent()));
  context.set_attr("inheritance", "\"checkpoint\"");
  return epochs;
}

/// Records the checksum of the trial's checkpoint as it is left (attr "checkpoint_sha256").
void record_checkpoint(objectives::TrialContext& context, const std::string& path) {
  context.set_attr(kCheckpointSha256Attr, nlohmann::json(sha256_file(path)).dump());
}

/// One objective's value: a training metric at the chosen epoch, or a measure of the model.
double metric_value(const std::string& name, const Logs& epoch, const Complexity& c,
                    double train_time) {
  if (const auto measured = complexity_value(name, c, train_time)) return *measured;
  const auto it = epoch.find(name);
  if (it == epoch.end()) throw TrialFailed("no epoch reported " + name);
  return it->second;
}

/// Leaves in `path` the weights and optimizer state of the trial's best epoch (saved there by the
/// Checkpoint callback when `objective` improved: Keras Tuner's SaveBestEpoch, so that the best
/// models score what their trials scored) marked with all the epochs trained, so that a promoted
/// trial starts at its parent's budget, as in Keras Tuner.
void keep_best_epoch(Model& model, const History& history, const std::string& objective,
                     const std::string& path, std::int64_t trained) {
  const auto best = history.best(objective);
  if (best && *best + 1 < history.epochs.size() && std::filesystem::exists(path))
    model.load_checkpoint(path);
  model.save_checkpoint(path, trained);
}

/// The pruning reporter, the best epoch's checkpoint (when `checkpoint` is not empty) and early
/// stopping, last: restore_best_weights must not change the weights saved for an epoch.
std::vector<std::shared_ptr<Callback>> trial_callbacks(objectives::TrialContext& context,
                                                       const TrainingOptions& options,
                                                       const std::string& checkpoint) {
  std::vector<std::shared_ptr<Callback>> callbacks = {std::make_shared<Reporter>(
      options.objective,
      [&context](std::int64_t step, double value) { return context.report(step, value); })};
  if (!checkpoint.empty()) {
    std::filesystem::create_directories(options.checkpoints);
    callbacks.push_back(std::make_shared<Checkpoint>(CheckpointOptions{
        .path = checkpoint, .monitor = options.objective, .save_best_only = true}));
  }
  for (auto& callback : early_stopping_callbacks(options)) callbacks.push_back(callback);
  return callbacks;
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& folder, std::int64_t trial) {
  return folder / ("trial_" + std::to_string(trial) + ".pt");
}

std::optional<std::string> checkpoint_problem(std::int64_t trial,
                                              const std::map<std::string, std::string>& attrs,
                                              const std::filesystem::path& path) {
  const std::string whose = "trial " + std::to_string(trial) + "'s checkpoint " + path.string();
  if (!std::filesystem::is_regular_file(path)) return whose + " is missing";
  const auto recorded = attrs.find(kCheckpointSha256Attr);
  if (recorded == attrs.end()) return std::nullopt;  // saved before checksums were recorded
  std::string expected;
  try {
    expected = nlohmann::json::parse(recorded->second).get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return whose + ": the recorded checksum is not a string";
  }
  std::string actual;
  try {
    actual = sha256_file(path);
  } catch (const Error& e) {
    return whose + " cannot be read: " + e.what();
  }
  if (actual == expected) return std::nullopt;
  return whose + " does not match the checksum recorded with the trial (sha256 " +
         actual.substr(0, 12) + "... now, " + expected.substr(0, 12) +
         "... when written): it was changed or damaged";
}

void record_no_inheritance(objectives::TrialContext& context, const std::string& problem) {
  context.set_attr("inheritance", "\"none\"");
  context.set_attr("inheritance_problem",
                   nlohmann::json(problem + "; trained from scratch").dump());
}

std::vector<std::shared_ptr<Callback>> early_stopping_callbacks(const TrainingOptions& options) {
  if (!options.early_stopping) return {};
  return {std::make_shared<EarlyStopping>(*options.early_stopping)};
}

std::uint64_t trial_seed(const TrainingOptions& options, std::int64_t trial) {
  return Rng::stream(options.seed, {static_cast<std::uint64_t>(trial)}).next();
}

std::vector<double> train_trial(Model& model, objectives::TrialContext& context,
                                const TrainingData& data, const TrainingOptions& options) {
  pin_math_threads();
  const std::int64_t initial = inherit(model, context, options);
  const std::string checkpoint =
      options.checkpoints.empty() ? ""
                                  : checkpoint_path(options.checkpoints, context.number()).string();
  std::int64_t epochs =
      context.budget() > 0 ? static_cast<std::int64_t>(context.budget()) : options.epochs;
  if (options.fidelity != Fidelity::Epochs) epochs = initial + options.epochs;
  FitOptions fit_options{.epochs = std::max(epochs, initial),
                         .initial_epoch = initial,
                         .batch_size = options.batch_size,
                         .shuffle = options.shuffle,
                         .seed = trial_seed(options, context.number()),
                         .validation_data = data.validation.get(),
                         .callbacks = trial_callbacks(context, options, checkpoint),
                         .on_epoch = nullptr,
                         .interrupted = [&context] { return context.stop_requested(); }};
  if (options.on_epoch)
    fit_options.on_epoch = [&](std::int64_t epoch, const Logs& logs) {
      options.on_epoch(context.number(), epoch + 1, fit_options.epochs, logs);
    };

  const double started = study::now_seconds();
  const History history = fit(model, *data.train, fit_options);
  const double train_time = study::now_seconds() - started;
  const std::int64_t trained = initial + static_cast<std::int64_t>(history.epochs.size());
  if (!checkpoint.empty()) {
    keep_best_epoch(model, history, options.objective, checkpoint, trained);
    record_checkpoint(context, checkpoint);
  }
  const Complexity complexity = model.complexity();
  context.set_attr("history", history_json(history).dump());
  context.set_attr("epochs", std::to_string(trained));
  context.set_attr("complexity", complexity_json(complexity).dump());
  context.set_attr("train_time", nlohmann::json(train_time).dump());
  if (history.pruned)
    throw TrialPruned("stopped by the scheduler at epoch " + std::to_string(trained));
  const auto best = history.best(options.objective);
  if (!best) throw TrialFailed("no epoch reported " + options.objective);
  context.set_attr("best_epoch", std::to_string(initial + static_cast<std::int64_t>(*best) + 1));
  const auto value = [&](const std::string& name) {
    return metric_value(name, history.epochs[*best], complexity, train_time);
  };
  check_constraints(context, options.constraints, value);
  if (options.objectives.empty()) return {value(options.objective)};
  std::vector<double> values;
  for (const auto& name : options.objectives) values.push_back(value(name));
  return values;
}

bool check_constraints(objectives::TrialContext& context,
                       const std::vector<study::Constraint>& constraints,
                       const std::function<double(const std::string&)>& value) {
  if (constraints.empty()) return true;
  std::map<std::string, double> metrics;
  for (const auto& c : constraints) metrics[c.metric] = value(c.metric);
  const auto attrs = study::constraint_attrs(constraints, metrics);
  for (const auto& [key, json] : attrs) context.set_attr(key, json);
  return attrs.at(study::kFeasibleAttr) == "true";
}

std::filesystem::path member_path(const std::filesystem::path& first, std::size_t k) {
  if (k == 0) return first;
  std::filesystem::path out = first;
  return out.replace_filename(first.stem().string() + "_" + std::to_string(k + 1) +
                              first.extension().string());
}

FinalModel train_final(const ModelSpec& spec, const TrainingData& data, const data::Dataset& test,
                       std::int64_t epochs, const TrainingOptions& options,
                       const std::filesystem::path& save_to, int seeds, bool average) {
  if (seeds < 1)
    throw InvalidArgument("train_final: seeds must be >= 1, got " + std::to_string(seeds));
  struct Run {
    std::unique_ptr<Model> model;
    History history;
    Logs test;
    std::exception_ptr error;
  };
  std::vector<Run> runs(static_cast<std::size_t>(seeds));
  const auto train_one = [&](int i) {
    Run& run = runs[static_cast<std::size_t>(i)];
    try {
      pin_math_threads();
      const std::uint64_t seed =
          i == 0 ? options.seed
                 : Rng::stream(options.seed, {hash_name("retrain"), static_cast<std::uint64_t>(i)})
                       .next();
      run.model = std::make_unique<Model>(spec, data.train->shape, seed);
      FitOptions fit_options{.epochs = epochs,
                             .batch_size = options.batch_size,
                             .shuffle = options.shuffle,
                             .seed = seed,
                             .validation_data = data.validation.get()};
      if (options.on_epoch)  // trial -1 is the first seed, -2 the second...
        fit_options.on_epoch = [&options, epochs, i](std::int64_t epoch, const Logs& logs) {
          options.on_epoch(-1 - i, epoch + 1, epochs, logs);
        };
      run.history = fit(*run.model, *data.train, fit_options);
      run.test = evaluate(*run.model, test);
    } catch (...) {
      run.error = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> threads;  // joined on the way out, also if starting one throws
    for (int i = 1; i < seeds; ++i) threads.emplace_back(train_one, i);
    train_one(0);
  }

  // Only a seed whose loss diverged is left out; any other error is the retrain's.
  for (const Run& run : runs) {
    if (!run.error) continue;
    try {
      std::rethrow_exception(run.error);
    } catch (const TrialFailed&) {
    }
  }
  FinalModel out;
  std::optional<std::size_t> kept;
  const auto final_loss = [](const History& h) {  // a NaN never wins
    if (h.epochs.empty()) return std::numeric_limits<double>::infinity();
    const Logs& last = h.epochs.back();
    const auto it = last.find("val_loss");
    const double loss = it != last.end() ? it->second : last.at("loss");
    return std::isfinite(loss) ? loss : std::numeric_limits<double>::infinity();
  };
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const bool ok = !runs[i].error;
    out.seed_tests.push_back(ok ? runs[i].test : Logs{});
    out.seed_last_epochs.push_back(
        ok && !runs[i].history.epochs.empty() ? runs[i].history.epochs.back() : Logs{});
    if (ok && (!kept || final_loss(runs[i].history) < final_loss(runs[*kept].history))) kept = i;
  }
  if (!kept) std::rethrow_exception(runs.front().error);
  out.members = {*kept};
  if (average)
    for (std::size_t i = 0; i < runs.size(); ++i)
      if (!runs[i].error && i != *kept) out.members.push_back(i);
  Run& best = runs[*kept];
  if (!best.history.epochs.empty()) out.last_epoch = best.history.epochs.back();
  std::vector<Model*> members;
  for (const std::size_t i : out.members) members.push_back(runs[i].model.get());
  out.test = members.size() == 1 ? best.test : evaluate_average(members, test);
  const Complexity c = best.model->complexity();
  out.complexity = {{"parameters", double(c.parameters)},
                    {"flops", double(c.flops)},
                    {"latency_b1_ms", c.latency_b1_ms},
                    {"latency_b256_ms", c.latency_b256_ms}};
  if (!save_to.empty()) {
    if (save_to.has_parent_path()) std::filesystem::create_directories(save_to.parent_path());
    for (std::size_t k = 0; k < members.size(); ++k) {
      out.saved.push_back(member_path(save_to, k));
      members[k]->save_weights(out.saved.back().string());
    }
  }
  return out;
}

}  // namespace quarry::nn
