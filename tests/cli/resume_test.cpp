// Stopping a search and resuming it: kill -9 at random moments loses nothing finished, and Ctrl-C
// puts running trials back in the queue. The kill -9 test takes ~20 s (suite name: Slow...).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "quarry/core/rng.hpp"
#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;

/// True while `pid` is a live process (not gone, not a zombie) running something named `name`.
bool running_program(pid_t pid, const std::string& name) {
  const fs::path proc = "/proc/" + std::to_string(pid);
  const std::string stat = read_text(proc / "stat");
  const auto close = stat.rfind(')');
  if (stat.empty() || close == std::string::npos || close + 2 >= stat.size()) return false;
  if (stat[close + 2] == 'Z' || stat[close + 2] == 'X') return false;
  std::string cmdline = read_text(proc / "cmdline");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  return cmdline.find(name) != std::string::npos;
}

/// Process ids of the trial programs recorded in `dir` (file names or file contents).
std::vector<pid_t> recorded_pids(const fs::path& dir, bool in_content) {
  std::vector<pid_t> pids;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string text =
        in_content ? read_text(entry.path()) : entry.path().filename().string();
    if (!text.empty() &&
        std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
      pids.push_back(std::stoi(text));
  }
  return pids;
}

/// The facts of a finished trial that must never change.
nlohmann::json finished_facts(const nlohmann::json& t) {
  return {{"state", t["state"]},
          {"values", t["values"]},
          {"params", t["params"]},
          {"finished_at", t["finished_at"]},
          {"attempts", t["attempts"]}};
}

