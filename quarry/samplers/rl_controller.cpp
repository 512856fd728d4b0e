#include "quarry/samplers/rl_controller.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/core/rng.hpp"

namespace quarry::samplers {

/// The learned policy after consuming `consumed` trials of the finished prefix.
struct RlController::State {
  std::uint64_t fingerprint = 0;  // space and options the logits belong to
  std::size_t consumed = 0;       // trials of the finished prefix learned from
  std::uint64_t prefix = 0;       // hash of those trials (and of the fingerprint)
  double baseline = 0.5;
  std::map<std::string, std::vector<double>> logits;  // only decisions taken at least once
};

namespace {

constexpr int kStateVersion = 1;

// --- decisions ----------------------------------------------------------------------------

/// One decision: a categorical over the values, or over `size` buckets of the unit interval.
struct Decision {
  const Param* param = nullptr;
  bool bucketed = false;
  std::size_t size = 0;
  std::vector<Value> values;  // when not bucketed
};

/// The decision for `p`: one choice per value when it has at most `bins`, else `bins` buckets;
/// nullopt when there is nothing to decide.
std::optional<Decision> decision_of(const Param& p, std::int64_t bins) {
  const bool categorical =
      p.kind() == space::ParamKind::Choice || p.kind() == space::ParamKind::Boolean;
  const std::size_t count = p.count();
  if (categorical || (p.is_discrete() && count <= static_cast<std::size_t>(bins))) {
    if (count < 2) return std::nullopt;
    return Decision{.param = &p, .size = count, .values = p.discrete_values()};
  }
  if (p.high() <= p.low()) return std::nullopt;
  return Decision{
      .param = &p, .bucketed = true, .size = static_cast<std::size_t>(bins), .values = {}};
}

std::vector<Decision> decisions_of(const Space& space, std::int64_t bins) {
  std::vector<Decision> out;
  for (const Param& p : space.params())
    if (auto d = decision_of(p, bins)) out.push_back(std::move(*d));
  return out;
}

/// The option a trial's value stands for; nullopt when the value is not a legal one.
std::optional<std::size_t> option_of(const Decision& d, const Value& v) {
  if (!d.param->contains(v)) return std::nullopt;
  if (d.bucketed) {
    const double k = std::floor(d.param->to_unit(v) * static_cast<double>(d.size));
    return std::min(d.size - 1, static_cast<std::size_t>(std::max(0.0, k)));
  }
  for (std::size_t k = 0; k < d.values.size(); ++k)
    if (space::same_value(d.values[k], v)) return k;
  return std::nullopt;
}

std::vector<double> softmax(const std::vector<double>& z) {
  const double top = *std::max_element(z.begin(), z.end());
  std::vector<double> p(z.size());
  double sum = 0;
  for (std::size_t i = 0; i < z.size(); ++i) sum += p[i] = std::exp(z[i] - top);
  for (double& x : p) x /= sum;
  return p;
}

/// The decision's probabilities under `state` (uniform before its first update).
std::vector<double> probabilities(const RlController::State& state, const Decision& d) {
  const auto it = state.logits.find(d.param->name());
  if (it == state.logits.end() || it->second.size() != d.size)
    return std::vector<double>(d.size, 1.0 / static_cast<double>(d.size));
  return softmax(it->second);
}

/// Index drawn from `p` with the uniform draw u in [0, 1).
std::size_t draw_index(const std::vector<double>& p, double u) {
  double cumulative = 0;
  for (std::size_t i = 0; i + 1 < p.size(); ++i)
    if (u < (cumulative += p[i])) return i;
  return p.size() - 1;
}

// --- learning -------------------------------------------------------------------------------

/// One REINFORCE step on `z` for the option taken, `a`, plus the entropy bonus's gradient.
void reinforce(std::vector<double>& z, std::size_t a, double advantage,
               const RlControllerOptions& o) {
  const auto p = softmax(z);
  double entropy = 0;
  for (double pi : p)
    if (pi > 0) entropy -= pi * std::log(pi);
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double policy = advantage * ((i == a ? 1.0 : 0.0) - p[i]);
    const double bonus = p[i] > 0 ? -p[i] * (std::log(p[i]) + entropy) : 0.0;
    z[i] += o.learning_rate * (policy + o.entropy_weight * bonus);
  }
}

/// The reward's quantile among the earlier rewards `sorted`: (#lower + #equal / 2 + 1/2) / (n + 1).
double quantile(const std::vector<double>& sorted, double reward) {
  const auto low = std::lower_bound(sorted.begin(), sorted.end(), reward);
  const auto high = std::upper_bound(low, sorted.end(), reward);
  const double below = static_cast<double>(low - sorted.begin());
  const double equal = static_cast<double>(high - low);
  return (below + 0.5 * equal + 0.5) / (static_cast<double>(sorted.size()) + 1.0);
}

/// Learns from one trial whose reward quantile is q.
void learn_trial(RlController::State& s, const Trial& t, double q,
                 const std::vector<Decision>& decisions, const RlControllerOptions& o) {
  const double advantage = q - s.baseline;
  for (const Decision& d : decisions) {
    const auto it = t.params.find(d.param->name());
    if (it == t.params.end()) continue;  // inactive in this trial
    const auto option = option_of(d, it->second);
    if (!option) continue;
    auto& z = s.logits[d.param->name()];
    if (z.size() != d.size) z.assign(d.size, 0.0);
    reinforce(z, *option, advantage, o);
  }
  s.baseline = o.baseline_decay * s.baseline + (1.0 - o.baseline_decay) * q;
}

// --- hashing ------------------------------------------------------------------------------

std::uint64_t value_hash(const Value& v) {
  if (const bool* b = std::get_if<bool>(&v)) return mix64(*b ? 1 : 2);
  if (const std::string* s = std::get_if<std::string>(&v)) return mix64(hash_name(*s) ^ 3);
  return mix64(std::bit_cast<std::uint64_t>(space::to_double(v)));  // 3 and 3.0 alike
}

std::uint64_t trial_hash(const Trial& t, std::optional<double> loss) {
  std::uint64_t h = mix64(static_cast<std::uint64_t>(t.number));
  h = mix64(h ^ hash_name(study::to_string(t.state)));
  if (loss) h = mix64(h ^ std::bit_cast<std::uint64_t>(*loss));
  for (const auto& [name, value] : t.params) h = mix64(h ^ hash_name(name) ^ value_hash(value));
  return h;
}

std::uint64_t fingerprint_of(const Space& space, const RlControllerOptions& o) {
  const nlohmann::json j = {{"version", kStateVersion},
                            {"space", space.to_json()},
                            {"bins", o.bins},
                            {"learning_rate", o.learning_rate},
                            {"baseline_decay", o.baseline_decay},
                            {"entropy_weight", o.entropy_weight}};
  return hash_name(j.dump());
}

// --- stored form ----------------------------------------------------------------------------

std::string to_text(const RlController::State& s) {
  const nlohmann::json j = {{"version", kStateVersion}, {"fingerprint", s.fingerprint},
                            {"consumed", s.consumed},   {"prefix", s.prefix},
                            {"baseline", s.baseline},   {"logits", s.logits}};
  return j.dump();
}

/// The state stored as `text`; nullopt when it is unreadable or from another version.
std::optional<RlController::State> from_text(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("version").get<int>() != kStateVersion) return std::nullopt;
    RlController::State s;
    s.fingerprint = j.at("fingerprint").get<std::uint64_t>();
    s.consumed = j.at("consumed").get<std::size_t>();
    s.prefix = j.at("prefix").get<std::uint64_t>();
    s.baseline = j.at("baseline").get<double>();
    s.logits = j.at("logits").get<std::map<std::string, std::vector<double>>>();
    return s;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

/// The finished trials in number order, up to the first one that has not finished.
std::vector<const Trial*> finished_prefix(const std::vector<Trial>& history) {
  std::vector<const Trial*> prefix;
  for (const Trial& t : history) prefix.push_back(&t);
  std::sort(prefix.begin(), prefix.end(),
            [](const Trial* a, const Trial* b) { return a->number < b->number; });
  const auto unfinished =
      std::find_if(prefix.begin(), prefix.end(), [](const Trial* t) { return !t->finished(); });
  prefix.erase(unfinished, prefix.end());
  return prefix;
}

/// Learns from prefix[s.consumed...], each trial's reward ranked among those of the earlier ones.
void replay(RlController::State& s, const std::vector<const Trial*>& prefix,
            const std::vector<double>& rewards, const std::vector<Decision>& decisions,
            const RlControllerOptions& o) {
  std::vector<double> sorted(rewards.begin(),
                             rewards.begin() + static_cast<std::ptrdiff_t>(s.consumed));
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = s.consumed; i < prefix.size(); ++i) {
    learn_trial(s, *prefix[i], quantile(sorted, rewards[i]), decisions, o);
    sorted.insert(std::upper_bound(sorted.begin(), sorted.end(), rewards[i]), rewards[i]);
  }
  s.consumed = prefix.size();
}

