// The JSON the stores write into their TEXT columns (storage/codec.hpp): every value reads back
// unchanged, and text these functions did not write is a StorageError naming it, whatever its
// shape (the cases below were found by fuzz/stored_json).
#include "quarry/storage/codec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "tests/test_util.hpp"

namespace quarry::storage::detail {
namespace {

using quarry::testing::error_of;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(Codec, EveryValueReadsBackUnchanged) {
  const Params params = {
      {"lr", 0.001}, {"units", std::int64_t{64}}, {"opt", std::string("adam")}, {"on", true},
      {"big", kInf}, {"s", std::string("inf")}};
  EXPECT_EQ(decode_params(encode_params(params)), params);
  const std::vector<double> values = {0.5, kInf, -kInf, 1e-300};
  EXPECT_EQ(decode_values(encode_values(values)), values);
  EXPECT_TRUE(std::isnan(decode_values(encode_values({std::nan("")})).at(0)));
  const std::vector<study::Direction> directions = {study::Direction::Minimize,
                                                    study::Direction::Maximize};
  EXPECT_EQ(decode_directions(encode_directions(directions)), directions);
}

TEST(Codec, TextItDidNotWriteIsAStorageErrorNamingIt) {
  const auto error = [](auto decode, const std::string& json) {
    return error_of<StorageError>([&] { decode(json); });
  };
  for (const std::string json : {"[1]", "{\"x\": {\"y\": 1}}", "{\"x\": [1, 2]}", "not json"})
    EXPECT_THAT(error(decode_params, json), StartsWith("the store: stored JSON '" + json + "'"));
  for (const std::string json : {"{}", "3"})
    EXPECT_THAT(error(decode_values, json), StartsWith("the store: stored JSON '" + json + "'"));
  for (const std::string json : {"[\"1\"]", "[null]"})
    EXPECT_THAT(error(decode_values, json), HasSubstr("is not a number"));
  EXPECT_THAT(error(decode_params, "{\"x\": {\"float\": \"big\"}}"),
              HasSubstr("stored number \"big\" is not a number"));
  for (const std::string json : {"[\"mAinimize\"]", "[1]", "{}"})
    EXPECT_THAT(error(decode_directions, json),
                StartsWith("the store: stored JSON '" + json + "'"));
  EXPECT_THAT(error(decode_directions, "[\"up\"]"), HasSubstr("unknown direction 'up'"));
  EXPECT_EQ(error(decode_values, "[1,\n\"x\"]").find('\n'), std::string::npos);
}

}  // namespace
}  // namespace quarry::storage::detail
