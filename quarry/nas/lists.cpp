#include "quarry/nas/lists.hpp"

#include <charconv>

#include "quarry/core/error.hpp"

namespace quarry::nas {
namespace {

/// The array at `key`, or nullptr when absent; InvalidArgument when it is not a non-empty array.
const nlohmann::json* array_at(const nlohmann::json& json, const std::string& key,
                               const std::string& component, const std::string& of) {
  if (!json.is_object() || !json.contains(key)) return nullptr;
  const nlohmann::json& value = json.at(key);
  if (!value.is_array() || value.empty()) {
    throw InvalidArgument(component + ": option '" + key + "' must be a non-empty list of " + of +
                          ", got " + value.dump());
  }
  return &value;
}

}  // namespace

std::vector<std::string> text_list(const nlohmann::json& json, const std::string& key,
                                   std::vector<std::string> fallback,
                                   const std::string& component) {
  const nlohmann::json* array = array_at(json, key, component, "strings");
  if (array == nullptr) return fallback;
  std::vector<std::string> out;
  for (const auto& item : *array) {
    if (!item.is_string()) {
      throw InvalidArgument(component + ": option '" + key +
                            "' must be a non-empty list of strings, got " + array->dump());
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<std::int64_t> count_list(const nlohmann::json& json, const std::string& key,
                                     std::vector<std::int64_t> fallback,
                                     const std::string& component) {
  const nlohmann::json* array = array_at(json, key, component, "integers >= 1");
  if (array == nullptr) return fallback;
  std::vector<std::int64_t> out;
  for (const auto& item : *array) {
    if (!item.is_number_integer() || item.get<std::int64_t>() < 1) {
      throw InvalidArgument(component + ": option '" + key +
                            "' must be a non-empty list of integers >= 1, got " + array->dump());
    }
    out.push_back(item.get<std::int64_t>());
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string join(const std::vector<std::int64_t>& items) {
  std::string out;
  for (std::int64_t item : items) out += (out.empty() ? "" : ", ") + std::to_string(item);
  return out;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts(1);
  for (char c : text) {
    if (c == separator)
      parts.emplace_back();
    else
      parts.back() += c;
  }
  return parts;
}

bool parse_integer(const std::string& text, std::int64_t& out) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

}  // namespace quarry::nas
