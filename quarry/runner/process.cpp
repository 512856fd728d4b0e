#include "quarry/runner/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <sstream>
#include <utility>

extern char** environ;

namespace quarry::runner {

namespace {

using Clock = std::chrono::steady_clock;

// ---- The live process groups, for kill_all_children() (lock-free, signal-safe). ----

constexpr int kMaxLive = 256;
std::atomic<pid_t> g_live[kMaxLive];

int register_group(pid_t pgid) {
  for (int i = 0; i < kMaxLive; ++i) {
    pid_t expected = 0;
    if (g_live[i].compare_exchange_strong(expected, pgid)) return i;
  }
  return -1;  // full: the run still works, it just cannot be killed from a signal handler
}

void unregister_group(int slot) {
  if (slot >= 0) g_live[slot].store(0);
}

std::string error_text(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof buf);  // GNU variant: returns the message
}

// ---- Spawning. Everything the child needs is built before fork(). ----

enum class Stage : int { kChdir = 1, kExec = 2 };
struct ChildError {
  Stage stage;
  int err;
};

struct ExecPlan {
  std::vector<std::string> env_strings;
  std::vector<char*> argv, envp;
  const char* cwd = nullptr;
  pid_t parent = 0;
  int null_fd = -1, out_w = -1, err_w = -1, report_w = -1;
};

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (!extra.contains(std::string(entry.substr(0, entry.find('='))))) out.emplace_back(entry);
  }
  for (const auto& [name, value] : extra) out.push_back(name + "=" + value);
  return out;
}

[[noreturn]] void report_and_exit(int fd, Stage stage) {
  const ChildError e{stage, errno};
  [[maybe_unused]] auto n = write(fd, &e, sizeof e);
  _exit(127);
}

void move_fd(int from, int to) {
  if (from == to)
    fcntl(to, F_SETFD, 0);  // keep it across exec
  else
    dup2(from, to);
}

// Runs in the child between fork() and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const ExecPlan& plan) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != plan.parent) _exit(127);  // the parent died before prctl
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) sigaction(s, &dfl, nullptr);  // undo SIG_IGN inherited
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  move_fd(plan.null_fd, 0);
  move_fd(plan.out_w, 1);
  move_fd(plan.err_w, 2);
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);  // no fd of the parent leaks
#endif
  if (plan.cwd != nullptr && chdir(plan.cwd) != 0) report_and_exit(plan.report_w, Stage::kChdir);
  execvpe(plan.argv[0], plan.argv.data(), plan.envp.data());
  report_and_exit(plan.report_w, Stage::kExec);
}

