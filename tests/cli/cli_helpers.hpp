// Helpers for the end-to-end tests of the `quarry` command: a scratch folder per test, and the
// built CLI run as a child process (fork + execve, no shell) with its stdout, stderr and exit
// status captured, under a deadline so that a hung CLI fails its test instead of hanging CI.
//
//   TempDir dir;
//   const auto study = dir.write("study.yaml", "study: demo\n...");
//   CliResult r = run_cli({"search", study.string(), "--workers", "2"});
//   EXPECT_EQ(r.exit_code, 0) << r.describe();
//
// A run gets the test's environment. With `.real_python = true` the directory of the real Python
// interpreter goes first on PATH, so that `python3` in a study file starts the interpreter itself
// and not a slow wrapper (pyenv's shims take seconds per start on a loaded machine).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/error_catalog.hpp"
#include "tests/test_util.hpp"

extern char** environ;

namespace quarry::cli_test {

namespace fs = std::filesystem;
using Seconds = std::chrono::duration<double>;

/// The `quarry` binary under test and the source tree (compile definitions from tests/CMakeLists).
inline fs::path cli_path() {
  return QUARRY_CLI;
}
inline fs::path source_dir() {
  return QUARRY_SOURCE_DIR;
}
inline fs::path program_path(const std::string& name) {
  return source_dir() / "tests" / "cli" / "programs" / name;
}

using quarry::testing::read_text;
using quarry::testing::write_text;

/// A fresh folder under $TMPDIR (or /tmp), removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/quarry-cli-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  /// Writes `text` to `name` inside the folder; returns the file's path.
  fs::path write(const std::string& name, const std::string& text) const {
    write_text(path_ / name, text);
    return path_ / name;
  }

 private:
  fs::path path_;
};

/// What a finished CLI run left behind.
struct CliResult {
  int exit_code = -1;      ///< the exit status, or -1 when a signal ended it
  int signal = 0;          ///< the signal that ended it, if one did
  bool timed_out = false;  ///< it ran past its deadline and was killed by the helper
  std::string out, err;

  /// stderr's first line (without the '\n').
  std::string err_first_line() const { return err.substr(0, err.find('\n')); }
  /// For failure messages: the status and both streams.
  std::string describe() const {
    std::string status = timed_out ? "TIMED OUT"
                         : signal  ? "killed by signal " + std::to_string(signal)
                                   : "exit " + std::to_string(exit_code);
    return status + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
  }
};

struct CliOptions {
  double timeout = 120;                    ///< seconds before the run is killed and failed
  std::map<std::string, std::string> env;  ///< variables added to the environment
  bool real_python = false;                ///< `python3` starts the real interpreter (see top)
  fs::path cwd;                            ///< the folder it runs in (empty: the test's)
  /// A poll that may fail until things settle (a store still being created): its failure is not
  /// an error case the test tries, and stays out of the error catalog.
  bool probe = false;
};

namespace detail {

/// The whole content of a file descriptor, read from its start (pread: its offset is left alone).
inline std::string read_fd(int fd) {
  std::string out;
  char buf[8192];
  for (ssize_t n; (n = pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()))) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  return out;
}

/// A memory-backed file for one output stream of the child (no pipe to drain while it runs).
inline int output_file(const char* name) {
  const int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("memfd_create failed: ") + std::strerror(errno));
  return fd;
}

}  // namespace detail

/// The real interpreter behind `python3` on PATH when that is a wrapper script (found once, by
/// asking it); empty when python3 is the interpreter itself.
inline std::string python_interpreter();

/// The test's environment plus `extra`, with the real Python's folder first on PATH.
inline std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra,
                                                  bool with_python) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  if (const std::string python = with_python ? python_interpreter() : ""; !python.empty())
    env["PATH"] = fs::path(python).parent_path().string() + ":" + env["PATH"];
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

