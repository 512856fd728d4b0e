#include "quarry/data/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <utility>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::data {

namespace {

/// Throws unless x holds rows() * row_size() values.
void check_consistent(const Dataset& d, const char* who) {
  const auto expected = d.rows() * d.row_size();
  if (static_cast<std::int64_t>(d.x.size()) != expected)
    throw InvalidArgument(std::string(who) + ": dataset '" + d.source + "' has " +
                          std::to_string(d.x.size()) + " values for " + std::to_string(d.rows()) +
                          " rows of " + std::to_string(d.row_size()) + "; expected " +
                          std::to_string(expected));
}

/// Fisher-Yates over quarry::Rng (std::shuffle's order differs between standard libraries).
void shuffle(std::vector<std::int64_t>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

/// The row indices of each class, in row order; throws for a label that is not a class index.
std::vector<std::vector<std::int64_t>> rows_by_class(const Dataset& d) {
  std::vector<std::vector<std::int64_t>> by_class(static_cast<std::size_t>(d.num_classes));
  for (std::int64_t i = 0; i < d.rows(); ++i) {
    const float label = d.y[static_cast<std::size_t>(i)];
    if (!(label >= 0 && label < static_cast<float>(d.num_classes)) || label != std::floor(label))
      throw InvalidArgument("split: row " + std::to_string(i) + " of '" + d.source +
                            "' has label " + std::to_string(label) + ", not a class index in [0, " +
                            std::to_string(d.num_classes) + ")");
    by_class[static_cast<std::size_t>(label)].push_back(i);
  }
  return by_class;
}

/// How many rows of each class go to validation: floor(f * n_c) each, then one more for the
/// classes with the largest remainders (ties: lower class first) until the total is `total`.
std::vector<std::size_t> stratified_counts(const std::vector<std::vector<std::int64_t>>& by_class,
                                           double fraction, std::size_t total) {
  std::vector<std::size_t> counts(by_class.size());
  std::vector<std::pair<double, std::size_t>> remainders;
  std::size_t assigned = 0;
  for (std::size_t c = 0; c < by_class.size(); ++c) {
    const double share = fraction * static_cast<double>(by_class[c].size());
    counts[c] = static_cast<std::size_t>(std::floor(share));
    assigned += counts[c];
    remainders.emplace_back(-(share - std::floor(share)), c);
  }
  std::sort(remainders.begin(), remainders.end());
  for (std::size_t k = 0; assigned < total && k < remainders.size(); ++k, ++assigned)
    ++counts[remainders[k].second];
  return counts;
}

/// Indices of the validation rows (unsorted).
std::vector<std::int64_t> validation_rows(const Dataset& all, const SplitOptions& options,
                                          std::size_t total, Rng& rng) {
  if (!options.stratify || all.num_classes <= 0) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(all.rows()));
    std::iota(order.begin(), order.end(), 0);
    shuffle(order, rng);
    order.resize(total);
    return order;
  }
  auto by_class = rows_by_class(all);
  const auto counts = stratified_counts(by_class, options.validation_fraction, total);
  std::vector<std::int64_t> chosen;
  for (std::size_t c = 0; c < by_class.size(); ++c) {
    shuffle(by_class[c], rng);
    chosen.insert(chosen.end(), by_class[c].begin(),
                  by_class[c].begin() + static_cast<std::ptrdiff_t>(counts[c]));
  }
  return chosen;
}

}  // namespace

std::int64_t Dataset::row_size() const {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

Dataset Dataset::take(const std::vector<std::int64_t>& indices) const {
  check_consistent(*this, "Dataset::take");
  Dataset out;
  out.shape = shape;
  out.num_classes = num_classes;
  out.feature_names = feature_names;
  out.class_names = class_names;
  out.source = source;
  const auto size = static_cast<std::size_t>(row_size());
  out.x.reserve(indices.size() * size);
  out.y.reserve(indices.size());
  for (std::int64_t i : indices) {
    if (i < 0 || i >= rows())
      throw InvalidArgument("Dataset::take: row " + std::to_string(i) + " is outside [0, " +
                            std::to_string(rows()) + ") of '" + source + "'");
    const auto begin = x.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * size);
    out.x.insert(out.x.end(), begin, begin + static_cast<std::ptrdiff_t>(size));
    out.y.push_back(y[static_cast<std::size_t>(i)]);
  }
  return out;
}

