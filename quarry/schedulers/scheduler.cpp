#include "quarry/schedulers/scheduler.hpp"

#include "quarry/core/error.hpp"

namespace quarry::schedulers {

Assignment Scheduler::assign(study::Study&, const std::string&, std::optional<std::int64_t>) {
  throw UsageError("scheduler '" + name() + "' does not assign trials");
}

}  // namespace quarry::schedulers
