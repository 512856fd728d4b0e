// One trial of a model study: build the model, continue from the parent's checkpoint when the
// scheduler promoted the trial (Hyperband), fit it to the trial's budget with early stopping and
// the pruning reporter, record what it cost, save its checkpoint, and return its best value.
// Also the end of a search: retrain the best configuration and measure it on the test set.
//
// No LibTorch in this header: the command line builds model studies through it.
//
// What a trial records (trial attributes, JSON): "history" (one object of metrics per epoch,
// including "epoch", counted from 1 over the whole training, inherited epochs included),
// "best_epoch", "epochs" (trained in total), "complexity" {parameters, flops, latency_b1_ms,
// latency_b256_ms}, "train_time" (seconds in fit), "inherited_from" (the trial whose weights it
// started from: its parent's checkpoint, or a donor's morphed weights, then "inheritance":
// "checkpoint" or "morphism"; "none" with "inheritance_problem" when the parent's checkpoint was
// missing or did not match its checksum, so the trial trained from scratch), "checkpoint_sha256"
// (of the checkpoint it left), "fidelity" {kind, fraction, rows, shape} when the budget is not
// epochs, and with constraints "feasible" / "constraints" (study/constraints.hpp).
//
// Several objectives: TrainingOptions::objectives names them in the study's order. The first is a
// training metric (its best epoch decides the others' epoch); the rest may be training metrics
// (at that epoch) or what the trained model measures: params, flops, latency_b1_ms,
// latency_b256_ms (Model::complexity) and train_time (seconds): nn::complexity_metrics().
//
// Constraints: params and flops (nn::measured_before_training) are checked on the built model
// BEFORE training: a trial breaking one is never trained (it fails: "infeasible before training:
// params 250123 > 100000"); the rest after training: a breaking trial completes with "feasible":
// false and is left out of the best trial and the Pareto front.
//
// Lower fidelity (Fidelity): with a multi-fidelity scheduler (Hyperband, ASHA, BOHB) the trial's
// budget b is read as the fraction f = b / max_budget of the full model and data instead of
// epochs: rows (the first ceil(f * n) training rows), resolution (images resized to
// max(8, round(f * side)) pixels a side, validation too), filters (every layer but the last
// f times as wide, rounded up), cells (f times the normal cells per stage of a micro space). Each
// trial then trains `epochs` epochs; a promoted trial continues from its parent's checkpoint when
// the network is the same (rows), from its morphed weights when it is wider (filters, with
// inherit_weights), else from scratch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quarry/data/dataset.hpp"
#include "quarry/nn/fidelity.hpp"
#include "quarry/nn/spec.hpp"
#include "quarry/objectives/objective.hpp"
#include "quarry/study/constraints.hpp"
#include "quarry/study/trial.hpp"