RlController::State fresh(std::uint64_t fingerprint) {
  RlController::State s;
  s.fingerprint = s.prefix = fingerprint;
  return s;
}

}  // namespace
RlControllerOptions rl_controller_options_from_json(const nlohmann::json& j, std::uint64_t seed) {
  const ComponentOptions options(
      "sampler 'rl'", j, {"seed", "bins", "learning_rate", "baseline_decay", "entropy_weight"});
  const RlControllerOptions d;
  return {.seed = options.count("seed", seed),
          .bins = options.integer("bins", d.bins, 2),
          .learning_rate = options.real("learning_rate", d.learning_rate),
          .baseline_decay = options.real("baseline_decay", d.baseline_decay),
          .entropy_weight = options.real("entropy_weight", d.entropy_weight)};
}

RlController::RlController(RlControllerOptions options)
    : options_(options), random_({.seed = options.seed}) {
  require(options_.bins >= 2, "RlController", "bins >= 2", options_.bins);
  require(options_.learning_rate > 0 && std::isfinite(options_.learning_rate), "RlController",
          "0 < learning_rate < inf", options_.learning_rate);
  require(options_.baseline_decay >= 0 && options_.baseline_decay < 1, "RlController",
          "0 <= baseline_decay < 1", options_.baseline_decay);
  require(options_.entropy_weight >= 0 && std::isfinite(options_.entropy_weight), "RlController",
          "0 <= entropy_weight < inf", options_.entropy_weight);
}

