// Objectives: what a trial evaluates.
//
// The runner hands an objective a TrialContext and expects the objective values back (one per
// objective of the study). While it runs, the objective reports intermediate values through the
// context; when report() answers true (the scheduler stopped the trial) or stop_requested() turns
// true, the objective ends its work and throws TrialPruned or TrialInterrupted. Other outcomes:
// throw TrialFailed with a reason (kept with the trial); anything else escaping is a bug.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/space/value.hpp"

namespace quarry::objectives {

class TrialContext {
 public:
  using Reporter = std::function<bool(std::int64_t step, double value)>;
  using AttrWriter = std::function<void(const std::string& key, const std::string& json)>;

  TrialContext(std::int64_t number, Params params, double budget, Reporter reporter,
               const std::atomic<bool>* interrupted,
               std::optional<std::int64_t> parent = std::nullopt, AttrWriter attrs = {})
      : number_(number),
        params_(std::move(params)),
        budget_(budget),
        reporter_(std::move(reporter)),
        interrupted_(interrupted),
        parent_(parent),
        attrs_(std::move(attrs)) {}

  std::int64_t number() const { return number_; }
  const Params& params() const { return params_; }
  /// The resource granted (epochs...); 0 means the objective's full budget.
  double budget() const { return budget_; }
  /// The trial this one continues (a Hyperband promotion): start from its checkpoint.
  std::optional<std::int64_t> parent() const { return parent_; }
  /// Records a fact about the trial in the store (JSON text): model size, best epoch...
  void set_attr(const std::string& key, const std::string& json) {
    if (attrs_) attrs_(key, json);
  }

  /// Records an intermediate value of the first objective; returns true when the trial must stop.
  bool report(std::int64_t step, double value) {
    if (reporter_ && reporter_(step, value)) pruned_ = true;
    return pruned_;
  }
  bool pruned() const { return pruned_; }
  /// True once the search is stopping (Ctrl-C); the objective should end promptly.
  bool stop_requested() const { return interrupted_ != nullptr && interrupted_->load(); }

 private:
  std::int64_t number_;
  Params params_;
  double budget_;
  Reporter reporter_;
  const std::atomic<bool>* interrupted_;
  std::optional<std::int64_t> parent_;
  AttrWriter attrs_;
  bool pruned_ = false;
};

class Objective {
 public:
  virtual ~Objective() = default;
  /// Evaluates one trial; returns one value per objective.
  virtual std::vector<double> evaluate(TrialContext& context) = 0;
  /// One line for progress output and errors: "command python3 train.py", "branin".
  virtual std::string describe() const = 0;
};

/// An objective from a C++ function.
class FunctionObjective final : public Objective {
 public:
  using Function = std::function<std::vector<double>(TrialContext&)>;
  FunctionObjective(std::string name, Function f) : name_(std::move(name)), f_(std::move(f)) {}
  std::vector<double> evaluate(TrialContext& context) override { return f_(context); }
  std::string describe() const override { return name_; }

 private:
  std::string name_;
  Function f_;
};

}  // namespace quarry::objectives

namespace quarry {
using objectives::Objective;
using objectives::TrialContext;
}  // namespace quarry
