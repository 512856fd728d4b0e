#include "quarry/storage/lease.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "quarry/process/worker.hpp"

namespace quarry::storage {

namespace {

/// True when the lease `value` may be taken: free, or its holder is gone or silent.
bool takeable(const std::optional<std::string>& value, double expire_after) {
  if (!value || value->empty()) return true;
  const auto lease = nlohmann::json::parse(*value, nullptr, false);
  if (!lease.is_object()) return true;
  const auto holder = lease.value("worker", std::string());
  const double at = lease.value("at", 0.0);
  return study::now_seconds() - at > expire_after || process::local_worker_is_dead(holder);
}

}  // namespace

Lease::Lease(Storage& storage, std::int64_t study, std::string key, const std::string& worker,
             double expire_after)
    : storage_(storage), study_(study), key_(std::move(key)) {
  for (int attempt = 0;; ++attempt) {
    const auto current = storage_.get_attr(study_, key_);
    if (takeable(current, expire_after)) {
      held_ = nlohmann::json{{"worker", worker}, {"at", study::now_seconds()}}.dump();
      if (storage_.compare_and_set_attr(study_, key_, current, held_)) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 10 ? 1 : 5));
  }
}

Lease::~Lease() {
  try {
    storage_.compare_and_set_attr(study_, key_, held_, "");
  } catch (const std::exception&) {
    // The store failed: the lease expires on its own.
  }
}

}  // namespace quarry::storage
