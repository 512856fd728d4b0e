// What a model study writes next to its retrained best: <dir>/best_model.json beside the weights
// in <dir>/best_model.pt, so that the network can be rebuilt and fed without the study's store
// (`quarry analyze DIR/best_model.pt DATA`). No LibTorch here.
//
// The file is one JSON object:
//   {"format": "quarry-saved-model", "version": 1, "weights": "best_model.pt",
//    "weights_sha256": "<the weights file's SHA-256 when saved>",
//    "study": "intro_to_kt", "study_file": "/abs/fashion_mnist.yaml", "study_text": "<its YAML>",
//    "trial": 7, "params": {"units": 128, "learning_rate": 0.001}, "input_shape": [1, 28, 28],
//    "task": "multiclass", "classes": ["T-shirt/top", ...],
//    "data": {"format": "idx"}  or  {"format": "csv", "target": "species",
//             "features": ["bill_length_mm", "island=Biscoe", ...], "mean": [...], "stddev":
//             [...]}}
// A retrain of several seeds averaged (nn::train_final) adds the ensemble, every member's weights
// file (in the description's folder, the first one "weights") and its SHA-256, and is version 2:
//    "ensemble": [{"weights": "best_model.pt", "sha256": "..."},
//                 {"weights": "best_model_2.pt", "sha256": "..."}]
// The model's prediction is then the mean of the members' predicted probabilities.
// The network is the study text's model section resolved with the trial's params for inputs of
// input_shape (config::resolve); "classes" are the outputs' classes in order (empty: regression);
// a CSV model's features are standardised with mean / stddev before they reach the network.
// Weights whose SHA-256 differs from "weights_sha256" are refused (check_weights); a description
// without it (written before checksums) is trusted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "quarry/automl/task.hpp"
#include "quarry/config/study_file.hpp"
#include "quarry/nn/spec.hpp"
#include "quarry/space/value.hpp"

namespace quarry::cli {

struct SavedModel {
  std::string study;                      ///< the study's name
  std::filesystem::path study_file;       ///< the study file the search ran (absolute)
  std::string study_text;                 ///< its text when the search ran
  std::int64_t trial = -1;                ///< the best trial, retrained
  space::Params params;                   ///< its hyperparameters
  std::vector<std::int64_t> input_shape;  ///< of one example
  automl::TaskType task = automl::TaskType::Multiclass;
  std::vector<std::string> classes;  ///< classifiers: class names by output; empty: regression
  // CSV data (target not empty): how a table's rows become the network's inputs.
  std::string target;                      ///< the column predicted; empty: IDX images
  std::vector<std::string> feature_names;  ///< data::read_csv's, in input order
  std::vector<float> mean, stddev;         ///< the training rows' standardisation
  std::string weights_sha256;              ///< of the weights file when saved; empty: unknown
  /// One network of an ensemble: its weights file's name (in the description's folder) and its
  /// SHA-256.
  struct Member {
    std::string weights, sha256;
    bool operator==(const Member&) const = default;
  };
  /// The networks whose predictions are averaged, the first the weights file itself; empty: that
  /// file alone.
  std::vector<Member> ensemble;
};

/// The weights files of `model` described at `description`: the ensemble's, else `weights`.
std::vector<std::filesystem::path> member_weights(const SavedModel& model,
                                                  const std::filesystem::path& weights);

/// The description of the weights file `weights`: the same path ending in .json.
std::filesystem::path description_path(const std::filesystem::path& weights);

/// Writes `model` to `path` as above (durably: a temporary file synced and renamed over it).
/// Throws StoreFailure naming the file when it cannot be written.
void write_saved_model(const SavedModel& model, const std::filesystem::path& path);

/// Reads what write_saved_model wrote. Throws InvalidArgument, one line naming the file, when it
/// is missing ("... does not exist: a model study writes it next to best_model.pt"), is not JSON,
/// or is not such a description (wrong format tag or version, a field missing or of the wrong
/// type).
SavedModel read_saved_model(const std::filesystem::path& path);

/// Throws InvalidArgument naming the file when the SHA-256 of `weights`, or of any other member of
/// the ensemble beside it, is not the one `model` recorded, or a member is missing.
void check_weights(const SavedModel& model, const std::filesystem::path& weights);

/// The study file the description holds, parsed as it was when the search ran (its relative paths
/// anchored at its original folder). Throws InvalidArgument naming `path` (the description) when
/// the text no longer parses or has no model section.
config::StudyFile saved_study_file(const SavedModel& model, const std::filesystem::path& path);

/// The network's spec: the saved study's model section resolved with the trial's params.
nn::ModelSpec saved_spec(const SavedModel& model, const config::StudyFile& file,
                         const std::filesystem::path& path);

}  // namespace quarry::cli
