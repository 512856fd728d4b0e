// A parameter's value: a bool, an integer, a real number or a string.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>

#include <nlohmann/json_fwd.hpp>

namespace quarry::space {

using Value = std::variant<bool, std::int64_t, double, std::string>;

/// One trial's assignment: parameter name -> value (active parameters only).
using Params = std::map<std::string, Value>;

/// "16", "0.001", "adam", "true": the text placed in a command line or shown in a table.
std::string to_string(const Value& v);

/// The value as a double (bool -> 0/1); throws InvalidArgument for strings.
double to_double(const Value& v);

/// Equality that treats 3 and 3.0 as the same value (values read back from JSON may change type).
bool same_value(const Value& a, const Value& b);

nlohmann::json to_json(const Value& v);
Value value_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Params& p);

}  // namespace quarry::space

namespace quarry {
using space::Params;
using space::Value;
}  // namespace quarry