namespace quarry::nn {

struct TrainingOptions {
  std::string objective = "val_accuracy";  ///< the trial's value: this metric at its best epoch
  /// Every objective's metric in the study's order (see above); empty: just `objective`.
  std::vector<std::string> objectives;
  std::vector<study::Constraint> constraints;
  Fidelity fidelity = Fidelity::Epochs;  ///< what the budget buys (fidelity.hpp)
  double max_budget = 0;                 ///< the full budget (fidelities other than epochs)
  bool inherit_weights = false;          ///< start from a donor's weights by network morphism
  /// The study's trials (donors for inherit_weights and parents' budgets); empty: none.
  std::function<std::vector<study::Trial>()> trials;
  /// The compact architecture string of a trial's parameters (a `nas` space), recorded as attr
  /// "architecture"; empty: none.
  std::function<std::string(const Params&)> architecture;
  std::int64_t epochs = 10;  ///< when the trial has no budget of its own
  std::int64_t batch_size = 32;
  bool shuffle = true;
  std::optional<EarlyStoppingOptions> early_stopping;  ///< Keras' EarlyStopping (spec.hpp)
  std::filesystem::path checkpoints;  ///< folder of trial_<n>.pt; empty: no checkpoints
  std::uint64_t seed =
      0;  ///< initial weights, dropout and shuffling, derived per trial (trial_seed)
  /// Progress: called after every epoch of every trial (from the trial's thread).
  std::function<void(std::int64_t trial, std::int64_t epoch, std::int64_t epochs,
                     const std::map<std::string, double>& logs)>
      on_epoch;
};

/// Training and validation rows, loaded once and shared read-only by every trial of the process.
struct TrainingData {
  std::shared_ptr<const data::Dataset> train, validation;
};

/// What a spec is resolved for: the input's shape (lower resolutions change it) and the fraction
/// of the normal cells per stage (the cells fidelity).
struct SpecRequest {
  std::vector<std::int64_t> input_shape;
  double cells = 1;
};
using SpecResolver = std::function<ModelSpec(const Params&, const SpecRequest&)>;

/// The objective of a study whose model is a spec resolved from each trial's parameters (the YAML
/// `model` or `nas` section).
std::unique_ptr<objectives::Objective> make_spec_objective(SpecResolver resolve, TrainingData data,
                                                           TrainingOptions options);

/// The seed of trial `trial`'s network (initial weights, dropout masks) and shuffling order: the
/// same study seed and trial number give the same training, with one worker or several.
std::uint64_t trial_seed(const TrainingOptions& options, std::int64_t trial);

/// The file a trial's checkpoint is written to.
std::filesystem::path checkpoint_path(const std::filesystem::path& folder, std::int64_t trial);

/// The trial attribute holding the SHA-256 of its checkpoint as the trial left it (JSON string).
inline constexpr const char* kCheckpointSha256Attr = "checkpoint_sha256";

/// Why trial `trial`'s checkpoint at `path` cannot be trusted: it is missing, unreadable, or its
/// SHA-256 differs from the one recorded in the trial's `attrs`; nullopt when it can (a trial
/// recorded before checksums existed is only checked for the file).
std::optional<std::string> checkpoint_problem(std::int64_t trial,
                                              const std::map<std::string, std::string>& attrs,
                                              const std::filesystem::path& path);

/// The best configuration trained again from scratch for `epochs` epochs with `seeds` seeds at
/// once (one thread each: on a machine whose workers searched, the other seeds cost no extra
/// time), each evaluated on `test`. With `average`, the model is the ensemble of every seed that
/// trained: its prediction is the mean of theirs (predict_average) and `test` measures that
/// (complexity is one member's); without, it is the one seed with the lowest validation loss
/// after its last epoch (the training loss without validation rows; a loss that is not finite
/// never wins), chosen without looking at the test rows. That seed is always the first member.
/// The members' weights are saved (when `save_to` is not empty) to member_path(save_to, k). Seed
/// 0 is options.seed. A seed whose loss diverges (TrialFailed) is left out; when every one does,
/// the first failure is thrown; any other error of any seed is thrown.
struct FinalModel {
  std::map<std::string, double> last_epoch;  ///< the first member's: loss, accuracy, val_...
  std::map<std::string, double> test;        ///< loss, accuracy on the test rows (the model's)
  std::map<std::string, double> complexity;  ///< parameters, flops, latency_b1_ms, latency_b256_ms
  /// Every seed's test logs and last epoch's logs, in seed order (empty for a seed whose loss
  /// diverged).
  std::vector<std::map<std::string, double>> seed_tests, seed_last_epochs;
  /// The seeds whose predictions are averaged, the one with the lowest validation loss first (the
  /// only one without `average`).
  std::vector<std::size_t> members;
  std::vector<std::filesystem::path> saved;  ///< the members' weights files, in member order
};
FinalModel train_final(const ModelSpec& spec, const TrainingData& data, const data::Dataset& test,
                       std::int64_t epochs, const TrainingOptions& options,
                       const std::filesystem::path& save_to, int seeds = 1, bool average = true);

/// Where member k of a retrained ensemble is saved: `first` for k = 0, else the same name with
/// "_<k+1>" before its extension (best_model.pt, best_model_2.pt, best_model_3.pt...).
std::filesystem::path member_path(const std::filesystem::path& first, std::size_t k);

}  // namespace quarry::nn
