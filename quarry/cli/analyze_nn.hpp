// `quarry analyze` on a model a model study saved (its retrained best): the predictions come from
// the trainer, so this runs in quarry-nn (the command linked with LibTorch), to which `quarry`
// hands such an analysis over. Everything after the predictions is quarry/analysis/.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "quarry/analysis/analysis.hpp"
#include "quarry/data/table.hpp"

namespace quarry::cli {

/// The predictions to analyse and the rows they were made on.
struct AnalysisInput {
  analysis::Predictions predictions;
  /// The columns slices are taken from. Image models: one Categorical column "label" holding
  /// each row's true class name (so `--slice label` gives the per-class view).
  data::Table table;
  std::string model;  ///< what was analysed, for reports (a path)
  std::string data;   ///< the rows' source, for reports
  /// When MODEL was a study file: it (the verdict is stored with its study).
  std::optional<std::filesystem::path> study_file;
};

/// True when `model` names something only quarry-nn can analyse: a saved network (.pt), or a study
/// file (.yaml / .yml) without an `automl:` section (a model study's retrained best).
bool needs_trainer(const std::string& model);

/// quarry-nn: the predictions of a model study's retrained best.
///  - `model` a study file: its best_model.pt on DATA, or on the study's own test rows when `data`
///    is empty;
///  - `model` a best_model.pt written by a model study (with what rebuilds its network next to
///    it): on DATA (IDX images as the study's data section names them, or CSV).
/// Throws InvalidArgument (one line, naming the file) when the model or data cannot be read or do
/// not match (input shape, number of classes). In `quarry` (no LibTorch) throws UsageError.
AnalysisInput nn_analysis_input(const std::string& model, const std::optional<std::string>& data);

}  // namespace quarry::cli
