#include "quarry/schedulers/hyperband.hpp"

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "quarry/core/error.hpp"

namespace quarry::schedulers {

namespace {

using Trials = std::vector<Trial>;

struct Slot {
  std::int64_t trial = -1;
  std::optional<std::int64_t> parent;
};
struct Bracket {
  std::int64_t bracket = 0;               // b: B-1 (most exploratory) .. 0 (plain random search)
  std::vector<std::vector<Slot>> rounds;  // b + 1 rounds
};
struct State {
  std::int64_t current_bracket = 0;
  std::int64_t iteration = 0;
  std::vector<Bracket> brackets;  // every bracket started, in order
};

nlohmann::json options_json(const HyperbandOptions& o) {
  return {{"max_epochs", o.max_epochs},
          {"factor", o.factor},
          {"min_epochs", o.min_epochs},
          {"hyperband_iterations", o.hyperband_iterations}};
}

nlohmann::json to_json(const State& s, const HyperbandOptions& o) {
  nlohmann::json brackets = nlohmann::json::array();
  for (const auto& b : s.brackets) {
    nlohmann::json rounds = nlohmann::json::array();
    for (const auto& round : b.rounds) {
      nlohmann::json slots = nlohmann::json::array();
      for (const auto& slot : round)
        slots.push_back({{"trial", slot.trial},
                         {"parent", slot.parent ? nlohmann::json(*slot.parent) : nullptr}});
      rounds.push_back(std::move(slots));
    }
    brackets.push_back({{"bracket", b.bracket}, {"rounds", std::move(rounds)}});
  }
  return {{"options", options_json(o)},
          {"current_bracket", s.current_bracket},
          {"iteration", s.iteration},
          {"brackets", std::move(brackets)}};
}

State from_json(const nlohmann::json& j) {
  State s{j.at("current_bracket").get<std::int64_t>(), j.at("iteration").get<std::int64_t>(), {}};
  for (const auto& jb : j.at("brackets")) {
    Bracket b{jb.at("bracket").get<std::int64_t>(), {}};
    for (const auto& jr : jb.at("rounds")) {
      auto& round = b.rounds.emplace_back();
      for (const auto& js : jr) {
        Slot slot{js.at("trial").get<std::int64_t>(), std::nullopt};
        if (!js.at("parent").is_null()) slot.parent = js.at("parent").get<std::int64_t>();
        round.push_back(slot);
      }
    }
    s.brackets.push_back(std::move(b));
  }
  return s;
}

std::string describe(const nlohmann::json& options) {
  std::string out;
  for (const auto& [k, v] : options.items()) out += (out.empty() ? "" : ", ") + k + "=" + v.dump();
  return out;
}

/// One decision: what a worker runs next, made under the state lock.
struct Plan {
  enum class Kind { New, Promote, Wait, Done } kind = Kind::Done;
  std::size_t bracket = 0;  // index into State::brackets
  std::int64_t round = 0;
  std::optional<std::int64_t> parent;
};

class Planner {
 public:
  Planner(const HyperbandSchedule& schedule, State& state, const Trials& trials,
          Direction direction)
      : schedule_(schedule), state_(state), trials_(trials), direction_(direction) {}

  Plan decide() {
    for (std::size_t i = 0; i < state_.brackets.size(); ++i)
      if (auto plan = in_bracket(i)) return *plan;
    const auto& o = schedule_.options();
    if (state_.current_bracket == 0 && state_.iteration + 1 >= o.hyperband_iterations)
      return {any_unfinished() ? Plan::Kind::Wait : Plan::Kind::Done};
    // Nothing to do in the open brackets: start the next one rather than wait (Keras Tuner).
    if (--state_.current_bracket < 0) {
      state_.current_bracket = schedule_.num_brackets() - 1;
      ++state_.iteration;
    }
    start_bracket();
    return {Plan::Kind::New, state_.brackets.size() - 1, 0, std::nullopt};
  }

  void start_bracket() {
    Bracket b{state_.current_bracket, {}};
    b.rounds.resize(static_cast<std::size_t>(schedule_.num_rounds(b.bracket)));
    state_.brackets.push_back(std::move(b));
  }

 private:
  const Trial& trial(std::int64_t number) const {
    return trials_.at(static_cast<std::size_t>(number));
  }

  bool any_unfinished() const {
    for (const auto& t : trials_)
      if (!t.finished()) return true;
    return false;
  }