TEST(SlowCliResume, KillNineAtRandomMomentsLosesNothing) {
  constexpr int kTrials = 40, kKills = 10;
  TempDir dir;
  const fs::path pids = dir / "pids";
  fs::create_directory(pids);
  // Each trial sleeps 0.2-0.5 s (plus the interpreter's start), so that with 2 workers the 40
  // trials take ~10 s and every kill lands while trials are running.
  const auto study =
      dir.write("study.yaml",
                "study: crash\n"
                "objective: loss\n"
                "space:\n"
                "  x: {float: [-1, 1]}\n"
                "command: [python3, \"" +
                    program_path("sleepy_trial.py").string() + "\", \"{x}\", \"" + pids.string() +
                    "\", \"0.2\", \"0.5\"]\n"
                    "trial_timeout: 60\n"
                    // The test kills the whole search 10 times: a trial may be running in 3 of
                    // them, through no fault of its own (max_attempts' own test is in
                    // tests/study/study_test.cpp).
                    "max_attempts: 100\n"
                    "max_trials: " +
                    std::to_string(kTrials) + "\n");
  const std::vector<std::string> search = {"search", study.string(), "--workers", "2", "--quiet"};

  Rng rng(20240611);
  std::map<std::int64_t, nlohmann::json> finished;  // number -> facts, as first seen
  int kills = 0;
  for (int round = 0; kills < kKills && round < 3 * kKills; ++round) {
    CliProcess process(search, {.real_python = true});
    std::this_thread::sleep_for(Seconds(rng.uniform(0.2, 1.0)));  // a random moment to crash
    process.send(SIGKILL);
    const CliResult r = process.wait();
    if (r.signal == SIGKILL) {
      ++kills;
    } else {
      ASSERT_EQ(r.exit_code, 0) << "the study finished before the kill\n" << r.describe();
    }

    // The dead search's trial programs die with it (PR_SET_PDEATHSIG), none is left running.
    EXPECT_TRUE(eventually([&] {
      for (pid_t pid : recorded_pids(pids, false))
        if (running_program(pid, "sleepy_trial.py")) return false;
      return true;
    })) << "a trial program outlived the killed search";
    for (const auto& entry : fs::directory_iterator(pids)) fs::remove(entry.path());

    // A kill before the first search created its store (a slow start on a loaded machine) leaves
    // nothing to check yet; no trial can have finished then.
    if (!fs::exists(dir / "crash" / "quarry.db")) {
      EXPECT_TRUE(finished.empty()) << "the store of finished trials disappeared";
      continue;
    }
    // Finished trials are immutable and none is lost; numbers stay unique and below max_trials.
    const auto trials = trials_json({study.string()});
    std::set<std::int64_t> numbers;
    for (const auto& t : trials) {
      const auto number = t["number"].get<std::int64_t>();
      EXPECT_TRUE(numbers.insert(number).second) << "trial number " << number << " twice";
      EXPECT_LT(number, kTrials);
      if (const auto it = finished.find(number); it != finished.end()) {
        EXPECT_EQ(finished_facts(t), it->second) << "finished trial " << number << " changed";
      } else if (t["state"] != "running" && t["state"] != "waiting") {
        finished[number] = finished_facts(t);
      }
    }
    for (const auto& [number, facts] : finished)
      EXPECT_TRUE(numbers.count(number)) << "finished trial " << number << " was lost";
  }
  EXPECT_GE(kills, kKills);

  // One more search runs the study to its end.
  const CliResult last = run_cli(search, {.real_python = true});
  ASSERT_EQ(last.exit_code, 0) << last.describe();
  const auto trials = trials_json({study.string()});
  ASSERT_EQ(trials.size(), static_cast<std::size_t>(kTrials));
  int rerun = 0;
  for (int i = 0; i < kTrials; ++i) {
    const auto& t = trials[i];
    EXPECT_EQ(t["number"], i);
    EXPECT_EQ(t["state"], "complete") << t.dump();
    ASSERT_TRUE(t["params"].contains("x")) << "trial " << i << " lost its parameters: " << t.dump();
    const double x = t["params"]["x"].get<double>();
    EXPECT_DOUBLE_EQ(t["values"]["loss"].get<double>(), x * x) << t.dump();
    if (const auto it = finished.find(i); it != finished.end()) {
      EXPECT_EQ(finished_facts(t), it->second) << "finished trial " << i << " changed";
    }
    rerun += t["attempts"].get<int>() > 1;
  }
  EXPECT_GE(rerun, 1) << "no kill interrupted a running trial; the test did not test resuming";
  RecordProperty("kills", kills);
  RecordProperty("trials_finished_before_the_last_search", static_cast<int>(finished.size()));
  RecordProperty("trials_run_again", rerun);
}

// --- Ctrl-C ----------------------------------------------------------------------------------

