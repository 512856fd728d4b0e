#include "quarry/cli/model_study.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/data/csv.hpp"
#include "quarry/nn/metrics.hpp"
#include "quarry/report/export.hpp"

namespace quarry::cli {

namespace {

/// Training and test rows as the data section names them.
data::TrainTest load_rows(const config::DataSection& d) {
  if (d.format == config::DataSection::Format::Idx) return data::load_idx_folder(d.path.string());
  const data::Dataset all = data::read_csv(d.path.string(), {.target = d.target});
  auto parts = data::split(all, {.validation_fraction = d.test_split, .seed = d.seed + 1});
  const auto scaler = data::Standardizer::fit(parts.train);
  scaler.apply(parts.train);
  scaler.apply(parts.validation);
  return {std::move(parts.train), std::move(parts.validation)};
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
      std::cout << "  " << (trial >= 0 ? "trial " + std::to_string(trial) : std::string("best"))
                << " epoch " << epoch << "/" << epochs << ": " << format_logs(logs) << std::endl;
    };
  }
  return o;
}

}  // namespace

ModelStudy load_model_study(const config::StudyFile& file, bool quiet) {
  const auto& d = *file.data;
  data::TrainTest rows = load_rows(d);
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
          file.directory / file.study};
}

#ifdef QUARRY_WITH_TORCH

std::unique_ptr<objectives::Objective> model_objective(const ModelStudy& study) {
  return nn::make_spec_objective(
      [model = study.model](const Params& params, const nn::SpecRequest& request) {
        return config::resolve(model, params, request.input_shape, request.cells);
      },
      study.data, study.options);
}

void finish_model_study(Study& study, const ModelStudy& model_study, std::ostream& out) {
  const auto best = study.best_trial();
  if (!best) return;
  std::int64_t epochs = model_study.options.epochs;
  if (auto it = best->attrs.find("best_epoch"); it != best->attrs.end())
    epochs = nlohmann::json::parse(it->second).get<std::int64_t>();
  out << "\nretraining the best configuration (trial " << best->number << ") for " << epochs
      << " epoch(s)..." << std::endl;
  const auto path = model_study.directory / "best_model.pt";
  const auto final_model = [&] {
    try {
      return nn::train_final(
          config::resolve(model_study.model, best->params, model_study.data.train->shape),
          model_study.data, *model_study.test, epochs, model_study.options, path);
    } catch (const TrialFailed& e) {  // it diverged this time (a lucky run during the search)
      throw FatalTrialError("retraining the best configuration (trial " +
                            std::to_string(best->number) + ") failed: " + e.what() +
                            "; the search's trials are kept in the store");
    }
  }();
  if (model_study.model.nas)
    out << "architecture: " << config::architecture_string(model_study.model, best->params) << "\n";
  out << "test: " << format_logs(final_model.test) << "\n";
  out << "model: " << static_cast<long long>(final_model.complexity.at("parameters"))
      << " parameters, " << static_cast<long long>(final_model.complexity.at("flops"))
      << " FLOPs, latency " << report::format_number(final_model.complexity.at("latency_b1_ms"))
      << " ms (batch 1), " << report::format_number(final_model.complexity.at("latency_b256_ms"))
      << " ms (batch 256)\n";
  out << "saved: " << path.string() << std::endl;
}

void hand_over_to_trainer(int, char**, bool) {}  // this is quarry-nn: train here

#else

// The `quarry` command: model studies run in quarry-nn (see hand_over_to_trainer).
std::unique_ptr<objectives::Objective> model_objective(const ModelStudy&) {
  throw UsageError("model studies run in quarry-nn, the command built with LibTorch");
}

void finish_model_study(Study&, const ModelStudy&, std::ostream&) {}

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
  execv(trainer.c_str(), args.data());
  throw UsageError("cannot run " + trainer.string() + ": " + std::strerror(errno));
}

#endif

}  // namespace quarry::cli
