// `quarry bench`: the table's shape, its errors, and a real (fast) run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "tests/cli/cli_helpers.hpp"
#include "tests/test_util.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kMacroFile = quarry::testing::nas_data_dir() + "/nas-bench-macro-cifar10.json";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

TEST(CliBench, RandomOnBraninPrintsOneRowPerCheckpoint) {
  const CliResult r =
      run_cli({"bench", "branin", "--samplers", "random", "--seeds", "2", "--evaluations", "10,5"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0],
            "branin: final regret = best value - optimum (0.397887), lower is better; 2 seeds");
  EXPECT_EQ(fields_of(lines[1]),
            (std::vector<std::string>{"sampler", "evaluations", "median", "q25", "q75", "s/run"}));
  double previous_median = 1e300;
  for (std::size_t i = 2; i < 4; ++i) {
    const auto f = fields_of(lines[i]);
    ASSERT_EQ(f.size(), 6u) << lines[i];
    EXPECT_EQ(f[0], "random");
    EXPECT_EQ(f[1], i == 2 ? "5" : "10");  // checkpoints sorted
    const double median = std::stod(f[2]), q25 = std::stod(f[3]), q75 = std::stod(f[4]);
    EXPECT_GE(median, 0);  // a regret: never below the optimum
    EXPECT_LE(q25, median);
    EXPECT_LE(median, q75);
    EXPECT_LE(median, previous_median);  // best-so-far cannot get worse
    previous_median = median;
    EXPECT_GE(std::stod(f[5]), 0);
  }
}

TEST(CliBench, SameSeedsGiveTheSameFiguresInEveryFormat) {
  const std::vector<std::string> args = {"bench",         "rosenbrock", "--dims",  "3",
                                         "--samplers",    "random",     "--seeds", "3",
                                         "--evaluations", "8"};
  auto with = [&](const std::string& format) {
    auto a = args;
    a.insert(a.end(), {"--format", format});
    const CliResult r = run_cli(a);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return r.out;
  };
  const auto json = nlohmann::json::parse(with("json"));
  EXPECT_EQ(json["problem"], "rosenbrock(dims=3)");
  EXPECT_EQ(json["measure"], "regret");
  EXPECT_EQ(json["seeds"], 3);
  ASSERT_EQ(json["rows"].size(), 1u);
  EXPECT_EQ(json["rows"][0]["evaluations"], 8);
  const auto again = nlohmann::json::parse(with("json"));
  EXPECT_EQ(json["rows"][0]["median"], again["rows"][0]["median"]);  // seeded: reproducible
  const auto csv = lines_of(with("csv"));
  ASSERT_EQ(csv.size(), 2u);
  EXPECT_EQ(csv[0], "problem,sampler,evaluations,median,q25,q75,seconds_per_run");
  EXPECT_THAT(csv[1], StartsWith("\"rosenbrock(dims=3)\",random,8,"));
}

TEST(CliBench, TimesProposalsWithAHistory) {
  const CliResult r = run_cli(
      {"bench", "hartmann6", "--samplers", "random", "--time-proposals", "50", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0], "problem,sampler,history,ms_per_proposal,min_ms,max_ms");
  EXPECT_THAT(lines[1], StartsWith("\"hartmann6\",random,50,"));
}

TEST(CliBench, ErrorsAreOneLineAndExitTwo) {
  struct Case {
    std::vector<std::string> args;
    std::string first_line;
  };
  const std::vector<Case> cases = {
      {{"bench", "ackley"},
       "quarry: error: bench: unknown problem 'ackley' (known: branin, hartmann6, "
       "nas-bench-201, nas-bench-macro, rosenbrock)"},
      {{"bench", "nas-bench-macro"},
       "quarry: error: bench: nas-bench-macro needs --data PATH (the table's file)"},
      {{"bench", "branin", "--samplers", "random,annealing"},
       "quarry: error: unknown sampler 'annealing' (known: "},
      {{"bench", "branin", "--dims", "3"},
       "quarry: error: bench: --dims applies to rosenbrock only"},
      {{"bench", "branin", "--evaluations", "10,x"},
       "quarry: error: --evaluations expects integers >= 1, got 'x'"},
      {{"bench", "nas-bench-201", "--data", "/nonexistent/t.csv"},
       "quarry: error: nas-bench-201: cannot open '/nonexistent/t.csv': No such file or "
       "directory"},
      {{"bench"},
       "quarry: error: bench: needs one problem (branin, hartmann6, nas-bench-201, "
       "nas-bench-macro, rosenbrock)"},
  };
  for (const auto& c : cases) {
    const CliResult r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_THAT(r.err_first_line(), StartsWith(c.first_line)) << r.describe();
    EXPECT_TRUE(r.out.empty()) << r.describe();
    const auto err = lines_of(r.err);
    ASSERT_FALSE(err.empty());
    if (err.size() > 1) {  // a mistake in the command line: the usage follows
      EXPECT_THAT(err[1], StartsWith("usage: quarry bench"));
    }
  }
}

TEST(CliBench, NasBenchMacroReportsBestAccuracy) {
  TempDir dir;
  const auto path = dir.write("macro.json", R"({"00000000": {"mean_acc": 80},
    "11111111": {"mean_acc": 90}, "22222222": {"mean_acc": 85}})");
  // A partial table: most architectures fail their trial; the best found is at most the table's.
  const CliResult r = run_cli({"bench", "nas-bench-macro", "--data", path.string(), "--samplers",
                               "random", "--seeds", "2", "--evaluations", "3", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["problem"], "nas-bench-macro (mean_acc)");
  EXPECT_EQ(json["measure"], "best");
  EXPECT_EQ(json["reference"], 90.0);
}

TEST(CliBench, RealNasBenchMacroRandomSearchIsNearItsPublishedCurve) {
  const CliResult r =
      run_cli({"bench", "nas-bench-macro", "--data", kMacroFile, "--samplers", "random", "--seeds",
               "20", "--evaluations", "10,50", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const auto rows = nlohmann::json::parse(r.out)["rows"];
  ASSERT_EQ(rows.size(), 2u);
  // The data README: random search's expected best is 92.43 after 10 evaluations, 92.77 after 50;
  // a median over 20 seeds lands within a few tenths of that.
  EXPECT_NEAR(rows[0]["median"].get<double>(), 92.43, 0.5);
  EXPECT_NEAR(rows[1]["median"].get<double>(), 92.77, 0.3);
  EXPECT_LE(rows[1]["q75"].get<double>(), 93.127 + 1e-9);
}

}  // namespace
}  // namespace quarry::cli_test