std::string spawn_message(const ProcessOptions& o, const ChildError& e) {
  const std::string& program = o.argv[0];
  if (e.stage == Stage::kChdir)
    return "cannot run '" + program + "': working directory '" + o.cwd + "': " + error_text(e.err);
  if (e.err == ENOENT) return "command '" + program + "' not found";
  return "cannot run '" + program + "': " + error_text(e.err);
}

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw SpawnError("cannot create a pipe: " + error_text(errno));
    r = fds[0], w = fds[1];
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() { close_read(), close_write(); }
  void close_read() { close_fd(r); }
  void close_write() { close_fd(w); }
  static void close_fd(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

// ---- Reading stdout and stderr line by line. ----

constexpr std::size_t kMaxLine = 1 << 20;  // a longer line is delivered in pieces

class StderrTail {
 public:
  StderrTail(std::size_t lines, std::size_t bytes) : max_lines_(lines), max_bytes_(bytes) {}
  void add(std::string_view line) {
    if (line.size() > max_bytes_) line = line.substr(line.size() - max_bytes_);
    lines_.emplace_back(line);
    bytes_ += line.size() + 1;
    while (!lines_.empty() && (lines_.size() > max_lines_ || bytes_ > max_bytes_ + 1)) {
      bytes_ -= lines_.front().size() + 1;
      lines_.pop_front();
    }
  }
  std::string text() const {
    std::string out;
    for (const auto& l : lines_) out += (out.empty() ? "" : "\n") + l;
    return out;
  }

 private:
  std::size_t max_lines_, max_bytes_, bytes_ = 0;
  std::deque<std::string> lines_;
};

struct Stream {
  int fd = -1;
  std::string partial;
};

// One running child: owns its pipes, its registry slot, and reaps it whatever happens.
class ChildRun {
 public:
  ChildRun(const ProcessOptions& options, const ProcessCallbacks& callbacks)
      : options_(options),
        callbacks_(callbacks),
        tail_(options.stderr_tail_lines, options.stderr_tail_bytes) {
    spawn();
  }
  ChildRun(const ChildRun&) = delete;
  ChildRun& operator=(const ChildRun&) = delete;
  ~ChildRun() {
    if (reaped_) return;
    delivering_ = false;  // no callbacks from a destructor
    try {
      finish(true);
    } catch (...) {
    }
  }

  ProcessResult run();

 private:
  void spawn();
  bool exited() const;
  bool any_open() const { return out_.fd >= 0 || err_.fd >= 0; }
  void pump(int timeout_ms);
  void read_stream(Stream& s, bool is_stdout);
  void deliver(std::string_view line, bool is_stdout);
  void close_stream(Stream& s, bool is_stdout);
  void signal_group(int sig) const;
  int finish(bool stop);

  const ProcessOptions& options_;
  const ProcessCallbacks& callbacks_;
  StderrTail tail_;
  pid_t pid_ = -1;
  int slot_ = -1;
  bool reaped_ = false;
  bool delivering_ = true;   // stdout lines still go to the callback
  bool stop_asked_ = false;  // should_stop() answered true after a line
  Stream out_, err_;
};

void ChildRun::spawn() {
  ExecPlan plan;
  plan.env_strings = merged_environment(options_.env);
  for (const auto& a : options_.argv) plan.argv.push_back(const_cast<char*>(a.c_str()));
  plan.argv.push_back(nullptr);
  for (auto& e : plan.env_strings) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  if (!options_.cwd.empty()) plan.cwd = options_.cwd.c_str();
  plan.parent = getpid();
  Pipe out, err, report;
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) throw SpawnError("cannot open /dev/null: " + error_text(errno));
  plan.null_fd = null_fd, plan.out_w = out.w, plan.err_w = err.w, plan.report_w = report.w;

  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // no parent handler runs in the child
  pid_ = fork();
  if (pid_ == 0) exec_child(plan);
  const int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(null_fd);
  if (pid_ < 0)
    throw SpawnError("cannot start '" + options_.argv[0] +
                     "': fork failed: " + error_text(fork_errno));
  setpgid(pid_, pid_);  // also here, so the group exists before anyone signals it
  slot_ = register_group(pid_);
  out.close_write(), err.close_write(), report.close_write();

  ChildError e{};
  ssize_t n;
  while ((n = read(report.r, &e, sizeof e)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof e)) {
    finish(false);
    throw SpawnError(spawn_message(options_, e));
  }
  out_.fd = std::exchange(out.r, -1);
  err_.fd = std::exchange(err.r, -1);
  fcntl(out_.fd, F_SETFL, O_NONBLOCK);
  fcntl(err_.fd, F_SETFL, O_NONBLOCK);
}

// True once the child has exited; it stays a zombie (not reaped) so its pgid cannot be reused.
bool ChildRun::exited() const {
  siginfo_t info{};
  const int rc = waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
  if (rc != 0) return errno == ECHILD;  // reaped behind our back (SIGCHLD set to SIG_IGN)
  return info.si_pid == pid_;
}

void ChildRun::signal_group(int sig) const {
  if (kill(-pid_, sig) != 0) kill(pid_, sig);  // it may have left its group
}

void ChildRun::deliver(std::string_view line, bool is_stdout) {
  if (!is_stdout) {
    tail_.add(line);
    if (delivering_ && callbacks_.on_stderr_line) callbacks_.on_stderr_line(line);
    return;
  }
  if (!delivering_ || stop_asked_) return;
  if (callbacks_.on_stdout_line) callbacks_.on_stdout_line(line);
  if (callbacks_.should_stop && callbacks_.should_stop()) stop_asked_ = true;
}

void ChildRun::read_stream(Stream& s, bool is_stdout) {
  char buf[65536];
  const ssize_t n = read(s.fd, buf, sizeof buf);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) close_stream(s, is_stdout);
    return;
  }
  if (n == 0) return close_stream(s, is_stdout);
  s.partial.append(buf, static_cast<std::size_t>(n));
  std::size_t begin = 0, nl;
  while ((nl = s.partial.find('\n', begin)) != std::string::npos) {
    deliver(std::string_view(s.partial).substr(begin, nl - begin), is_stdout);
    begin = nl + 1;
  }
  s.partial.erase(0, begin);
  if (s.partial.size() >= kMaxLine) deliver(s.partial, is_stdout), s.partial.clear();
}

