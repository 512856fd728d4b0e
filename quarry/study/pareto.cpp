#include "quarry/study/pareto.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string>

#include "quarry/core/error.hpp"
#include "quarry/study/constraints.hpp"

namespace quarry::study {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// `v` as a loss for `d`: lower is better, NaN worst of all.
double loss(double v, Direction d) {
  if (std::isnan(v)) return kInf;
  return d == Direction::Minimize ? v : -v;
}

/// True when loss `a` is strictly better than loss `b`, NaN (mapped to +inf) ranking below +inf.
bool better(double a, double b, double raw_a, double raw_b) {
  if (a != b) return a < b;
  return !std::isnan(raw_a) && std::isnan(raw_b);
}

void check_sizes(const std::vector<std::vector<double>>& values,
                 const std::vector<Direction>& directions) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values[i].size() != directions.size())
      throw InvalidArgument("non_dominated_sort: point " + std::to_string(i) + " has " +
                            std::to_string(values[i].size()) + " value(s), there are " +
                            std::to_string(directions.size()) + " objective(s)");
}

}  // namespace

bool dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<Direction>& directions) {
  if (a.size() != directions.size() || b.size() != directions.size())
    throw InvalidArgument("dominates: " + std::to_string(a.size()) + " and " +
                          std::to_string(b.size()) + " value(s) for " +
                          std::to_string(directions.size()) +
                          " objective(s); the counts must agree");
  bool strictly = false;
  for (std::size_t k = 0; k < directions.size(); ++k) {
    const double la = loss(a[k], directions[k]), lb = loss(b[k], directions[k]);
    if (better(lb, la, b[k], a[k])) return false;
    strictly = strictly || better(la, lb, a[k], b[k]);
  }
  return strictly;
}

std::vector<std::vector<std::size_t>> non_dominated_sort(
    const std::vector<std::vector<double>>& values, const std::vector<Direction>& directions) {
  check_sizes(values, directions);
  const std::size_t n = values.size();
  std::vector<std::vector<std::size_t>> dominated(n);  // S_p: the points p dominates
  std::vector<std::size_t> count(n, 0);                // n_p: how many points dominate p
  for (std::size_t p = 0; p < n; ++p)
    for (std::size_t q = p + 1; q < n; ++q) {
      if (dominates(values[p], values[q], directions))
        dominated[p].push_back(q), ++count[q];
      else if (dominates(values[q], values[p], directions))
        dominated[q].push_back(p), ++count[p];
    }
  std::vector<std::vector<std::size_t>> fronts;
  std::vector<std::size_t> current;
  for (std::size_t p = 0; p < n; ++p)
    if (count[p] == 0) current.push_back(p);
  while (!current.empty()) {
    std::vector<std::size_t> next;
    for (std::size_t p : current)
      for (std::size_t q : dominated[p])
        if (--count[q] == 0) next.push_back(q);
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(current));
    current = std::move(next);
  }
  return fronts;
}

std::vector<std::vector<std::size_t>> constrained_non_dominated_sort(
    const std::vector<std::vector<double>>& values, const std::vector<double>& violations,
    const std::vector<Direction>& directions) {
  check_sizes(values, directions);
  if (violations.size() != values.size())
    throw InvalidArgument("constrained_non_dominated_sort: " + std::to_string(violations.size()) +
                          " violation(s) for " + std::to_string(values.size()) +
                          " point(s); the counts must agree");
  std::vector<std::size_t> feasible;
  std::map<double, std::vector<std::size_t>> infeasible;  // by violation, smallest first
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = std::isnan(violations[i]) ? kInf : violations[i];
    if (v > 0)
      infeasible[v].push_back(i);
    else
      feasible.push_back(i);
  }
  std::vector<std::vector<double>> feasible_values;
  for (std::size_t i : feasible) feasible_values.push_back(values[i]);
  std::vector<std::vector<std::size_t>> fronts;
  for (auto& front : non_dominated_sort(feasible_values, directions)) {
    for (auto& i : front) i = feasible[i];
    fronts.push_back(std::move(front));
  }
  for (auto& [violation, front] : infeasible) fronts.push_back(std::move(front));
  return fronts;
}

std::vector<double> crowding_distance(const std::vector<std::vector<double>>& values,
                                      const std::vector<std::size_t>& front) {
  std::vector<double> distance(front.size(), 0.0);
  if (front.size() <= 2) return std::vector<double>(front.size(), kInf);
  const std::size_t objectives = values[front[0]].size();
  std::vector<std::size_t> order(front.size());
  for (std::size_t k = 0; k < objectives; ++k) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    const auto at = [&](std::size_t slot) { return values[front[slot]].at(k); };
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return !std::isnan(at(a)) && (std::isnan(at(b)) || at(a) < at(b));  // NaN last
    });
    distance[order.front()] = distance[order.back()] = kInf;
    const double range = at(order.back()) - at(order.front());
    if (!(range > 0) || !std::isfinite(range)) continue;
    for (std::size_t i = 1; i + 1 < order.size(); ++i)
      distance[order[i]] += (at(order[i + 1]) - at(order[i - 1])) / range;
  }
  return distance;
}

std::vector<Trial> pareto_front(const std::vector<Trial>& trials,
                                const std::vector<Direction>& directions) {
  std::vector<const Trial*> candidates;
  for (const Trial& t : trials)
    if (t.state == TrialState::Complete && t.values.size() == directions.size() && is_feasible(t))
      candidates.push_back(&t);
  std::vector<Trial> front;
  for (const Trial* t : candidates)
    if (std::none_of(candidates.begin(), candidates.end(), [&](const Trial* other) {
          return dominates(other->values, t->values, directions);
        }))
      front.push_back(*t);
  if (directions.empty()) return front;
  std::stable_sort(front.begin(), front.end(), [&](const Trial& a, const Trial& b) {
    const double la = loss(a.values[0], directions[0]), lb = loss(b.values[0], directions[0]);
    return la != lb ? la < lb : a.number < b.number;
  });
  return front;
}

}  // namespace quarry::study
