#include "quarry/objectives/command.hpp"

#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "quarry/core/error.hpp"
#include "quarry/process/process.hpp"

namespace quarry::objectives {

namespace {

constexpr std::string_view kPrefix = "quarry:";
constexpr std::string_view kExpected = "'quarry: [step=<int>] <metric>=<number> ...'";

bool parse_number(std::string_view text, double& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || text.front() == '+') return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool parse_int(std::string_view text, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t begin = s.find_first_not_of(" \t", i);
    if (begin == std::string_view::npos) break;
    const std::size_t end = std::min(s.find_first_of(" \t", begin), s.size());
    out.push_back(s.substr(begin, end - begin));
    i = end;
  }
  return out;
}

std::string quoted_line(std::string_view line) {
  constexpr std::size_t kMax = 200;
  if (line.size() <= kMax) return "'" + std::string(line) + "'";
  return "'" + std::string(line.substr(0, kMax)) + "...'";
}

std::string seconds_text(double s) {
  return space::to_string(Value{s}) + " s";
}

// What the program said so far, and why it must stop (if it must).
struct OutputState {
  std::int64_t line_number = 0;
  std::map<std::string, double> finals;
  std::set<std::string> stepped;
  std::optional<std::string> malformed;
  bool pruned = false;
  bool interrupted = false;
  bool must_stop() const { return pruned || malformed || interrupted; }
};

}  // namespace

std::optional<QuarryLine> parse_quarry_line(std::string_view body) {
  QuarryLine line;
  const auto fields = split_fields(body);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::size_t eq = fields[i].find('=');
    if (eq == 0 || eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = fields[i].substr(0, eq), text = fields[i].substr(eq + 1);
    if (key == "step") {
      std::int64_t step = 0;
      if (i != 0 || !parse_int(text, step)) return std::nullopt;
      line.step = step;
      continue;
    }
    double value = 0;
    if (!parse_number(text, value)) return std::nullopt;
    line.values.emplace_back(key, value);
  }
  if (line.values.empty()) return std::nullopt;
  return line;
}

CommandObjective::CommandObjective(CommandOptions options, space::Space space)
    : options_(std::move(options)), space_(std::move(space)) {
  if (options_.argv.empty() || options_.argv[0].empty())
    throw InvalidArgument("CommandObjective: argv must name a program, got an empty command");
  if (options_.metrics.empty())
    throw InvalidArgument("CommandObjective: metrics must name at least one metric, got none");
  std::set<std::string> seen;
  for (const auto& m : options_.metrics) {
    if (m.empty() || m == "step" || m.find_first_of(" \t=") != std::string::npos)
      throw InvalidArgument("CommandObjective: metric name '" + m +
                            "' must be non-empty, not 'step', without spaces or '='");
    if (!seen.insert(m).second)
      throw InvalidArgument("CommandObjective: metric '" + m + "' is listed twice");
  }
  if (options_.timeout && !(*options_.timeout > 0))
    throw InvalidArgument("CommandObjective: timeout must be > 0 seconds, got " +
                          space::to_string(Value{*options_.timeout}));
  if (!(options_.kill_grace >= 0))
    throw InvalidArgument("CommandObjective: kill_grace must be >= 0 seconds, got " +
                          space::to_string(Value{options_.kill_grace}));
  // Each parameter reaches the program as QUARRY_PARAM_<NAME>: "lr" and "LR" (or "lr-max" and
  // "lr_max") would silently share one variable.
  std::map<std::string, std::string> owner;
  for (const auto& p : space_.params())
    if (const auto [it, fresh] = owner.emplace(env_name(p.name()), p.name()); !fresh)
      throw InvalidArgument("parameters '" + it->second + "' and '" + p.name() +
                            "' would share the environment variable " + it->first + ": rename one");
  for (std::size_t i = 0; i < options_.argv.size(); ++i)
    argv_.push_back(parse_template(options_.argv[i], i));
}

CommandObjective::Template CommandObjective::parse_template(const std::string& arg,
                                                            std::size_t index) const {
  const auto fail = [&](const std::string& rule) {
    throw InvalidArgument("CommandObjective: argument " + std::to_string(index) + " '" + arg +
                          "' " + rule);
  };
  Template out;
  const auto literal = [&](char c) {
    if (out.empty() || out.back().is_param) out.push_back({});
    out.back().text += c;
  };
  for (std::size_t i = 0; i < arg.size(); ++i) {
    const char c = arg[i];
    if ((c == '{' || c == '}') && i + 1 < arg.size() && arg[i + 1] == c) {
      literal(c), ++i;
    } else if (c == '}') {
      fail("has a '}' without '{'; write '}}' for a literal brace");
    } else if (c == '{') {
      const std::size_t close = arg.find('}', i + 1);
      if (close == std::string::npos) fail("has an unclosed '{'; write '{{' for a literal brace");
      const std::string name = arg.substr(i + 1, close - i - 1);
      if (name.empty() || name.find('{') != std::string::npos)
        fail("has a placeholder without a parameter name; write '{{' for a literal brace");
      if (space_.find(name) == nullptr)
        fail("names parameter '" + name + "', which is not in the search space");
      out.push_back({name, true});
      i = close;
    } else {
      literal(c);
    }
  }
  return out;
}

