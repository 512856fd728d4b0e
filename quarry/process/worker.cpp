#include "quarry/process/worker.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <exception>

namespace quarry::process {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::string local_worker_id(int slot) {
  return host_name() + ":" + std::to_string(getpid()) + ":" + std::to_string(slot);
}

bool local_worker_is_dead(const std::string& worker) {
  const auto first = worker.find(':');
  const auto second = worker.find(':', first + 1);
  if (first == std::string::npos || second == std::string::npos) return false;
  if (worker.substr(0, first) != host_name()) return false;
  try {
    const pid_t pid = static_cast<pid_t>(std::stol(worker.substr(first + 1, second - first - 1)));
    return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace quarry::process
