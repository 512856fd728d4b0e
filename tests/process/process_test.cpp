#include "quarry/process/process.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

namespace quarry::process {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

ProcessOptions shell(const std::string& script) {
  return {.argv = {"/bin/sh", "-c", script}};
}

std::vector<std::string> stdout_of(const ProcessOptions& options, ProcessResult* result = nullptr) {
  std::vector<std::string> lines;
  const auto r =
      run_process(options, {.on_stdout_line = [&](std::string_view l) { lines.emplace_back(l); }});
  if (result != nullptr) *result = r;
  return lines;
}

// Gone, or a zombie waiting for a parent that is not us (it can run no more code).
bool is_dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return true;
  const auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() &&
         (text[paren + 2] == 'Z' || text[paren + 2] == 'X');
}

// SIGKILL is delivered asynchronously: poll the process's state for up to a second.
bool dies_soon(pid_t pid) {
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  while (!is_dead(pid)) {
    if (Clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `script`, which must print the pid of a background grandchild, then "ready"; stops it then.
struct StopRun {
  ProcessResult result;
  pid_t grandchild = 0;
  double seconds = 0;
};
StopRun stop_after_ready(const std::string& script, double kill_grace) {
  StopRun run;
  bool ready = false;
  auto options = shell(script);
  options.kill_grace = kill_grace;
  const auto start = Clock::now();
  run.result = run_process(options, {.on_stdout_line =
                                         [&](std::string_view l) {
                                           if (l == "ready")
                                             ready = true;
                                           else
                                             run.grandchild = std::stoi(std::string(l));
                                         },
                                     .should_stop = [&] { return ready; }});
  run.seconds = seconds_since(start);
  return run;
}

TEST(Process, DeliversStdoutLinesAndTheExitStatus) {
  ProcessResult r;
  EXPECT_THAT(stdout_of(shell("echo a; echo; echo 'b c'; printf last"), &r),
              ElementsAre("a", "", "b c", "last"));
  EXPECT_TRUE(r.succeeded());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.timed_out || r.stopped);
  EXPECT_EQ(r.stderr_tail, "");
  EXPECT_EQ(live_children(), 0);
}

TEST(Process, PassesArgumentsLiterallyWithoutAShell) {
  const std::string marker = "/tmp/pwned_" + std::to_string(getpid());
  const std::vector<std::string> args = {"x; touch " + marker,
                                         "$(touch " + marker + ")",
                                         "`touch " + marker + "`",
                                         "a b\tc",
                                         "'\"",
                                         ""};
  ProcessOptions options{.argv = {"/usr/bin/printf", "[%s]\n"}};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  const auto lines = stdout_of(options);
  ASSERT_EQ(lines.size(), args.size());
  for (std::size_t i = 0; i < args.size(); ++i) EXPECT_EQ(lines[i], "[" + args[i] + "]");
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(Process, AddsEnvironmentVariablesAndRunsInCwd) {
  auto options = shell("echo \"$QUARRY_X\"; echo \"${PATH:+inherited}\"; pwd");
  options.env = {{"QUARRY_X", "a b"}, {"PATH", "/usr/bin:/bin"}};
  options.cwd = "/";
  EXPECT_THAT(stdout_of(options), ElementsAre("a b", "inherited", "/"));
}

TEST(Process, ReportsExitStatusAndSignal) {
  ProcessResult r;
  stdout_of(shell("exit 3"), &r);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.describe(), "exited with status 3");
  stdout_of(shell("kill -SEGV $$"), &r);
  EXPECT_FALSE(r.exit_code.has_value());
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_EQ(r.describe(), "killed by signal 11 (Segmentation fault)");
}

TEST(Process, KeepsTheLastLinesOfStderr) {
  ProcessResult r;
  stdout_of(shell("i=1; while [ $i -le 100 ]; do echo \"err $i\" >&2; i=$((i+1)); done"), &r);
  std::string expected;
  for (int i = 71; i <= 100; ++i) expected += (i > 71 ? "\n" : "") + ("err " + std::to_string(i));
  EXPECT_EQ(r.stderr_tail, expected);

  // At most stderr_tail_bytes: whole lines from the end, and a longer last line cut to its end.
  auto options = shell(
      "i=0; while [ $i -lt 10 ]; do printf '%0300d\\n' 0 >&2; i=$((i+1)); done; printf end >&2");
  options.stderr_tail_bytes = 1000;
  stdout_of(options, &r);
  const std::string zeros(300, '0');
  EXPECT_EQ(r.stderr_tail, zeros + "\n" + zeros + "\n" + zeros + "\nend");
  options.argv[2] = "printf '%03000d' 7 >&2";
  stdout_of(options, &r);
  EXPECT_EQ(r.stderr_tail, std::string(999, '0') + "7");
}

TEST(Process, NamesAProgramThatCannotStart) {
  const auto error_of = [](const ProcessOptions& o) -> std::string {
    try {
      run_process(o);
    } catch (const SpawnError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(error_of({.argv = {"quarry-no-such-program"}}),
            "command 'quarry-no-such-program' not found");
  const auto path = std::filesystem::temp_directory_path() /
                    ("quarry_noexec_" + std::to_string(getpid()) + ".sh");
  std::ofstream(path) << "#!/bin/sh\necho hi\n";
  chmod(path.c_str(), 0644);
  EXPECT_EQ(error_of({.argv = {path.string()}}),
            "cannot run '" + path.string() + "': Permission denied");
  std::filesystem::remove(path);
  EXPECT_EQ(error_of({.argv = {"/bin/true"}, .cwd = "/no/such/dir"}),
            "cannot run '/bin/true': working directory '/no/such/dir': No such file or directory");
  EXPECT_EQ(live_children(), 0);
  EXPECT_THROW(run_process({}), InvalidArgument);
  EXPECT_THROW(run_process({.argv = {"/bin/true"}, .timeout = 0.0}), InvalidArgument);
  EXPECT_THROW(run_process({.argv = {"/bin/true"}, .kill_grace = -1}), InvalidArgument);
}

TEST(Process, TimeoutStopsASleepingProgram) {
  auto options = shell("sleep 60");
  options.timeout = 0.2;
  const auto start = Clock::now();
  ProcessResult r;
  stdout_of(options, &r);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_GE(r.wall_seconds, 0.2);
  EXPECT_LT(seconds_since(start), 1.0);
}

TEST(Process, StopTerminatesTheWholeProcessGroupPromptly) {
  const auto run = stop_after_ready("sleep 60 & echo $!; echo ready; wait", 5.0);
  EXPECT_TRUE(run.result.stopped);
  EXPECT_EQ(run.result.signal, SIGTERM);
  EXPECT_LT(run.seconds, 1.0);  // well under kill_grace: the program exits on SIGTERM
  ASSERT_GT(run.grandchild, 0);
  EXPECT_TRUE(dies_soon(run.grandchild));
  EXPECT_EQ(live_children(), 0);
}

TEST(Process, SigkillFollowsAfterKillGraceWhenSigtermIsIgnored) {
  const auto run = stop_after_ready("trap '' TERM; sleep 60 & echo $!; echo ready; wait", 0.3);
  EXPECT_TRUE(run.result.stopped);
  EXPECT_EQ(run.result.signal, SIGKILL);
  EXPECT_GE(run.seconds, 0.3);
  EXPECT_LT(run.seconds, 1.5);
  EXPECT_TRUE(dies_soon(run.grandchild));
}

TEST(Process, KillsWhatTheProgramLeftRunningWhenItExits) {
  ProcessResult r;
  const auto start = Clock::now();
  const auto lines = stdout_of(shell("sleep 60 & echo $!"), &r);  // sleep keeps stdout open
  EXPECT_LT(seconds_since(start), 1.0);
  EXPECT_TRUE(r.succeeded());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(dies_soon(std::stoi(lines[0])));
}

TEST(Process, ChildStartsWithAnEmptySignalMask) {
  // A runner thread that blocks SIGTERM must not pass that on: the program must still stop.
  std::packaged_task<StopRun()> task([] {
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, nullptr);
    return stop_after_ready("sleep 60 & echo $!; echo ready; wait", 5.0);
  });
  auto result = task.get_future();
  std::thread(std::move(task)).join();
  const auto run = result.get();
  EXPECT_EQ(run.result.signal, SIGTERM);
  EXPECT_LT(run.seconds, 1.0);
}

TEST(Process, ACallbackThatThrowsStopsAndReapsTheProgram) {
  pid_t grandchild = 0;
  const auto start = Clock::now();
  EXPECT_THROW(run_process(shell("sleep 60 & echo $!; wait"),
                           {.on_stdout_line =
                                [&](std::string_view l) {
                                  grandchild = std::stoi(std::string(l));
                                  throw std::runtime_error("callback failed");
                                }}),
               std::runtime_error);
  EXPECT_LT(seconds_since(start), 1.0);
  EXPECT_TRUE(dies_soon(grandchild));
  EXPECT_EQ(live_children(), 0);
}

TEST(Process, KillAllChildrenEndsEveryRunningProgram) {
  std::promise<void> ready;
  auto run = std::async(std::launch::async, [&] {
    return run_process(shell("echo ready; sleep 60"),
                       {.on_stdout_line = [&](std::string_view) { ready.set_value(); }});
  });
  ready.get_future().wait();
  EXPECT_EQ(live_children(), 1);
  EXPECT_EQ(kill_all_children(), 1);
  const auto r = run.get();
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(live_children(), 0);
  EXPECT_EQ(kill_all_children(), 0);
}

}  // namespace
}  // namespace quarry::process