Dataset Dataset::head(std::int64_t count) const {
  std::vector<std::int64_t> indices(
      static_cast<std::size_t>(std::clamp<std::int64_t>(count, 0, rows())));
  std::iota(indices.begin(), indices.end(), 0);
  return take(indices);
}

Dataset concat(const Dataset& first, const Dataset& second) {
  if (first.shape != second.shape || first.num_classes != second.num_classes)
    throw InvalidArgument("concat: " + first.source + " and " + second.source +
                          " differ in example shape or class count");
  Dataset out = first;
  out.x.insert(out.x.end(), second.x.begin(), second.x.end());
  out.y.insert(out.y.end(), second.y.begin(), second.y.end());
  return out;
}

std::vector<std::int64_t> validation_indices(const Dataset& all, const SplitOptions& options) {
  const double f = options.validation_fraction;
  if (!(f > 0 && f < 1))
    throw InvalidArgument("split: validation_fraction must be in (0, 1), got " + std::to_string(f));
  const auto total = static_cast<std::size_t>(std::llround(f * static_cast<double>(all.rows())));
  if (total == 0 || total >= static_cast<std::size_t>(all.rows()))
    throw InvalidArgument("split: validation_fraction " + std::to_string(f) + " of " +
                          std::to_string(all.rows()) + " rows of '" + all.source + "' leaves the " +
                          (total == 0 ? "validation" : "training") + " part empty");
  Rng rng = Rng::stream(options.seed, {hash_name("data::split")});
  std::vector<std::int64_t> validation = validation_rows(all, options, total, rng);
  std::sort(validation.begin(), validation.end());
  return validation;
}

Split split(const Dataset& all, const SplitOptions& options) {
  const std::vector<std::int64_t> validation = validation_indices(all, options);
  std::vector<std::int64_t> train;
  train.reserve(static_cast<std::size_t>(all.rows()) - validation.size());
  auto next = validation.begin();
  for (std::int64_t i = 0; i < all.rows(); ++i) {
    if (next != validation.end() && *next == i)
      ++next;
    else
      train.push_back(i);
  }
  return {all.take(train), all.take(validation)};
}

void scale(Dataset& d, float max) {
  if (!(max > 0) || !std::isfinite(max))
    throw InvalidArgument("scale: max must be positive and finite, got " + std::to_string(max));
  for (float& v : d.x) v /= max;
}

Standardizer Standardizer::fit(const Dataset& train) {
  check_consistent(train, "Standardizer::fit");
  if (train.rows() == 0)
    throw InvalidArgument("Standardizer::fit: dataset '" + train.source + "' has no rows");
  const auto size = static_cast<std::size_t>(train.row_size());
  const auto n = static_cast<double>(train.rows());
  std::vector<double> sum(size, 0.0), squares(size, 0.0);
  for (std::size_t i = 0; i < train.x.size(); ++i) sum[i % size] += train.x[i];
  for (double& s : sum) s /= n;
  for (std::size_t i = 0; i < train.x.size(); ++i) {
    const double d = train.x[i] - sum[i % size];
    squares[i % size] += d * d;
  }
  Standardizer s;
  for (std::size_t j = 0; j < size; ++j) {
    const double stddev = std::sqrt(squares[j] / n);
    s.mean.push_back(static_cast<float>(sum[j]));
    s.stddev.push_back(stddev > 0 ? static_cast<float>(stddev) : 1.0f);
  }
  return s;
}

void Standardizer::apply(Dataset& d) const {
  check_consistent(d, "Standardizer::apply");
  const std::size_t size = mean.size();
  if (static_cast<std::int64_t>(size) != d.row_size() || stddev.size() != size)
    throw InvalidArgument("Standardizer::apply: fitted on " + std::to_string(size) +
                          " features, dataset '" + d.source + "' has " +
                          std::to_string(d.row_size()));
  for (std::size_t i = 0; i < d.x.size(); ++i)
    d.x[i] = (d.x[i] - mean[i % size]) / stddev[i % size];
}

}  // namespace quarry::data
