// Greedy ensemble selection with replacement (ensemble.hpp).
//
// Round 1 picks the single best candidate; each later round adds the candidate whose addition
// gives the lowest loss (metrics.hpp) of the plain average of the picks, ties going to the lowest
// index. The search stops after `rounds` additions or at the first round where no addition lowers
// the loss strictly; the picks so far are then the best blend seen, so the result never scores
// worse than the best single candidate. The running sum of the picks is kept in double and each
// trial blend is that sum plus the candidate, divided by the picks.
#include "quarry/automl/ensemble.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "quarry/core/error.hpp"

namespace quarry::automl {

namespace {

std::string shape(const Matrix& m) {
  return std::to_string(m.rows) + " x " + std::to_string(m.cols);
}

/// Throws unless every matrix has the first one's shape and holds rows * cols values.
void check_shapes(const std::vector<Matrix>& all, const char* who, const char* what) {
  if (all.empty()) throw InvalidArgument(std::string(who) + ": no " + what);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Matrix& m = all[i];
    if (static_cast<std::int64_t>(m.values.size()) != m.rows * m.cols)
      throw InvalidArgument(std::string(who) + ": " + what + " " + std::to_string(i) + " holds " +
                            std::to_string(m.values.size()) + " values for " + shape(m));
    if (m.rows != all[0].rows || m.cols != all[0].cols)
      throw InvalidArgument(std::string(who) + ": " + what + " " + std::to_string(i) + " is " +
                            shape(m) + ", " + what + " 0 is " + shape(all[0]));
  }
}

}  // namespace

Ensemble select_ensemble(const std::vector<Matrix>& candidates, const std::vector<double>& y,
                         TaskType task, Metric metric, int rounds) {
  check_shapes(candidates, "select_ensemble", "candidate");
  require(rounds >= 1, "select_ensemble", "rounds >= 1", rounds);
  if (candidates[0].rows != static_cast<std::int64_t>(y.size()))
    throw InvalidArgument("select_ensemble: the candidates have " +
                          std::to_string(candidates[0].rows) + " rows, y has " +
                          std::to_string(y.size()));

  const std::size_t size = candidates[0].values.size();
  std::vector<double> sum(size, 0.0);
  std::vector<int> picks(candidates.size(), 0);
  Matrix trial(candidates[0].rows, candidates[0].cols);
  double current = std::numeric_limits<double>::infinity();
  Ensemble result;
  for (int round = 1; round <= rounds; ++round) {
    double best = std::numeric_limits<double>::infinity();
    std::size_t chosen = candidates.size();
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      const auto& values = candidates[c].values;
      for (std::size_t k = 0; k < size; ++k)
        trial.values[k] = static_cast<float>((sum[k] + values[k]) / round);
      const double value = loss(metric, task, y, trial);
      if (value < best) {
        best = value;
        chosen = c;
      }
    }
    if (chosen == candidates.size() || !(best < current)) break;
    current = best;
    ++picks[chosen];
    for (std::size_t k = 0; k < size; ++k) sum[k] += candidates[chosen].values[k];
    result.rounds = round;
  }
  if (result.rounds == 0)
    throw InvalidArgument("select_ensemble: no candidate has a finite " + to_string(metric));
  result.weights.resize(candidates.size());
  for (std::size_t c = 0; c < candidates.size(); ++c)
    result.weights[c] = static_cast<double>(picks[c]) / result.rounds;
  result.score = greater_is_better(metric) ? -current : current;
  return result;
}

Matrix blend(const std::vector<Matrix>& predictions, const std::vector<double>& weights) {
  check_shapes(predictions, "blend", "prediction");
  if (weights.size() != predictions.size())
    throw InvalidArgument("blend: " + std::to_string(weights.size()) + " weights for " +
                          std::to_string(predictions.size()) + " predictions");
  double total = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (!(weights[i] >= 0 && std::isfinite(weights[i])))
      throw InvalidArgument("blend: weight " + std::to_string(i) + " is " +
                            std::to_string(weights[i]) + "; weights must be finite and >= 0");
    total += weights[i];
  }
  if (!(total > 0)) throw InvalidArgument("blend: the weights sum to 0");
  const std::size_t size = predictions[0].values.size();
  std::vector<double> sum(size, 0.0);
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    if (weights[i] == 0) continue;
    const double w = weights[i] / total;
    const auto& values = predictions[i].values;
    for (std::size_t k = 0; k < size; ++k) sum[k] += w * values[k];
  }
  Matrix out(predictions[0].rows, predictions[0].cols);
  for (std::size_t k = 0; k < size; ++k) out.values[k] = static_cast<float>(sum[k]);
  return out;
}

}  // namespace quarry::automl
