// `quarry search` on a study file with a `model:` section: load the data once, train each trial's
// model in this process (nn/training.hpp), and at the end retrain the best configuration for its
// best epoch count, measure it on the test set and save it with what rebuilds it
// (saved_model.hpp).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quarry/config/study_file.hpp"
#include "quarry/nn/training.hpp"
#include "quarry/objectives/objective.hpp"
#include "quarry/study/study.hpp"

namespace quarry::cli {

struct ModelStudy {
  config::ModelTemplate model;
  nn::TrainingData data;                      ///< training and validation rows
  std::shared_ptr<const data::Dataset> test;  ///< kept apart until the end
  nn::TrainingOptions options;
  std::filesystem::path directory;   ///< <directory>/<study>: checkpoints/, best_model.pt
  std::filesystem::path study_file;  ///< the study file (absolute)
  std::string study_text;            ///< its text when the data was loaded
  std::string target;                ///< CSV data: the column predicted; empty for IDX images
  /// CSV data: the standardisation fitted on the training part (applied to every part), and the
  /// test rows' indices among the file's rows (ascending). IDX data: none, empty.
  std::optional<data::Standardizer> scaler;
  std::vector<std::int64_t> test_rows;
  config::FitSection::Retrain retrain;  ///< the study file's fit.retrain
};

/// In the `quarry` command (built without LibTorch): replaces this process with `quarry-nn`, the
/// same command linked with the trainer, next to it, with the same arguments. In `quarry-nn`: does
/// nothing. When quarry-nn is missing: throws UsageError if `required`, else returns (the command
/// runs here, without what needs LibTorch).
void hand_over_to_trainer(int argc, char** argv, bool required = true);

/// Loads the data of a model study (one line on stdout unless quiet) and its training settings.
/// The datasets carry the data section's class_names. Throws InvalidArgument naming the file when
/// the data cannot be read or class_names does not name each of its classes.
ModelStudy load_model_study(const config::StudyFile& file, bool quiet);

/// The objective that trains one trial's model.
std::unique_ptr<objectives::Objective> model_objective(const ModelStudy& study);

/// Retrains the best trial's configuration from scratch for its best epoch count as fit.retrain
/// says (nn::train_final): `workers` seeds at once unless it names a number (the search's worker
/// count, so the other cores are not idle), on the training and validation rows unless
/// validation_rows is false, averaged unless average is false (else the one with the lowest
/// validation loss); evaluates it on the test rows, saves the weights to
/// <directory>/best_model.pt (and best_model_2.pt... for the other networks of an ensemble) and
/// their description to <directory>/best_model.json (saved_model.hpp), and reports them on `out`.
void finish_model_study(Study& study, const ModelStudy& model_study, std::ostream& out,
                        int workers = 1);

}  // namespace quarry::cli
