#include "quarry/report/importance.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "quarry/core/error.hpp"

namespace quarry::report {
namespace {

struct Leaf {
  std::vector<double> low, high;  // the leaf's box inside [0, 1]^d
  double value = 0;
  double volume = 1;
};

void collect_leaves(const Tree& tree, int index, std::vector<double>& low,
                    std::vector<double>& high, std::vector<Leaf>& out) {
  const auto& node = tree.nodes[index];
  if (node.feature < 0) {
    Leaf leaf{low, high, node.value, 1};
    for (std::size_t f = 0; f < low.size(); ++f) leaf.volume *= high[f] - low[f];
    if (leaf.volume > 0) out.push_back(std::move(leaf));
    return;
  }
  const auto f = static_cast<std::size_t>(node.feature);
  const double cut = std::clamp(node.threshold, low[f], high[f]);
  const double saved_high = high[f], saved_low = low[f];
  high[f] = cut;
  collect_leaves(tree, node.left, low, high, out);
  high[f] = saved_high;
  low[f] = cut;
  collect_leaves(tree, node.right, low, high, out);
  low[f] = saved_low;
}

// The variance, over x_f uniform in [0, 1], of the tree's prediction averaged over the other
// features: piecewise constant between the leaves' edges along f.
double main_effect_variance(const std::vector<Leaf>& leaves, std::size_t f, double mean) {
  std::vector<double> edges{0.0, 1.0};
  for (const auto& leaf : leaves) {
    edges.push_back(leaf.low[f]);
    edges.push_back(leaf.high[f]);
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  std::vector<double> delta(edges.size(), 0.0);  // difference array over the intervals
  const auto at = [&](double x) {
    return static_cast<std::size_t>(std::lower_bound(edges.begin(), edges.end(), x) -
                                    edges.begin());
  };
  for (const auto& leaf : leaves) {
    const double width = leaf.high[f] - leaf.low[f];
    const double height = leaf.value * leaf.volume / width;  // value x the other sides' volume
    delta[at(leaf.low[f])] += height;
    delta[at(leaf.high[f])] -= height;
  }
  double marginal = 0, variance = 0;
  for (std::size_t i = 0; i + 1 < edges.size(); ++i) {
    marginal += delta[i];
    const double d = marginal - mean;
    variance += (edges[i + 1] - edges[i]) * d * d;
  }
  return variance;
}

}  // namespace

std::vector<double> fanova(const Forest& forest) {
  const auto d = static_cast<std::size_t>(forest.features());
  std::vector<double> shares(d, 0.0);
  std::size_t varying = 0;
  std::vector<Leaf> leaves;
  for (const auto& tree : forest.trees()) {
    leaves.clear();
    std::vector<double> low(d, 0.0), high(d, 1.0);
    collect_leaves(tree, 0, low, high, leaves);
    double mean = 0;
    for (const auto& leaf : leaves) mean += leaf.volume * leaf.value;
    double total = 0;
    for (const auto& leaf : leaves)
      total += leaf.volume * (leaf.value - mean) * (leaf.value - mean);
    if (!(total > 1e-300)) continue;
    ++varying;
    for (std::size_t f = 0; f < d; ++f)
      shares[f] += std::min(1.0, main_effect_variance(leaves, f, mean) / total);
  }
  if (varying > 0)
    for (auto& s : shares) s /= static_cast<double>(varying);
  return shares;
}

std::vector<double> marginal_2d(const Forest& forest, int a, int b, int size) {
  const auto d = static_cast<std::size_t>(forest.features());
  if (a < 0 || b < 0 || a == b || static_cast<std::size_t>(std::max(a, b)) >= d || size < 1)
    throw InvalidArgument("marginal_2d: columns " + std::to_string(a) + " and " +
                          std::to_string(b) + " of " + std::to_string(d) + ", grid " +
                          std::to_string(size));
  const auto n = static_cast<std::size_t>(size);
  std::vector<double> grid(n * n, 0.0);
  // The cells whose centres (k + 0.5) / size lie in [low, high) (or [low, 1] at the top).
  const auto cells = [&](double low, double high) {
    const auto first = static_cast<std::size_t>(std::max(0.0, std::ceil(low * size - 0.5)));
    auto last = static_cast<std::size_t>(std::max(0.0, std::ceil(high * size - 0.5)));
    if (high >= 1.0) last = n;
    return std::pair{std::min(first, n), std::min(last, n)};
  };
  std::vector<Leaf> leaves;
  const auto fa = static_cast<std::size_t>(a), fb = static_cast<std::size_t>(b);
  for (const auto& tree : forest.trees()) {
    leaves.clear();
    std::vector<double> low(d, 0.0), high(d, 1.0);
    collect_leaves(tree, 0, low, high, leaves);
    for (const auto& leaf : leaves) {
      const double weight = leaf.value * leaf.volume /
                            ((leaf.high[fa] - leaf.low[fa]) * (leaf.high[fb] - leaf.low[fb]));
      const auto [j0, j1] = cells(leaf.low[fa], leaf.high[fa]);
      const auto [i0, i1] = cells(leaf.low[fb], leaf.high[fb]);
      for (auto i = i0; i < i1; ++i)
        for (auto j = j0; j < j1; ++j) grid[i * n + j] += weight;
    }
  }
  for (auto& v : grid) v /= static_cast<double>(forest.trees().size());
  return grid;
}

ImportanceData importance_data(const Space& space, const std::vector<Trial>& trials,
                               std::size_t objective) {
  std::vector<const Trial*> used;
  for (const auto& t : trials)
    if (t.state == TrialState::Complete && objective < t.values.size() &&
        std::isfinite(t.values[objective]))
      used.push_back(&t);
  ImportanceData data;
  std::vector<const space::Param*> columns;
  for (const auto& p : space.params()) {
    if (p.kind() == space::ParamKind::Fixed || (p.is_discrete() && p.count() < 2)) continue;
    const bool everywhere = std::all_of(
        used.begin(), used.end(), [&](const Trial* t) { return t->params.count(p.name()) > 0; });
    if (!everywhere || used.empty()) continue;
    columns.push_back(&p);
    data.params.push_back(p.name());
  }
  for (const Trial* t : used) {
    std::vector<double> row;
    row.reserve(columns.size());
    for (const auto* p : columns) row.push_back(p->to_unit(t->params.at(p->name())));
    data.x.push_back(std::move(row));
    data.y.push_back(t->values[objective]);
    data.trials.push_back(t->number);
  }
  return data;
}

FittedImportance fit_importance(const Space& space, const std::vector<Trial>& trials,
                                std::size_t objective, const ForestOptions& options) {
  auto data = importance_data(space, trials, objective);
  if (data.y.size() < 2)
    throw InvalidArgument("parameter importance needs at least 2 complete trials, the study has " +
                          std::to_string(data.y.size()));
  if (data.params.empty())
    throw InvalidArgument("parameter importance: no parameter varies across the complete trials");
  auto forest = Forest::fit(data.x, data.y, options);
  auto shares = fanova(forest);
  double sum = 0;
  for (double s : shares) sum += s;
  for (auto& s : shares) s = sum > 0 ? s / sum : 0.0;
  return {std::move(data), std::move(forest), std::move(shares)};
}

std::vector<std::pair<std::string, double>> parameter_importance(const Space& space,
                                                                 const std::vector<Trial>& trials,
                                                                 std::size_t objective,
                                                                 const ForestOptions& options) {
  const auto fitted = fit_importance(space, trials, objective, options);
  std::vector<std::pair<std::string, double>> ranked;
  for (std::size_t i = 0; i < fitted.shares.size(); ++i)
    ranked.emplace_back(fitted.data.params[i], fitted.shares[i]);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return ranked;
}

}  // namespace quarry::report
