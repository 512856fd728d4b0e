#include "quarry/space/value.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "quarry/core/error.hpp"

namespace quarry::space {

namespace {
std::string format_double(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  std::ostringstream out;
  out.precision(17);
  out << x;
  // Shortest text that reads back to the same double.
  for (int p = 1; p <= 17; ++p) {
    std::ostringstream s;
    s.precision(p);
    s << x;
    if (std::stod(s.str()) == x) return s.str();
  }
  return out.str();
}
}  // namespace

std::string to_string(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>)
          return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::int64_t>)
          return std::to_string(x);
        else if constexpr (std::is_same_v<T, double>)
          return format_double(x);
        else
          return x;
      },
      v);
}

double to_double(const Value& v) {
  if (const auto* b = std::get_if<bool>(&v)) return *b ? 1.0 : 0.0;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  throw InvalidArgument("value '" + std::get<std::string>(v) + "' is a string, not a number");
}

bool same_value(const Value& a, const Value& b) {
  const bool a_num = std::holds_alternative<std::int64_t>(a) || std::holds_alternative<double>(a);
  const bool b_num = std::holds_alternative<std::int64_t>(b) || std::holds_alternative<double>(b);
  if (a_num && b_num) return to_double(a) == to_double(b);
  return a == b;
}

nlohmann::json to_json(const Value& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

Value value_from_json(const nlohmann::json& j) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) return j.get<std::string>();
  throw InvalidArgument("a parameter value must be a bool, number or string, got " + j.dump());
}

nlohmann::json to_json(const Params& p) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : p) j[name] = to_json(value);
  return j;
}

}  // namespace quarry::space
