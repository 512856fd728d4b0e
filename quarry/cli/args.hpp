// A small command-line parser: positionals, `--name value`, `--name=value`, repeated options and
// flags.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"

namespace quarry::cli {

/// A mistake in the command line itself (not in a study file): shown with the subcommand's usage.
class CommandLineError : public UsageError {
 public:
  using UsageError::UsageError;
};

class Args {
 public:
  /// Parses argv[first..]; `flags` take no value, `options` take one (and may repeat).
  /// Throws UsageError for an unknown option or a missing value.
  Args(int argc, char** argv, int first, const std::set<std::string>& flags,
       const std::set<std::string>& options);

  const std::vector<std::string>& positionals() const { return positionals_; }
  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::vector<std::string> all(const std::string& name) const;
  /// The option as an integer / number, with a UsageError naming it when malformed or out of range.
  std::optional<std::int64_t> integer(const std::string& name, std::int64_t min) const;
  std::optional<double> number(const std::string& name, double min) const;

 private:
  std::vector<std::string> positionals_;
  std::set<std::string> flags_;
  std::multimap<std::string, std::string> options_;
};

}  // namespace quarry::cli
