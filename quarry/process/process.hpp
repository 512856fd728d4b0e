// Running an external program as a trial: safely, with a timeout and a clean end.
//
// run_process() starts `argv` directly with fork() + execvp() (no shell: argument text is never
// parsed, so a parameter value can never inject a command) and follows it until it ends:
//   - The child gets its own process group (setpgid), reads stdin from /dev/null, starts with
//     default signal dispositions and an empty signal mask, and inherits no file descriptor but
//     0, 1 and 2. A small supervisor process (spawn.hpp), the group's leader, starts it and waits
//     for it: when the thread that started the run dies, even by kill -9 of the whole search,
//     the supervisor kills the group, so nothing the program started outlives the search.
//   - Its environment is the parent's plus `env` (same name: `env` wins); `cwd` is applied before
//     exec, so a relative argv[0] containing '/' is relative to it. argv[0] without '/' is looked
//     up in the parent's PATH.
//   - A program that cannot start is a SpawnError naming it: "command 'foo' not found",
//     "cannot run './x': Permission denied".
//   - stdout is handed over line by line; the last lines of stderr (30 lines / 4 KiB) are kept.
//   - `should_stop()` is asked after each stdout line and at least every 100 ms; with `timeout`,
//     the run also stops once that many seconds have passed.
//   - Stopping terminates the whole process group: SIGTERM, up to `kill_grace` seconds for the
//     program to exit, then SIGKILL. When the program ends (by itself or stopped), whatever it left
//     running in its process group (`sleep 60 &`) is killed, and the program is always reaped.
//
// kill_all_children() kills every live child's process group with SIGKILL; it is
// async-signal-safe, for a signal handler (the runner's second Ctrl-C).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quarry/core/error.hpp"

namespace quarry::process {

/// The program could not be started (not found, not executable, bad cwd, fork failed).
class SpawnError : public Error {
 public:
  using Error::Error;
};

struct ProcessOptions {
  std::vector<std::string> argv;           ///< program and arguments; must not be empty
  std::string cwd;                         ///< working directory; empty: the parent's
  std::map<std::string, std::string> env;  ///< variables added to the parent's environment
  std::optional<double> timeout;           ///< seconds (> 0) before the run is stopped; none
  double kill_grace = 5.0;                 ///< seconds between SIGTERM and SIGKILL (>= 0)
  std::size_t stderr_tail_lines = 30;      ///< how many last lines of stderr to keep
  std::size_t stderr_tail_bytes = 4096;    ///< and at most this many bytes of them
};

struct ProcessCallbacks {
  /// Each line of stdout, without its '\n' (a last line without one is delivered at the end).
  std::function<void(std::string_view line)> on_stdout_line;
  /// Each line of stderr, for logs (the tail is kept either way).
  std::function<void(std::string_view line)> on_stderr_line;
  /// Asked after each stdout line and at least every 100 ms: true stops the program.
  std::function<bool()> should_stop;
};

struct ProcessResult {
  std::optional<int> exit_code;  ///< the status, when the program exited
  int signal = 0;                ///< the signal that ended it, when one did (0 otherwise)
  bool timed_out = false;        ///< stopped because `timeout` passed
  bool stopped = false;          ///< stopped because should_stop() answered true
  std::string stderr_tail;       ///< last lines of stderr, '\n'-separated, no trailing '\n'
  double wall_seconds = 0;       ///< from start to reaping

  /// Exited with status 0, by itself.
  bool succeeded() const { return exit_code == 0 && !timed_out && !stopped; }
  /// "exited with status 3", "killed by signal 11 (Segmentation fault)".
  std::string describe() const;
};

/// Runs the program to its end (see the top of this file). Throws SpawnError if it cannot start,
/// InvalidArgument for bad options. If a callback throws, the program is stopped and reaped
/// (SIGTERM, kill_grace, SIGKILL) and the exception propagates.
ProcessResult run_process(const ProcessOptions& options, const ProcessCallbacks& callbacks = {});

/// SIGKILL to the process group of every program run_process() is running now, in any thread.
/// Async-signal-safe. Returns how many groups were signalled.
int kill_all_children() noexcept;

/// The hard stop (the runner's second Ctrl-C): kill_all_children(), then _exit(code). From the
/// moment it is called, a thread whose program it killed never returns from run_process() (it
/// waits for the exit), so no killed program is reported, or stored, as a failed trial.
/// Async-signal-safe.
[[noreturn]] void kill_all_children_and_exit(int code) noexcept;

/// How many programs run_process() is running now (for tests and progress output).
int live_children() noexcept;

}  // namespace quarry::process
