// CommandObjective: each trial runs an external program (a training script) and reads its metrics
// from what it prints.
//
// THE PROGRAM
//   argv is a template: "{name}" is replaced by the value of parameter `name` as text
//   (quarry::space::to_string: 16, 0.001, adam, true); "{{" and "}}" are literal braces. An
//   inactive parameter gives its default's text. The program is run directly, without a shell
//   (quarry/process/process.hpp): each template entry is exactly one argument, whatever the values
//   contain. Its environment is Quarry's plus `env`, plus:
//     QUARRY_TRIAL_NUMBER  the trial number (0, 1, ...)
//     QUARRY_BUDGET        the resource granted (epochs...); 0 means the full budget
//     QUARRY_PARENT_TRIAL  set for a promoted trial (Hyperband): the trial whose work it continues
//     QUARRY_PARAMS        the active parameters as one JSON object: {"lr":0.01,"opt":"adam"}
//     QUARRY_PARAM_<NAME>  each active parameter's text; NAME is the name upper-cased with every
//                          character other than A-Z, 0-9 turned into '_' (learning-rate ->
//                          QUARRY_PARAM_LEARNING_RATE). An inactive parameter has no variable.
//
// THE OUTPUT PROTOCOL
//   The program prints lines to stdout. A line that starts with "quarry:" is for Quarry; every
//   other line is ignored (print whatever else you like). Quarry lines are
//       quarry: step=<int> <metric>=<number> [<metric>=<number> ...]     intermediate values
//       quarry: <metric>=<number> [<metric>=<number> ...]                final values
//   with the fields separated by spaces or tabs. <number> is a decimal number as C/Python print
//   it (1, -0.25, 1e-3), or nan, inf, -inf. <int> is a decimal integer. <metric> is any name
//   without spaces or '='; names that are not in `metrics` are allowed and ignored.
//     - Intermediate: the first metric's value on a step line is reported to the scheduler
//       (TrialContext::report(step, value)). If the scheduler stops the trial, the program's
//       process group gets SIGTERM (SIGKILL `kill_grace` seconds later) and the trial is pruned.
//     - Final: each metric's value is taken from the last final line that names it. Every metric
//       in `metrics` needs a final value: one that appeared only on step lines is missing.
//   Example (Python): print(f"quarry: step={epoch} loss={val_loss}", flush=True) per epoch, then
//   print(f"quarry: loss={best_loss} accuracy={acc}") at the end.
//
// FAILURES (TrialFailed; the reason is one line, followed by "; stderr tail:\n<last lines of
// stderr>" when the program wrote to stderr):
//     "command 'foo' not found", "cannot run './x': Permission denied"
//     "exited with status 3", "killed by signal 11 (Segmentation fault)", "timed out after 2 s"
//     "malformed line 3 of output: 'quarry: loss=abc' (expected 'quarry: [step=<int>]
//      <metric>=<number> ...')"  (the program is stopped at once)
//     "did not report metric 'loss' (expected a line 'quarry: loss=<number>')"
//     "metric 'loss' is nan"
//   When the search stops (Ctrl-C, TrialContext::stop_requested()), the program is stopped the
//   same way and the trial ends with TrialInterrupted.
//
// Options:
//   argv        the command template; required, argv[0] must not be empty
//   metrics     the objective metrics' names, in the study's objective order; at least one; the
//               first is the one reported per step
//   cwd         working directory; default: Quarry's
//   env         extra environment variables; default: none
//   timeout     seconds before a trial is stopped and failed; default: none
//   kill_grace  seconds between SIGTERM and SIGKILL when stopping; default 5
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quarry/objectives/objective.hpp"
#include "quarry/space/space.hpp"

namespace quarry::objectives {

struct CommandOptions {
  std::vector<std::string> argv;
  std::vector<std::string> metrics;
  std::string cwd;
  std::map<std::string, std::string> env;
  std::optional<double> timeout;
  double kill_grace = 5.0;
};

/// One line of the protocol after its "quarry:" prefix: an optional step, then metric values in
/// the order written.
struct QuarryLine {
  std::optional<std::int64_t> step;
  std::vector<std::pair<std::string, double>> values;
};

/// Reads the fields after "quarry:" ("step=3 loss=0.25 acc=0.9"); nullopt when they break the
/// protocol (a field without '=', a step that is not an integer or not first, a value that is not
/// a number, no metric at all). Values may be inf or nan here: the trial then fails.
std::optional<QuarryLine> parse_quarry_line(std::string_view body);

class CommandObjective final : public Objective {
 public:
  /// Validates the options and the placeholders against `space` (every "{name}" must be a
  /// parameter of it); throws InvalidArgument naming the argument and the rule.
  CommandObjective(CommandOptions options, space::Space space);

  std::vector<double> evaluate(TrialContext& context) override;
  /// "command python3 train.py --lr {lr}" (the template, shortened when long).
  std::string describe() const override;

  /// The argument list for `params` (the placeholders filled in).
  std::vector<std::string> render_argv(const Params& params) const;
  /// The QUARRY_* variables for a trial.
  std::map<std::string, std::string> trial_environment(const TrialContext& context) const;

  /// "learning-rate" -> "QUARRY_PARAM_LEARNING_RATE".
  static std::string env_name(const std::string& param_name);

 private:
  struct Piece {
    std::string text;  // literal text, or the parameter's name
    bool is_param = false;
  };
  using Template = std::vector<Piece>;
  Template parse_template(const std::string& arg, std::size_t index) const;

  CommandOptions options_;
  space::Space space_;
  std::vector<Template> argv_;
};

}  // namespace quarry::objectives
