// A short lease on a scheduler's shared state, held in the store itself, so that workers in many
// threads, processes and machines take turns deciding what runs next (Hyperband's "promote the
// best of round 1" must happen once, not once per worker).
//
// The lease is a study attribute holding {"worker", "at"}; it is taken with compare_and_set and
// given back on destruction. A lease whose holder died (a local process that is gone, or any
// holder silent for `expire_after` seconds) is taken over, so a crash never blocks the search.
// Decisions made under it take milliseconds; the state itself is written before it is released.
#pragma once

#include <cstdint>
#include <string>

#include "quarry/storage/storage.hpp"

namespace quarry::schedulers {

class StateLock {
 public:
  StateLock(storage::Storage& storage, std::int64_t study, std::string key, std::string worker,
            double expire_after = 30.0);
  ~StateLock();
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  storage::Storage& storage_;
  std::int64_t study_;
  std::string key_;
  std::string held_;  // the value written when taken
};

}  // namespace quarry::schedulers
