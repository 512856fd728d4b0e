// The MLP family (mlp.hpp) on the LibTorch trainer: its space, the network (seeded He / Glorot
// uniform weights, zero biases, seeded dropout masks), fit with the internal validation split and
// the deadline, prediction, and the saved files.
#include "quarry/automl/mlp.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/automl/family_support.hpp"
#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/data/dataset.hpp"
#include "quarry/nn/blocks.hpp"
#include "quarry/nn/fit.hpp"
#include "quarry/nn/model.hpp"

namespace quarry::automl {
namespace {

using space::Param;

constexpr double kValidationFraction = 0.1;
constexpr std::int64_t kPredictChunk = 4096;  ///< rows per forward pass in predict

/// One trial's hyperparameters; the defaults are the cheap first try.
struct MlpParams {
  std::int64_t hidden_layers = 1;
  std::int64_t units = 32;
  double dropout = 0;
  double learning_rate = 3e-3;
  double weight_decay = 1e-4;
  std::int64_t batch_size = 64;
  std::int64_t epochs = 10;
};

space::Params to_params(const MlpParams& p) {
  return {{"mlp.hidden_layers", p.hidden_layers},
          {"mlp.units", p.units},
          {"mlp.dropout", p.dropout},
          {"mlp.learning_rate", p.learning_rate},
          {"mlp.weight_decay", p.weight_decay},
          {"mlp.batch_size", p.batch_size},
          {"mlp.epochs", p.epochs}};
}

std::vector<Param> mlp_params() {
  const MlpParams cheap;
  return {
      Param::Int("mlp.hidden_layers", 1, 3, {.default_value = cheap.hidden_layers}),
      Param::Int("mlp.units", 16, 512, {.log = true, .default_value = cheap.units}),
      Param::Float("mlp.dropout", 0, 0.5, {.default_value = cheap.dropout}),
      Param::Float("mlp.learning_rate", 1e-4, 1e-1,
                   {.log = true, .default_value = cheap.learning_rate}),
      Param::Float("mlp.weight_decay", 1e-6, 1e-2,
                   {.log = true, .default_value = cheap.weight_decay}),
      Param::Choice("mlp.batch_size",
                    {Value(std::int64_t{32}), Value(std::int64_t{64}), Value(std::int64_t{128}),
                     Value(std::int64_t{256})},
                    {.default_value = Value(cheap.batch_size)}),
      Param::Int("mlp.epochs", 10, 200, {.log = true, .default_value = cheap.epochs}),
  };
}

/// This family's parameters from `params` (others, e.g. "family", are ignored; a missing one takes
/// its cheap value). Throws InvalidArgument for an unknown "mlp.*" name or a value out of range.
MlpParams read_params(const space::Params& params) {
  const std::vector<Param> space = mlp_params();
  MlpParams p;
  for (const auto& [name, given] : params) {
    if (name.rfind("mlp.", 0) != 0) continue;
    const auto it = std::find_if(space.begin(), space.end(),
                                 [&](const Param& param) { return param.name() == name; });
    if (it == space.end()) {
      std::string names;
      for (const auto& param : space) names += (names.empty() ? "" : ", ") + param.name();
      throw InvalidArgument("mlp: unknown parameter '" + name + "' (parameters: " + names + ")");
    }
    const double v = space::to_double(it->normalize(given));
    const auto integer = static_cast<std::int64_t>(std::llround(v));
    if (name == "mlp.hidden_layers") p.hidden_layers = integer;
    if (name == "mlp.units") p.units = integer;
    if (name == "mlp.dropout") p.dropout = v;
    if (name == "mlp.learning_rate") p.learning_rate = v;
    if (name == "mlp.weight_decay") p.weight_decay = v;
    if (name == "mlp.batch_size") p.batch_size = integer;
    if (name == "mlp.epochs") p.epochs = integer;
  }
  return p;
}

/// Linear layers of sizes layers[0] -> layers[1] -> ... -> layers.back(), each hidden one followed
/// by ReLU and dropout. Hidden weights He-uniform (bound sqrt(6 / fan_in)), the output layer's
/// Glorot-uniform (sqrt(6 / (fan_in + fan_out))), biases 0; all drawn from `seed`.
torch::nn::Sequential build_net(const std::vector<std::int64_t>& layers, double dropout,
                                std::uint64_t seed) {
  torch::nn::Sequential net;
  at::Generator generator =
      at::make_generator<at::CPUGeneratorImpl>(Rng::stream(seed, {hash_name("mlp.init")}).next());
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i + 1 < layers.size(); ++i) {
    const bool hidden = i + 2 < layers.size();
    const auto fan_in = static_cast<double>(layers[i]),
               fan_out = static_cast<double>(layers[i + 1]);
    torch::nn::Linear linear(layers[i], layers[i + 1]);
    const double bound = hidden ? std::sqrt(6 / fan_in) : std::sqrt(6 / (fan_in + fan_out));
    linear->weight.uniform_(-bound, bound, generator);
    linear->bias.zero_();
    net->push_back(linear);
    if (hidden) {
      net->push_back(torch::nn::ReLU());
      net->push_back(nn::SeededDropout(
          dropout, Rng::stream(seed, {hash_name("mlp.dropout"), std::uint64_t{i}}).next()));
    }
  }
  return net;
}

std::unique_ptr<nn::Model> make_model(const std::vector<std::int64_t>& layers, TaskType task,
                                      const MlpParams& p, std::uint64_t seed) {
  nn::Compiled compiled{.net = build_net(layers, p.dropout, seed),
                        .optimizer = nn::AdamW(p.learning_rate, p.weight_decay),
                        .loss = task == TaskType::Regression
                                    ? nn::Loss::MeanSquaredError
                                    : nn::Loss::SparseCategoricalCrossentropy,
                        .metrics = {}};
  return std::make_unique<nn::Model>(std::move(compiled), std::vector<std::int64_t>{layers[0]});
}

/// Throws InvalidArgument at the first value that is not finite (missing values are imputed before
/// a model sees them).
void check_finite(const Matrix& x, const std::string& who) {
  if (static_cast<std::int64_t>(x.values.size()) != x.rows * x.cols)
    throw InvalidArgument(who + ": the matrix holds " + std::to_string(x.values.size()) +
                          " values for " + std::to_string(x.rows) + " x " + std::to_string(x.cols));
  for (std::int64_t r = 0; r < x.rows; ++r)
    for (std::int64_t c = 0; c < x.cols; ++c)
      if (!std::isfinite(x.at(r, c)))
        throw InvalidArgument(who + ": row " + std::to_string(r) + ", feature " +
                              std::to_string(c) + " is " +
                              (std::isnan(x.at(r, c)) ? "missing (NaN)" : "infinite") +
                              "; the MLP needs imputed, finite inputs");
}

/// The outputs for `y`: one per class (at least 2), or 1 for regression. Throws InvalidArgument
/// for a target that is not a class index (or a finite value).
std::int64_t output_count(TaskType task, const std::vector<double>& y, std::int64_t num_classes) {
  if (task == TaskType::Regression) {
    for (std::size_t i = 0; i < y.size(); ++i)
      if (!std::isfinite(y[i]))
        throw InvalidArgument("mlp fit: the target of row " + std::to_string(i) + " is " +
                              std::to_string(y[i]) + ", not a finite value");
    return 1;
  }
  double top = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (!(y[i] >= 0) || y[i] != std::floor(y[i]))
      throw InvalidArgument("mlp fit: the target of row " + std::to_string(i) + " is " +
                            std::to_string(y[i]) + ", not a class index");
    top = std::max(top, y[i]);
  }
  const std::int64_t classes = num_classes > 0 ? num_classes : static_cast<std::int64_t>(top) + 1;
  if (top >= static_cast<double>(classes))
    throw InvalidArgument("mlp fit: class index " + std::to_string(static_cast<std::int64_t>(top)) +
                          " for num_classes " + std::to_string(classes));
  return std::max<std::int64_t>(classes, 2);
}

