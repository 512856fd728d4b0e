#include "quarry/objectives/command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "quarry/process/process.hpp"

namespace quarry::objectives {
namespace {

using space::Param;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;
using Reports = std::vector<std::pair<std::int64_t, double>>;

const std::string kInjection = "x; touch /tmp/pwned_" + std::to_string(getpid());

Space test_space() {
  Space s;
  s.add(Param::Float("lr", 1e-4, 1.0, {.log = true}));
  s.add(Param::Choice("opt", {Value{"adam"}, Value{"sgd"}}));
  s.add(Param::Float("momentum", 0.0, 1.0, {.default_value = 0.9})
            .with_condition({.parent = "opt", .values = {Value{"sgd"}}}));
  s.add(Param::Choice("tag", {Value{"plain"}, Value{kInjection}}));
  s.add(Param::Int("batch-size", 1, 512));
  return s;
}

Params test_params() {
  return {{"lr", 0.01}, {"opt", "adam"}, {"tag", "plain"}, {"batch-size", std::int64_t{64}}};
}

// A scratch directory per test, used as the program's cwd.
class CommandObjectiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("quarry_command_test_" + std::to_string(getpid()) + "_" + info->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string read(const std::string& name) const {
    std::ifstream in(dir_ / name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Runs `script` (sh -c) as a trial; `prune_at` makes the scheduler stop it at that step.
  std::vector<double> run(const std::string& script, CommandOptions options = {},
                          Params params = test_params()) {
    if (options.argv.empty()) options.argv = {"/bin/sh", "-c", script};
    if (options.metrics.empty()) options.metrics = {"loss"};
    options.cwd = dir_.string();
    CommandObjective objective(std::move(options), test_space());
    TrialContext context(
        7, std::move(params), 3,
        [this](std::int64_t step, double value) {
          reports_.emplace_back(step, value);
          if (step == interrupt_at_) interrupted_ = true;
          return step == prune_at_;
        },
        &interrupted_, /*parent=*/5);
    return objective.evaluate(context);
  }

  // The TrialFailed reason of `script`.
  std::string failure(const std::string& script, CommandOptions options = {}) {
    try {
      run(script, std::move(options));
    } catch (const TrialFailed& e) {
      return e.what();
    }
    return "no failure";
  }

  std::filesystem::path dir_;
  Reports reports_;
  std::int64_t prune_at_ = -1, interrupt_at_ = -1;
  std::atomic<bool> interrupted_{false};
};

bool is_dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return true;
  const auto paren = text.rfind(')');
  return paren + 2 < text.size() && (text[paren + 2] == 'Z' || text[paren + 2] == 'X');
}

bool dies_soon(pid_t pid) {
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  while (!is_dead(pid))
    if (Clock::now() > deadline)
      return false;
    else
      std::this_thread::yield();
  return true;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

TEST(CommandObjective, FillsPlaceholdersAndLiteralBraces) {
  const CommandObjective objective(
      {.argv = {"train", "--lr={lr}", "{{lr}}", "}}{opt}{{", "{momentum}", "{batch-size}"},
       .metrics = {"loss"}},
      test_space());
  // momentum is inactive (opt=adam): its default's text.
  EXPECT_THAT(objective.render_argv(test_params()),
              ElementsAre("train", "--lr=0.01", "{lr}", "}adam{", "0.9", "64"));
  EXPECT_EQ(objective.describe(),
            "command train --lr={lr} {{lr}} }}{opt}{{ {momentum} {batch-size}");
  EXPECT_EQ(CommandObjective::env_name("batch-size.v2"), "QUARRY_PARAM_BATCH_SIZE_V2");
}

TEST(CommandObjective, RejectsBadTemplatesAndOptionsAtConstruction) {
  const auto error_of = [](CommandOptions o) -> std::string {
    try {
      CommandObjective(std::move(o), test_space());
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error_of({.argv = {"train", "--lr={lrate}"}, .metrics = {"loss"}}),
            "CommandObjective: argument 1 '--lr={lrate}' names parameter 'lrate', which is not "
            "in the search space");
  EXPECT_THAT(error_of({.argv = {"train", "{lr"}, .metrics = {"loss"}}), HasSubstr("unclosed '{'"));
  EXPECT_THAT(error_of({.argv = {"train", "lr}"}, .metrics = {"loss"}}),
              HasSubstr("'}' without '{'"));
  EXPECT_THAT(error_of({.argv = {"train", "{}"}, .metrics = {"loss"}}),
              HasSubstr("without a parameter name"));
  EXPECT_THAT(error_of({.argv = {}, .metrics = {"loss"}}), HasSubstr("must name a program"));
  EXPECT_THAT(error_of({.argv = {"train"}}), HasSubstr("at least one metric"));
  EXPECT_THAT(error_of({.argv = {"train"}, .metrics = {"loss", "loss"}}), HasSubstr("twice"));
  EXPECT_THAT(error_of({.argv = {"train"}, .metrics = {"a=b"}}), HasSubstr("'a=b'"));
  EXPECT_THAT(error_of({.argv = {"train"}, .metrics = {"loss"}, .timeout = 0.0}),
              HasSubstr("timeout must be > 0"));
  // Two names, one environment variable.
  for (const char* other : {"LR", "lr-max"}) {
    space::Space clash;
    clash.add(space::Param::Float(other == std::string("LR") ? "lr" : "lr_max", 0, 1));
    clash.add(space::Param::Float(other, 0, 1));
    try {
      CommandObjective({.argv = {"train"}, .metrics = {"loss"}}, clash);
      ADD_FAILURE() << other << ": expected InvalidArgument";
    } catch (const InvalidArgument& e) {
      EXPECT_THAT(e.what(), HasSubstr(std::string("and '") + other +
                                      "' would share the environment variable QUARRY_PARAM_"));
    }
  }
}

TEST_F(CommandObjectiveTest, ProgramReceivesArgumentsAndEnvironment) {
  const auto values = run("", {.argv = {"/bin/sh", "-c",
                                        "printf '%s\\n' \"$@\" > args.txt; env > env.txt; "
                                        "echo 'quarry: loss=0.5'",
                                        "sh", "{lr}", "--opt={opt}", "{batch-size}"},
                               .env = {{"EXTRA", "yes"}}});
  EXPECT_THAT(values, ElementsAre(0.5));
  EXPECT_EQ(read("args.txt"), "0.01\n--opt=adam\n64\n");
  const std::string env = read("env.txt");
  for (const char* line :
       {"QUARRY_TRIAL_NUMBER=7\n", "QUARRY_BUDGET=3\n", "QUARRY_PARENT_TRIAL=5\n",
        "QUARRY_PARAM_LR=0.01\n", "QUARRY_PARAM_OPT=adam\n", "QUARRY_PARAM_BATCH_SIZE=64\n",
        "EXTRA=yes\n"})
    EXPECT_THAT(env, HasSubstr(line));
  EXPECT_THAT(env, Not(HasSubstr("QUARRY_PARAM_MOMENTUM")));  // inactive
  const auto start = env.find("QUARRY_PARAMS=") + std::string("QUARRY_PARAMS=").size();
  const auto json = nlohmann::json::parse(env.substr(start, env.find('\n', start) - start));
  EXPECT_EQ(json,
            nlohmann::json({{"lr", 0.01}, {"opt", "adam"}, {"tag", "plain"}, {"batch-size", 64}}));
}

TEST_F(CommandObjectiveTest, ParameterTextIsOneLiteralArgumentNeverExecuted) {
  auto params = test_params();
  params["tag"] = kInjection;
  const auto values =
      run("",
          {.argv = {"/bin/sh", "-c", "printf '%s' \"$1\" > arg.txt; echo 'quarry: loss=1'", "sh",
                    "{tag}"}},
          params);
  EXPECT_THAT(values, ElementsAre(1.0));
  EXPECT_EQ(read("arg.txt"), kInjection);
  EXPECT_FALSE(std::filesystem::exists("/tmp/pwned_" + std::to_string(getpid())));
}

TEST_F(CommandObjectiveTest, ParsesIntermediateAndFinalMetrics) {
  const auto values =
      run("echo hello; echo 'quarry: step=1 loss=0.9 acc=0.1'; echo 'quarry: step=2\tloss=0.7'; "
          "echo 'quarry: step=3 acc=0.5'; echo 'quarry: step=4 loss=nan'; "
          "echo 'not quarry: loss=abc'; echo 'quarry: loss=0.8 acc=0.3'; "
          "echo 'quarry:  loss=6.5e-1 acc=-2.5e-3 extra=3'",
          {.metrics = {"loss", "acc"}});
  EXPECT_THAT(values, ElementsAre(0.65, -0.0025));
  ASSERT_EQ(reports_.size(), 3u);
  EXPECT_EQ(reports_[0], std::make_pair(std::int64_t{1}, 0.9));
  EXPECT_EQ(reports_[1], std::make_pair(std::int64_t{2}, 0.7));
  EXPECT_EQ(reports_[2].first, 4);
  EXPECT_TRUE(std::isnan(reports_[2].second));
}

TEST_F(CommandObjectiveTest, FailureReasons) {
  EXPECT_EQ(failure("exit 3"), "exited with status 3");
  EXPECT_EQ(failure("echo oops >&2; echo 'quarry: loss=1'; exit 3"),
            "exited with status 3; stderr tail:\noops");
  EXPECT_EQ(failure("kill -SEGV $$"), "killed by signal 11 (Segmentation fault)");
  EXPECT_EQ(failure("echo 'quarry: acc=1'"),
            "did not report metric 'loss' (expected a line 'quarry: loss=<number>')");
  EXPECT_EQ(failure("echo 'quarry: step=1 loss=1'"),
            "did not report metric 'loss' (expected a line 'quarry: loss=<number>'; it appeared "
            "only on step= lines)");
  EXPECT_EQ(failure("echo 'quarry: loss=1 acc=2'; echo 'quarry: loss=nan'"),
            "metric 'loss' is nan");
  // An infinite value is no result either: -inf would otherwise be the best trial of all.
  EXPECT_EQ(failure("echo 'quarry: loss=-inf'"), "metric 'loss' is -inf");
  EXPECT_EQ(failure("echo 'quarry: loss=inf'"), "metric 'loss' is inf");
}

TEST_F(CommandObjectiveTest, MissingProgramIsFatalForTheSearch) {
  try {
    run("", {.argv = {"quarry-no-such-program", "{lr}"}});
    FAIL() << "expected FatalTrialError";
  } catch (const FatalTrialError& e) {
    EXPECT_STREQ(e.what(), "command 'quarry-no-such-program' not found");
  }
}

TEST_F(CommandObjectiveTest, MalformedLineFailsAndStopsTheProgram) {
  const auto start = Clock::now();
  EXPECT_EQ(failure("echo a; echo b; echo 'quarry: loss=abc'; echo 'quarry: loss=1'; sleep 60"),
            "malformed line 3 of output: 'quarry: loss=abc' (expected 'quarry: [step=<int>] "
            "<metric>=<number> ...')");
  EXPECT_LT(seconds_since(start), 1.0);
  for (const char* line :
       {"quarry:", "quarry: loss", "quarry: =1", "quarry: loss=", "quarry: step=1",
        "quarry: step=x loss=1", "quarry: step=1.5 loss=1", "quarry: loss=1 step=2",
        "quarry: loss=1e", "quarry: loss=0x10", "quarry: loss=1,5"})
    EXPECT_THAT(failure(std::string("echo '") + line + "'"),
                HasSubstr(std::string("malformed line 1 of output: '") + line + "'"))
        << line;
}

TEST_F(CommandObjectiveTest, TimeoutFailsTheTrial) {
  const auto start = Clock::now();
  EXPECT_EQ(failure("echo waiting >&2; sleep 60", {.timeout = 0.2}),
            "timed out after 0.2 s; stderr tail:\nwaiting");
  EXPECT_LT(seconds_since(start), 1.0);
}

constexpr const char* kLoop =
    "sleep 60 & echo $! > grandchild.pid; i=0; "
    "while :; do i=$((i+1)); echo \"quarry: step=$i loss=1\"; sleep 0.02; done";

TEST_F(CommandObjectiveTest, PruningStopsTheProcessGroupPromptly) {
  prune_at_ = 2;
  const auto start = Clock::now();
  EXPECT_THROW(run(kLoop), TrialPruned);
  EXPECT_LT(seconds_since(start), 1.0);  // kill_grace is 5 s: the program exited on SIGTERM
  ASSERT_EQ(reports_.size(), 2u);
  EXPECT_EQ(reports_.back().first, 2);
  EXPECT_TRUE(dies_soon(std::stoi(read("grandchild.pid"))));
  EXPECT_EQ(process::live_children(), 0);
}

TEST_F(CommandObjectiveTest, PruningKillsAProgramThatIgnoresSigterm) {
  prune_at_ = 2;
  const auto start = Clock::now();
  EXPECT_THROW(run(std::string("trap '' TERM; ") + kLoop, {.kill_grace = 0.3}), TrialPruned);
  const double seconds = seconds_since(start);
  EXPECT_GE(seconds, 0.3);
  EXPECT_LT(seconds, 1.5);
  EXPECT_TRUE(dies_soon(std::stoi(read("grandchild.pid"))));
}

TEST_F(CommandObjectiveTest, StopRequestedInterruptsTheTrial) {
  interrupt_at_ = 1;
  const auto start = Clock::now();
  EXPECT_THROW(run(kLoop), TrialInterrupted);
  EXPECT_LT(seconds_since(start), 1.0);
  EXPECT_TRUE(dies_soon(std::stoi(read("grandchild.pid"))));
}

}  // namespace
}  // namespace quarry::objectives