class CliInterrupt : public ::testing::Test {
 protected:
  void write_study(const std::string& extra_argument) {
    fs::create_directory(markers_);
    study_ = dir_.write("study.yaml",
                        "study: ctrlc\n"
                        "objective: loss\n"
                        "space:\n"
                        "  x: {float: [0, 1]}\n"
                        "command: [python3, \"" +
                            program_path("waiting_trial.py").string() + "\", \"{x}\", \"" +
                            markers_.string() + "\"" + extra_argument +
                            "]\n"
                            "max_trials: 4\n");
  }
  std::vector<std::string> search() const { return {"search", study_.string(), "--workers", "2"}; }
  /// Waits until trials 0 and 1 run (their programs wrote their markers); returns their pids.
  std::vector<pid_t> wait_for_two_trials(const CliProcess& process) const {
    const bool started = eventually(
        [&] { return fs::exists(markers_ / "started.0") && fs::exists(markers_ / "started.1"); },
        60);
    EXPECT_TRUE(started) << "stdout:\n"
                         << process.out_so_far() << "stderr:\n"
                         << process.err_so_far();
    if (!started) return {};
    return {std::stoi(read_text(markers_ / "started.0")),
            std::stoi(read_text(markers_ / "started.1"))};
  }
  /// A new search, with the trial programs finishing at once, completes the study.
  void expect_resumed_search_completes(const nlohmann::json& before) {
    write_text(markers_ / "fast", "");
    const CliResult r = run_cli(search(), {.real_python = true});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    const auto trials = trials_json({study_.string()});
    ASSERT_EQ(trials.size(), 4u);
    for (const auto& t : trials) EXPECT_EQ(t["state"], "complete") << t.dump();
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(trials[i]["attempts"], 2) << "trial " << i << " was run again";
      EXPECT_EQ(trials[i]["params"], before[i]["params"])
          << "a requeued trial keeps its parameters";
      EXPECT_EQ(trials[i]["values"]["loss"], trials[i]["params"]["x"]);
    }
  }

  /// `signal` to a search running two trials stops it as Ctrl-C does, with `exit_code`: the
  /// programs ended, the trials put back in the queue, and the next search completes them.
  void expect_graceful_stop(int signal, int exit_code) {
    write_study("");
    CliProcess process(search(), {.real_python = true});
    const auto pids = wait_for_two_trials(process);
    ASSERT_EQ(pids.size(), 2u);
    process.send(signal);
    const CliResult r = process.wait();
    ASSERT_EQ(r.exit_code, exit_code) << r.describe();
    EXPECT_THAT(r.out, HasSubstr("stopped: 2 running trial(s) put back in the queue"));
    for (pid_t pid : pids) EXPECT_FALSE(running_program(pid, "waiting_trial.py")) << "pid " << pid;
    const auto before = trials_json({study_.string()});
    for (const auto& t : before) EXPECT_EQ(t["state"], "waiting");
    expect_resumed_search_completes(before);
  }

  TempDir dir_;
  fs::path markers_ = dir_ / "markers";
  fs::path study_;
};

TEST_F(CliInterrupt, CtrlCRequeuesRunningTrialsAndExits130) {
  write_study("");
  CliProcess process(search(), {.real_python = true});
  const auto pids = wait_for_two_trials(process);
  ASSERT_EQ(pids.size(), 2u);
  // `quarry status` reads the store while the search runs.
  const CliResult running = run_cli({"status", study_.string()});
  ASSERT_EQ(running.exit_code, 0) << running.describe();
  EXPECT_THAT(running.out,
              HasSubstr("trials: 2 (0 complete, 2 running, 0 waiting, 0 pruned, 0 failed)"));

  process.send(SIGINT);
  const CliResult r = process.wait();
  ASSERT_EQ(r.exit_code, 130) << r.describe();
  EXPECT_THAT(r.err, HasSubstr("quarry: stopping; running trials go back to the queue"));
  EXPECT_THAT(r.out, HasSubstr("stopped: 2 running trial(s) put back in the queue"));
  for (pid_t pid : pids) EXPECT_FALSE(running_program(pid, "waiting_trial.py")) << "pid " << pid;

  const CliResult status = run_cli({"status", study_.string()});
  ASSERT_EQ(status.exit_code, 0) << status.describe();
  EXPECT_THAT(status.out,
              HasSubstr("trials: 2 (0 complete, 0 running, 2 waiting, 0 pruned, 0 failed)"));
  const auto before = trials_json({study_.string()});
  for (const auto& t : before) {
    EXPECT_EQ(t["state"], "waiting");
    EXPECT_EQ(t["attempts"], 1);
  }
  expect_resumed_search_completes(before);
}

TEST_F(CliInterrupt, ClosingTheTerminalStopsLikeCtrlCAndExits129) {
  // SIGHUP used to kill quarry outright: trials left running, their programs orphaned.
  expect_graceful_stop(SIGHUP, 129);
}

TEST_F(CliInterrupt, SigtermStopsLikeCtrlCAndExits143) {
  expect_graceful_stop(SIGTERM, 143);
}

