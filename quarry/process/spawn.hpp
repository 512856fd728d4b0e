// Starting a child process and keeping track of the live ones: the low half of run_process()
// (process.hpp), apart from the supervision loop in child.cpp.
//
// spawn_child() builds everything the child needs before fork(). The child is a supervisor: the
// leader of a new process group, it starts the program in that group (PR_SET_PDEATHSIG = SIGKILL,
// default signal dispositions and an empty mask, /dev/null as stdin, stdout and stderr on pipes,
// no other inherited descriptor, chdir, execvpe), waits for it and exits as it did (its status, or
// its signal). When the thread that started the supervisor dies, even by kill -9 of the whole
// process, the supervisor kills the group: nothing the program started survives the search.
// A failure before the program runs (fork, chdir, exec) comes back over a close-on-exec pipe as a
// SpawnError naming the program; the supervisor is reaped before that is thrown.
//
// The live process groups are kept in a fixed lock-free table so that kill_all_children() can
// signal them from a signal handler.
#pragma once

#include <sys/types.h>

#include "quarry/process/process.hpp"

namespace quarry::process {

/// A started child: the supervisor's pid (also the process group of it and the program) and the
/// read ends of its stdout and stderr (non-blocking, close-on-exec).
struct Spawned {
  pid_t pid = -1;
  int out_fd = -1;
  int err_fd = -1;
};

/// Starts `options.argv` as described above. Throws SpawnError when it cannot start.
Spawned spawn_child(const ProcessOptions& options);

/// Records a live process group; returns its slot (-1 when the table is full: the run still
/// works, it just cannot be killed from a signal handler).
int register_group(pid_t pgid) noexcept;
/// Forgets the group in `slot` (from register_group; -1 is ignored).
void unregister_group(int slot) noexcept;
/// True once kill_all_children_and_exit() has been called: the process is about to exit.
bool exiting() noexcept;

/// strerror_r's message for `err`.
std::string error_text(int err);

}  // namespace quarry::process
