// Convergence checks shared by the samplers' tests: run a sampler on a benchmark function with
// known optimum, one trial after the other, and compare the best values over several seeds.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "quarry/objectives/functions.hpp"
#include "quarry/samplers/sampler.hpp"

namespace quarry::samplers::testing {

/// Runs `n` sequential trials of `f` (minimised) with `sampler` and returns the best value.
inline double best_of(Sampler& sampler, const objectives::BenchmarkFunction& f, std::int64_t n) {
  std::vector<Trial> history;
  double best = INFINITY;
  for (std::int64_t k = 0; k < n; ++k) {
    Trial t;
    t.number = k;
    t.params = sample_all(sampler, f.space(), history, k);
    std::vector<double> x;
    for (std::size_t d = 0; d < f.dims(); ++d)
      x.push_back(std::get<double>(t.params.at("x" + std::to_string(d))));
    const double v = f.value(x);
    best = std::min(best, v);
    t.state = TrialState::Complete;
    t.values = {v};
    history.push_back(std::move(t));
  }
  return best;
}

/// The median (the upper one of an even count).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace quarry::samplers::testing
