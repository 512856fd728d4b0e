// Several objectives: Pareto dominance, non-dominated sorting and crowding distances (Deb, Pratap,
// Agarwal & Meyarivan, "A fast and elitist multiobjective genetic algorithm: NSGA-II", IEEE TEC
// 2002, sections III-A and III-B), and the Pareto front of a study's trials.
//
//   const auto fronts = non_dominated_sort(values, {Direction::Maximize, Direction::Minimize});
//   const auto front = pareto_front(study.trials(), study.directions());
//
// `values` holds one vector per point, one value per objective, in the order of `directions`. A NaN
// value is worse than any number in either direction. The functions throw InvalidArgument when a
// point has another number of values than there are directions.
#pragma once

#include <cstddef>
#include <vector>

#include "quarry/study/trial.hpp"

namespace quarry::study {

/// True when `a` is no worse than `b` in every objective and strictly better in one.
bool dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<Direction>& directions);

/// The fronts of `values`, as indexes, front 0 (the non-dominated points) first; within a front,
/// indexes ascend. Deb's fast non-dominated sort, O(M N^2).
std::vector<std::vector<std::size_t>> non_dominated_sort(
    const std::vector<std::vector<double>>& values, const std::vector<Direction>& directions);

/// Deb's constrained-domination sort (NSGA-II, section IV-B): a point with violation 0 (feasible)
/// comes before every infeasible one (violation > 0); feasible points are sorted as above;
/// infeasible ones by violation alone, one front per distinct violation, smallest first.
std::vector<std::vector<std::size_t>> constrained_non_dominated_sort(
    const std::vector<std::vector<double>>& values, const std::vector<double>& violations,
    const std::vector<Direction>& directions);

/// The crowding distance of each point of `front` (indexes into `values`), in `front`'s order:
/// for each objective, the points sorted by it, the two ends get +inf and every other point adds
/// the gap between its two neighbours divided by the objective's range (an objective whose range
/// is 0 or not finite adds nothing). Fronts of 1 or 2 points are all +inf.
std::vector<double> crowding_distance(const std::vector<std::vector<double>>& values,
                                      const std::vector<std::size_t>& front);

/// The Complete, feasible (is_feasible) trials with one value per direction that no other such
/// trial dominates, best first by the first objective (ties: by trial number). Trials with
/// identical values are all kept.
std::vector<Trial> pareto_front(const std::vector<Trial>& trials,
                                const std::vector<Direction>& directions);

}  // namespace quarry::study
