// How SqliteStorage and PostgresStorage write params, objective values and directions into their
// TEXT columns (JSON).
// Implementation detail of the stores, not part of Quarry's API.
//
// JSON has no inf or NaN, so a non-finite double is written as the string "inf", "-inf" or "nan";
// a parameter that is one becomes {"float": "inf"}, so it reads back as a double while a string
// parameter "inf" stays a string. Every value reads back unchanged. Decoding text that these
// functions did not write throws StorageError ("the store: stored JSON ... cannot be read").
#pragma once

#include <string>
#include <vector>

#include "quarry/space/value.hpp"
#include "quarry/study/trial.hpp"

namespace quarry::storage::detail {

std::string encode_params(const Params& params);
Params decode_params(const std::string& json);

std::string encode_values(const std::vector<double>& values);
std::vector<double> decode_values(const std::string& json);

std::string encode_directions(const std::vector<study::Direction>& directions);
std::vector<study::Direction> decode_directions(const std::string& json);

}  // namespace quarry::storage::detail
