#include "quarry/process/worker.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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

std::string leased_worker_id(const std::string& name, double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", seconds);
  return "lease/" + std::string(text) + "/" + name;
}

std::optional<double> lease_seconds(const std::string& worker) {
  if (!worker.starts_with("lease/")) return std::nullopt;
  const auto slash = worker.find('/', 6);
  if (slash == std::string::npos) return std::nullopt;
  try {
    std::size_t used = 0;
    const double seconds = std::stod(worker.substr(6, slash - 6), &used);
    if (used != slash - 6 || !(seconds > 0)) return std::nullopt;
    return seconds;
  } catch (const std::exception&) {
    return std::nullopt;
  }
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
