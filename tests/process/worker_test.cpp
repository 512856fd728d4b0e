#include "quarry/process/worker.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace quarry::process {
namespace {

TEST(WorkerId, NamesThisProcessAndTellsWhetherALocalOneIsGone) {
  const auto id = local_worker_id(3);
  EXPECT_EQ(id, host_name() + ":" + std::to_string(getpid()) + ":3");
  EXPECT_FALSE(local_worker_is_dead(id));
  EXPECT_TRUE(local_worker_is_dead(host_name() + ":999999999:0"));
  EXPECT_FALSE(local_worker_is_dead("another-host:999999999:0"));  // judged by heartbeats only
  EXPECT_FALSE(local_worker_is_dead("manual"));
}

TEST(WorkerId, ALeaseCarriesItsSeconds) {
  EXPECT_EQ(leased_worker_id("manual", 300), "lease/300/manual");
  EXPECT_EQ(leased_worker_id("me", 1.5), "lease/1.5/me");
  EXPECT_EQ(lease_seconds("lease/1.5/me"), 1.5);
  EXPECT_EQ(lease_seconds(leased_worker_id("a/b", 60)), 60.0);  // a name may hold '/'
  EXPECT_FALSE(lease_seconds("manual"));
  EXPECT_FALSE(lease_seconds("lease/x/me"));
  EXPECT_FALSE(lease_seconds("lease/0/me"));
  EXPECT_FALSE(lease_seconds("lease/12"));
  EXPECT_FALSE(lease_seconds(local_worker_id(0)));
}

}  // namespace
}  // namespace quarry::process
