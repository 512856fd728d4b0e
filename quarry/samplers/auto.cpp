#include "quarry/samplers/auto.hpp"

#include <algorithm>
#include <optional>
#include <variant>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/study/constraints.hpp"

namespace quarry::samplers {

namespace {

/// Trials remembered with their sampler (define-by-run parameters arrive while a trial runs);
/// older entries are dropped, and a trial past them is served by the rule applied again.
constexpr std::size_t kRemembered = 4096;

bool numeric(const Param& p) {
  switch (p.kind()) {
    case space::ParamKind::Int:
    case space::ParamKind::Float:
      return true;
    case space::ParamKind::Choice:
      if (!p.ordered()) return false;
      for (const Value& v : p.choices())
        if (!std::holds_alternative<std::int64_t>(v) && !std::holds_alternative<double>(v))
          return false;
      return true;
    default:
      return false;
  }
}

/// What the rule reads from the history, in one pass.
struct HistoryFacts {
  bool varying_params = false;  ///< finished trials hold different parameter names
  bool scheduled = false;       ///< a Pruned trial, or Complete trials at different budgets
  bool constrained = false;     ///< a trial carries a "feasible" attribute
  std::int64_t complete = 0;
};

bool same_names(const Params& a, const Params& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const auto& x, const auto& y) { return x.first == y.first; });
}

HistoryFacts facts_of(const std::vector<Trial>& history) {
  HistoryFacts f;
  const Params* first = nullptr;
  std::optional<double> budget;
  for (const Trial& t : history) {
    if (t.attrs.count(study::kFeasibleAttr)) f.constrained = true;
    if (t.state == TrialState::Pruned) f.scheduled = true;
    if (t.state == TrialState::Complete) {
      ++f.complete;
      if (budget && *budget != t.budget) f.scheduled = true;
      budget = t.budget;
    }
    if (!t.finished() || t.params.empty()) continue;
    if (first == nullptr)
      first = &t.params;
    else if (!same_names(*first, t.params))
      f.varying_params = true;
  }
  return f;
}

}  // namespace

AutoOptions auto_options_from_json(const nlohmann::json& j, std::uint64_t seed) {
  const ComponentOptions options("sampler 'auto'", j, {"seed", "gp_trials"});
  const AutoOptions d;
  return {.seed = options.count("seed", seed),
          .gp_trials = options.integer("gp_trials", d.gp_trials, 0)};
}

AutoSampler::AutoSampler(AutoOptions options)
    : options_(options),
      gp_({.seed = options.seed}),
      tpe_({.seed = options.seed}),
      nsga2_({.seed = options.seed}) {
  require(options_.gp_trials >= 0, "sampler 'auto'", "gp_trials >= 0", options_.gp_trials);
}

void AutoSampler::attach(const SamplerContext& context) {
  Sampler::attach(context);
  gp_.attach(context);
  tpe_.attach(context);
  nsga2_.attach(context);
}

std::string AutoSampler::choose(const Space& space, const std::vector<Trial>& history) const {
  if (context_.directions.size() > 1) return "nsga2";
  const HistoryFacts facts = facts_of(history);
  const bool conditional =
      facts.varying_params || std::any_of(space.params().begin(), space.params().end(),
                                          [](auto& p) { return !p.conditions().empty(); });
  if (conditional || facts.scheduled || facts.constrained) return "tpe";
  std::size_t numbers = 0, categories = 0;
  for (const Param& p : space.params()) {
    if (p.kind() == space::ParamKind::Fixed) continue;
    ++(numeric(p) ? numbers : categories);
  }
  return numbers >= categories && facts.complete < options_.gp_trials ? "gp" : "tpe";
}

Sampler& AutoSampler::by_name(const std::string& name) {
  if (name == "gp") return gp_;
  if (name == "nsga2") return nsga2_;
  return tpe_;
}

Params AutoSampler::sample_relative(const Space& space, const std::vector<Trial>& history,
                                    std::int64_t number) {
  Sampler& chosen = by_name(choose(space, history));
  {
    const std::lock_guard lock(mutex_);
    chosen_[number] = &chosen;
    while (chosen_.size() > kRemembered) chosen_.erase(chosen_.begin());
  }
  return chosen.sample_relative(space, history, number);
}

Value AutoSampler::sample_independent(const Param& param, const Params& assigned,
                                      const std::vector<Trial>& history, std::int64_t number) {
  Sampler* chosen = nullptr;
  {
    const std::lock_guard lock(mutex_);
    const auto it = chosen_.find(number);
    if (it != chosen_.end()) chosen = it->second;
  }
  // A trial the joint proposal never saw: the rule on what is known without the space.
  if (chosen == nullptr) chosen = &by_name(choose(Space(), history));
  return chosen->sample_independent(param, assigned, history, number);
}

}  // namespace quarry::samplers
