// Who is running a trial, and whether they still are: worker ids and the local liveness check.
//
// A worker id is "host:pid:slot" (slot: the worker thread's index in its process). A running
// trial stores its worker's id; the store's leases and Study::requeue_stale use
// local_worker_is_dead() to free what a killed process left behind without waiting for its
// heartbeats to go stale. Workers on other hosts can only be judged by their heartbeats.
#pragma once

#include <optional>
#include <string>

namespace quarry::process {

/// This machine's host name ("localhost" when it cannot be read).
std::string host_name();

/// "host:pid:slot": the id of worker `slot` of this process.
std::string local_worker_id(int slot);

/// "lease/<seconds>/<name>": the id of a trial asked for by hand (`quarry ask --lease S`) that is
/// run again unless renewed (`quarry heartbeat`) within `seconds`.
std::string leased_worker_id(const std::string& name, double seconds);
/// The lease's seconds of such an id; nullopt for any other id.
std::optional<double> lease_seconds(const std::string& worker);

/// True when `worker` ("host:pid:slot") names a process of this host that no longer exists.
/// False for other hosts, for ids of another shape, and for processes that still run.
bool local_worker_is_dead(const std::string& worker);

}  // namespace quarry::process
