// What every tuner reports about its study, with or without LibTorch: the best complete trials,
// Keras Tuner's results_summary text and the one-line parameter listing of verbose searches.
// Header-only: used by tuner.cpp (quarry_nn) and sklearn_tuner.cpp (quarry_automl).
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "quarry/space/value.hpp"
#include "quarry/study/study.hpp"

namespace quarry::tuners {

/// The complete trials with a value, best first by the first objective (ties keep their order),
/// at most `n` of them.
inline std::vector<Trial> best_complete_trials(const Study& study, std::size_t n) {
  std::vector<Trial> complete;
  for (auto& t : study.trials())
    if (t.state == TrialState::Complete && !t.values.empty()) complete.push_back(std::move(t));
  std::stable_sort(complete.begin(), complete.end(), [&](const Trial& a, const Trial& b) {
    return study.better(a.values[0], b.values[0]);
  });
  if (complete.size() > n) complete.resize(n);
  return complete;
}

/// Keras Tuner's results_summary for `best` (best first): the folder, the objective, and each
/// trial's hyperparameters, budget (when one was granted) and score.
inline std::string summary_text(const std::filesystem::path& project_dir,
                                const std::string& objective, Direction direction,
                                const std::vector<Trial>& best) {
  std::ostringstream out;
  out << "Results summary\nResults in " << project_dir.string() << "\nShowing " << best.size()
      << " best trials\nObjective(name=\"" << objective << "\", direction=\""
      << (direction == Direction::Maximize ? "max" : "min") << "\")\n";
  for (const auto& t : best) {
    out << "\nTrial " << t.number << " summary\nHyperparameters:\n";
    for (const auto& [name, value] : t.params)
      out << name << ": " << space::to_string(value) << "\n";
    if (t.budget > 0) out << "epochs: " << t.budget << "\n";
    out << "Score: " << t.values[0] << "\n";
  }
  return out.str();
}

/// "units=32, lr=0.01".
inline std::string format_params(const Params& params) {
  std::string out;
  for (const auto& [name, value] : params)
    out += (out.empty() ? "" : ", ") + name + "=" + space::to_string(value);
  return out;
}

}  // namespace quarry::tuners
