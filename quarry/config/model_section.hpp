// A model study's sections of the study file: `model` (layers, optimizer, loss, metrics), `data`
// and `fit`. docs/study-file.md is the schema; examples/fashion_mnist.yaml a worked example.
//
// Any number or name in `model.layers` and `model.optimizer` may be a search-space definition in
// the syntax of `space:` ({int: [16, 512], step: 16}, {choice: [1e-2, 1e-3]}...). Each becomes a
// parameter of StudyFile::space, named after its key ("units", "learning_rate", "dropout" for a
// dropout rate...) or by a `name:` inside the definition; an automatic name already taken becomes
// "units_2", "units_3"... The model is kept as a ModelTemplate: the spec with every searched value
// at its parameter's default, plus the slots where a trial's values go; resolve() fills them.
//
// Every field follows its rule in nn/spec_rules.hpp, the table the trainer checks too: a literal
// when it is read, every value a searched parameter can take when it is defined, a trial's values
// in resolve(). The rules between fields (SGD's nesterov needs momentum > 0; accuracy needs a loss
// that has one) are checked on the spec at the parameters' defaults when the file is read, and on
// each trial's spec in resolve().
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/nn/spec.hpp"
#include "quarry/space/value.hpp"

namespace quarry::config {

/// Where one searched value goes: a field of a layer or of the optimizer.
struct ModelSlot {
  std::optional<std::size_t> layer;  ///< index into ModelSpec::layers; nullopt: the optimizer
  std::string field;  ///< the file's key: "units", "strides", "learning_rate", "beta_1"...
  std::string param;  ///< the parameter in StudyFile::space that gives the value
  std::string key;    ///< where it is in the file, for messages: "model.layers[1].dense.units"
};

/// A `nas:` section: an architecture search space (quarry/nas/) whose parameters join the study's
/// space and whose layers replace `model.layers`: `nas: macro` or `nas: {micro: {cells: 2}}`.
struct NasSection {
  std::string space;                                  ///< "macro" or "micro"
  nlohmann::json options = nlohmann::json::object();  ///< nas::macro/micro_options_from_json
};

/// A `model:` section: the spec at the parameters' defaults, and the searched slots in file order.
/// With a `nas:` section the layers come from the architecture space instead (spec.layers empty).
struct ModelTemplate {
  nn::ModelSpec spec;
  std::vector<ModelSlot> slots;
  std::optional<NasSection> nas;
};

/// The spec for one trial: each slot takes its parameter's value from `params`; a parameter that
/// is absent (inactive under a `when`) keeps its default. Throws InvalidArgument naming the key,
/// the parameter and the rule when a value does not fit its field ("model.layers[1].dense.units:
/// expected an integer >= 1, got 0 (parameter 'units')") or the optimizer's values break a rule
/// between fields ("model.optimizer: nesterov needs momentum > 0, got momentum 0"); the rules are
/// nn/spec_rules.hpp's, the trainer's own. With a `nas:` section the layers are the
/// architecture's for inputs of `input_shape`, with `cells` times the normal cells per stage
/// (rounded, at least one; the "cells" fidelity of a micro space).
nn::ModelSpec resolve(const ModelTemplate& model, const space::Params& params,
                      const std::vector<std::int64_t>& input_shape = {}, double cells = 1);

/// The architecture's compact string (nas::macro_string / micro_string) for a trial's parameters;
/// "" without a `nas:` section.
std::string architecture_string(const ModelTemplate& model, const space::Params& params);

/// A `data:` section. Paths are absolute (relative ones resolve against the file's folder).
struct DataSection {
  enum class Format { Idx, Csv };
  Format format = Format::Idx;
  /// idx: the folder of the four IDX files (`idx: fashion-mnist` names
  /// data::kFashionMnistFolder); csv: the file.
  std::filesystem::path path;
  std::string target;                    ///< csv: the column to predict (required)
  double validation_split = 0.2;         ///< in (0, 1): the part of the training rows held out
  double test_split = 0.2;               ///< csv only, in (0, 1); idx data has its own test files
  std::uint64_t seed = 0;                ///< default: the study's seed
  std::optional<std::int64_t> max_rows;  ///< use only the first N training rows
  /// idx: the name of each class, by label (`class_names:`, distinct, not empty); default for
  /// `idx: fashion-mnist` data::kFashionMnistClasses, else none (labels are their own names).
  std::vector<std::string> class_names;
};

/// A `fit:` section (nn::FitOptions).
struct FitSection {
  std::int64_t epochs = 10;      ///< > 0
  std::int64_t batch_size = 32;  ///< > 0
  bool shuffle = true;
  /// `fit.early_stopping`: Keras' EarlyStopping, none unless given. Its monitor is one of
  /// nn::training_metrics(); the other fields follow nn::early_stopping_fields().
  std::optional<nn::EarlyStoppingOptions> early_stopping;
  /// What a multi-fidelity scheduler's budget buys (nn::Fidelity): epochs (default), rows,
  /// resolution, filters or cells; the last four read budget / max_budget as a fraction.
  std::string fidelity = "epochs";
  /// The budget of the full model and data: default the scheduler's max_epochs / max_budget.
  std::optional<double> max_budget;
  /// Start a new trial from the best finished trial whose network morphs into it (nn::morphism).
  bool inherit_weights = false;
  /// `fit.retrain`: how the best configuration is trained again once the search is done.
  struct Retrain {
    std::optional<std::int64_t> seeds;  ///< networks trained at once; default: the workers
    bool average = true;  ///< the model averages them; false: keeps the lowest validation loss
    bool validation_rows = true;  ///< they train on the validation rows too
  } retrain;
};

}  // namespace quarry::config
