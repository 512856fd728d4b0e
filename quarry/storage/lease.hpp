// A lease: a short lock held in the store itself, so that workers in many threads, processes and
// machines take turns on one piece of shared state (Hyperband's "promote the best of round 1" must
// happen once, not once per worker).
//
// The lease is a study attribute holding {"worker", "at"}; it is taken with compare_and_set_attr
// and given back on destruction. A lease whose holder died (a process of this host that is gone,
// or any holder silent for `expire_after` seconds) is taken over, so a crash never blocks the
// search. Decisions made under it take milliseconds; the state itself is written before it is
// released.
#pragma once

#include <cstdint>
#include <string>

#include "quarry/storage/storage.hpp"

namespace quarry::storage {

class Lease {
 public:
  /// Blocks until the lease `key` of `study` is held for `worker` ("host:pid:slot").
  Lease(Storage& storage, std::int64_t study, std::string key, const std::string& worker,
        double expire_after = 30.0);
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

 private:
  Storage& storage_;
  std::int64_t study_;
  std::string key_;
  std::string held_;  // the value written when taken
};

}  // namespace quarry::storage
