#include "quarry/samplers/auto.hpp"

#include <optional>
#include <set>
#include <utility>
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

bool conditional(const Space& space, const std::vector<Trial>& history) {
  for (const Param& p : space.params())
    if (!p.conditions().empty()) return true;
  std::optional<std::set<std::string>> first;
  for (const Trial& t : history) {
    if (!t.finished() || t.params.empty()) continue;
    std::set<std::string> names;
    for (const auto& [name, value] : t.params) names.insert(name);
    if (!first) {
      first = std::move(names);
    } else if (names != *first) {
      return true;
    }
  }
  return false;
}

bool scheduled(const std::vector<Trial>& history) {
  std::optional<double> budget;
  for (const Trial& t : history) {
    if (t.state == TrialState::Pruned) return true;
    if (t.state != TrialState::Complete) continue;
    if (budget && *budget != t.budget) return true;
    budget = t.budget;
  }
  return false;
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
  if (conditional(space, history) || scheduled(history)) return "tpe";
  for (const Trial& t : history)
    if (t.attrs.count(study::kFeasibleAttr)) return "tpe";
  std::size_t numbers = 0, categories = 0;
  for (const Param& p : space.params()) {
    if (p.kind() == space::ParamKind::Fixed) continue;
    ++(numeric(p) ? numbers : categories);
  }
  std::int64_t complete = 0;
  for (const Trial& t : history) complete += t.state == TrialState::Complete ? 1 : 0;
  if (numbers >= categories && complete < options_.gp_trials) return "gp";
  return "tpe";
}

Sampler& AutoSampler::by_name(const std::string& name) {
  if (name == "gp") return gp_;
  if (name == "nsga2") return nsga2_;
  return tpe_;
}

Params AutoSampler::sample_relative(const Space& space, const std::vector<Trial>& history,
                                    std::int64_t number) {
  const std::string name = choose(space, history);
  {
    const std::lock_guard lock(mutex_);
    chosen_[number] = name;
    while (chosen_.size() > kRemembered) chosen_.erase(chosen_.begin());
  }
  return by_name(name).sample_relative(space, history, number);
}

Value AutoSampler::sample_independent(const Param& param, const Params& assigned,
                                      const std::vector<Trial>& history, std::int64_t number) {
  std::string name;
  {
    const std::lock_guard lock(mutex_);
    const auto it = chosen_.find(number);
    if (it != chosen_.end()) name = it->second;
  }
  // A trial the joint proposal never saw: the rule on what is known without the space.
  if (name.empty()) name = choose(Space(), history);
  return by_name(name).sample_independent(param, assigned, history, number);
}

}  // namespace quarry::samplers
