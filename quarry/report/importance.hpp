// Parameter importance by fANOVA (Hutter, Hoos & Leyton-Brown 2014), as Optuna's
// FanovaImportanceEvaluator computes it: a random forest (forest.hpp, 64 trees, depth 64) fitted
// to the finished trials' objective values over the unit cube of the search space; for each tree,
// each parameter's share of the variance of the tree's marginal predictions (the prediction
// averaged over every other parameter, uniformly over the space); shares averaged over the trees
// and scaled to sum to 1. Exact: each tree is a set of boxes, so the marginals are sums of box
// volumes, with no sampling.
//
// Parameters are measured on the scale the space samples them on (log-scaled ones on a log
// axis); Optuna measures them on a linear one. Only parameters that every used trial has count
// (as Optuna's intersection search space), and never one that can take a single value.
//
//   auto ranked = report::parameter_importance(study.space(), study.trials(), 0, {});
//   for (auto& [name, share] : ranked) std::cout << name << " " << share << "\n";
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "quarry/report/forest.hpp"
#include "quarry/space/space.hpp"
#include "quarry/study/trial.hpp"

namespace quarry::report {

/// Each column's share of the variance of `forest`'s predictions over [0, 1]^d, averaged over the
/// trees that vary (one that predicts a constant has no shares); not scaled. Columns whose
/// effects are only interactions get 0.
std::vector<double> fanova(const Forest& forest);

/// The forest's prediction averaged over every column but `a` and `b` (uniformly over [0, 1]),
/// at the centres of a `size` x `size` grid over (a, b): row i (b's i-th cell), column j (a's
/// j-th), row-major. Exact, from the trees' boxes. The report's contour plot.
std::vector<double> marginal_2d(const Forest& forest, int a, int b, int size);

/// The data the forest is fitted on: the trials' parameters as unit-cube rows, one objective's
/// values as targets.
struct ImportanceData {
  std::vector<std::string> params;  ///< the columns, in the space's order
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  std::vector<std::int64_t> trials;  ///< the trial number of each row
};

/// Rows from the complete trials with a finite value of objective `objective`; columns: the
/// parameters of `space` that every such trial has and that take more than one value.
ImportanceData importance_data(const Space& space, const std::vector<Trial>& trials,
                               std::size_t objective);

/// importance_data, the forest fitted to it and each column's importance (in the data's column
/// order, summing to 1; all 0 when the values do not vary). Throws as parameter_importance.
struct FittedImportance {
  ImportanceData data;
  Forest forest;
  std::vector<double> shares;
};
FittedImportance fit_importance(const Space& space, const std::vector<Trial>& trials,
                                std::size_t objective, const ForestOptions& options = {});

/// (parameter, importance) for each column of importance_data, most important first, summing to
/// 1 (all 0 when the values do not vary). Throws InvalidArgument when fewer than two trials are
/// complete or no parameter varies.
std::vector<std::pair<std::string, double>> parameter_importance(const Space& space,
                                                                 const std::vector<Trial>& trials,
                                                                 std::size_t objective,
                                                                 const ForestOptions& options = {});

}  // namespace quarry::report
