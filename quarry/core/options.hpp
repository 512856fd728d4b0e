// Options of a component picked by name in a study file (a sampler, a scheduler, a function):
// a JSON object checked once, so an unknown key or a value of the wrong type is an error that
// names the component — "sampler 'random': unknown option 'bar' (options: seed)".
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace quarry {

class ComponentOptions {
 public:
  /// `component` names it in messages ("sampler 'random'"); `known` lists the keys it accepts.
  /// Null options mean none. Throws InvalidArgument for a non-object or an unknown key.
  ComponentOptions(std::string component, const nlohmann::json& options,
                   std::vector<std::string> known);

  bool has(const std::string& key) const { return json_.contains(key); }
  /// The integer at `key` (>= min), or `fallback` when absent.
  std::int64_t integer(const std::string& key, std::int64_t fallback,
                       std::int64_t min = std::numeric_limits<std::int64_t>::min()) const;
  /// A non-negative integer that may use all 64 bits (seeds).
  std::uint64_t count(const std::string& key, std::uint64_t fallback) const;
  /// A finite number (an integer is accepted), or `fallback` when absent.
  double real(const std::string& key, double fallback) const;
  /// true or false, or `fallback` when absent.
  bool boolean(const std::string& key, bool fallback) const;
  /// A string, or `fallback` when absent.
  std::string text(const std::string& key, const std::string& fallback) const;

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& rule) const;

  std::string component_;
  nlohmann::json json_;
};

[[noreturn]] void throw_unknown_entry(const std::string& kind, const std::string& name,
                                      const std::string& known);

/// The registry entry called `name`, or InvalidArgument "unknown sampler 'x' (known: grid,
/// random)".
template <typename Entry>
const Entry& find_entry(const std::vector<Entry>& registry, const std::string& kind,
                        const std::string& name) {
  for (const auto& entry : registry)
    if (entry.name == name) return entry;
  std::string known;
  for (const auto& entry : registry) known += (known.empty() ? "" : ", ") + entry.name;
  throw_unknown_entry(kind, name, known);
}

}  // namespace quarry
