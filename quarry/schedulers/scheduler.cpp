#include "quarry/schedulers/scheduler.hpp"

#include <algorithm>

namespace quarry::schedulers {

Assignment FullBudget::assign(SchedulerContext& context, const std::string& worker,
                              std::optional<std::int64_t> max_trials) {
  if (auto waiting = context.claim_waiting(worker)) return Assignment::run(std::move(*waiting));
  std::optional<std::int64_t> limit = max_trials;
  if (auto capacity = context.capacity()) limit = limit ? std::min(*limit, *capacity) : *capacity;
  auto trial = context.create_trial({.state = TrialState::Running, .worker = worker}, limit);
  if (!trial) return Assignment::done();
  trial->params = context.propose(trial->number);
  context.set_params(trial->number, trial->params);
  return Assignment::run(std::move(*trial));
}

}  // namespace quarry::schedulers
