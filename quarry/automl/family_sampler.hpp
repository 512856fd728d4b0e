// FamilySampler: how AutoML's search picks the model family of a new trial, and the family's own
// parameters.
//
//   auto sampler = std::make_shared<FamilySampler>(make_sampler("tpe", ...), budgeted, 9);
//
// The family (the choice parameter "family") goes by time share, after FLAML's cost-aware choice
// of learner: each family has a weight from the rank of its best loss so far (1 for the best,
// halved for each rank below; 1 for a family with no full-budget result yet, so every family gets
// tried early; ranked once 3 of its trials ran the whole budget; halved again for every 50 of its
// whole-budget trials since its best, so time moves to the families still improving), and the
// next trial goes to the
// family whose seconds spent (the wall time of its trials, a running one counting at least its
// family's mean) divided by its weight is the smallest.
// Seconds, not trials: a linear model that fits in 50 ms would otherwise take most trials of the
// search and overfit the folds by sheer number, while the boosted trees that cost a second each
// were left untuned. A family's best counts only trials that ran its whole budget (a ninth of a
// boosted model's rounds is no measure of the family). Every other parameter comes from `inner`
// (TPE), which fits each conditional parameter on the trials of its own family.
//
// Stateless besides the trials, like the samplers it wraps: any worker, any process, the same
// choice for the same history.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "quarry/samplers/sampler.hpp"

namespace quarry::automl {

class FamilySampler final : public samplers::Sampler {
 public:
  /// `budgeted`: the families whose work grows with a trial's budget; `max_budget`: the budget
  /// of a whole one (the scheduler's top rung).
  FamilySampler(std::shared_ptr<samplers::Sampler> inner, std::set<std::string> budgeted,
                double max_budget);

  std::string name() const override { return "automl_family"; }
  void attach(const samplers::SamplerContext& context) override;
  space::Value sample_independent(const space::Param& param, const space::Params& assigned,
                                  const std::vector<Trial>& history, std::int64_t number) override;

  /// The family the next trial gets, among `names` (in the order ties go).
  std::string choose(const std::vector<std::string>& names,
                     const std::vector<Trial>& history) const;

 private:
  std::shared_ptr<samplers::Sampler> inner_;
  std::set<std::string> budgeted_;
  double max_budget_;
};

}  // namespace quarry::automl