class MlpEstimator final : public Estimator {
 public:
  MlpEstimator(MlpParams params, TaskType task) : params_(params), task_(task) {}

  void fit(const Matrix& x, const std::vector<double>& y, const FitOptions& options) override;
  Matrix predict(const Matrix& x) const override;
  nlohmann::json save(const std::filesystem::path& dir, const std::string& stem) const override;
  static std::unique_ptr<Estimator> load(const nlohmann::json& saved,
                                         const std::filesystem::path& dir);

 private:
  /// x standardised with the training means and deviations, row-major.
  std::vector<float> standardized(const Matrix& x) const;
  void fit_scalers(const Matrix& x, const std::vector<double>& y);

  MlpParams params_;
  TaskType task_;
  std::vector<std::int64_t> layers_;  ///< input, hidden..., outputs
  std::vector<float> x_mean_, x_std_;
  double y_mean_ = 0, y_std_ = 1;
  std::int64_t epochs_ = 0, epochs_run_ = 0, best_epoch_ = 0;
  std::unique_ptr<nn::Model> model_;
};

void MlpEstimator::fit_scalers(const Matrix& x, const std::vector<double>& y) {
  const auto n = static_cast<double>(x.rows);
  const detail::Standardizer s = detail::Standardizer::fit(x);
  x_mean_.assign(s.mean.begin(), s.mean.end());
  x_std_.assign(s.scale.begin(), s.scale.end());
  y_mean_ = 0;
  y_std_ = 1;
  if (task_ != TaskType::Regression) return;
  double total = 0, total_squares = 0;
  for (double v : y) total += v;
  y_mean_ = total / n;
  for (double v : y) total_squares += (v - y_mean_) * (v - y_mean_);
  const double sd = std::sqrt(total_squares / n);
  y_std_ = sd > 0 && std::isfinite(sd) ? sd : 1.0;
}