TEST_F(CliInterrupt, NothingATrialStartedOutlivesAKilledSearch) {
  // kill -9 of the search used to leave the programs' own children running with parent 1.
  write_study(", with_child");
  CliProcess process(search(), {.real_python = true});
  const auto pids = wait_for_two_trials(process);
  ASSERT_EQ(pids.size(), 2u);
  const std::vector<pid_t> children = {std::stoi(read_text(markers_ / "child.0")),
                                       std::stoi(read_text(markers_ / "child.1"))};
  for (pid_t pid : children) ASSERT_TRUE(running_program(pid, "sleep")) << "pid " << pid;
  process.send(SIGKILL);
  const CliResult r = process.wait();
  ASSERT_EQ(r.signal, SIGKILL) << r.describe();
  for (pid_t pid : pids)
    EXPECT_TRUE(eventually([&] { return !running_program(pid, "waiting_trial.py"); }, 10))
        << "trial program " << pid << " survived";
  for (pid_t pid : children)
    EXPECT_TRUE(eventually([&] { return !running_program(pid, "sleep"); }, 10))
        << "the trial program's child " << pid << " survived";
  expect_resumed_search_completes(trials_json({study_.string()}));
}

TEST_F(CliInterrupt, SecondCtrlCKillsAtOnceAndTheNextSearchRecovers) {
  write_study(", stubborn");  // the programs ignore SIGTERM: a graceful stop would wait for them
  CliProcess process(search(), {.real_python = true});
  const auto pids = wait_for_two_trials(process);
  ASSERT_EQ(pids.size(), 2u);
  process.send(SIGINT);
  ASSERT_TRUE(
      eventually([&] { return process.err_so_far().find("stopping") != std::string::npos; }));
  process.send(SIGINT);
  const CliResult r = process.wait();
  ASSERT_EQ(r.exit_code, 130) << r.describe();
  EXPECT_TRUE(eventually([&] {
    return !running_program(pids[0], "waiting_trial.py") &&
           !running_program(pids[1], "waiting_trial.py");
  })) << "the second Ctrl-C must kill the trial programs";

  // Killed without cleaning up, the trials are still marked running; the next search finds their
  // worker gone and runs them again.
  const auto before = trials_json({study_.string()});
  ASSERT_EQ(before.size(), 2u);
  for (const auto& t : before) EXPECT_EQ(t["state"], "running");
  // `quarry status` tells them apart from trials that really run.
  const CliResult status = run_cli({"status", study_.string()});
  EXPECT_THAT(status.out, HasSubstr("2 running of which 2 orphaned (their process is gone"));
  expect_resumed_search_completes(before);
}

// --- one store, several searches ---------------------------------------------------------------

TEST(CliSharedStore, TwoSearchesSplitTheTrials) {
  constexpr int kTrials = 20;
  TempDir dir;
  const auto study = dir.write("study.yaml",
                               "study: shared\n"
                               "objective: loss\n"
                               "space:\n"
                               "  x: {float: [0, 1]}\n"
                               "command: [sh, -c, \"sleep 0.2; echo quarry: loss={x}\"]\n"
                               "max_trials: " +
                                   std::to_string(kTrials) + "\n");
  const std::vector<std::string> search = {"search", study.string(), "--workers", "2"};
  CliProcess first(search), second(search);
  const CliResult a = first.wait(), b = second.wait();
  ASSERT_EQ(a.exit_code, 0) << a.describe();
  ASSERT_EQ(b.exit_code, 0) << b.describe();

  const auto trials = trials_json({study.string()});
  ASSERT_EQ(trials.size(), static_cast<std::size_t>(kTrials));
  std::set<std::string> processes;
  for (int i = 0; i < kTrials; ++i) {
    EXPECT_EQ(trials[i]["number"], i);
    EXPECT_EQ(trials[i]["state"], "complete") << trials[i].dump();
    EXPECT_EQ(trials[i]["attempts"], 1) << "no trial is run twice";
    const auto worker = trials[i]["worker"].get<std::string>();  // host:pid:slot
    processes.insert(worker.substr(0, worker.rfind(':')));
  }
  EXPECT_EQ(processes.size(), 2u) << "both searches ran trials";
}

}  // namespace
}  // namespace quarry::cli_test
