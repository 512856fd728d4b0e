// Supervising a running child: its output line by line, stop requests, timeouts, a clean end.
#include "quarry/process/process.hpp"

#include "quarry/process/spawn.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <sstream>
#include <utility>

namespace quarry::process {

namespace {

using Clock = std::chrono::steady_clock;

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
  const Spawned child = spawn_child(options_);
  pid_ = child.pid;
  slot_ = register_group(pid_);
  out_.fd = child.out_fd;
  err_.fd = child.err_fd;
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
  // Killed by the hard stop: the process is about to _exit; report nothing.
  while (exiting()) pause();
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

}  // namespace quarry::process
