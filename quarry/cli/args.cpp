#include "quarry/cli/args.hpp"

#include <cmath>

#include "quarry/core/error.hpp"

namespace quarry::cli {

Args::Args(int argc, char** argv, int first, const std::set<std::string>& flags,
           const std::set<std::string>& options) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positionals_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    const auto eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (flags.count(name) && !inline_value) {
      flags_.insert(name);
    } else if (options.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argc) throw CommandLineError("option --" + name + " needs a value");
        value = argv[++i];
      }
      options_.emplace(name, value);
    } else {
      throw CommandLineError("unknown option --" + name);
    }
  }
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto range = options_.equal_range(name);
  if (range.first == range.second) return std::nullopt;
  return std::prev(range.second)->second;  // the last one wins
}

std::vector<std::string> Args::all(const std::string& name) const {
  std::vector<std::string> out;
  for (auto [it, end] = options_.equal_range(name); it != end; ++it) out.push_back(it->second);
  return out;
}

std::optional<std::int64_t> Args::integer(const std::string& name, std::int64_t min) const {
  const auto text = get(name);
  if (!text) return std::nullopt;
  std::size_t used = 0;
  std::int64_t v = 0;
  try {
    v = std::stoll(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text->size())
    throw CommandLineError("--" + name + " expects an integer, got '" + *text + "'");
  if (v < min)
    throw CommandLineError("--" + name + " must be >= " + std::to_string(min) + ", got " + *text);
  return v;
}

std::optional<double> Args::number(const std::string& name, double min) const {
  const auto text = get(name);
  if (!text) return std::nullopt;
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text->size() || !std::isfinite(v))
    throw CommandLineError("--" + name + " expects a number, got '" + *text + "'");
  if (v < min)
    throw CommandLineError("--" + name + " must be >= " + std::to_string(min) + ", got " + *text);
  return v;
}

}  // namespace quarry::cli