void ChildRun::close_stream(Stream& s, bool is_stdout) {
  if (!s.partial.empty()) deliver(s.partial, is_stdout);
  s.partial.clear();
  close(s.fd);
  s.fd = -1;
}

void ChildRun::pump(int timeout_ms) {
  pollfd fds[2];
  Stream* streams[2];
  nfds_t n = 0;
  for (Stream* s : {&out_, &err_})
    if (s->fd >= 0) fds[n] = {s->fd, POLLIN, 0}, streams[n++] = s;
  if (poll(n > 0 ? fds : nullptr, n, timeout_ms) <= 0) return;
  for (nfds_t i = 0; i < n; ++i)
    if (fds[i].revents != 0) read_stream(*streams[i], streams[i] == &out_);
}

// Ends the child: with `stop`, SIGTERM, kill_grace, SIGKILL; then kills what it left in its
// group, reads what is left in the pipes and reaps it. Returns the wait status.
int ChildRun::finish(bool stop) {
  if (stop) {
    signal_group(SIGTERM);
    const auto deadline = Clock::now() + std::chrono::duration<double>(options_.kill_grace);
    while (!exited() && Clock::now() < deadline) pump(10);
  }
  signal_group(SIGKILL);
  unregister_group(std::exchange(slot_, -1));
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  // The group is dead; read what it wrote. A process that left the group may hold a pipe open,
  // so read only what is there (bounded), then close.
  for (Stream* s : {&out_, &err_}) {
    for (int i = 0; i < 256 && s->fd >= 0; ++i) {
      pollfd p{s->fd, POLLIN, 0};
      if (poll(&p, 1, 0) <= 0) break;
      read_stream(*s, s == &out_);
    }
    if (s->fd >= 0) close_stream(*s, s == &out_);
  }
  return status;
}

ProcessResult ChildRun::run() {
  const auto start = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (options_.timeout)
    deadline = start + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(*options_.timeout));
  ProcessResult result;
  while (!exited()) {
    if (deadline && Clock::now() >= *deadline) {
      result.timed_out = true;
      break;
    }
    if (stop_asked_ || (callbacks_.should_stop && callbacks_.should_stop())) {
      result.stopped = true;
      break;
    }
    int wait_ms = any_open() ? 100 : 10;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      wait_ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, wait_ms));
    }
    pump(wait_ms);
  }
  const bool stop = result.timed_out || result.stopped;
  if (stop) delivering_ = false;
  const int status = finish(stop);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.stderr_tail = tail_.text();
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace

std::string ProcessResult::describe() const {
  std::ostringstream out;
  if (exit_code)
    out << "exited with status " << *exit_code;
  else
    out << "killed by signal " << signal << " (" << strsignal(signal) << ")";
  return out.str();
}

ProcessResult run_process(const ProcessOptions& options, const ProcessCallbacks& callbacks) {
  if (options.argv.empty() || options.argv[0].empty())
    throw InvalidArgument("run_process: argv must name a program, got an empty command");
  if (options.timeout && !(*options.timeout > 0))
    throw InvalidArgument("run_process: timeout must be > 0 seconds, got " +
                          std::to_string(*options.timeout));
  if (!(options.kill_grace >= 0))
    throw InvalidArgument("run_process: kill_grace must be >= 0 seconds, got " +
                          std::to_string(options.kill_grace));
  for (const auto& [name, value] : options.env)
    if (name.empty() || name.find('=') != std::string::npos)
      throw InvalidArgument("run_process: environment variable name '" + name +
                            "' must be non-empty and contain no '='");
  ChildRun child(options, callbacks);
  return child.run();
}

int kill_all_children() noexcept {
  int n = 0;
  for (auto& slot : g_live) {
    const pid_t pgid = slot.load();
    if (pgid > 0 && kill(-pgid, SIGKILL) == 0) ++n;
  }
  return n;
}

int live_children() noexcept {
  int n = 0;
  for (const auto& slot : g_live) n += slot.load() > 0 ? 1 : 0;
  return n;
}

}  // namespace quarry::runner
