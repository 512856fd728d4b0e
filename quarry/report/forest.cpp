#include "quarry/report/forest.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>

#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::report {
namespace {

struct Split {
  int feature = -1;
  double threshold = 0;
  double score = 0;  ///< sum_left^2 / n_left + sum_right^2 / n_right (larger is better)
};

class Grower {
 public:
  Grower(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
         const ForestOptions& options)
      : x_(x), y_(y), options_(options) {}

  /// A tree on `rows`; `rng` orders the features tried at each split (as scikit-learn does), so
  /// that a tie between features does not always go to the first.
  Tree grow(std::vector<std::size_t> rows, Rng& rng) {
    rng_ = &rng;
    Tree tree;
    node(tree, rows, 0, rows.size(), 0);
    return tree;
  }

 private:
  // Grows the node for rows_[begin, end) and returns its index.
  int node(Tree& tree, std::vector<std::size_t>& rows, std::size_t begin, std::size_t end,
           int depth) {
    const auto index = static_cast<int>(tree.nodes.size());
    tree.nodes.emplace_back();
    double sum = 0;
    for (std::size_t i = begin; i < end; ++i) sum += y_[rows[i]];
    const auto count = end - begin;
    tree.nodes[index].value = sum / static_cast<double>(count);
    if (depth >= options_.max_depth || count < static_cast<std::size_t>(options_.min_samples_split))
      return index;
    const Split split = best_split(rows, begin, end, sum);
    if (split.feature < 0) return index;
    const auto middle =
        std::partition(rows.begin() + static_cast<std::ptrdiff_t>(begin),
                       rows.begin() + static_cast<std::ptrdiff_t>(end),
                       [&](std::size_t r) { return x_[r][split.feature] <= split.threshold; }) -
        rows.begin();
    const int left = node(tree, rows, begin, static_cast<std::size_t>(middle), depth + 1);
    const int right = node(tree, rows, static_cast<std::size_t>(middle), end, depth + 1);
    auto& n = tree.nodes[index];
    n.feature = split.feature;
    n.threshold = split.threshold;
    n.left = left;
    n.right = right;
    return index;
  }

  Split best_split(const std::vector<std::size_t>& rows, std::size_t begin, std::size_t end,
                   double sum) {
    const auto count = end - begin;
    const auto min_leaf = static_cast<std::size_t>(std::max(1, options_.min_samples_leaf));
    // No split of a pure node (scikit-learn stops there too).
    bool pure = true;
    for (std::size_t i = begin + 1; i < end && pure; ++i) pure = y_[rows[i]] == y_[rows[begin]];
    Split best;
    if (pure) return best;
    best.score = sum * sum / static_cast<double>(count);  // the node unsplit
    const double parent_score = best.score;
    const auto features = static_cast<int>(x_[rows[begin]].size());
    order_.assign(rows.begin() + static_cast<std::ptrdiff_t>(begin),
                  rows.begin() + static_cast<std::ptrdiff_t>(end));
    features_.resize(static_cast<std::size_t>(features));
    for (int f = 0; f < features; ++f) features_[static_cast<std::size_t>(f)] = f;
    for (std::size_t i = features_.size(); i > 1; --i)
      std::swap(features_[i - 1], features_[rng_->below(i)]);
    for (const int f : features_) {
      std::sort(order_.begin(), order_.end(),
                [&](std::size_t a, std::size_t b) { return x_[a][f] < x_[b][f]; });
      double left_sum = 0;
      for (std::size_t i = 0; i + 1 < count; ++i) {
        left_sum += y_[order_[i]];
        const double here = x_[order_[i]][f], next = x_[order_[i + 1]][f];
        if (!(here < next)) continue;
        const std::size_t n_left = i + 1, n_right = count - n_left;
        if (n_left < min_leaf || n_right < min_leaf) continue;
        const double right_sum = sum - left_sum;
        const double score = left_sum * left_sum / static_cast<double>(n_left) +
                             right_sum * right_sum / static_cast<double>(n_right);
        if (score > best.score + 1e-12 * std::abs(parent_score)) {
          best.score = score;
          best.feature = f;
          best.threshold = here + (next - here) / 2;
          if (!(best.threshold < next)) best.threshold = here;
        }
      }
    }
    return best;
  }

  const std::vector<std::vector<double>>& x_;
  const std::vector<double>& y_;
  const ForestOptions& options_;
  std::vector<std::size_t> order_;
  std::vector<int> features_;
  Rng* rng_ = nullptr;
};

}  // namespace

double Tree::predict(const std::vector<double>& x) const {
  int i = 0;
  while (nodes[i].feature >= 0)
    i = x[nodes[i].feature] <= nodes[i].threshold ? nodes[i].left : nodes[i].right;
  return nodes[i].value;
}

Forest Forest::fit(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                   const ForestOptions& options) {
  if (x.empty() || x.size() != y.size())
    throw InvalidArgument("random forest: " + std::to_string(x.size()) + " rows and " +
                          std::to_string(y.size()) + " targets (need as many, at least one)");
  if (options.trees < 1) throw InvalidArgument("random forest: trees must be at least 1");
  Forest forest;
  forest.features_ = static_cast<int>(x.front().size());
  for (const auto& row : x)
    if (static_cast<int>(row.size()) != forest.features_)
      throw InvalidArgument("random forest: rows of different lengths");
  Grower grower(x, y, options);
  std::vector<std::size_t> rows(x.size());
  for (int t = 0; t < options.trees; ++t) {
    Rng rng = Rng::stream(options.seed, {static_cast<std::uint64_t>(t)});
    for (auto& r : rows) r = static_cast<std::size_t>(rng.below(x.size()));
    forest.trees_.push_back(grower.grow(rows, rng));
  }
  return forest;
}

double Forest::predict(const std::vector<double>& x) const {
  double sum = 0;
  for (const auto& tree : trees_) sum += tree.predict(x);
  return sum / static_cast<double>(trees_.size());
}

}  // namespace quarry::report
