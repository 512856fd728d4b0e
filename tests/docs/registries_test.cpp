// Every sampler, scheduler and pruner a study file can name is documented where users look: in
// README.md and in docs/search-strategies.md, written as `name`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "quarry/pruners/registry.hpp"
#include "quarry/samplers/registry.hpp"
#include "quarry/schedulers/registry.hpp"

namespace quarry {
namespace {

std::string read_doc(const std::string& relative) {
  const auto path = std::filesystem::path(QUARRY_SOURCE_DIR) / relative;
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

template <typename Registry>
std::vector<std::string> names_of(const Registry& registry) {
  std::vector<std::string> names;
  for (const auto& entry : registry) names.push_back(entry.name);
  return names;
}

void expect_documented(const std::string& kind, const std::vector<std::string>& names) {
  for (const std::string doc : {"README.md", "docs/search-strategies.md"}) {
    const std::string text = read_doc(doc);
    for (const auto& name : names)
      EXPECT_NE(text.find("`" + name + "`"), std::string::npos)
          << doc << " does not name the " << kind << " `" << name << "`";
  }
}

TEST(Docs, NameEveryRegisteredSampler) {
  expect_documented("sampler", names_of(samplers::sampler_registry()));
}

TEST(Docs, NameEveryRegisteredScheduler) {
  expect_documented("scheduler", names_of(schedulers::scheduler_registry()));
}

TEST(Docs, NameEveryRegisteredPruner) {
  expect_documented("pruner", names_of(pruners::pruner_registry()));
}

}  // namespace
}  // namespace quarry
