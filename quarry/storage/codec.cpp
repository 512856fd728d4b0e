#include "quarry/storage/codec.hpp"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"

namespace quarry::storage::detail {

namespace {

using Json = nlohmann::json;

Json encode_double(double x) {
  if (std::isfinite(x)) return x;
  return std::isnan(x) ? "nan" : x > 0 ? "inf" : "-inf";
}

double decode_double(const Json& j) {
  if (j.is_number()) return j.get<double>();
  const auto s = j.is_string() ? j.get<std::string>() : std::string();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
  throw StorageError("the store: stored number " + j.dump() + " is not a number");
}

/// `text` parsed and read by `read`; every way it can fail (not JSON, another shape, a value of
/// the wrong type) is a StorageError naming the text.
template <typename Read>
auto decode(const std::string& text, Json::value_t shape, Read read) {
  const auto fail = [&](const std::string& why) {
    return StorageError("the store: stored JSON '" + text + "' cannot be read: " + why);
  };
  try {
    const Json j = Json::parse(text);  // outlives what read() iterates over
    if (j.type() != shape)
      throw fail(std::string("expected ") +
                 (shape == Json::value_t::object ? "an object" : "an array"));
    return read(j);
  } catch (const Json::exception& e) {
    throw fail(e.what());
  } catch (const InvalidArgument& e) {
    throw fail(e.what());
  }
}

}  // namespace

std::string encode_params(const Params& params) {
  Json j = Json::object();
  for (const auto& [name, value] : params) {
    const auto* d = std::get_if<double>(&value);
    j[name] = d && !std::isfinite(*d) ? Json{{"float", encode_double(*d)}} : space::to_json(value);
  }
  return j.dump();
}

Params decode_params(const std::string& json) {
  return decode(json, Json::value_t::object, [](const Json& j) {
    Params params;
    for (const auto& [name, value] : j.items())
      params[name] = value.is_object() ? Value(decode_double(value.at("float")))
                                       : space::value_from_json(value);
    return params;
  });
}

std::string encode_values(const std::vector<double>& values) {
  Json j = Json::array();
  for (double v : values) j.push_back(encode_double(v));
  return j.dump();
}

std::vector<double> decode_values(const std::string& json) {
  return decode(json, Json::value_t::array, [](const Json& j) {
    std::vector<double> values;
    for (const auto& v : j) values.push_back(decode_double(v));
    return values;
  });
}

std::string encode_directions(const std::vector<study::Direction>& directions) {
  Json j = Json::array();
  for (auto d : directions) j.push_back(study::to_string(d));
  return j.dump();
}

std::vector<study::Direction> decode_directions(const std::string& json) {
  return decode(json, Json::value_t::array, [](const Json& j) {
    std::vector<study::Direction> directions;
    for (const auto& d : j)
      directions.push_back(study::direction_from_string(d.get<std::string>()));
    return directions;
  });
}

}  // namespace quarry::storage::detail
