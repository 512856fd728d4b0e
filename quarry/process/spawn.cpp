#include "quarry/process/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

extern char** environ;

namespace quarry::process {

namespace {

// ---- The live process groups, for kill_all_children() (lock-free, signal-safe). ----

constexpr int kMaxLive = 256;
std::atomic<pid_t> g_live[kMaxLive];

}  // namespace

int register_group(pid_t pgid) noexcept {
  for (int i = 0; i < kMaxLive; ++i) {
    pid_t expected = 0;
    if (g_live[i].compare_exchange_strong(expected, pgid)) return i;
  }
  return -1;  // full: the run still works, it just cannot be killed from a signal handler
}

void unregister_group(int slot) noexcept {
  if (slot >= 0) g_live[slot].store(0);
}

int kill_all_children() noexcept {
  int n = 0;
  for (auto& slot : g_live) {
    const pid_t pgid = slot.load();
    if (pgid > 0 && kill(-pgid, SIGKILL) == 0) ++n;
  }
  return n;
}

namespace {
std::atomic<bool> g_exiting{false};
}  // namespace

void kill_all_children_and_exit(int code) noexcept {
  g_exiting.store(true);
  kill_all_children();
  _exit(code);
}

bool exiting() noexcept {
  return g_exiting.load();
}

int live_children() noexcept {
  int n = 0;
  for (const auto& slot : g_live) n += slot.load() > 0 ? 1 : 0;
  return n;
}

std::string error_text(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof buf);  // GNU variant: returns the message
}

namespace {

// ---- Spawning. Everything the child needs is built before fork(). ----

enum class Stage : int { Chdir = 1, Exec = 2, Fork = 3 };
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

// The signal the supervisor gets when the thread that started it dies (PR_SET_PDEATHSIG).
constexpr int kParentGone = SIGUSR2;

// The program's side of the fork, in the supervisor's child: async-signal-safe calls only.
[[noreturn]] void exec_program(const ExecPlan& plan, pid_t supervisor) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != supervisor) _exit(127);  // the supervisor died before prctl
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  move_fd(plan.null_fd, 0);
  move_fd(plan.out_w, 1);
  move_fd(plan.err_w, 2);
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);  // no fd of the parent leaks
#endif
  if (plan.cwd != nullptr && chdir(plan.cwd) != 0) report_and_exit(plan.report_w, Stage::Chdir);
  execvpe(plan.argv[0], plan.argv.data(), plan.envp.data());
  report_and_exit(plan.report_w, Stage::Exec);
}

// Ends the supervisor the way the program ended: its exit status, or death by its signal (no core
// file: the program's own was written, if any).
[[noreturn]] void exit_like(int status) {
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  const int sig = WTERMSIG(status);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, nullptr);
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  sigprocmask(SIG_UNBLOCK, &one, nullptr);
  kill(getpid(), sig);
  _exit(128 + sig);
}

// Runs in the child of fork(): the trial's supervisor, the leader of its process group. It starts
// the program in the group and waits for it, then exits as the program did; when the thread that
// started it dies (even by kill -9 of the whole search), it kills the group, so that nothing the
// program started outlives the search. Signals sent to the group (a stop: SIGTERM) are the
// program's to act on; the supervisor waits. Async-signal-safe calls only (the parent may have
// had other threads): _Fork, not fork.
[[noreturn]] void exec_child(const ExecPlan& plan) {
  setpgid(0, 0);
  // Every signal is blocked here (spawn_child blocked them before fork); the supervisor takes
  // the ones it cares about with sigtimedwait. Default dispositions, for the program to inherit.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) sigaction(s, &dfl, nullptr);  // undo SIG_IGN inherited
  prctl(PR_SET_PDEATHSIG, kParentGone);
  if (getppid() != plan.parent) _exit(127);  // the parent died before prctl
  const pid_t supervisor = getpid();
  const pid_t program = _Fork();
  if (program == 0) exec_program(plan, supervisor);
  if (program < 0) report_and_exit(plan.report_w, Stage::Fork);
  // The supervisor needs no descriptor: the pipes' ends it holds would keep them open.
  for (const int fd : {plan.report_w, plan.out_w, plan.err_w, plan.null_fd}) close(fd);
#if defined(SYS_close_range)
  syscall(SYS_close_range, 0U, ~0U, 0U);
#endif
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGCHLD);
  sigaddset(&wanted, kParentGone);
  const timespec second{1, 0};
  for (;;) {
    sigtimedwait(&wanted, nullptr, &second);  // also a poll every second, should one be missed
    int status = 0;
    if (waitpid(program, &status, WNOHANG) == program) exit_like(status);
    if (getppid() != plan.parent) kill(0, SIGKILL);  // the search is gone: end the whole group
  }
}

std::string spawn_message(const ProcessOptions& o, const ChildError& e) {
  const std::string& program = o.argv[0];
  if (e.stage == Stage::Chdir)
    return "cannot run '" + program + "': working directory '" + o.cwd + "': " + error_text(e.err);
  if (e.stage == Stage::Fork)
    return "cannot start '" + program + "': fork failed: " + error_text(e.err);
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

}  // namespace

Spawned spawn_child(const ProcessOptions& options) {
  ExecPlan plan;
  plan.env_strings = merged_environment(options.env);
  for (const auto& a : options.argv) plan.argv.push_back(const_cast<char*>(a.c_str()));
  plan.argv.push_back(nullptr);
  for (auto& e : plan.env_strings) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  if (!options.cwd.empty()) plan.cwd = options.cwd.c_str();
  plan.parent = getpid();
  Pipe out, err, report;
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) throw SpawnError("cannot open /dev/null: " + error_text(errno));
  plan.null_fd = null_fd, plan.out_w = out.w, plan.err_w = err.w, plan.report_w = report.w;

  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // no parent handler runs in the child
  const pid_t pid = fork();
  if (pid == 0) exec_child(plan);
  const int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(null_fd);
  if (pid < 0)
    throw SpawnError("cannot start '" + options.argv[0] +
                     "': fork failed: " + error_text(fork_errno));
  setpgid(pid, pid);  // also here, so the group exists before anyone signals it
  out.close_write(), err.close_write(), report.close_write();

  ChildError e{};
  ssize_t n;
  while ((n = read(report.r, &e, sizeof e)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof e)) {  // it never ran the program: reap it
    kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw SpawnError(spawn_message(options, e));
  }
  Spawned child{pid, std::exchange(out.r, -1), std::exchange(err.r, -1)};
  fcntl(child.out_fd, F_SETFL, O_NONBLOCK);
  fcntl(child.err_fd, F_SETFL, O_NONBLOCK);
  return child;
}

}  // namespace quarry::process