RlController::~RlController() = default;

std::shared_ptr<const RlController::State> RlController::checkpoint() const {
  if (!context_.state) return nullptr;
  const auto text = context_.state->load();
  if (!text) return nullptr;
  auto state = from_text(*text);
  return state ? std::make_shared<const State>(std::move(*state)) : nullptr;
}

void RlController::save(const State& state) const {
  if (!context_.state || state.consumed == 0) return;
  const std::string text = to_text(state);
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto current = context_.state->load();
    if (current) {
      const auto stored = from_text(*current);
      if (stored && stored->fingerprint == state.fingerprint && stored->consumed >= state.consumed)
        return;  // another worker got as far already
    }
    if (context_.state->replace(current, text)) return;
  }
}

std::shared_ptr<const RlController::State> RlController::restore(
    const std::vector<std::uint64_t>& hashes) {
  const auto matches = [&](const std::shared_ptr<const State>& s) {
    return s && s->fingerprint == hashes.front() && s->consumed < hashes.size() &&
           s->prefix == hashes[s->consumed];
  };
  std::shared_ptr<const State> start;
  {
    const std::lock_guard lock(mutex_);
    if (matches(cache_)) start = cache_;
  }
  if (!start || start->consumed + 1 < hashes.size())
    if (auto stored = checkpoint();
        matches(stored) && (!start || stored->consumed > start->consumed))
      start = stored;
  return start;
}

std::shared_ptr<const RlController::State> RlController::learn(const Space& space,
                                                               const std::vector<Trial>& history) {
  const auto prefix = finished_prefix(history);
  std::vector<double> rewards;  // -loss; Pruned, Failed (no loss): below every Complete trial
  std::vector<std::uint64_t> hashes = {fingerprint_of(space, options_)};
  for (const Trial* t : prefix) {
    const auto l = loss(*t);
    rewards.push_back(l ? -*l : -std::numeric_limits<double>::infinity());
    hashes.push_back(mix64(hashes.back() ^ trial_hash(*t, l)));
  }
  const auto start = restore(hashes);
  std::int64_t learned = 0;
  auto result = start;
  if (!start || start->consumed < prefix.size()) {
    State next = start ? *start : fresh(hashes.front());
    learned = static_cast<std::int64_t>(prefix.size() - next.consumed);
    replay(next, prefix, rewards, decisions_of(space, options_.bins), options_);
    next.prefix = hashes.back();
    result = std::make_shared<const State>(std::move(next));
  }
  {
    const std::lock_guard lock(mutex_);
    cache_ = result;
    replayed_ += learned;
  }
  if (learned > 0) save(*result);
  return result;
}

Params RlController::sample_relative(const Space& space, const std::vector<Trial>& history,
                                     std::int64_t number) {
  if (space.empty()) return {};
  const auto state = learn(space, history);
  const auto decisions = decisions_of(space, options_.bins);
  const auto draw = [&](const Param& p, std::uint64_t attempt) -> Value {
    Rng rng = Rng::stream(options_.seed,
                          {static_cast<std::uint64_t>(number), hash_name(p.name()), attempt});
    const auto d = std::find_if(decisions.begin(), decisions.end(),
                                [&](const Decision& x) { return x.param == &p; });
    if (d == decisions.end()) return p.from_unit(rng.uniform());  // a single value
    const std::size_t k = draw_index(probabilities(*state, *d), rng.uniform());
    if (!d->bucketed) return d->values[k];
    return p.from_unit((static_cast<double>(k) + rng.uniform()) / static_cast<double>(d->size));
  };
  for (std::uint64_t attempt = 0; attempt < kMaxAttempts; ++attempt) {
    Params params = space.assign([&](const Param& p, const Params&) { return draw(p, attempt); });
    if (!seen_before(params, history, number)) return params;
  }
  return random_.sample_relative(space, history, number);  // the policy repeats itself: explore
}

Value RlController::sample_independent(const Param& param, const Params& assigned,
                                       const std::vector<Trial>& history, std::int64_t number) {
  return random_.sample_independent(param, assigned, history, number);
}

std::map<std::string, std::vector<double>> RlController::policy(const Space& space,
                                                                const std::vector<Trial>& history) {
  const auto state = learn(space, history);
  std::map<std::string, std::vector<double>> out;
  for (const Decision& d : decisions_of(space, options_.bins))
    out[d.param->name()] = probabilities(*state, d);
  return out;
}

std::int64_t RlController::replayed() const {
  const std::lock_guard lock(mutex_);
  return replayed_;
}

}  // namespace quarry::samplers