std::vector<std::string> CommandObjective::render_argv(const Params& params) const {
  std::vector<std::string> out;
  for (const auto& pieces : argv_) {
    std::string arg;
    for (const auto& piece : pieces) {
      if (!piece.is_param) {
        arg += piece.text;
      } else if (const auto it = params.find(piece.text); it != params.end()) {
        arg += space::to_string(it->second);
      } else {
        arg += space::to_string(space_.find(piece.text)->default_value());
      }
    }
    out.push_back(std::move(arg));
  }
  return out;
}

std::string CommandObjective::env_name(const std::string& param_name) {
  std::string out = "QUARRY_PARAM_";
  for (const char c : param_name) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += !alnum ? '_' : (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

std::map<std::string, std::string> CommandObjective::trial_environment(
    const TrialContext& context) const {
  std::map<std::string, std::string> env;
  env["QUARRY_TRIAL_NUMBER"] = std::to_string(context.number());
  env["QUARRY_BUDGET"] = space::to_string(Value{context.budget()});
  if (context.parent()) env["QUARRY_PARENT_TRIAL"] = std::to_string(*context.parent());
  env["QUARRY_PARAMS"] = space::to_json(context.params()).dump();
  for (const auto& [name, value] : context.params()) env[env_name(name)] = space::to_string(value);
  return env;
}

std::vector<double> CommandObjective::evaluate(TrialContext& context) {
  if (context.stop_requested()) throw TrialInterrupted();
  process::ProcessOptions process{.argv = render_argv(context.params()),
                                  .cwd = options_.cwd,
                                  .env = options_.env,
                                  .timeout = options_.timeout,
                                  .kill_grace = options_.kill_grace};
  for (auto& [name, value] : trial_environment(context)) process.env[name] = value;

  OutputState state;
  process::ProcessCallbacks callbacks;
  callbacks.on_stdout_line = [&](std::string_view line) {
    ++state.line_number;
    if (state.must_stop() || !line.starts_with(kPrefix)) return;
    if (line.ends_with('\r')) line.remove_suffix(1);
    const auto parsed = parse_quarry_line(line.substr(kPrefix.size()));
    if (!parsed) {
      state.malformed = "malformed line " + std::to_string(state.line_number) +
                        " of output: " + quoted_line(line) + " (expected " +
                        std::string(kExpected) + ")";
      return;
    }
    for (const auto& [name, value] : parsed->values) {
      if (!parsed->step)
        state.finals[name] = value;
      else
        state.stepped.insert(name);
    }
    const auto& first = options_.metrics.front();
    for (const auto& [name, value] : parsed->values)
      if (parsed->step && name == first && context.report(*parsed->step, value))
        state.pruned = true;
  };
  callbacks.should_stop = [&] {
    if (!state.must_stop() && context.stop_requested()) state.interrupted = true;
    return state.must_stop();
  };

  process::ProcessResult result;
  try {
    result = process::run_process(process, callbacks);
  } catch (const process::SpawnError& e) {
    throw FatalTrialError(e.what());  // e.g. command not found: no trial could ever run
  }
  if (state.pruned) throw TrialPruned();
  if (state.interrupted) throw TrialInterrupted();

  const auto fail = [&](const std::string& reason) {
    if (result.stderr_tail.empty()) throw TrialFailed(reason);
    throw TrialFailed(reason + "; stderr tail:\n" + result.stderr_tail);
  };
  if (state.malformed) fail(*state.malformed);
  if (result.timed_out) fail("timed out after " + seconds_text(*options_.timeout));
  if (!result.succeeded()) fail(result.describe());

  std::vector<double> values;
  for (const auto& metric : options_.metrics) {
    const auto it = state.finals.find(metric);
    if (it == state.finals.end()) {
      std::string reason = "did not report metric '" + metric +
                           "' (expected a line 'quarry: " + metric + "=<number>'";
      if (state.stepped.contains(metric)) reason += "; it appeared only on step= lines";
      fail(reason + ")");
    }
    if (!std::isfinite(it->second)) fail("metric '" + metric + "' is " + real_text(it->second));
    values.push_back(it->second);
  }
  return values;
}

std::string CommandObjective::describe() const {
  constexpr std::size_t kMax = 80;
  std::string out = "command";
  for (const auto& arg : options_.argv) out += " " + arg;
  if (out.size() > kMax) out = out.substr(0, kMax - 3) + "...";
  return out;
}

}  // namespace quarry::objectives
