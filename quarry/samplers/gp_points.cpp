#include "quarry/samplers/gp_points.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace quarry::samplers {

namespace {

/// Indices into `complete` ((index in history, loss) pairs) of the rows to keep: all when there
/// are at most max_points, else the best half by loss, then the most recent.
std::vector<std::size_t> kept(const std::vector<std::pair<std::int64_t, double>>& complete,
                              const std::vector<Trial>& history, std::size_t max_points) {
  std::vector<std::size_t> order(complete.size());
  std::iota(order.begin(), order.end(), 0);
  if (complete.size() <= max_points) return order;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return complete[a].second < complete[b].second;
  });
  const auto half = static_cast<std::ptrdiff_t>(max_points / 2);
  std::vector<std::size_t> keep(order.begin(), order.begin() + half);
  std::vector<std::size_t> rest(order.begin() + half, order.end());
  std::sort(rest.begin(), rest.end(), [&](std::size_t a, std::size_t b) {
    return history[static_cast<std::size_t>(complete[a].first)].number >
           history[static_cast<std::size_t>(complete[b].first)].number;
  });
  keep.insert(keep.end(), rest.begin(),
              rest.begin() + static_cast<std::ptrdiff_t>(max_points - keep.size()));
  return keep;
}

}  // namespace

GpObservations gp_observations(const Sampler& sampler, const Encoder& encoder,
                               const std::vector<Trial>& history, std::int64_t number,
                               std::size_t max_points) {
  std::vector<std::pair<std::int64_t, double>> complete;  // (index in history, loss)
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < history.size(); ++i) {
    const Trial& t = history[i];
    if (t.number == number || t.params.empty()) continue;
    if (const auto loss = sampler.loss(t))
      complete.emplace_back(static_cast<std::int64_t>(i), *loss);
    else if (t.state == TrialState::Running || t.state == TrialState::Waiting)
      pending.push_back(i);
  }
  GpObservations obs;
  for (std::size_t k : kept(complete, history, max_points)) {
    obs.x.push_back(encoder.encode(history[static_cast<std::size_t>(complete[k].first)].params));
    obs.loss.push_back(complete[k].second);
  }
  std::sort(pending.begin(), pending.end(),
            [&](std::size_t a, std::size_t b) { return history[a].number > history[b].number; });
  if (pending.size() > max_points) pending.resize(max_points);
  for (std::size_t i : pending) obs.pending.push_back(encoder.encode(history[i].params));
  return obs;
}

GpTrainingSet with_constant_liars(const GpObservations& obs, const std::vector<double>& y) {
  GpTrainingSet set{obs.x, y};
  const double lie = *std::min_element(y.begin(), y.end());  // CL-min
  for (const auto& p : obs.pending) set.x.push_back(p), set.y.push_back(lie);
  return set;
}

std::vector<std::vector<double>> incumbents(const GpObservations& obs, const std::vector<double>& y,
                                            std::size_t count) {
  std::vector<std::size_t> order(y.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return y[a] < y[b]; });
  std::vector<std::vector<double>> out;
  for (std::size_t k = 0; k < std::min(count, order.size()); ++k) out.push_back(obs.x[order[k]]);
  return out;
}

}  // namespace quarry::samplers
