#include "quarry/pruners/median.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "quarry/core/error.hpp"

namespace quarry::pruners {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool better(double a, double b, Direction direction) {
  return direction == Direction::Minimize ? a < b : a > b;
}

/// The best non-NaN intermediate value at steps <= `step`; NaN when there is none.
double best_up_to(const Trial& trial, std::int64_t step, Direction direction) {
  double best = kNaN;
  for (const auto& [s, value] : trial.intermediate) {
    if (s > step) break;
    if (!std::isnan(value) && (std::isnan(best) || better(value, best, direction))) best = value;
  }
  return best;
}

/// For every other finished trial with a value at `step`: its best value up to `step`.
std::vector<double> others_best(const Trial& trial, const std::vector<Trial>& history,
                                std::int64_t step, Direction direction) {
  std::vector<double> out;
  for (const Trial& t : history) {
    if (t.number == trial.number) continue;
    if (t.state != study::TrialState::Complete && t.state != study::TrialState::Pruned) continue;
    if (!t.intermediate.count(step)) continue;
    const double best = best_up_to(t, step, direction);
    if (!std::isnan(best)) out.push_back(best);
  }
  return out;
}

}  // namespace

double percentile(std::vector<double>& values, double q) {
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const double rank = q / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (rank - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

MedianStopping::MedianStopping(MedianOptions options) : options_(options) {
  if (options_.min_trials < 0)
    throw InvalidArgument("MedianStopping: min_trials >= 0 must hold, got min_trials=" +
                          std::to_string(options_.min_trials));
  if (options_.warmup_steps < 0)
    throw InvalidArgument("MedianStopping: warmup_steps >= 0 must hold, got warmup_steps=" +
                          std::to_string(options_.warmup_steps));
}

bool MedianStopping::should_prune(const Trial& trial, const std::vector<Trial>& history,
                                  Direction direction) {
  if (trial.intermediate.empty()) return false;
  const std::int64_t step = trial.intermediate.rbegin()->first;
  if (step < options_.warmup_steps) return false;
  std::vector<double> others = others_best(trial, history, step, direction);
  const auto needed = std::max<std::size_t>(1, static_cast<std::size_t>(options_.min_trials));
  if (others.size() < needed) return false;
  const double own = best_up_to(trial, step, direction);
  if (std::isnan(own)) return true;  // nothing but NaN: worse than any value
  const double median = percentile(others, 50.0);
  return better(median, own, direction);
}

}  // namespace quarry::pruners
