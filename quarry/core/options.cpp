#include "quarry/core/options.hpp"

#include <algorithm>
#include <cmath>

#include "quarry/core/error.hpp"

namespace quarry {

ComponentOptions::ComponentOptions(std::string component, const nlohmann::json& options,
                                   std::vector<std::string> known)
    : component_(std::move(component)),
      json_(options.is_null() ? nlohmann::json::object() : options) {
  if (!json_.is_object())
    throw InvalidArgument(component_ + ": options must be a mapping of names to values, got " +
                          json_.dump());
  for (const auto& [key, value] : json_.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw InvalidArgument(component_ + ": unknown option '" + key +
                          "' (options: " + (list.empty() ? "none" : list) + ")");
  }
}

void ComponentOptions::fail(const std::string& key, const std::string& rule) const {
  throw InvalidArgument(component_ + ": option '" + key + "' must be " + rule + ", got " +
                        json_[key].dump());
}

std::int64_t ComponentOptions::integer(const std::string& key, std::int64_t fallback,
                                       std::int64_t min) const {
  if (!has(key)) return fallback;
  const auto& v = json_[key];
  if (!v.is_number_integer()) fail(key, "an integer");
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
    fail(key, "an integer below 2^63");
  const auto x = v.get<std::int64_t>();
  if (x < min) fail(key, ">= " + std::to_string(min));
  return x;
}

std::uint64_t ComponentOptions::count(const std::string& key, std::uint64_t fallback) const {
  if (!has(key)) return fallback;
  const auto& v = json_[key];
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    fail(key, "a non-negative integer");
  return v.get<std::uint64_t>();
}

double ComponentOptions::real(const std::string& key, double fallback) const {
  if (!has(key)) return fallback;
  const auto& v = json_[key];
  if (!v.is_number() || !std::isfinite(v.get<double>())) fail(key, "a number");
  return v.get<double>();
}

bool ComponentOptions::boolean(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  if (!json_[key].is_boolean()) fail(key, "true or false");
  return json_[key].get<bool>();
}

std::string ComponentOptions::text(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  if (!json_[key].is_string()) fail(key, "a string");
  return json_[key].get<std::string>();
}

void throw_unknown_entry(const std::string& kind, const std::string& name,
                         const std::string& known) {
  throw InvalidArgument("unknown " + kind + " '" + name + "' (known: " + known + ")");
}

}  // namespace quarry
