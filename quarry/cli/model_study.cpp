#include "quarry/cli/model_study.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "quarry/cli/saved_model.hpp"
#include "quarry/core/cpu.hpp"
#include "quarry/core/error.hpp"
#include "quarry/core/sha256.hpp"
#include "quarry/data/csv.hpp"
#include "quarry/nn/metrics.hpp"
#include "quarry/report/export.hpp"

namespace quarry::cli {

namespace {

/// Training and test rows as the data section names them; CSV data: with its standardisation and
/// the test rows' indices.
struct Rows {
  data::TrainTest parts;
  std::optional<data::Standardizer> scaler;
  std::vector<std::int64_t> test_rows;
};

Rows load_rows(const config::DataSection& d, const std::filesystem::path& file) {
  if (d.format == config::DataSection::Format::Idx) {
    Rows rows{data::load_idx_folder(d.path.string()), std::nullopt, {}};
    if (!d.class_names.empty()) {
      const auto classes = static_cast<std::int64_t>(d.class_names.size());
      if (classes != rows.parts.train.num_classes)
        throw InvalidArgument(file.string() + ": data.class_names names " +
                              std::to_string(classes) + " classes, but " + d.path.string() +
                              " holds " + std::to_string(rows.parts.train.num_classes));
      rows.parts.train.class_names = rows.parts.test.class_names = d.class_names;
    }
    return rows;
  }
  const data::Dataset all = data::read_csv(d.path.string(), {.target = d.target});
  const data::SplitOptions test_split{.validation_fraction = d.test_split, .seed = d.seed + 1};
  auto parts = data::split(all, test_split);
  const auto scaler = data::Standardizer::fit(parts.train);
  scaler.apply(parts.train);
  scaler.apply(parts.validation);
  return {{std::move(parts.train), std::move(parts.validation)},
          scaler,
          data::validation_indices(all, test_split)};
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string format_logs(const std::map<std::string, double>& logs) {
  std::string out;
  for (const std::string& key : nn::training_metrics()) {
    const auto it = logs.find(key);
    if (it == logs.end()) continue;
    out += (out.empty() ? "" : " ") + key + " " + report::format_number(it->second);
  }
  return out;
}

nn::TrainingOptions training_options(const config::StudyFile& file, bool quiet) {
  const auto& fit = *file.fit;
  nn::TrainingOptions o{.objective = file.objectives.front().name,
                        .constraints = file.constraints,
                        .fidelity = nn::fidelity_from_string(fit.fidelity),
                        .max_budget = fit.max_budget.value_or(0),
                        .inherit_weights = fit.inherit_weights,
                        .epochs = fit.epochs,
                        .batch_size = fit.batch_size,
                        .shuffle = fit.shuffle,
                        .early_stopping = fit.early_stopping,
                        .checkpoints = file.directory / file.study / "checkpoints",
                        .seed = file.seed};
  if (file.objectives.size() > 1)
    for (const auto& m : file.objectives) o.objectives.push_back(m.name);
  if (file.model->nas)
    o.architecture = [model = *file.model](const Params& params) {
      return config::architecture_string(model, params);
    };
  if (!quiet) {
    auto lock = std::make_shared<std::mutex>();
    o.on_epoch = [lock](std::int64_t trial, std::int64_t epoch, std::int64_t epochs,
                        const std::map<std::string, double>& logs) {
      std::lock_guard guard(*lock);
      // The retrain: trial -1 is its first seed, -2 its second...
      const std::string who = trial >= 0    ? "trial " + std::to_string(trial)
                              : trial == -1 ? std::string("best")
                                            : "best, seed " + std::to_string(-trial);
      std::cout << "  " << who << " epoch " << epoch << "/" << epochs << ": " << format_logs(logs)
                << std::endl;
    };
  }
  return o;
}

}  // namespace

ModelStudy load_model_study(const config::StudyFile& file, bool quiet) {
  const auto& d = *file.data;
  Rows loaded = load_rows(d, file.path);
  data::TrainTest& rows = loaded.parts;
  if (d.max_rows) rows.train = rows.train.head(*d.max_rows);
  auto parts = data::split(rows.train, {.validation_fraction = d.validation_split, .seed = d.seed});
  if (!quiet)
    std::cout << "data: " << d.path.string() << ": " << parts.train.rows() << " training, "
              << parts.validation.rows() << " validation, " << rows.test.rows() << " test rows"
              << std::endl;
  return {*file.model,
          {std::make_shared<const data::Dataset>(std::move(parts.train)),
           std::make_shared<const data::Dataset>(std::move(parts.validation))},
          std::make_shared<const data::Dataset>(std::move(rows.test)),
          training_options(file, quiet),
          file.directory / file.study,
          file.path,
          read_file(file.path),
          d.format == config::DataSection::Format::Csv ? d.target : "",
          loaded.scaler,
          std::move(loaded.test_rows),
          file.fit->retrain};
}

#ifdef QUARRY_WITH_TORCH

namespace {

/// What rebuilds the best trial's network (saved_model.hpp).
SavedModel describe_best(const ModelStudy& model_study, const Trial& best) {
  const data::Dataset& train = *model_study.data.train;
  SavedModel m{.study = model_study.directory.filename().string(),
               .study_file = model_study.study_file,
               .study_text = model_study.study_text,
               .trial = best.number,
               .params = best.params,
               .input_shape = train.shape};
  if (model_study.model.spec.loss == nn::Loss::MeanSquaredError) {
    m.task = automl::TaskType::Regression;
  } else {
    m.classes = train.class_names;
    for (auto c = static_cast<std::int64_t>(m.classes.size()); c < train.num_classes; ++c)
      m.classes.push_back(std::to_string(c));
    m.task = m.classes.size() == 2 ? automl::TaskType::Binary : automl::TaskType::Multiclass;
  }
  if (model_study.scaler) {
    m.target = model_study.target;
    m.feature_names = train.feature_names;
    m.mean = model_study.scaler->mean;
    m.stddev = model_study.scaler->stddev;
  }
  return m;
}

/// The retrain's seeds side by side: "seeds: accuracy 0.8821, 0.8853 (mean 0.8837, spread
/// 0.0032); the model averages them" (the loss for regressions; a failed seed: "failed"), or, when
/// one seed is kept, "...; kept seed 2, the lowest val_loss".
std::string seeds_line(const nn::FinalModel& final_model) {
  const std::string metric = final_model.test.contains("accuracy") ? "accuracy" : "loss";
  std::string values;
  double sum = 0, low = std::numeric_limits<double>::infinity(), high = -low;
  int count = 0;
  for (const auto& logs : final_model.seed_tests) {
    values += values.empty() ? "" : ", ";
    const auto it = logs.find(metric);
    if (it == logs.end()) {
      values += "failed";
      continue;
    }
    values += report::format_number(it->second);
    sum += it->second, low = std::min(low, it->second), high = std::max(high, it->second), ++count;
  }
  const std::string line = "seeds: " + metric + " " + values + " (mean " +
                           report::format_number(sum / count) + ", spread " +
                           report::format_number(high - low) + "); ";
  if (final_model.members.size() > 1)
    return line + "the model averages " +
           (count == static_cast<int>(final_model.seed_tests.size()) ? "them"
                                                                     : "those that trained");
  return line + "kept seed " + std::to_string(final_model.members.front() + 1) + ", the lowest " +
         (final_model.last_epoch.contains("val_loss") ? "val_loss" : "loss");
}

}  // namespace

std::unique_ptr<objectives::Objective> model_objective(const ModelStudy& study) {
  return nn::make_spec_objective(
      [model = study.model](const Params& params, const nn::SpecRequest& request) {
        return config::resolve(model, params, request.input_shape, request.cells);
      },
      study.data, study.options);
}

void finish_model_study(Study& study, const ModelStudy& model_study, std::ostream& out,
                        int workers) {
  const auto best = study.best_trial();
  if (!best) return;
  std::int64_t epochs = model_study.options.epochs;
  if (auto it = best->attrs.find("best_epoch"); it != best->attrs.end())
    epochs = nlohmann::json::parse(it->second).get<std::int64_t>();
  const auto& retrain = model_study.retrain;
  const int seeds = static_cast<int>(retrain.seeds.value_or(workers));
  nn::TrainingData rows = model_study.data;
  const bool with_validation = retrain.validation_rows && rows.validation;
  if (with_validation)
    rows = {std::make_shared<const data::Dataset>(data::concat(*rows.train, *rows.validation)),
            nullptr};
  out << "\nretraining the best configuration (trial " << best->number << ") for " << epochs
      << " epoch(s)"
      << (seeds > 1 ? " with " + std::to_string(seeds) + " seeds at once" +
                          (retrain.seeds ? "" : " (one per worker)")
                    : "")
      << (with_validation ? " on the training and validation rows" : "") << "..." << std::endl;
  const auto path = model_study.directory / "best_model.pt";
  const auto final_model = [&] {
    try {
      return nn::train_final(
          config::resolve(model_study.model, best->params, model_study.data.train->shape), rows,
          *model_study.test, epochs, model_study.options, path, seeds, retrain.average);
    } catch (const TrialFailed& e) {  // it diverged this time (a lucky run during the search)
      throw FatalTrialError("retraining the best configuration (trial " +
                            std::to_string(best->number) + ") failed: " + e.what() +
                            "; the search's trials are kept in the store");
    }
  }();
  if (model_study.model.nas)
    out << "architecture: " << config::architecture_string(model_study.model, best->params) << "\n";
  // An earlier retrain's networks beyond this one's are not the model any more.
  for (std::size_t k = std::max<std::size_t>(final_model.saved.size(), 1);
       std::filesystem::exists(nn::member_path(path, k)); ++k)
    std::filesystem::remove(nn::member_path(path, k));
  const std::size_t members = final_model.members.size();
  out << "test: " << format_logs(final_model.test)
      << (members > 1 ? " (" + std::to_string(members) + " seeds averaged)" : "") << "\n";
  if (final_model.seed_tests.size() > 1) out << seeds_line(final_model) << "\n";
  out << "model: "
      << (members > 1 ? std::to_string(members) + " networks averaged, each " : std::string())
      << static_cast<long long>(final_model.complexity.at("parameters")) << " parameters, "
      << static_cast<long long>(final_model.complexity.at("flops")) << " FLOPs, latency "
      << report::format_number(final_model.complexity.at("latency_b1_ms")) << " ms (batch 1), "
      << report::format_number(final_model.complexity.at("latency_b256_ms")) << " ms (batch 256)\n";
  const auto description = description_path(path);
  SavedModel saved = describe_best(model_study, *best);
  saved.weights_sha256 = sha256_file(path);
  nlohmann::json record = {
      {"trial", best->number}, {"path", path.string()}, {"sha256", saved.weights_sha256}};
  if (members > 1) {
    for (const auto& file : final_model.saved) {
      saved.ensemble.push_back(
          {file.filename().string(), file == path ? saved.weights_sha256 : sha256_file(file)});
      record["ensemble"].push_back(
          {{"path", file.string()}, {"sha256", saved.ensemble.back().sha256}});
    }
  }
  write_saved_model(saved, description);
  study.storage().set_attr(study.id(), "saved_model", record.dump());
  out << "saved: " << path.string()
      << (members > 1 ? " and " + std::to_string(members - 1) + " more network(s) beside it" : "")
      << " (weights) and " << description.filename().string() << " (what rebuilds the "
      << (members > 1 ? "networks" : "network") << ")" << std::endl;
}

void hand_over_to_trainer(int, char**, bool) {}  // this is quarry-nn: train here

#else

// The `quarry` command: model studies run in quarry-nn (see hand_over_to_trainer).
std::unique_ptr<objectives::Objective> model_objective(const ModelStudy&) {
  throw UsageError("model studies run in quarry-nn, the command built with LibTorch");
}

void finish_model_study(Study&, const ModelStudy&, std::ostream&, int) {}

void hand_over_to_trainer(int argc, char** argv, bool required) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto trainer = self.parent_path() / "quarry-nn";
  if ((ec || !std::filesystem::exists(trainer)) && !required) return;
  if (ec || !std::filesystem::exists(trainer))
    throw UsageError("model studies need quarry-nn (the trainer, built with LibTorch) next to " +
                     (ec ? std::string("quarry") : self.string()) +
                     "; this quarry was built without it (QUARRY_TORCH=OFF)");
  std::vector<char*> args(argv, argv + argc);
  args[0] = const_cast<char*>(trainer.c_str());
  args.push_back(nullptr);
  use_best_blas_kernels(nullptr);  // OPENBLAS_CORETYPE for quarry-nn, unless the user set it
  execv(trainer.c_str(), args.data());
  throw UsageError("cannot run " + trainer.string() + ": " + std::strerror(errno));
}

#endif

}  // namespace quarry::cli