  std::vector<const Trial*> candidates(const Bracket& b, std::int64_t round) const {
    std::set<std::int64_t> promoted;
    for (const auto& slot : b.rounds[static_cast<std::size_t>(round)])
      if (slot.parent) promoted.insert(*slot.parent);
    std::vector<const Trial*> out;
    for (const auto& slot : b.rounds[static_cast<std::size_t>(round - 1)]) {
      const Trial& t = trial(slot.trial);
      if (t.state == TrialState::Complete && !t.values.empty() && !promoted.count(t.number))
        out.push_back(&t);
    }
    return out;
  }

  std::int64_t unfinished(const Bracket& b, std::int64_t round) const {
    std::int64_t n = 0;
    for (const auto& slot : b.rounds[static_cast<std::size_t>(round)])
      n += trial(slot.trial).finished() ? 0 : 1;
    return n;
  }

  std::int64_t created(const Bracket& b, std::int64_t round) const {
    return static_cast<std::int64_t>(b.rounds[static_cast<std::size_t>(round)].size());
  }

  /// No trial will join this round any more: it is full, or the round before has ended and has
  /// nothing left to promote (its other trials failed).
  bool closed(const Bracket& b, std::int64_t round) const {
    if (created(b, round) >= schedule_.size(b.bracket, round)) return true;
    return round > 0 && closed(b, round - 1) && unfinished(b, round - 1) == 0 &&
           candidates(b, round).empty();
  }

  std::optional<Plan> in_bracket(std::size_t index) const {
    const Bracket& b = state_.brackets[index];
    if (closed(b, b.bracket)) return std::nullopt;  // every trial of the last round is created
    if (!closed(b, 0)) return Plan{Plan::Kind::New, index, 0, std::nullopt};
    for (std::int64_t r = 1; r <= b.bracket; ++r) {
      if (closed(b, r)) continue;
      const auto pool = candidates(b, r);
      if (pool.empty()) continue;
      // Trials that could still beat the best candidate: unfinished or not yet created ones of
      // the round before, plus the ones already promoted from it.
      const std::int64_t pending =
          closed(b, r - 1) ? 0 : schedule_.size(b.bracket, r - 1) - created(b, r - 1);
      if (unfinished(b, r - 1) + pending + created(b, r) >= schedule_.size(b.bracket, r)) continue;
      const Trial* best = pool.front();
      for (const Trial* t : pool)
        if (better(t->values[0], best->values[0])) best = t;
      return Plan{Plan::Kind::Promote, index, r, best->number};
    }
    return std::nullopt;
  }

  bool better(double a, double b) const {
    return direction_ == Direction::Minimize ? a < b : a > b;
  }

  const HyperbandSchedule& schedule_;
  State& state_;
  const Trials& trials_;
  Direction direction_;
};

}  // namespace

// --- schedule -------------------------------------------------------------------------------

HyperbandSchedule::HyperbandSchedule(HyperbandOptions options) : options_(options) {
  require(options_.max_epochs >= 1, "Hyperband", "max_epochs >= 1", options_.max_epochs);
  require(options_.factor >= 2, "Hyperband", "factor >= 2", options_.factor);
  require(options_.min_epochs >= 1, "Hyperband", "min_epochs >= 1", options_.min_epochs);
  require(options_.min_epochs <= options_.max_epochs, "Hyperband", "min_epochs <= max_epochs",
          options_.min_epochs);
  require(options_.hyperband_iterations >= 1, "Hyperband", "hyperband_iterations >= 1",
          options_.hyperband_iterations);
}

std::int64_t HyperbandSchedule::num_brackets() const {
  double epochs = static_cast<double>(options_.max_epochs);
  std::int64_t brackets = 0;
  while (epochs >= static_cast<double>(options_.min_epochs)) {
    epochs /= static_cast<double>(options_.factor);
    ++brackets;
  }
  return brackets;
}

std::int64_t HyperbandSchedule::total_trials() const {
  std::int64_t total = 0;
  for (std::int64_t b = 0; b < num_brackets(); ++b)
    for (std::int64_t r = 0; r < num_rounds(b); ++r) total += size(b, r);
  return total * options_.hyperband_iterations;
}

std::int64_t HyperbandSchedule::size(std::int64_t bracket, std::int64_t round) const {
  const double f = static_cast<double>(options_.factor);
  const double end0 =
      std::ceil(1 + std::log(static_cast<double>(options_.max_epochs)) / std::log(f) - 1e-12);
  const double end = end0 / static_cast<double>(bracket + 1);
  return static_cast<std::int64_t>(
      std::ceil(end * std::pow(f, static_cast<double>(bracket - round)) - 1e-9));
}

std::int64_t HyperbandSchedule::epochs(std::int64_t bracket, std::int64_t round) const {
  const double f = static_cast<double>(options_.factor);
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(options_.max_epochs) /
                                                 std::pow(f, static_cast<double>(bracket - round)) -
                                             1e-9));
}

