// Helpers shared by the architecture spaces: lists in their JSON options (ComponentOptions reads
// scalars only) and the text of a list in messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace quarry::nas {

/// The strings at `key` of the options object `json` (null: no options), or `fallback` when the
/// key is absent. InvalidArgument "<component>: option '<key>' must be a non-empty list of
/// strings, got 3".
std::vector<std::string> text_list(const nlohmann::json& json, const std::string& key,
                                   std::vector<std::string> fallback, const std::string& component);
/// The integers (each >= 1) at `key`, or `fallback` when absent; errors as text_list.
std::vector<std::int64_t> count_list(const nlohmann::json& json, const std::string& key,
                                     std::vector<std::int64_t> fallback,
                                     const std::string& component);

/// "16, 32, 64".
std::string join(const std::vector<std::string>& items);
std::string join(const std::vector<std::int64_t>& items);

/// `text` cut at every `separator` ("a|b|" -> {"a", "b", ""}); "" -> {""}.
std::vector<std::string> split(const std::string& text, char separator);
/// The whole of `text` as a decimal integer; false when it is not one.
bool parse_integer(const std::string& text, std::int64_t& out);

}  // namespace quarry::nas
