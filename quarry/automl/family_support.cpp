// What the built-in model families share: see family_support.hpp.
#include "quarry/automl/family_support.hpp"

#include <chrono>
#include <cmath>

#include "quarry/core/error.hpp"

namespace quarry::automl::detail {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool deadline_passed(double deadline) {
  return deadline > 0 && steady_seconds() >= deadline;
}

std::int64_t output_width(TaskType task, std::int64_t num_classes) {
  return task == TaskType::Regression ? 1 : num_classes;
}

std::int64_t check_fit(const std::string& who, const Matrix& x, const std::vector<double>& y,
                       TaskType task, const FitOptions& options) {
  require(x.rows > 0, who, "training rows > 0", x.rows);
  require(x.cols > 0, who, "features > 0", x.cols);
  require(x.values.size() == static_cast<std::size_t>(x.rows * x.cols), who,
          "matrix values == rows * cols", static_cast<std::int64_t>(x.values.size()));
  require(static_cast<std::int64_t>(y.size()) == x.rows, who,
          "one target per row (rows " + std::to_string(x.rows) + ")",
          static_cast<std::int64_t>(y.size()));
  require(options.budget_fraction > 0 && options.budget_fraction <= 1, who,
          "0 < budget_fraction <= 1", options.budget_fraction);
  require(options.threads >= 1, who, "threads >= 1", options.threads);
  const std::int64_t classes = task == TaskType::Regression ? 0 : options.num_classes;
  if (task == TaskType::Binary) require(classes == 2, who, "num_classes == 2 for binary", classes);
  if (task == TaskType::Multiclass)
    require(classes >= 2, who, "num_classes >= 2 for multiclass", classes);
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i]))
      throw InvalidArgument(who + ": target of row " + std::to_string(i) + " is not finite");
    if (classes > 0 &&
        (y[i] < 0 || y[i] >= static_cast<double>(classes) || y[i] != std::floor(y[i])))
      throw InvalidArgument(who + ": target of row " + std::to_string(i) +
                            " is not a class index in [0, " + std::to_string(classes) + ")");
  }
  return classes;
}

void check_finite(const std::string& who, const Matrix& x) {
  for (std::size_t i = 0; i < x.values.size(); ++i)
    if (!std::isfinite(x.values[i]))
      throw InvalidArgument(who + ": feature " + std::to_string(i % x.cols) + " of row " +
                            std::to_string(i / x.cols) +
                            " is missing or infinite (impute it first)");
}

void check_features(const std::string& who, const Matrix& x, std::int64_t features) {
  require(x.cols == features, who, "features == " + std::to_string(features) + " (as in training)",
          x.cols);
}

TaskType task_from_key(const std::string& key) {
  if (key != "auto") try {
      if (const auto task = task_from_string(key)) return *task;
    } catch (const InvalidArgument&) {
    }
  throw InvalidArgument("saved model: unknown task '" + key +
                        "' (binary, multiclass or regression)");
}

FamilyParams::FamilyParams(std::string family, const std::vector<space::Param>& space,
                           const space::Params& params)
    : family_(std::move(family)) {
  const std::string prefix = family_ + ".";
  for (const auto& p : space) {
    auto it = params.find(p.name());
    if (it == params.end())
      throw InvalidArgument("model family '" + family_ + "': parameter '" + p.name() +
                            "' is missing");
    params_[p.name().substr(prefix.size())] = it->second;
  }
  for (const auto& [name, v] : params)
    if (name.starts_with(prefix) && !params_.contains(name.substr(prefix.size())))
      throw InvalidArgument("model family '" + family_ + "': unknown parameter '" + name + "'");
}

const Value& FamilyParams::value(const std::string& name) const {
  auto it = params_.find(name);
  if (it == params_.end())
    throw InvalidArgument("model family '" + family_ + "': parameter '" + family_ + "." + name +
                          "' is missing");
  return it->second;
}

double FamilyParams::real(const std::string& name) const {
  const auto& v = value(name);
  if (std::holds_alternative<std::string>(v) || !std::isfinite(space::to_double(v)))
    throw InvalidArgument("model family '" + family_ + "': parameter '" + family_ + "." + name +
                          "' must be a finite number, got '" + space::to_string(v) + "'");
  return space::to_double(v);
}

std::int64_t FamilyParams::integer(const std::string& name) const {
  const double d = real(name);
  if (d != std::round(d) || std::abs(d) > 9.0e15)
    throw InvalidArgument("model family '" + family_ + "': parameter '" + family_ + "." + name +
                          "' must be an integer, got '" + space::to_string(value(name)) + "'");
  return static_cast<std::int64_t>(d);
}

std::string FamilyParams::text(const std::string& name) const {
  const auto& v = value(name);
  if (!std::holds_alternative<std::string>(v))
    throw InvalidArgument("model family '" + family_ + "': parameter '" + family_ + "." + name +
                          "' must be a string, got '" + space::to_string(v) + "'");
  return std::get<std::string>(v);
}

Standardizer Standardizer::fit(const Matrix& x) {
  Standardizer s;
  const auto p = static_cast<std::size_t>(x.cols);
  s.mean.assign(p, 0.0);
  s.scale.assign(p, 0.0);
  // A 0/1 feature (a one-hot level, a missing indicator) stays as it is: standardised, a level
  // seen in 1 % of the rows would put its rows 10 deviations away from the rest.
  std::vector<bool> binary(p, true);
  for (std::int64_t r = 0; r < x.rows; ++r)
    for (std::size_t j = 0; j < p; ++j) {
      const float v = x.row(r)[j];
      s.mean[j] += v;
      if (v != 0.0F && v != 1.0F) binary[j] = false;
    }
  for (auto& m : s.mean) m /= static_cast<double>(x.rows);
  for (std::int64_t r = 0; r < x.rows; ++r)
    for (std::size_t j = 0; j < p; ++j) {
      const double d = x.row(r)[j] - s.mean[j];
      s.scale[j] += d * d;
    }
  for (auto& v : s.scale) {
    v = std::sqrt(v / static_cast<double>(x.rows));
    if (!(v > 1e-12)) v = 1.0;  // a constant feature: left centred at 0
  }
  for (std::size_t j = 0; j < p; ++j)
    if (binary[j]) {
      s.mean[j] = 0;
      s.scale[j] = 1;
    }
  return s;
}

Matrix Standardizer::transform(const Matrix& x) const {
  Matrix z(x.rows, x.cols);
  for (std::int64_t r = 0; r < x.rows; ++r)
    for (std::int64_t j = 0; j < x.cols; ++j) z.at(r, j) = static_cast<float>(apply(j, x.at(r, j)));
  return z;
}

nlohmann::json Standardizer::to_json() const {
  return {{"mean", mean}, {"scale", scale}};
}

Standardizer Standardizer::from_json(const nlohmann::json& j) {
  Standardizer s;
  j.at("mean").get_to(s.mean);
  j.at("scale").get_to(s.scale);
  if (s.mean.size() != s.scale.size())
    throw InvalidArgument("saved model: standardisation has " + std::to_string(s.mean.size()) +
                          " means but " + std::to_string(s.scale.size()) + " scales");
  return s;
}

}  // namespace quarry::automl::detail
