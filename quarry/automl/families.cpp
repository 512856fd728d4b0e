// The family registry (estimator.hpp). The built-in families register on first use; the MLP
// registers itself where LibTorch is linked.
#include <mutex>

#include "quarry/automl/estimator.hpp"
#include "quarry/core/error.hpp"

namespace quarry::automl {

std::vector<Family> builtin_families();  // families_builtin.cpp

namespace {

std::vector<Family>& registry() {
  static std::vector<Family> all = builtin_families();
  return all;
}
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

void register_family(Family family) {
  std::lock_guard lock(registry_mutex());
  auto& all = registry();
  for (auto& f : all)
    if (f.name == family.name) {
      f = std::move(family);
      return;
    }
  all.push_back(std::move(family));
}

const std::vector<Family>& families() {
  std::lock_guard lock(registry_mutex());
  return registry();
}

const Family& family(const std::string& name) {
  const auto& all = families();
  std::string names;
  for (const auto& f : all) {
    if (f.name == name) return f;
    names += (names.empty() ? "" : ", ") + f.name;
  }
  throw InvalidArgument("unknown model family '" + name + "' (families: " + names + ")");
}

}  // namespace quarry::automl
