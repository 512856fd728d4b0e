// Minimises (x - 2)^2 with an installed Quarry; exits 0 when the best x is near 2.
#include <cmath>
#include <cstdio>
#include <variant>

#include "quarry/samplers/random.hpp"
#include "quarry/storage/storage.hpp"
#include "quarry/study/study.hpp"

int main() {
  quarry::Study study(quarry::storage::open_storage("memory:"), "consumer",
                      {.sampler = std::make_shared<quarry::samplers::RandomSampler>(
                           quarry::samplers::RandomOptions{.seed = 1})});
  quarry::Space space;
  space.add(quarry::space::Param::Float("x", -10, 10));
  study.register_space(space);
  while (auto trial = study.ask("consumer", 200)) {
    const double x = std::get<double>(trial->params.at("x"));
    study.tell(trial->number, {(x - 2) * (x - 2)});
  }
  const double best_x = std::get<double>(study.best_trial()->params.at("x"));
  std::printf("best x = %f\n", best_x);
  return std::abs(best_x - 2) < 0.5 ? 0 : 1;
}
