// Study: one search, stored in a Storage: ask for a trial, report its progress, tell its result.
//
// clang-format off
//   auto storage = quarry::storage::open_storage("sqlite://runs/demo.db");
//   quarry::Study study(storage, "demo", {.directions = {Direction::Minimize}, .sampler = sampler});
//   study.register_space(space);
//   while (auto trial = study.ask("me")) {
//     double loss = train(trial->params);
//     study.tell(trial->number, {loss});
//   }
// clang-format on
//
// The study wires three strategies to the store: the sampler proposes parameters (it reads the
// history, never the store: its learned state goes through a handle the study owns), the
// scheduler decides what runs next and at which budget (through a SchedulerContext the study
// implements), the pruner answers "stop this running trial?" after each report.
// A study object is a thin, thread-safe view of the store: several threads (and processes, and
// later machines) may drive the same study at once. Nothing about the search lives only in memory.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "quarry/pruners/pruner.hpp"
#include "quarry/samplers/sampler.hpp"
#include "quarry/schedulers/scheduler.hpp"
#include "quarry/space/hyperparameters.hpp"
#include "quarry/storage/storage.hpp"

namespace quarry::study {

struct StudyOptions {
  std::vector<Direction> directions = {Direction::Minimize};  ///< one per objective
  std::shared_ptr<samplers::Sampler> sampler;                 ///< default: AutoSampler, seed 0
  std::shared_ptr<schedulers::Scheduler> scheduler;           ///< default: every trial in full
  std::shared_ptr<pruners::Pruner> pruner;                    ///< default: none (never prunes)
};

class Study {
 public:
  /// Opens `name` in `storage`, creating it when absent. Throws InvalidArgument when it exists with
  /// other directions.
  Study(std::shared_ptr<storage::Storage> storage, const std::string& name,
        StudyOptions options = {});
  /// Opens an existing study (directions as stored); throws InvalidArgument naming the study and
  /// the studies the store has when it does not exist.
  static Study open(std::shared_ptr<storage::Storage> storage, const std::string& name,
                    StudyOptions options = {});

  const std::string& name() const { return info_.name; }
  std::int64_t id() const { return info_.id; }
  const std::vector<Direction>& directions() const { return info_.directions; }
  storage::Storage& storage() { return *storage_; }
  samplers::Sampler& sampler() { return *sampler_; }
  schedulers::Scheduler& scheduler() { return *scheduler_; }

  // --- search space -------------------------------------------------------------------------
  /// The parameters registered so far (kept in the store, so every worker sees one space).
  Space space() const;
  /// Adds `space`'s parameters to the study's space; throws InvalidArgument on a conflicting
  /// definition.
  void register_space(const Space& space);

  // --- ask / report / tell ------------------------------------------------------------------
  /// The next trial to run for `worker`: a waiting one (queued or interrupted earlier) if any, else
  /// a new one with parameters from the sampler. nullopt when the study holds `max_trials` trials
  /// or the sampler is exhausted (grid). The scheduler decides (Hyperband may promote an earlier
  /// trial instead), and ask blocks while it answers "wait" (use next() not to block).
  std::optional<Trial> ask(const std::string& worker, std::optional<std::int64_t> max_trials = {});
  /// Like ask, but returns the scheduler's "wait" instead of blocking: Run (with the trial claimed
  /// for `worker`), Wait (running trials decide what comes next: ask again later) or Done.
  schedulers::Assignment next(const std::string& worker,
                              std::optional<std::int64_t> max_trials = {});
  /// Parameters for a new trial `number` from the sampler, over the current space and history.
  Params sample_params(std::int64_t number);
  /// Queues a trial with given parameters (checked against the space); it is run before new ones.
  Trial enqueue(const Params& params, double budget = 0);
  /// The define-by-run handle for a running trial: its parameters, and the sampler for new ones.
  HyperParameters hyperparameters(const Trial& trial);
  /// Stores what a define-by-run trial registered: the parameters and their values.
  void record(std::int64_t number, const HyperParameters& hp);

  /// Records an intermediate value; returns true when the pruner says the trial should stop.
  bool report(std::int64_t number, std::int64_t step, double value);
  /// The pruner's current answer for a running trial.
  bool should_prune(std::int64_t number);

  /// Completes a trial with one value per objective; a NaN or infinite value fails it instead.
  void tell(std::int64_t number, const std::vector<double>& values);
  /// Ends a trial as Pruned (its value: the last intermediate value, with one objective; none with
  /// several) or Failed (with `reason`).
  void tell(std::int64_t number, TrialState state, const std::string& reason = {});
  /// Puts a running trial back in the queue (interrupted or dead worker); false if it moved on.
  bool requeue(const Trial& trial, const std::string& reason);
  /// Requeues running trials whose worker is gone: a local worker process that no longer exists, or
  /// any worker whose last heartbeat is older than `stale_after` seconds. A trial already run
  /// `max_attempts` times is failed instead, with the reason stored (a configuration that kills
  /// its worker every time must not kill every worker in turn). Returns the requeued numbers.
  std::vector<std::int64_t> requeue_stale(double stale_after, std::int64_t max_attempts = 3);

  // --- results ------------------------------------------------------------------------------
  std::vector<Trial> trials() const;
  Trial trial(std::int64_t number) const;
  /// The complete, feasible trial with the best first objective value: trials whose "feasible"
  /// attribute is false (study/constraints.hpp) are left out.
  std::optional<Trial> best_trial() const;
  /// The complete, feasible trials no other one dominates, best first by the first objective
  /// (study/pareto.hpp). With one objective: the best trial and any tied with it.
  std::vector<Trial> pareto_front() const;
  /// True when `a` is better than `b` for objective `index`.
  bool better(double a, double b, std::size_t index = 0) const;

 private:
  Study(std::shared_ptr<storage::Storage> storage, storage::StudyInfo info, StudyOptions options);
  class Context;  // the SchedulerContext the scheduler sees
  std::vector<Trial> history_for_sampler(const Space& space) const;
  void attach_sampler();

  std::shared_ptr<storage::Storage> storage_;
  storage::StudyInfo info_;
  std::shared_ptr<samplers::Sampler> sampler_;
  std::shared_ptr<schedulers::Scheduler> scheduler_;
  std::shared_ptr<pruners::Pruner> pruner_;   // null: never prunes
  std::vector<Direction> directions_wanted_;  // as given in the options (the store's win on open)
  struct SpaceCache {
    std::mutex mutex;
    std::optional<std::string> text;  // the stored space JSON last parsed
    Space space;
  };
  std::unique_ptr<SpaceCache> space_cache_ = std::make_unique<SpaceCache>();
};

}  // namespace quarry::study

namespace quarry {
using study::Study;
using study::StudyOptions;
}  // namespace quarry
