// A TrialContext that records what a trial reports and the attributes it writes (the trainer's
// tests).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/objectives/objective.hpp"

namespace quarry::nn::testing {

using objectives::TrialContext;

/// A TrialContext whose reports and attributes are recorded; `prune_at` makes the reporter answer
/// "stop" at that step.
struct Recorder {
  std::vector<std::pair<std::int64_t, double>> reports;
  std::map<std::string, std::string> attrs;
  std::int64_t prune_at = -1;

  TrialContext context(std::int64_t number, double budget = 0,
                       std::optional<std::int64_t> parent = std::nullopt, Params params = {}) {
    return TrialContext(
        number, std::move(params), budget,
        [this](std::int64_t step, double value) {
          reports.emplace_back(step, value);
          return step == prune_at;
        },
        nullptr, parent,
        [this](const std::string& key, const std::string& json) { attrs[key] = json; });
  }
  nlohmann::json attr(const std::string& key) const { return nlohmann::json::parse(attrs.at(key)); }
  std::vector<std::int64_t> steps() const {
    std::vector<std::int64_t> out;
    for (const auto& [step, value] : reports) out.push_back(step);
    return out;
  }
};

}  // namespace quarry::nn::testing
