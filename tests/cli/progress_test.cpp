// `quarry search`'s progress: on a terminal (a pseudo-terminal here) a live line under the trial
// lines — a bar, trials done of the total, running, best, ETA — redrawn in place and cleared
// before the summary; plain lines when the output is not a terminal; nothing with --quiet; and
// Hyperband's total taken from its schedule.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pty.h>

#include "tests/cli/cli_helpers.hpp"

namespace quarry::cli_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kStudy =
    "study: bar\n"
    "objective: loss\n"
    "space:\n"
    "  x: {int: [0, 9]}\n"
    "command: [sh, -c, \"echo quarry: loss={x}\"]\n"
    "sampler: random\n"
    "max_trials: 4\n";

/// `quarry ARGS...` with its stdout and stderr on a pseudo-terminal 100 columns wide: exit code
/// and everything it wrote.
std::pair<int, std::string> run_on_terminal(const std::vector<std::string>& args) {
  int master = -1;
  winsize size{};
  size.ws_col = 100;
  size.ws_row = 40;
  const pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) throw std::runtime_error("forkpty failed");
  if (pid == 0) {
    std::vector<std::string> argv = {cli_path().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> pointers;
    for (auto& a : argv) pointers.push_back(a.data());
    pointers.push_back(nullptr);
    execv(pointers[0], pointers.data());
    _exit(127);
  }
  std::string out;
  char buffer[4096];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 60000) <= 0) break;
    const auto n = read(master, buffer, sizeof buffer);
    if (n <= 0) break;  // EIO: the child closed the terminal
    out.append(buffer, static_cast<std::size_t>(n));
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(CliProgress, ALiveLineOnATerminal) {
  TempDir dir;
  const auto study = dir.write("s.yaml", kStudy);
  const auto [code, out] = run_on_terminal({"search", study.string(), "--workers", "1"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("\r\033[K[#####---------------] 1/4 done"));
  EXPECT_THAT(out, HasSubstr("\r\033[K[####################] 4/4 done, 0 running"));
  EXPECT_THAT(out, HasSubstr("ETA"));
  EXPECT_THAT(out, HasSubstr("| best "));
  // Trial lines are written over the live line, which is cleared before the summary.
  EXPECT_THAT(out, HasSubstr("\r\033[Ktrial 0 complete loss="));
  EXPECT_THAT(out, HasSubstr("\r\033[K\r\nstudy 'bar': 4 trials"));
}

TEST(CliProgress, PlainLinesWhenNotATerminalAndNothingWithQuiet) {
  TempDir dir;
  const auto study = dir.write("s.yaml", kStudy);
  const auto plain = run_cli({"search", study.string(), "--workers", "1"});
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  EXPECT_THAT(plain.out, Not(HasSubstr("\033[K")));
  EXPECT_THAT(plain.out, HasSubstr(" | 4/4 done, 0 running, 0 pruned, 0 failed | best "));
  const auto [code, quiet] =
      run_on_terminal({"search", study.string(), "--quiet", "--max-trials", "6"});
  ASSERT_EQ(code, 0) << quiet;
  EXPECT_THAT(quiet, Not(HasSubstr("done,")));
  EXPECT_THAT(quiet, Not(HasSubstr("\033[K")));
}

TEST(CliProgress, HyperbandsTotalComesFromItsSchedule) {
  TempDir dir;
  const auto study = dir.write("hb.yaml", kTinyHyperbandStudy);  // 6 trials
  const auto r = run_cli({"search", study.string(), "--workers", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_THAT(r.out, HasSubstr(" | 1/6 done"));
  EXPECT_THAT(r.out, HasSubstr(" | 6/6 done"));
}

}  // namespace
}  // namespace quarry::cli_test
