#include "quarry/schedulers/asha.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "quarry/core/error.hpp"
#include "quarry/space/value.hpp"

namespace quarry::schedulers {

namespace {

using Trials = std::vector<Trial>;

void require(bool ok, const std::string& rule, std::int64_t got) {
  if (!ok) throw InvalidArgument("Asha: " + rule + " must hold, got " + std::to_string(got));
}

/// min_budget * eta^k for as long as it stays below max_budget, then max_budget.
std::vector<double> rung_budgets(const AshaOptions& o) {
  std::vector<double> out;
  for (std::int64_t b = o.min_budget; b < o.max_budget;) {
    out.push_back(static_cast<double>(b));
    b = b > o.max_budget / o.eta ? o.max_budget : b * o.eta;  // no overflow
  }
  out.push_back(static_cast<double>(o.max_budget));
  return out;
}

/// The first objective of a trial that can be ranked: Complete with a non-NaN value.
std::optional<double> rank_value(const Trial& t) {
  if (t.state != TrialState::Complete || t.values.empty() || std::isnan(t.values[0]))
    return std::nullopt;
  return t.values[0];
}

bool any_unfinished(const Trials& trials) {
  return std::any_of(trials.begin(), trials.end(), [](const Trial& t) { return !t.finished(); });
}

}  // namespace

Asha::Asha(AshaOptions options) : options_(options) {
  require(options_.max_budget >= 1, "max_budget >= 1", options_.max_budget);
  require(options_.min_budget >= 1, "min_budget >= 1", options_.min_budget);
  require(options_.min_budget <= options_.max_budget, "min_budget <= max_budget",
          options_.min_budget);
  require(options_.eta >= 2, "eta >= 2", options_.eta);
  rungs_ = rung_budgets(options_);
}

std::optional<std::int64_t> Asha::rung_of(double budget) const {
  const auto it = std::find(rungs_.begin(), rungs_.end(), budget);
  if (it == rungs_.end()) return std::nullopt;
  return static_cast<std::int64_t>(it - rungs_.begin());
}

std::optional<AshaPromotion> Asha::next_promotion(const Trials& trials, Direction direction) const {
  std::set<std::int64_t> promoted;
  // Per group (one unless group_by is set), per rung: the trials that can be ranked.
  std::map<std::string, std::vector<std::vector<const Trial*>>> groups;
  for (const Trial& t : trials) {
    if (t.parent) promoted.insert(*t.parent);
    const auto rung = rung_of(t.budget);
    if (!rung || !rank_value(t)) continue;
    std::string group;
    if (!options_.group_by.empty())
      if (const auto it = t.params.find(options_.group_by); it != t.params.end())
        group = space::to_string(it->second);
    auto& rungs = groups[group];
    rungs.resize(rungs_.size());
    rungs[static_cast<std::size_t>(*rung)].push_back(&t);
  }
  const auto before = [direction](const Trial* a, const Trial* b) {
    const double va = a->values[0], vb = b->values[0];
    if (va != vb) return direction == Direction::Minimize ? va < vb : va > vb;
    return a->number < b->number;  // ties: the earlier trial first
  };
  for (auto k = static_cast<std::int64_t>(rungs_.size()) - 2; k >= 0; --k) {
    for (auto& [group, rungs] : groups) {
      auto& rung = rungs[static_cast<std::size_t>(k)];
      std::sort(rung.begin(), rung.end(), before);
      const std::size_t top = rung.size() / static_cast<std::size_t>(options_.eta);
      for (std::size_t i = 0; i < top; ++i)
        if (!promoted.count(rung[i]->number))
          return AshaPromotion{rung[i]->number, k + 1, rungs_[static_cast<std::size_t>(k + 1)]};
    }
  }
  return std::nullopt;
}

Assignment Asha::assign(SchedulerContext& context, const std::string& worker,
                        std::optional<std::int64_t> max_trials) {
  if (auto waiting = context.claim_waiting(worker)) return Assignment::run(std::move(*waiting));
  const auto lease = context.lease(kAshaLockAttr, worker);
  const Trials trials = context.trials();
  const auto number = static_cast<std::int64_t>(trials.size());
  if (!max_trials || number < *max_trials) {
    study::NewTrial job{.state = TrialState::Running, .worker = worker};
    if (const auto promotion = next_promotion(trials, context.directions().front())) {
      job.params = trials.at(static_cast<std::size_t>(promotion->parent)).params;
      job.budget = promotion->budget;
      job.parent = promotion->parent;
    } else {
      const auto capacity = context.capacity();
      if (capacity && number >= *capacity)  // the sampler is exhausted (a grid)
        return any_unfinished(trials) ? Assignment::wait() : Assignment::done();
      job.params = context.propose(number);
      job.budget = rungs_.front();
    }
    // With max_trials as the limit: a trial enqueued meanwhile may have taken the last number.
    if (auto trial = context.create_trial(job, max_trials))
      return Assignment::run(std::move(*trial));
    return Assignment::wait();  // the next call sees the new trials
  }
  return any_unfinished(trials) ? Assignment::wait() : Assignment::done();
}

}  // namespace quarry::schedulers