std::vector<float> MlpEstimator::standardized(const Matrix& x) const {
  std::vector<float> out(x.values.size());
  for (std::int64_t r = 0; r < x.rows; ++r)
    for (std::int64_t c = 0; c < x.cols; ++c) {
      const auto j = static_cast<std::size_t>(c);
      out[static_cast<std::size_t>(r * x.cols + c)] = (x.at(r, c) - x_mean_[j]) / x_std_[j];
    }
  return out;
}

void MlpEstimator::fit(const Matrix& x, const std::vector<double>& y, const FitOptions& options) {
  nn::pin_math_threads();
  if (!(options.budget_fraction > 0 && options.budget_fraction <= 1))
    throw InvalidArgument("mlp fit: budget_fraction must be in (0, 1], got " +
                          std::to_string(options.budget_fraction));
  if (x.rows < 1 || x.cols < 1)
    throw InvalidArgument("mlp fit: needs at least one row and one feature, got " +
                          std::to_string(x.rows) + " x " + std::to_string(x.cols));
  if (static_cast<std::int64_t>(y.size()) != x.rows)
    throw InvalidArgument("mlp fit: " + std::to_string(y.size()) + " targets for " +
                          std::to_string(x.rows) + " rows");
  check_finite(x, "mlp fit");
  const std::int64_t outputs = output_count(task_, y, options.num_classes);
  model_.reset();
  fit_scalers(x, y);

  data::Dataset all;
  all.shape = {x.cols};
  all.x = standardized(x);
  all.y.reserve(y.size());
  for (double v : y) all.y.push_back(static_cast<float>((v - y_mean_) / y_std_));
  all.num_classes = task_ == TaskType::Regression ? 0 : outputs;
  all.source = "mlp training rows";

  layers_ = {x.cols};
  for (std::int64_t i = 0; i < params_.hidden_layers; ++i) layers_.push_back(params_.units);
  layers_.push_back(outputs);
  std::unique_ptr<nn::Model> model = make_model(layers_, task_, params_, options.seed);
  epochs_ = std::max<std::int64_t>(
      1, std::llround(static_cast<double>(params_.epochs) * options.budget_fraction));

  // The internal validation split, when it would hold enough rows; its best epoch is kept.
  std::optional<data::Split> parts;
  if (std::llround(kValidationFraction * static_cast<double>(x.rows)) >= kMlpMinValidationRows)
    parts = data::split(all, {.validation_fraction = kValidationFraction,
                              .seed = Rng::stream(options.seed, {hash_name("mlp.split")}).next(),
                              .stratify = task_ != TaskType::Regression});
  std::shared_ptr<nn::EarlyStopping> early;
  if (parts)
    early =
        std::make_shared<nn::EarlyStopping>(nn::EarlyStoppingOptions{.monitor = "val_loss",
                                                                     .mode = "min",
                                                                     .patience = kMlpPatience,
                                                                     .restore_best_weights = true});

  const auto past_deadline = [&] {
    return options.deadline > 0 && detail::steady_seconds() >= options.deadline;
  };
  std::vector<nn::Logs> epochs;
  nn::FitOptions fit_options{
      .epochs = epochs_,
      .batch_size = params_.batch_size,
      .shuffle = true,
      .seed = Rng::stream(options.seed, {hash_name("mlp.shuffle")}).next(),
      .validation_data = parts ? &parts->validation : nullptr,
      .callbacks = {},
      .on_epoch = [&](std::int64_t, const nn::Logs& logs) { epochs.push_back(logs); },
      // Past the deadline: stop at the next batch once one epoch is done.
      .interrupted = [&] { return !epochs.empty() && past_deadline(); }};
  if (early) fit_options.callbacks.push_back(early);
  try {
    nn::fit(*model, parts ? parts->train : all, fit_options);
  } catch (const TrialInterrupted&) {
    if (early) {  // put the best epoch's weights back, as a finished fit does
      nn::FitState state{.model = *model};
      early->on_train_end(state);
    }
  } catch (const TrialFailed& e) {
    throw Error("mlp: training diverged (" + std::string(e.what()) + ", learning_rate " +
                space::to_string(Value(params_.learning_rate)) + ")");
  }
  epochs_run_ = static_cast<std::int64_t>(epochs.size());
  nn::History history;
  history.epochs = std::move(epochs);
  const auto best = parts ? history.best("val_loss", "min") : std::nullopt;
  best_epoch_ = best ? static_cast<std::int64_t>(*best) + 1 : epochs_run_;
  model->net()->eval();
  model_ = std::move(model);
}

