#include "quarry/automl/family_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "quarry/core/error.hpp"

namespace quarry::automl {

namespace {

struct Account {
  double seconds = 0;  // wall time of its finished trials
  std::int64_t finished = 0;
  std::vector<double> running;  // seconds so far of each running one
  std::optional<double> best;   // lowest loss at the whole budget
  std::int64_t whole = 0;       // trials that ran the whole budget
  std::int64_t stale = 0;       // of those, how many came after its best
};

// A family is ranked once this many of its trials ran the whole budget: its cheap first try
// alone (4 boosting rounds) says little of what it can do.
constexpr std::int64_t kRankedAfter = 3;
// A family's weight halves for every this many whole-budget trials since its best: time goes to
// the families still improving (a two-parameter linear model is settled after a few dozen).
constexpr double kStaleHalving = 50;

}  // namespace

FamilySampler::FamilySampler(std::shared_ptr<samplers::Sampler> inner,
                             std::set<std::string> budgeted, double max_budget)
    : inner_(std::move(inner)), budgeted_(std::move(budgeted)), max_budget_(max_budget) {
  if (!inner_) throw InvalidArgument("FamilySampler: no inner sampler");
}

void FamilySampler::attach(const samplers::SamplerContext& context) {
  Sampler::attach(context);
  inner_->attach(context);
}

std::string FamilySampler::choose(const std::vector<std::string>& names,
                                  const std::vector<Trial>& history) const {
  std::map<std::string, Account> accounts;
  for (const auto& name : names) accounts[name];
  for (const Trial& t : history) {
    const auto f = t.params.find("family");
    if (f == t.params.end()) continue;
    const auto it = accounts.find(space::to_string(f->second));
    if (it == accounts.end()) continue;
    Account& a = it->second;
    // A promotion that only repeated its parent (same_as) cost nothing.
    if (t.attrs.contains("same_as")) continue;
    if (t.state == TrialState::Running) {
      a.running.push_back(t.duration().value_or(0));
      continue;
    }
    if (!t.finished()) continue;
    ++a.finished;
    a.seconds += t.duration().value_or(0);
    const bool whole = !budgeted_.contains(it->first) || t.budget == 0 || t.budget >= max_budget_;
    const auto l = loss(t);
    if (!l || !whole) continue;
    ++a.whole;
    ++a.stale;
    if (!a.best || *l < *a.best) {
      a.best = *l;
      a.stale = 0;
    }
  }
  for (auto& [name, a] : accounts)
    if (a.whole < kRankedAfter) a.best.reset();
  // Ranks among the families with a result: 0 for the best.
  std::vector<double> bests;
  for (const auto& [name, a] : accounts)
    if (a.best) bests.push_back(*a.best);
  std::sort(bests.begin(), bests.end());
  std::string chosen;
  double lowest = std::numeric_limits<double>::infinity();
  for (const auto& name : names) {
    const Account& a = accounts[name];
    double weight = 1;
    if (a.best) {
      const auto rank = std::lower_bound(bests.begin(), bests.end(), *a.best) - bests.begin();
      weight = std::ldexp(1.0, -static_cast<int>(rank)) *
               std::pow(0.5, static_cast<double>(a.stale) / kStaleHalving);
    }
    const double mean = a.finished ? a.seconds / static_cast<double>(a.finished) : 0;
    double spent = a.seconds;
    for (double so_far : a.running) spent += std::max(so_far, mean);
    // Equal shares: the family with fewer trials first (several workers starting together).
    const auto trials = a.finished + static_cast<std::int64_t>(a.running.size());
    const double key = spent / weight + 1e-9 * static_cast<double>(trials);
    if (key < lowest) {
      lowest = key;
      chosen = name;
    }
  }
  return chosen;
}

space::Value FamilySampler::sample_independent(const space::Param& param,
                                               const space::Params& assigned,
                                               const std::vector<Trial>& history,
                                               std::int64_t number) {
  if (param.name() != "family") return inner_->sample_independent(param, assigned, history, number);
  std::vector<std::string> names;
  for (const auto& v : param.choices()) names.push_back(space::to_string(v));
  return space::Value(choose(names, history));
}

}  // namespace quarry::automl
