// `quarry list`: every registered component is shown with its description.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quarry/objectives/functions.hpp"
#include "quarry/pruners/registry.hpp"
#include "quarry/samplers/registry.hpp"
#include "quarry/schedulers/registry.hpp"
#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;

TEST(CliList, ShowsEverySamplerSchedulerPrunerAndFunction) {
  const CliResult r = run_cli({"list"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  for (const auto& e : samplers::sampler_registry()) {
    EXPECT_THAT(r.out, HasSubstr("  " + e.name + " "));
    EXPECT_THAT(r.out, HasSubstr(e.description));
  }
  for (const auto& e : schedulers::scheduler_registry())
    EXPECT_THAT(r.out, HasSubstr(e.description));
  for (const auto& e : pruners::pruner_registry()) EXPECT_THAT(r.out, HasSubstr(e.description));
  for (const auto& e : objectives::known_functions()) EXPECT_THAT(r.out, HasSubstr(e.description));
  EXPECT_EQ(run_cli({"list", "extra"}).exit_code, 2);
}

}  // namespace
}  // namespace quarry::cli_test