Matrix MlpEstimator::predict(const Matrix& x) const {
  if (!model_) throw Error("mlp: predict called on a model that was not fitted");
  if (x.cols != layers_.front())
    throw InvalidArgument("mlp predict: " + std::to_string(x.cols) +
                          " features, the model was trained on " + std::to_string(layers_.front()));
  check_finite(x, "mlp predict");
  nn::pin_math_threads();
  const std::int64_t outputs = layers_.back();
  std::vector<float> input = standardized(x);
  Matrix out(x.rows, outputs);
  torch::NoGradGuard no_grad;
  for (std::int64_t start = 0; start < x.rows; start += kPredictChunk) {
    const std::int64_t count = std::min(kPredictChunk, x.rows - start);
    const torch::Tensor batch =
        torch::from_blob(input.data() + start * x.cols, {count, x.cols}, torch::kFloat32);
    torch::Tensor result = model_->net()->forward(batch);
    if (task_ != TaskType::Regression) result = torch::softmax(result, 1);
    result = result.contiguous();
    const float* values = result.data_ptr<float>();
    float* target = out.row(start);
    for (std::int64_t i = 0; i < count * outputs; ++i)
      target[i] = task_ == TaskType::Regression
                      ? static_cast<float>(static_cast<double>(values[i]) * y_std_ + y_mean_)
                      : values[i];
  }
  return out;
}

