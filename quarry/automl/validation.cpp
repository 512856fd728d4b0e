// The folds every trial of an AutoML search is validated on (validation.hpp).
//
// k-fold: the rows of each class are shuffled, the classes are laid end to end (class 0 first)
// and the i-th row of that list goes to fold i mod k. Every fold so holds within one row of n / k
// rows, and within one row of n_c / k rows of each class c; a class with fewer rows than folds is
// spread over as many folds as it has rows (some folds see none of it). Regression shuffles all
// rows the same way. Holdout: the largest-remainder share of each class (ties: lower class first)
// goes to validation, chosen after shuffling the class's rows; regression takes the first rows of
// one shuffle. Every shuffle draws from Rng::stream(seed, {hash_name("automl::validation")}), so
// the folds depend on the seed and y alone.
#include "quarry/automl/validation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <utility>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::automl {

namespace {

using Rows = std::vector<std::int64_t>;
using Groups = std::vector<std::pair<std::int64_t, Rows>>;  ///< (class index, its rows)

/// Fisher-Yates over quarry::Rng (std::shuffle's order differs between standard libraries).
void shuffle(Rows& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

/// The rows of each class present, in class order, each in row order (classification); one group
/// of every row (regression).
Groups groups(const std::vector<double>& y, bool classes) {
  std::map<std::int64_t, Rows> by_class;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double v = y[i];
    if (std::isnan(v))
      throw InvalidArgument("validation: y[" + std::to_string(i) + "] is missing (NaN)");
    if (classes && (!(v >= 0 && v < 9e15) || v != std::floor(v)))
      throw InvalidArgument("validation: y[" + std::to_string(i) + "] = " + std::to_string(v) +
                            " is not a class index");
    by_class[classes ? static_cast<std::int64_t>(v) : 0].push_back(static_cast<std::int64_t>(i));
  }
  return {by_class.begin(), by_class.end()};
}

/// The rows 0..n-1 without `valid` (sorted).
Rows complement(const Rows& valid, std::int64_t n) {
  Rows train;
  train.reserve(static_cast<std::size_t>(n) - valid.size());
  auto next = valid.begin();
  for (std::int64_t i = 0; i < n; ++i) {
    if (next != valid.end() && *next == i)
      ++next;
    else
      train.push_back(i);
  }
  return train;
}

/// "20", "12.5": a percentage in its short form.
std::string percent(double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", fraction * 100);
  return buffer;
}

std::vector<Fold> k_fold(Groups by_group, std::int64_t n, int k, Rng& rng) {
  std::vector<Rows> valid(static_cast<std::size_t>(k));
  std::size_t position = 0;
  for (auto& [group, rows] : by_group) {
    shuffle(rows, rng);
    for (std::int64_t row : rows) valid[position++ % valid.size()].push_back(row);
  }
  std::vector<Fold> folds;
  for (auto& v : valid) {
    std::sort(v.begin(), v.end());
    Fold fold;
    fold.train = complement(v, n);
    fold.valid = std::move(v);
    folds.push_back(std::move(fold));
  }
  return folds;
}

/// The validation rows of a holdout (sorted): `total` rows, each group's count its largest-
/// remainder share.
Rows holdout(Groups by_group, double fraction, std::size_t total, Rng& rng) {
  std::vector<std::size_t> counts(by_group.size());
  std::vector<std::pair<double, std::size_t>> remainders;
  std::size_t assigned = 0;
  for (std::size_t g = 0; g < by_group.size(); ++g) {
    const double share = fraction * static_cast<double>(by_group[g].second.size());
    counts[g] = static_cast<std::size_t>(std::floor(share));
    assigned += counts[g];
    remainders.emplace_back(-(share - std::floor(share)), g);
  }
  std::sort(remainders.begin(), remainders.end());
  for (std::size_t r = 0; assigned < total && r < remainders.size(); ++r, ++assigned)
    ++counts[remainders[r].second];
  Rows valid;
  for (std::size_t g = 0; g < by_group.size(); ++g) {
    auto& rows = by_group[g].second;
    shuffle(rows, rng);
    valid.insert(valid.end(), rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(counts[g]));
  }
  std::sort(valid.begin(), valid.end());
  return valid;
}

}  // namespace

Validation make_validation(const std::vector<double>& y, TaskType task,
                           const ValidationOptions& options) {
  require(options.folds >= 2, "validation", "folds >= 2", options.folds);
  require(options.holdout_fraction > 0 && options.holdout_fraction < 1, "validation",
          "0 < holdout_fraction < 1", options.holdout_fraction);
  const bool classes = task != TaskType::Regression;
  const auto n = static_cast<std::int64_t>(y.size());
  auto by_group = groups(y, classes);
  Rng rng = Rng::stream(options.seed, {hash_name("automl::validation")});
  const std::string rows = std::to_string(n) + " rows";
  const std::string limit = std::to_string(options.max_kfold_rows);

  Validation v;
  if (n <= options.max_kfold_rows) {
    if (n < options.folds)
      throw InvalidArgument("validation: " + rows + " are fewer than " +
                            std::to_string(options.folds) + " folds");
    const std::string k = std::to_string(options.folds) + "-fold";
    v.method = k;
    v.reason = rows + " <= " + limit + ": " + (classes ? "stratified " : "shuffled ") + k +
               " cross-validation";
    v.folds = k_fold(std::move(by_group), n, options.folds, rng);
    v.scored.resize(static_cast<std::size_t>(n));
    std::iota(v.scored.begin(), v.scored.end(), std::int64_t{0});
    return v;
  }

  if (classes)
    for (const auto& [c, members] : by_group)
      if (members.size() < 2)
        throw InvalidArgument("validation: class " + std::to_string(c) +
                              " has 1 row; a holdout split needs at least 2 of each class");
  const auto total =
      static_cast<std::size_t>(std::llround(options.holdout_fraction * static_cast<double>(n)));
  if (total == 0 || total >= static_cast<std::size_t>(n))
    throw InvalidArgument("validation: a holdout of " + percent(options.holdout_fraction) +
                          "% of " + rows + " leaves the " +
                          (total == 0 ? "validation" : "training") + " part empty");
  const std::string method = "holdout " + percent(options.holdout_fraction) + "%";
  v.method = method;
  v.reason = rows + " > " + limit + ": " + method + (classes ? " (stratified)" : " (shuffled)");
  Fold fold;
  fold.valid = holdout(std::move(by_group), options.holdout_fraction, total, rng);
  fold.train = complement(fold.valid, n);
  v.scored = fold.valid;
  v.folds.push_back(std::move(fold));
  return v;
}

}  // namespace quarry::automl
