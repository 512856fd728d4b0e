// Constraints: hard limits on a metric ("params <= 100000", "val_accuracy >= 0.8"), the
// vocabulary shared by objectives (which check them), samplers (NSGA-II ranks infeasible trials
// after feasible ones) and results (best_trial and the Pareto front leave infeasible trials out).
//
//   const Constraint c = parse_constraint("latency_b1_ms <= 0.5");
//   violation(c, 0.7);  // 0.2: how far past the bound; 0 when satisfied
//
// Trial attributes (the convention every objective that checks constraints follows):
//   "feasible"     JSON true or false: whether every constraint held;
//   "constraints"  JSON object, metric -> violation (a number >= 0; null, JSON's rendering of an
//                  infinite violation, for a NaN or missing metric). Two constraints on one metric
//                  add up.
// A candidate that breaks a constraint before training (its size, its latency) is ended Failed with
// these attributes; one that breaks it after training (its accuracy) is Complete with
// "feasible": false. A trial without the attributes is feasible (nothing was checked).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "quarry/study/trial.hpp"

namespace quarry::study {

/// Trial attribute names of the convention above.
inline constexpr const char* kFeasibleAttr = "feasible";
inline constexpr const char* kConstraintsAttr = "constraints";

/// `metric op bound`: the metric's value must be <= (le) or >= (ge) the bound.
struct Constraint {
  std::string metric;
  enum class Op { Le, Ge } op = Op::Le;
  double bound = 0;

  bool operator==(const Constraint&) const = default;
};

/// "params <= 100000", "latency_b1_ms<=0.5", "val_accuracy >= 0.8": a metric name of letters,
/// digits, '_' and '.', then <= or >=, then a finite number; spaces anywhere between. Throws
/// InvalidArgument naming the text and the rule.
Constraint parse_constraint(const std::string& text);

/// "params <= 100000" (parse_constraint(to_string(c)) == c).
std::string to_string(const Constraint& c);

/// 0 when `value` satisfies `c`, else how far it is past the bound; +inf for NaN.
double violation(const Constraint& c, double value);

/// The two attributes ("feasible", "constraints") for a trial whose metrics are `metrics`; a
/// constraint whose metric is absent counts as infinitely violated.
std::map<std::string, std::string> constraint_attrs(const std::vector<Constraint>& constraints,
                                                    const std::map<std::string, double>& metrics);

/// False only when the trial's "feasible" attribute is JSON false.
bool is_feasible(const Trial& trial);

/// The sum of the violations of the trial's "constraints" attribute (0 when absent). An entry that
/// is not a number (null) or an attribute that is not a JSON object counts as +inf.
double total_violation(const Trial& trial);

}  // namespace quarry::study