/// One child process started at construction; wait() reaps it, the destructor kills and reaps
/// it if nobody did.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::vector<std::string> env, double timeout,
               const fs::path& cwd = {})
      : deadline_(
            std::chrono::steady_clock::now() +
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(Seconds(timeout))) {
    out_fd_ = detail::output_file("quarry-stdout");
    err_fd_ = detail::output_file("quarry-stderr");
    std::vector<char*> args, envp;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // The child: dies with the test, starts with no signal blocked or ignored (a test runner
      // may block or ignore SIGINT), reads nothing, writes into the two memory files.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      for (int sig : {SIGINT, SIGTERM, SIGQUIT, SIGPIPE, SIGCHLD}) signal(sig, SIG_DFL);
      const int null_fd = open("/dev/null", O_RDONLY);
      dup2(null_fd, 0);
      dup2(out_fd_, 1);
      dup2(err_fd_, 2);
      if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(127);
      execve(args[0], args.data(), envp.data());
      const char msg[] = "cli_helpers: execve failed\n";
      (void)!write(2, msg, sizeof msg - 1);
      _exit(127);
    }
  }
  ~ChildProcess() {
    if (!reaped_) {
      kill(pid_, SIGKILL);
      wait();
    }
    close(out_fd_);
    close(err_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// Sends `sig` to the process (not to its trial programs, which have process groups of their
  /// own).
  void send(int sig) const {
    if (!reaped_) kill(pid_, sig);
  }
  /// What the process has written to stdout / stderr so far (it may still be running).
  std::string out_so_far() const { return detail::read_fd(out_fd_); }
  std::string err_so_far() const { return detail::read_fd(err_fd_); }
  /// Waits for the process to end (killing it at the deadline) and returns what it left.
  CliResult wait() {
    CliResult r;
    if (reaped_) throw std::logic_error("ChildProcess::wait called twice");
    int status = 0;
    if (!wait_until_deadline(status)) {
      r.timed_out = true;
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    reaped_ = true;
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    r.out = detail::read_fd(out_fd_);
    r.err = detail::read_fd(err_fd_);
    return r;
  }

 private:
  /// True once reaped, false at the deadline; sleeps in the kernel (pidfd + poll) when it can.
  bool wait_until_deadline(int& status) {
#ifdef SYS_pidfd_open
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd >= 0) {
      int ready = -1;
      do {
        pollfd p{pidfd, POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline_ - std::chrono::steady_clock::now());
        ready = poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
      } while (ready < 0 && errno == EINTR);
      close(pidfd);
      if (ready <= 0) return false;
      return waitpid(pid_, &status, 0) == pid_;
    }
#endif
    while (std::chrono::steady_clock::now() < deadline_) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return waitpid(pid_, &status, WNOHANG) == pid_;
  }

  std::chrono::steady_clock::time_point deadline_;
  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  bool reaped_ = false;
};

inline std::string python_interpreter() {
  static const std::string path = [] {
    // A python3 on PATH that is a program itself needs nothing; a script (a shim) is asked.
    for (std::string_view rest = std::getenv("PATH") ? std::getenv("PATH") : ""; !rest.empty();) {
      const auto colon = std::min(rest.find(':'), rest.size());
      const fs::path candidate = fs::path(rest.substr(0, colon)) / "python3";
      rest.remove_prefix(std::min(colon + 1, rest.size()));
      if (access(candidate.c_str(), X_OK) != 0) continue;
      char magic[4] = {};
      std::ifstream(candidate, std::ios::binary).read(magic, sizeof magic);
      if (std::string_view(magic, sizeof magic) ==
          "\x7f"
          "ELF")
        return std::string();
      break;
    }
    ChildProcess p({"/usr/bin/env", "python3", "-c", "import sys; print(sys.executable)"},
                   child_environment({}, false), 60);
    std::string out = p.wait().out;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }();
  return path;
}

/// `quarry ARGS...` started in the background: for signals (Ctrl-C, kill -9) while it runs.
class CliProcess {
 public:
  explicit CliProcess(const std::vector<std::string>& args, const CliOptions& options = {})
      : command_line_(shown(args)),
        probe_(options.probe),
        child_(argv_of(args), child_environment(options.env, options.real_python), options.timeout,
               options.cwd) {}

  pid_t pid() const { return child_.pid(); }
  void send(int sig) const { child_.send(sig); }
  std::string out_so_far() const { return child_.out_so_far(); }
  std::string err_so_far() const { return child_.err_so_far(); }
  /// Waits for the end; a run that failed (exit code not 0) goes into the error catalog.
  CliResult wait() {
    CliResult r = child_.wait();
    if (r.exit_code > 0 && !probe_)
      quarry::testing::record_error(command_line_, r.exit_code, message_of(r));
    return r;
  }

 private:
  /// The line of a failed run's output that says why: its error line, or else its first FAIL
  /// line (a gate that failed), the last line of stderr starting "quarry: ", the last line.
  static std::string message_of(const CliResult& r) {
    std::string last, last_quarry, fail;
    for (const std::string* stream : {&r.out, &r.err}) {
      std::istringstream lines(*stream);
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("quarry: error:", 0) == 0 || line.rfind("quarry: internal error:", 0) == 0)
          return line;
        if (!line.empty()) last = line;
        if (stream == &r.err && line.rfind("quarry: ", 0) == 0) last_quarry = line;
        if (fail.empty() && line.find("FAIL ") != std::string::npos) fail = line;
      }
    }
    return !fail.empty() ? fail : !last_quarry.empty() ? last_quarry : last;
  }
  static std::string shown(const std::vector<std::string>& args) {
    std::string line = "quarry";
    for (const auto& arg : args)
      line += " " + (arg.find_first_of(" \t\"'") == std::string::npos ? arg : "'" + arg + "'");
    return line;
  }
  static std::vector<std::string> argv_of(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {cli_path().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  std::string command_line_;  ///< as the error catalog shows it
  bool probe_;
  ChildProcess child_;
};

/// `quarry ARGS...` to its end.
inline CliResult run_cli(const std::vector<std::string>& args, const CliOptions& options = {}) {
  return CliProcess(args, options).wait();
}

/// `quarry trials ARGS... --format json`, parsed; throws with the CLI's output when it fails.
inline nlohmann::json trials_json(const std::vector<std::string>& study_args) {
  std::vector<std::string> args = {"trials"};
  args.insert(args.end(), study_args.begin(), study_args.end());
  args.insert(args.end(), {"--format", "json"});
  const CliResult r = run_cli(args);
  if (r.exit_code != 0) throw std::runtime_error("quarry trials failed: " + r.describe());
  auto trials = nlohmann::json::parse(r.out);
  // Why each failed trial failed, as users see it: into the error catalog.
  for (const auto& t : trials)
    if (t.value("state", "") == "failed" && t.contains("failure") && t["failure"].is_string())
      quarry::testing::record_error("a trial (its failure as `quarry trials` shows it)", -1,
                                    t["failure"].get<std::string>());
  return trials;
}

/// Checks `done` every 10 ms until it holds or `timeout` seconds pass; returns whether it held.
/// A Hyperband study of 6 quick trials (study "hb", loss = x): max_epochs 3, factor 3, so bracket
/// 1 runs 3 trials at 1 epoch and promotes the best to 3 epochs, then bracket 0 runs 2 at 3.
inline constexpr const char* kTinyHyperbandStudy =
    "study: hb\n"
    "objective: loss\n"
    "space:\n"
    "  x: {int: [0, 9]}\n"
    "command: [sh, -c, \"echo quarry: loss={x}\"]\n"
    "scheduler: {hyperband: {max_epochs: 3, factor: 3}}\n";

inline bool eventually(const std::function<bool()>& done, double timeout = 30) {
  const auto deadline = std::chrono::steady_clock::now() + Seconds(timeout);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

/// How many lines `text` has (a last line without '\n' counts).
inline std::size_t line_count(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n';
  return n + (!text.empty() && text.back() != '\n');
}

}  // namespace quarry::cli_test
