#include "quarry/study/study.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "quarry/core/error.hpp"
#include "quarry/process/worker.hpp"
#include "quarry/samplers/auto.hpp"
#include "quarry/storage/lease.hpp"
#include "quarry/study/constraints.hpp"
#include "quarry/study/pareto.hpp"

namespace quarry::study {

namespace {

constexpr const char* kSpaceAttr = "space";

/// The sampler's slot of stored state: the study attribute "sampler.<name>".
class StoredSamplerState final : public samplers::SamplerState {
 public:
  StoredSamplerState(std::shared_ptr<storage::Storage> storage, std::int64_t study, std::string key)
      : storage_(std::move(storage)), study_(study), key_(std::move(key)) {}
  std::optional<std::string> load() const override { return storage_->get_attr(study_, key_); }
  bool replace(const std::optional<std::string>& expected, const std::string& value) override {
    return storage_->compare_and_set_attr(study_, key_, expected, value);
  }

 private:
  std::shared_ptr<storage::Storage> storage_;
  std::int64_t study_;
  std::string key_;
};

struct HeldLease final : schedulers::StateLease {
  HeldLease(storage::Storage& storage, std::int64_t study, const std::string& key,
            const std::string& worker)
      : lease(storage, study, key, worker) {}
  storage::Lease lease;
};

}  // namespace

/// What the scheduler sees of the study: trials, the sampler's proposals, its own state.
class Study::Context final : public schedulers::SchedulerContext {
 public:
  explicit Context(Study& study) : study_(study) {}

  const std::string& study_name() const override { return study_.name(); }
  const std::vector<Direction>& directions() const override { return study_.directions(); }
  Space space() const override { return study_.space(); }
  std::optional<Trial> claim_waiting(const std::string& worker) override {
    auto waiting = store().claim_trial(id(), worker);
    // A process killed between creating a trial and storing its parameters leaves it without
    // them: sample them now (the same values, as sampling depends on the trial number).
    if (waiting && waiting->params.empty() && !study_.space().empty()) {
      waiting->params = study_.sample_params(waiting->number);
      store().set_params(id(), waiting->number, waiting->params);
    }
    return waiting;
  }
  std::vector<Trial> trials() const override { return store().get_trials(id()); }
  Params propose(std::int64_t number) override { return study_.sample_params(number); }
  std::optional<std::int64_t> capacity() const override {
    return study_.sampler_->capacity(study_.space());
  }
  std::optional<Trial> create_trial(const NewTrial& trial,
                                    std::optional<std::int64_t> max_trials) override {
    return store().create_trial(id(), trial, max_trials);
  }
  void set_params(std::int64_t number, const Params& params) override {
    store().set_params(id(), number, params);
  }
  std::optional<std::string> state(const std::string& key) const override {
    return store().get_attr(id(), key);
  }
  void set_state(const std::string& key, const std::string& value) override {
    store().set_attr(id(), key, value);
  }
  std::unique_ptr<schedulers::StateLease> lease(const std::string& key,
                                                const std::string& worker) override {
    return std::make_unique<HeldLease>(store(), id(), key, worker);
  }

