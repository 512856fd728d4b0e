// Internal to quarry/config: reading YAML nodes into values with errors that name the file, the
// line and the key ("study.yaml:9: space.units.int: expected [low, high], got [16]").
//
// A `Field` is one node plus where it is; `entries` walks a mapping in file order and checks its
// keys; the *_of readers turn scalars into checked values; read_param / add_param / read_space read
// the search-space syntax of docs/study-file.md. Every failure is a UsageError on one line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "quarry/nn/spec_rules.hpp"
#include "quarry/space/space.hpp"

namespace quarry::config {

struct StudyFile;
struct ModelTemplate;

namespace detail {

using Keys = std::vector<std::string_view>;

[[noreturn]] void fail_at(const std::string& file, int line, const std::string& what);

/// Values a study file may hold once its aliases are expanded: a "billion laughs" file of nested
/// aliases is refused before anything walks it (yaml-cpp shares aliased nodes; walking them does
/// not).
inline constexpr std::size_t kMaxYamlValues = 100'000;
/// Throws UsageError "FILE:LINE: the YAML expands to more than 100000 values (aliases of aliases?)"
/// when `doc` holds more than kMaxYamlValues nodes with its aliases expanded; stops counting there.
void check_expansion(const YAML::Node& doc, const std::string& file);

/// The node's line (1-based), or `fallback` when it has none (a null node).
int line_of(const YAML::Node& n, int fallback);
/// True for a quoted scalar ('a', "a", !!str a): always text.
bool is_quoted(const YAML::Node& n);
/// A node shown in an error: "[16]", "\"abc\"", "{a: 1}", "nothing"; at most 60 characters.
std::string show(const YAML::Node& n);
/// "a, b, c".
std::string joined(const Keys& keys);

/// All of `s` read as a T (a leading '+' is allowed), or nullopt.
template <typename T>
std::optional<T> parse_full(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

/// Quoted -> string; else int64, finite double, true/false, or the text as a string.
space::Value scalar_value(const YAML::Node& n);

/// One node of the file with what errors need: the file, the key path and the lines.
struct Field {
  const std::string* file = nullptr;
  YAML::Node node;
  std::string key;   ///< "space.units.int"; empty for the whole file
  int line = 1;      ///< where the value is (its key's line when it is empty)
  int key_line = 1;  ///< where the key naming it is

  /// "<file>:<line>: <key>: <what>".
  [[noreturn]] void fail(const std::string& what) const;
  /// "<file>:<key line>: <what>" (the caller names the key).
  [[noreturn]] void fail_here(const std::string& what) const;
  /// The key, or "the study" for the whole file.
  std::string where() const;

  Field child(const std::string& name, const YAML::Node& value, int name_line) const;
  Field item(std::size_t i, const YAML::Node& value) const;
};

using Entries = std::vector<std::pair<std::string, Field>>;

/// The mapping's entries in file order; checks keys are plain, unique and (unless `allowed` is
/// empty) among `allowed` or `more`. An unknown key's message lists `allowed`, then
/// " or, <more_label>: <more>" when `more` is not empty.
Entries entries(const Field& f, const Keys& allowed, const Keys& more = {},
                std::string_view more_label = {});
const Field* find(const Entries& es, std::string_view key);
/// The entry `key`, or fails at the mapping's key: "missing required key 'KEY' in MAP".
const Field& require(const Entries& es, const Field& map, std::string_view key);

// Scalars: each fails with "KEY: expected <what>, got <node>".
space::Value value_of(const Field& f, const std::string& expected = "a value");
std::string text_of(const Field& f);
bool bool_of(const Field& f);
double number_of(const Field& f);
std::int64_t int_of(const Field& f);
double positive_seconds(const Field& f);
std::int64_t positive_int(const Field& f, std::int64_t max = INT64_MAX);
/// An integer >= 0 written without quotes (a seed).
std::uint64_t seed_of(const Field& f);
/// Any node as JSON (scalars typed as scalar_value does).
nlohmann::json json_of(const Field& f);
/// `name` or `{name: {options}}` -> (name, options object).
std::pair<std::string, nlohmann::json> named(const Field& f);

/// `p` made absolute against `base` and normalised, without a trailing separator.
std::filesystem::path resolve_path(const std::filesystem::path& base,
                                   const std::filesystem::path& p);

// The search space.

/// True when `f` is a mapping holding a parameter type key (float, int, choice, bool, fixed).
bool is_param_definition(const Field& f);
/// One parameter definition `{TYPE: ARGS, option: value, ...}` named `name`; keys in `extra` are
/// allowed besides the type's own (the caller reads them). A `when` is not applied here.
space::Param read_param(const std::string& name, const Field& f, const Keys& extra = {});
/// read_param, then its `when` conditions, then Space::add into `out`; returns the parameter in
/// `out` (an equal earlier definition of the same name is shared).
const space::Param& add_param(space::Space& out, const std::string& name, const Field& f,
                              const Keys& extra = {});
/// A `space:` mapping: at least one parameter, in file order.
space::Space read_space(const Field& f);

// Sections read in their own files.

/// model_section.cpp: the value of `f`, a literal that must follow `rule` (nn/spec_rules.hpp);
/// fails with "KEY: expected <rule>, got <node>".
space::Value literal(const Field& f, nn::Rule rule);
/// model_section.cpp: a `model:` mapping; its searched values are added to `space`. With `nas`
/// (the layers come from a `nas:` section) it must not list layers and may be empty.
ModelTemplate read_model(const Field& f, space::Space& space, bool nas = false);
/// model_study.cpp: `model`, `data` and `fit` into `out`, whose base_dir, objectives, space and
/// seed are already read. Fails if `data` or `fit` is given without `model`.
void read_model_study(const Entries& es, const Field& root, StudyFile& out);

}  // namespace detail
}  // namespace quarry::config