nlohmann::json MlpEstimator::save(const std::filesystem::path& dir, const std::string& stem) const {
  if (!model_) throw Error("mlp: save called on a model that was not fitted");
  std::filesystem::create_directories(dir);
  const std::string weights = stem + ".pt";
  model_->save_weights((dir / weights).string());
  return {{"task", to_string(task_)},
          {"layers", layers_},
          {"dropout", params_.dropout},
          {"x_mean", x_mean_},
          {"x_std", x_std_},
          {"y_mean", y_mean_},
          {"y_std", y_std_},
          {"weights", weights},
          {"params", space::to_json(to_params(params_))},
          {"epochs", epochs_},
          {"epochs_run", epochs_run_},
          {"best_epoch", best_epoch_}};
}

std::unique_ptr<Estimator> MlpEstimator::load(const nlohmann::json& saved,
                                              const std::filesystem::path& dir) {
  const std::string where = "mlp model in '" + dir.string() + "'";
  try {
    space::Params params;
    for (const auto& [name, value] : saved.at("params").items())
      params[name] = space::value_from_json(value);
    auto model = std::make_unique<MlpEstimator>(read_params(params),
                                                detail::task_from_key(saved.at("task")));
    model->layers_ = saved.at("layers").get<std::vector<std::int64_t>>();
    model->x_mean_ = saved.at("x_mean").get<std::vector<float>>();
    model->x_std_ = saved.at("x_std").get<std::vector<float>>();
    model->y_mean_ = saved.at("y_mean").get<double>();
    model->y_std_ = saved.at("y_std").get<double>();
    model->epochs_ = saved.at("epochs").get<std::int64_t>();
    model->epochs_run_ = saved.at("epochs_run").get<std::int64_t>();
    model->best_epoch_ = saved.at("best_epoch").get<std::int64_t>();
    const auto& layers = model->layers_;
    const bool sizes_ok = layers.size() >= 2 &&
                          std::all_of(layers.begin(), layers.end(), [](auto n) { return n >= 1; });
    if (!sizes_ok || model->x_mean_.size() != static_cast<std::size_t>(layers[0]) ||
        model->x_std_.size() != model->x_mean_.size())
      throw InvalidArgument(where + ": the layer sizes and scalers do not agree");
    model->model_ = make_model(layers, model->task_, model->params_, 0);
    model->model_->load_weights((dir / saved.at("weights").get<std::string>()).string());
    model->model_->net()->eval();
    return model;
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(where + ": " + e.what());
  }
}

}  // namespace

Family mlp_family() {
  Family family;
  family.name = "mlp";
  family.description = "multi-layer perceptron (LibTorch)";
  family.params = mlp_params();
  family.cheap = to_params(MlpParams{});
  // Two hidden layers of 128 with a little dropout, trained for 50 epochs.
  family.portfolio = {{{"mlp.hidden_layers", std::int64_t{2}},
                       {"mlp.units", std::int64_t{128}},
                       {"mlp.dropout", 0.1},
                       {"mlp.learning_rate", 1e-3},
                       {"mlp.epochs", std::int64_t{50}}}};
  family.make = [](const space::Params& params, TaskType task) -> std::unique_ptr<Estimator> {
    return std::make_unique<MlpEstimator>(read_params(params), task);
  };
  family.load = &MlpEstimator::load;
  family.has_budget = true;
  family.classification = true;
  family.regression = true;
  return family;
}

void register_mlp_family() {
  register_family(mlp_family());
}

}  // namespace quarry::automl