// --- scheduler ------------------------------------------------------------------------------

Hyperband::Hyperband(HyperbandOptions options) : schedule_(options) {}

namespace {

State load_state(const SchedulerContext& context, const HyperbandSchedule& schedule) {
  const auto text = context.state(kHyperbandStateAttr);
  if (!text) {
    State fresh{schedule.num_brackets() - 1, 0, {}};
    Bracket first{fresh.current_bracket, {}};
    first.rounds.resize(static_cast<std::size_t>(schedule.num_rounds(first.bracket)));
    fresh.brackets.push_back(std::move(first));
    return fresh;
  }
  const auto j = nlohmann::json::parse(*text);
  const auto wanted = options_json(schedule.options());
  if (j.at("options") != wanted)
    throw InvalidArgument("Hyperband: study '" + context.study_name() + "' was started with " +
                          describe(j.at("options")) + "; resume it with the same options, not " +
                          describe(wanted));
  return from_json(j);
}

/// Creates (as Waiting) trials the state names but the store lacks: a worker died between
/// writing the state and creating the trial. Returns whether it created any.
bool recover_missing(State& state, const Trials& trials, SchedulerContext& context,
                     const HyperbandSchedule& schedule,
                     const std::function<Params(std::int64_t, double)>& propose) {
  bool created = false;
  for (auto& b : state.brackets)
    for (std::size_t r = 0; r < b.rounds.size(); ++r)
      for (auto& slot : b.rounds[r]) {
        if (slot.trial < static_cast<std::int64_t>(trials.size())) continue;
        const auto round = static_cast<std::int64_t>(r);
        const auto budget = static_cast<double>(schedule.epochs(b.bracket, round));
        Params params = slot.parent ? trials.at(static_cast<std::size_t>(*slot.parent)).params
                                    : propose(slot.trial, budget);
        auto t = context.create_trial({.state = TrialState::Waiting,
                                       .params = std::move(params),
                                       .budget = budget,
                                       .parent = slot.parent});
        slot.trial = t->number;
        created = true;
      }
  if (created) context.set_state(kHyperbandStateAttr, to_json(state, schedule.options()).dump());
  return created;
}

}  // namespace

Params Hyperband::propose(SchedulerContext& context, std::int64_t number, double budget,
                          const std::vector<Trial>& trials) {
  (void)budget, (void)trials;
  return context.propose(number);
}

Assignment Hyperband::assign(SchedulerContext& context, const std::string& worker,
                             std::optional<std::int64_t> max_trials) {
  for (;;) {
    if (auto waiting = context.claim_waiting(worker)) return Assignment::run(std::move(*waiting));
    const auto lease = context.lease(std::string(kHyperbandStateAttr) + ".lock", worker);
    State state = load_state(context, schedule_);
    const Trials trials = context.trials();
    const auto propose_new = [&](std::int64_t n, double budget) {
      return propose(context, n, budget, trials);
    };
    if (recover_missing(state, trials, context, schedule_, propose_new)) continue;  // claim them
    const auto number = static_cast<std::int64_t>(trials.size());
    const Plan plan = Planner(schedule_, state, trials, context.directions().front()).decide();
    if (plan.kind == Plan::Kind::Wait) return Assignment::wait();
    if (plan.kind == Plan::Kind::Done) return Assignment::done();
    if (max_trials && number >= *max_trials) {
      for (const auto& t : trials)
        if (!t.finished()) return Assignment::wait();
      return Assignment::done();
    }
    Bracket& bracket = state.brackets[plan.bracket];
    auto& round = bracket.rounds[static_cast<std::size_t>(plan.round)];
    round.push_back({number, plan.parent});
    context.set_state(kHyperbandStateAttr, to_json(state, schedule_.options()).dump());
    const auto budget = static_cast<double>(schedule_.epochs(bracket.bracket, plan.round));
    Params params = plan.parent ? trials.at(static_cast<std::size_t>(*plan.parent)).params
                                : propose_new(number, budget);
    auto trial = context.create_trial({.state = TrialState::Running,
                                       .params = std::move(params),
                                       .budget = budget,
                                       .parent = plan.parent,
                                       .worker = worker});
    if (trial->number != number) {  // a trial was created outside the schedule (enqueue)
      round.back().trial = trial->number;
      context.set_state(kHyperbandStateAttr, to_json(state, schedule_.options()).dump());
    }
    return Assignment::run(std::move(*trial));
  }
}

}  // namespace quarry::schedulers