 private:
  storage::Storage& store() const { return *study_.storage_; }
  std::int64_t id() const { return study_.id(); }
  Study& study_;
};

Study::Study(std::shared_ptr<storage::Storage> storage, const std::string& name,
             StudyOptions options)
    : Study(storage, storage::StudyInfo{}, std::move(options)) {
  info_ = storage_->open_or_create_study(name, directions_wanted_);
  attach_sampler();
}

Study::Study(std::shared_ptr<storage::Storage> storage, storage::StudyInfo info,
             StudyOptions options)
    : storage_(std::move(storage)),
      info_(std::move(info)),
      sampler_(std::move(options.sampler)),
      scheduler_(std::move(options.scheduler)),
      pruner_(std::move(options.pruner)),
      directions_wanted_(std::move(options.directions)) {
  if (!sampler_) sampler_ = std::make_shared<samplers::AutoSampler>();
  if (!scheduler_) scheduler_ = std::make_shared<schedulers::FullBudget>();
  if (dynamic_cast<const pruners::NopPruner*>(pruner_.get()) != nullptr) pruner_.reset();
}

Study Study::open(std::shared_ptr<storage::Storage> storage, const std::string& name,
                  StudyOptions options) {
  auto info = storage->find_study(name);
  if (!info) {
    std::string known;
    for (const auto& s : storage->list_studies()) known += (known.empty() ? "" : ", ") + s.name;
    throw InvalidArgument("no study named '" + name +
                          "' in this store (it has: " + (known.empty() ? "none" : known) + ")");
  }
  Study study(std::move(storage), std::move(*info), std::move(options));
  study.attach_sampler();
  return study;
}

void Study::attach_sampler() {
  sampler_->attach({.directions = info_.directions,
                    .state = std::make_shared<StoredSamplerState>(storage_, info_.id,
                                                                  "sampler." + sampler_->name())});
}

Space Study::space() const {
  auto text = storage_->get_attr(info_.id, kSpaceAttr);
  std::lock_guard lock(space_cache_->mutex);
  if (text != space_cache_->text) {
    space_cache_->space = text ? Space::from_json(nlohmann::json::parse(*text)) : Space{};
    space_cache_->text = std::move(text);
  }
  return space_cache_->space;
}

void Study::register_space(const Space& extra) {
  for (;;) {
    const auto text = storage_->get_attr(info_.id, kSpaceAttr);
    Space merged = text ? Space::from_json(nlohmann::json::parse(*text)) : Space{};
    const std::size_t before = merged.size();
    merged.merge(extra);  // throws on a conflicting definition
    if (text && merged.size() == before) return;
    if (storage_->compare_and_set_attr(info_.id, kSpaceAttr, text, merged.to_json().dump())) return;
  }
}

std::vector<Trial> Study::history_for_sampler(const Space& space) const {
  return sampler_->uses_history(space) ? storage_->get_trials(info_.id) : std::vector<Trial>{};
}

Params Study::sample_params(std::int64_t number) {
  const Space current = space();
  return samplers::sample_all(*sampler_, current, history_for_sampler(current), number);
}

schedulers::Assignment Study::next(const std::string& worker,
                                   std::optional<std::int64_t> max_trials) {
  Context context(*this);
  return scheduler_->assign(context, worker, max_trials);
}

std::optional<Trial> Study::ask(const std::string& worker, std::optional<std::int64_t> max_trials) {
  for (;;) {
    auto next_one = next(worker, max_trials);
    if (next_one.kind != schedulers::Assignment::Kind::Wait) return std::move(next_one.trial);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Trial Study::enqueue(const Params& params, double budget) {
  const Space current = space();
  current.validate(params);
  Params normalized;
  for (const auto& [name, value] : params) normalized[name] = current.find(name)->normalize(value);
  auto trial = storage_->create_trial(
      info_.id, {.state = TrialState::Waiting, .params = normalized, .budget = budget});
  return *trial;  // no limit given: always created
}

HyperParameters Study::hyperparameters(const Trial& trial) {
  const std::int64_t number = trial.number;
  return HyperParameters(
      trial.params, [this, number](const space::Param& p, const Params& assigned) {
        Space current = space();
        current.add(p);
        return sampler_->sample_independent(p, assigned, history_for_sampler(current), number);
      });
}

void Study::record(std::int64_t number, const HyperParameters& hp) {
  register_space(hp.space());
  storage_->set_params(info_.id, number, hp.values());
}

bool Study::report(std::int64_t number, std::int64_t step, double value) {
  storage_->report(info_.id, number, step, value);
  return should_prune(number);
}

bool Study::should_prune(std::int64_t number) {
  if (!pruner_) return false;
  const auto history = storage_->get_trials(info_.id);
  if (number < 0 || number >= static_cast<std::int64_t>(history.size()))
    throw InvalidArgument("study '" + info_.name + "' has no trial " + std::to_string(number));
  return pruner_->should_prune(history[static_cast<std::size_t>(number)], history,
                               info_.directions.front());
}

void Study::tell(std::int64_t number, const std::vector<double>& values) {
  if (values.size() != info_.directions.size())
    throw InvalidArgument("study '" + info_.name + "' has " +
                          std::to_string(info_.directions.size()) + " objective(s), trial " +
                          std::to_string(number) + " was told " + std::to_string(values.size()) +
                          " value(s)");
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) {
      storage_->finish_trial(info_.id, number, TrialState::Failed, {},
                             "objective " + std::to_string(i) + " is " + real_text(values[i]));
      return;
    }
  storage_->finish_trial(info_.id, number, TrialState::Complete, values);
}

void Study::tell(std::int64_t number, TrialState state, const std::string& reason) {
  if (state == TrialState::Complete)
    throw InvalidArgument("tell: a complete trial needs its objective values");
  if (state != TrialState::Pruned && state != TrialState::Failed)
    throw InvalidArgument("tell: a trial can only end complete, pruned or failed, not " +
                          to_string(state));
  std::vector<double> values;
  if (state == TrialState::Pruned && info_.directions.size() == 1) {  // one value per objective
    if (auto last = storage_->get_trial(info_.id, number).last_intermediate()) values = {*last};
  }
  storage_->finish_trial(info_.id, number, state, values, reason);
}

bool Study::requeue(const Trial& trial, const std::string& reason) {
  return storage_->requeue_trial(info_.id, trial.number, trial.attempts, reason);
}

std::vector<std::int64_t> Study::requeue_stale(double stale_after, std::int64_t max_attempts) {
  std::vector<std::int64_t> requeued;
  const double now = now_seconds();
  for (const auto& t : storage_->get_trials(info_.id)) {
    if (t.state != TrialState::Running) continue;
    // Trials asked for by hand (`quarry ask`) have no worker process to watch, unless the caller
    // took a lease: then it must renew it (`quarry heartbeat`) within the lease's seconds.
    const auto lease = process::lease_seconds(t.worker);
    if (!lease && std::count(t.worker.begin(), t.worker.end(), ':') != 2) continue;
    const double last_sign = t.heartbeat.value_or(t.started_at.value_or(t.created_at));
    const bool silent = now - last_sign > lease.value_or(stale_after);
    if (!silent && (lease || !process::local_worker_is_dead(t.worker))) continue;
    const std::string why = "worker " + t.worker +
                            (lease    ? " let its lease lapse"
                             : silent ? " stopped sending heartbeats"
                                      : " is gone");
    // Deaths so far: this one and the requeues that earlier ones left (requeue.N = "worker ...";
    // a Ctrl-C leaves "interrupted", which does not count).
    std::int64_t deaths = 1;
    for (const auto& [key, value] : t.attrs)
      if (key.starts_with("requeue.") && value.starts_with("\"worker ")) ++deaths;
    if (deaths < max_attempts) {
      if (requeue(t, why)) requeued.push_back(t.number);
      continue;
    }
    try {
      storage_->finish_trial(info_.id, t.number, TrialState::Failed, {},
                             why + ", the trial's worker death " + std::to_string(deaths) +
                                 " of max_attempts " + std::to_string(max_attempts) +
                                 ": not run again");
    } catch (const StorageError&) {
      // It finished (or was taken care of) between our read and this write: nothing to do.
    }
  }
  return requeued;
}

std::vector<Trial> Study::trials() const {
  return storage_->get_trials(info_.id);
}

Trial Study::trial(std::int64_t number) const {
  return storage_->get_trial(info_.id, number);
}

bool Study::better(double a, double b, std::size_t index) const {
  return info_.directions.at(index) == Direction::Minimize ? a < b : a > b;
}

std::optional<Trial> Study::best_trial() const {
  std::optional<Trial> best;
  for (auto& t : trials()) {
    if (t.state != TrialState::Complete || t.values.empty() || !is_feasible(t)) continue;
    if (!best || better(t.values[0], best->values[0])) best = std::move(t);
  }
  return best;
}

std::vector<Trial> Study::pareto_front() const {
  return study::pareto_front(trials(), info_.directions);
}

}  // namespace quarry::study
