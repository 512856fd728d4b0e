// Ensemble selection (Caruana et al. 2004), as auto-sklearn and AutoGluon use it: start empty and
// add, with replacement, the model whose addition to the average of the chosen ones scores best on
// the out-of-fold predictions; the weights are how often each model was picked.
#pragma once

#include <vector>

#include "quarry/automl/matrix.hpp"
#include "quarry/automl/metrics.hpp"

namespace quarry::automl {

struct Ensemble {
  std::vector<double> weights;  ///< one per candidate, summing to 1 (zero for those left out)
  double score = 0;             ///< the metric's value of the blended out-of-fold predictions
  int rounds = 0;               ///< additions made
};

/// `candidates`: each model's out-of-fold predictions on the rows `y` describes (same shape).
/// Stops after `rounds` additions, or earlier when an addition no longer improves the score.
/// Throws InvalidArgument when there is no candidate or the shapes disagree.
Ensemble select_ensemble(const std::vector<Matrix>& candidates, const std::vector<double>& y,
                         TaskType task, Metric metric, int rounds = 50);

/// The weighted average of `predictions` (the weights as select_ensemble gives them).
Matrix blend(const std::vector<Matrix>& predictions, const std::vector<double>& weights);

}  // namespace quarry::automl
