#include "quarry/pruners/curve.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/pruners/curve_models.hpp"

namespace quarry::pruners {

namespace {

constexpr int kMaxParents = 64;  // a parent chain longer than this is cut (and never loops)

std::string format_number(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

double sign_of(Direction direction) {
  return direction == Direction::Minimize ? -1.0 : 1.0;
}

const Trial* find_trial(const std::vector<Trial>& history, std::int64_t number) {
  const auto index = static_cast<std::size_t>(number);
  if (number >= 0 && index < history.size() && history[index].number == number)
    return &history[index];
  for (const Trial& t : history)
    if (t.number == number) return &t;
  return nullptr;
}

/// The trial's finite values as "higher is better", its parents' before its own first step.
std::map<std::int64_t, double> curve_of(const Trial& trial, const std::vector<Trial>& history,
                                        double sign) {
  std::map<std::int64_t, double> curve;
  std::optional<std::int64_t> first;
  const Trial* t = &trial;
  for (int depth = 0; t && depth < kMaxParents; ++depth) {
    for (const auto& [step, value] : t->intermediate)
      if ((!first || step < *first) && std::isfinite(value)) curve.emplace(step, sign * value);
    if (!t->intermediate.empty())
      first =
          std::min(first.value_or(t->intermediate.begin()->first), t->intermediate.begin()->first);
    t = t->parent ? find_trial(history, *t->parent) : nullptr;
  }
  return curve;
}

/// The best value ("higher is better") of every other trial at steps <= target, nullopt if none.
std::optional<double> best_so_far(const Trial& trial, const std::vector<Trial>& history,
                                  double target, double sign) {
  std::optional<double> best;
  const auto offer = [&](double value) {
    if (std::isfinite(value) && (!best || sign * value > *best)) best = sign * value;
  };
  for (const Trial& t : history) {
    if (t.number == trial.number) continue;
    for (const auto& [step, value] : t.intermediate)
      if (static_cast<double>(step) <= target) offer(value);
    if (t.state != study::TrialState::Complete || t.values.empty()) continue;
    const bool within = t.budget > 0
                            ? t.budget <= target
                            : t.intermediate.empty() ||
                                  static_cast<double>(t.intermediate.rbegin()->first) <= target;
    if (within) offer(t.values.front());
  }
  return best;
}

}  // namespace

LearningCurveOptions learning_curve_options_from_json(const nlohmann::json& j) {
  const ComponentOptions options("pruner 'learning_curve'", j,
                                 {"threshold", "min_steps", "max_step"});
  const LearningCurveOptions d;
  LearningCurveOptions out{.threshold = options.real("threshold", d.threshold),
                           .min_steps = options.integer("min_steps", d.min_steps, 1)};
  if (options.has("max_step")) out.max_step = options.integer("max_step", 1, 1);
  return out;
}

LearningCurveStopping::LearningCurveStopping(LearningCurveOptions options)
    : options_(std::move(options)) {
  if (!(options_.threshold > 0 && options_.threshold < 1))
    throw InvalidArgument("LearningCurveStopping: 0 < threshold < 1 must hold, got threshold=" +
                          format_number(options_.threshold));
  if (options_.min_steps < 1)
    throw InvalidArgument("LearningCurveStopping: min_steps >= 1 must hold, got min_steps=" +
                          std::to_string(options_.min_steps));
  if (options_.max_step && *options_.max_step < 1)
    throw InvalidArgument("LearningCurveStopping: max_step >= 1 must hold, got max_step=" +
                          std::to_string(*options_.max_step));
}

std::optional<double> LearningCurveStopping::target_step(const Trial& trial,
                                                         const std::vector<Trial>& history) const {
  if (options_.max_step) return static_cast<double>(*options_.max_step);
  if (trial.budget > 0) return trial.budget;
  std::optional<std::int64_t> last;
  for (const Trial& t : history)
    if (t.finished() && !t.intermediate.empty())
      last =
          std::max(last.value_or(t.intermediate.rbegin()->first), t.intermediate.rbegin()->first);
  if (!last) return std::nullopt;
  return static_cast<double>(*last);
}

std::optional<double> LearningCurveStopping::chance_to_beat_best(const Trial& trial,
                                                                 const std::vector<Trial>& history,
                                                                 Direction direction) const {
  if (trial.intermediate.empty()) return std::nullopt;
  const double sign = sign_of(direction);
  const auto curve = curve_of(trial, history, sign);
  if (curve.empty() || static_cast<std::int64_t>(curve.size()) < options_.min_steps)
    return std::nullopt;
  const auto target = target_step(trial, history);
  if (!target || static_cast<double>(curve.rbegin()->first) >= *target) return std::nullopt;
  const auto best = best_so_far(trial, history, *target, sign);
  if (!best) return std::nullopt;
  double own_best = -std::numeric_limits<double>::infinity();
  for (const auto& [step, value] : curve) own_best = std::max(own_best, value);
  if (own_best >= *best) return 1.0;
  // Shift the steps so that the first is >= 1, the target with them.
  const double shift = std::max(0.0, 1.0 - static_cast<double>(curve.begin()->first));
  std::vector<std::pair<double, double>> points;
  for (const auto& [step, value] : curve) points.emplace_back(double(step) + shift, value);
  const auto prediction = extrapolate(points, *target + shift);
  if (!prediction) return std::nullopt;
  if (!(prediction->stddev > 0)) return prediction->mean > *best ? 1.0 : 0.0;
  return 0.5 * std::erfc((*best - prediction->mean) / (prediction->stddev * std::sqrt(2.0)));
}

bool LearningCurveStopping::should_prune(const Trial& trial, const std::vector<Trial>& history,
                                         Direction direction) {
  const auto chance = chance_to_beat_best(trial, history, direction);
  return chance && *chance < options_.threshold;
}

}  // namespace quarry::pruners
