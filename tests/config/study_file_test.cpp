#include "quarry/config/study_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "quarry/core/error.hpp"
#include "tests/config/study_text.hpp"

namespace quarry::config {
namespace {

using space::ParamKind;
using space::Value;
using testing::BadCase;
using testing::error_of;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A study that parses; each bad case below breaks one thing.
constexpr const char* kMinimal =
    "study: s\n"
    "objective: loss\n"
    "command: [run, \"{x}\"]\n"
    "space:\n"
    "  x: {float: [0, 1]}\n";

StudyFile parse(const std::string& yaml,
                const std::filesystem::path& path = "/data/exp/study.yaml") {
  return parse_study_file(yaml, path);
}

std::string with_space(const std::string& params) {
  return "study: s\nobjective: loss\ncommand: [run]\nspace:\n" + params;
}

class BadStudyFile : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadStudyFile, FailsWithFileLineAndKey) {
  const std::string error = error_of(GetParam().yaml);
  EXPECT_THAT(error, HasSubstr(GetParam().error)) << GetParam().yaml;
  EXPECT_THAT(error, StartsWith("study.yaml:"));
  EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
}

const BadCase kBadCases[] = {
    // the YAML itself
    {"study: s\nspace: [1, 2\nobjective: loss\n",
     "study.yaml:3:10: malformed YAML: end of sequence flow not found"},
    {"study: s\n  objective: loss\n", "study.yaml:2:12: malformed YAML: illegal map value"},
    {"", "study.yaml:1: expected a mapping of study keys"},
    {"- a\n- b\n",
     "study.yaml:1: expected a mapping of study keys (study: NAME, objective: ..., ...), "
     "got [a, b]"},
    {"study: s\n---\nstudy: t\n", "study.yaml:2: expected one YAML document, got 2"},
    // found by fuzz/study_file: yaml-cpp's LoadAll never returned on a stray top-level ','
    {",", "study.yaml:1:1: malformed YAML: unexpected ','"},
    {"\"a\",", "study.yaml:1:4: malformed YAML: unexpected ','"},
    // ...and an error quoting a line break printed it: every message is one line
    {"study: s\nobjective: \"lo\\nss\"\ncommand: [run]\nspace:\n  \"a\\nb\": {float: [1, 0]}\n",
     "study.yaml:5: space.a\\nb"},
    {"study: s\nstudy: t\n", "study.yaml:2: duplicate key 'study' in the study"},
    // "billion laughs": nine levels of nine aliases, 9^9 values once expanded
    {"a: &a [x, x, x, x, x, x, x, x, x]\n"
     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
     "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
     "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\ni: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
     "study: s\n",
     "the YAML expands to more than 100000 values (aliases of aliases?)"},
    // top-level keys
    {"study: s\n\ncomand: [x]\n",
     "study.yaml:3: unknown key 'comand' in the study (expected one of: study, directory, storage, "
     "objective, objectives, space, command, function, env, trial_timeout, sampler, scheduler, "
     "pruner, max_trials, timeout, workers, seed, automl, max_consecutive_failures, stale_after, "
     "max_attempts)"},

    {"objective: loss\ncommand: [run]\n", "study.yaml:1: missing required key 'study'"},
    {"study: a/b\n",
     "study.yaml:1: study: expected a name of letters, digits, '_', '.' and '-', got a/b"},
    {"study: ..\n", "study.yaml:1: study: expected a name"},
    {"study: [a]\n", "study.yaml:1: study: expected text, got [a]"},
    {"study: s\ndirectory: ''\nobjective: loss\n", "study.yaml:2: directory: expected a folder"},
    {"study: s\nstorage: sqlite://\nobjective: loss\n",
     "study.yaml:2: storage: expected a database path after sqlite://"},
    // objectives
    {"study: s\ncommand: [run]\n",
     "study.yaml:1: missing required key 'objective' (or 'objectives')"},
    {"study: s\nobjective: a\nobjectives: [b]\n",
     "study.yaml:3: give either 'objective' or 'objectives', not both"},
    {"study: s\nobjective: {metric: a, direction: up}\n",
     "study.yaml:2: objective.direction: unknown direction 'up' (expected minimize or maximize)"},
    {"study: s\nobjective:\n  direction: maximize\n",
     "study.yaml:2: missing required key 'metric' in objective"},
    {"study: s\nobjective: {metric: a, dir: max}\n",
     "study.yaml:2: unknown key 'dir' in objective (expected one of: metric, direction)"},
    {"study: s\nobjectives: []\n", "study.yaml:2: objectives: expected a non-empty list"},
    {"study: s\nobjectives:\n  - {metric: a}\n  - {metric: a, direction: max}\n",
     "study.yaml:4: objectives[1]: the metric 'a' is listed twice"},
    {"study: s\nobjectives:\n  - a\n  - {metric: b, direction: sideways}\n",
     "study.yaml:4: objectives[1].direction: unknown direction 'sideways'"},
    // what a trial runs
    {"study: s\nobjective: loss\nspace: {x: {float: [0, 1]}}\n",
     "study.yaml:1: missing required key 'command' (or 'function')"},
    {"study: s\nobjective: loss\ncommand: [run]\nfunction: branin\n",
     "study.yaml:4: give either 'command' or 'function', not both"},
    {"study: s\nobjective: loss\ncommand: []\n",
     "study.yaml:3: command: expected a non-empty list"},
    {"study: s\nobjective: loss\ncommand: python3 train.py\n",
     "study.yaml:3: command: expected a non-empty list of arguments like [python3, train.py, "
     "\"{lr}\"], got python3 train.py"},
    {"study: s\nobjective: loss\ncommand: [run, [a]]\n", "study.yaml:3: command[1]: expected text"},
    {"study: s\nobjective: loss\ncommand: ['', a]\n",
     "study.yaml:3: command[0]: the program must not be empty"},
    {"study: s\nobjective: loss\ncommand: [run]\n",
     "study.yaml:1: missing required key 'space' (a command needs its parameters)"},
    {"study: s\nobjective: loss\nfunction: {a: 1, b: 2}\n",
     "study.yaml:3: function: expected a name or {name: {options}}, got {a: 1, b: 2}"},
    {"study: s\nobjective: loss\nfunction: {rosenbrock: [10]}\n",
     "study.yaml:3: function.rosenbrock: expected options as a mapping, got [10]"},
    {"study: s\nobjective: loss\nfunction: branin\nenv: {1X: a}\n",
     "study.yaml:4: env.1X: not a valid environment variable name"},
    {"study: s\nobjective: loss\nfunction: branin\nenv:\n  A: [1]\n",
     "study.yaml:5: env.A: expected text"},
    {"study: s\nobjective: loss\nfunction: branin\ntrial_timeout: abc\n",
     "study.yaml:4: trial_timeout: expected a number, got abc"},
    {"study: s\nobjective: loss\nfunction: branin\ntrial_timeout: 0\n",
     "study.yaml:4: trial_timeout: expected a number of seconds > 0, got 0"},
    // the search
    {"study: s\nobjective: loss\nfunction: branin\nstale_after: 0\n",
     "study.yaml:4: stale_after: expected a number of seconds > 0, got 0"},
    {"study: s\nobjective: loss\nfunction: branin\nmax_attempts: 0\n",
     "study.yaml:4: max_attempts: expected an integer > 0, got 0"},
    {"study: s\nobjective: loss\nfunction: branin\nworkers: 0\n",
     "study.yaml:4: workers: expected an integer > 0, got 0"},
    {"study: s\nobjective: loss\nfunction: branin\nworkers: 1.5\n",
     "study.yaml:4: workers: expected an integer, got 1.5"},
    {"study: s\nobjective: loss\nfunction: branin\nworkers: 3000000000\n",
     "study.yaml:4: workers: expected an integer <= 2147483647, got 3000000000"},
    {"study: s\nobjective: loss\nfunction: branin\nmax_trials: -1\n",
     "study.yaml:4: max_trials: expected an integer > 0, got -1"},
    {"study: s\nobjective: loss\nfunction: branin\ntimeout: -5\n",
     "study.yaml:4: timeout: expected a number of seconds > 0, got -5"},
    {"study: s\nobjective: loss\nfunction: branin\nseed: -1\n",
     "study.yaml:4: seed: expected an integer >= 0, got -1"},
    {"study: s\nobjective: loss\nfunction: branin\nseed: '3'\n",
     "study.yaml:4: seed: expected an integer >= 0, got \"3\""},
    {"study: s\nobjective: loss\nfunction: branin\nsampler: [a]\n",
     "study.yaml:4: sampler: expected a name or {name: {options}}, got [a]"},
    {"study: s\nobjective: loss\nfunction: branin\nscheduler: {median: 5}\n",
     "study.yaml:4: scheduler.median: expected options as a mapping, got 5"},
    // the space: shapes
    {with_space(""), "study.yaml:4: space: expected a mapping, got nothing"},
    {with_space("  {}\n"), "study.yaml:5: space: expected at least one parameter"},
    {with_space("  x: 3\n"),
     "study.yaml:5: space.x: expected a mapping like {float: [0, 1]}, got 3"},
    {with_space("  x: {step: 1}\n"),
     "study.yaml:5: space.x: missing the type, one of: float, int, choice, bool, fixed"},
    {with_space("  x: {float: [0, 1],\n      int: [0, 1]}\n"),
     "study.yaml:6: space.x: give one type, got both 'float' and 'int'"},
    {with_space("  x: {float: [0, 1], ordered: true}\n"),
     "study.yaml:5: unknown key 'ordered' in space.x (expected one of: float, step, log, default, "
     "when)"},
    {with_space("  x: {float: [0, 1]}\n  y: {int: [0, 1]}\n  x: {int: [0, 2]}\n"),
     "study.yaml:7: duplicate key 'x' in space"},
    {with_space("  units: {int: [16]}\n"),
     "study.yaml:5: space.units.int: expected [low, high] of integers, got [16]"},
    {with_space("  units: {int: 16}\n"),
     "study.yaml:5: space.units.int: expected [low, high] of integers, got 16"},
    {with_space("  n: {int: [1.5, 4]}\n"),
     "study.yaml:5: space.n.int[0]: expected an integer, got 1.5"},
    {with_space("  x: {float: [a, 1]}\n"),
     "study.yaml:5: space.x.float[0]: expected a number, got a"},
    {with_space("  x: {float: [0, [1]]}\n"),
     "study.yaml:5: space.x.float: expected [low, high], got [0, [1]]"},
    {with_space("  x: {float: [0, 1], step: big}\n"),
     "study.yaml:5: space.x.step: expected a number, got big"},
    {with_space("  x: {float: [0, 1], log: yes}\n"),
     "study.yaml:5: space.x.log: expected true or false, got yes"},
    {with_space("  c: {choice: adam}\n"),
     "study.yaml:5: space.c.choice: expected a list of values, got adam"},
    {with_space("  c: {choice: [a, {b: 1}]}\n"),
     "study.yaml:5: space.c.choice: expected a list of values, got [a, {b: 1}]"},
    {with_space("  b: {bool: yes}\n"),
     "study.yaml:5: space.b.bool: expected true or false, got yes"},
    {with_space("  f: {fixed: }\n"), "study.yaml:5: space.f.fixed: expected a value, got nothing"},
    // the space: the parameters' own rules, at the parameter's line
    {with_space("\n  units:\n    int: [512, 16]\n    step: 16\n"),
     "study.yaml:6: space.units: Int('units'): low <= high must hold, got low=512, high=16"},
    {with_space("  n: {int: [1, 10], step: 0}\n"),
     "study.yaml:5: space.n: Int('n'): step > 0 must hold"},
    {with_space("  n: {int: [0, 10], log: true}\n"),
     "study.yaml:5: space.n: Int('n'): log sampling needs low >= 1, got low=0"},
    {with_space("  n: {int: [1, 10], step: 2, default: 2}\n"),
     "study.yaml:5: space.n: Int('n'): the default 2 is not one of its values"},
    {with_space("  lr: {float: [0, 1], log: true}\n"),
     "study.yaml:5: space.lr: Float('lr'): log sampling needs low > 0, got low=0"},
    {with_space("  lr: {float: [-1, 1], log: true}\n"),
     "study.yaml:5: space.lr: Float('lr'): log sampling needs low > 0, got low=-1"},
    {with_space("  x: {float: [0, 1], default: 2}\n"),
     "study.yaml:5: space.x: Float('x'): the default 2"},
    {with_space("  c: {choice: []}\n"),
     "study.yaml:5: space.c: Choice('c'): needs at least one value, got an empty list"},
    {with_space("  c: {choice: [a, a]}\n"),
     "study.yaml:5: space.c: Choice('c'): the value 'a' is listed twice"},
    {with_space("  c: {choice: [a, 1]}\n"),
     "study.yaml:5: space.c: Choice('c'): all values must have one type"},
    {with_space("  c: {choice: [a, b], default: z}\n"),
     "study.yaml:5: space.c: Choice('c'): the default 'z'"},
    // conditions
    {with_space("  m: {float: [0, 1],\n      when: {opt: sgd}}\n"),
     "study.yaml:6: space.m: parameter 'm' is conditioned on 'opt', which is not defined before "
     "it"},
    {with_space("  m: {float: [0, 1], when: {opt: sgd}}\n  opt: {choice: [sgd, adam]}\n"),
     "study.yaml:5: space.m: parameter 'm' is conditioned on 'opt', which is not defined before "
     "it"},
    {with_space("  opt: {choice: [sgd, adam]}\n  m: {float: [0, 1], when: {opt: rmsprop}}\n"),
     "study.yaml:6: space.m: parameter 'm' is conditioned on opt=rmsprop, which is not a value of"},
    {with_space("  opt: {choice: [sgd, adam]}\n  m: {float: [0, 1], when: {}}\n"),
     "study.yaml:6: space.m.when: expected {parent: value or [values]}, got {}"},
    {with_space("  opt: {choice: [sgd, adam]}\n  m: {float: [0, 1], when: {opt: []}}\n"),
     "study.yaml:6: space.m.when: Float('m'): a condition on 'opt' needs at least one parent "
     "value"},
    {with_space("  opt: {choice: [sgd, adam]}\n  m: {float: [0, 1], when: {opt: {a: 1}}}\n"),
     "study.yaml:6: space.m.when.opt: expected a value or a list of values, got {a: 1}"},
    {with_space("  opt: {choice: [sgd, adam]}\n  m: {float: [0, 1], when: sgd}\n"),
     "study.yaml:6: space.m.when: expected a mapping, got sgd"},
};

INSTANTIATE_TEST_SUITE_P(Errors, BadStudyFile, ::testing::ValuesIn(kBadCases));

TEST(StudyFile, MinimalFileGetsTheDefaults) {
  const StudyFile f = parse(kMinimal);
  EXPECT_EQ(f.path, "/data/exp/study.yaml");
  EXPECT_EQ(f.base_dir, "/data/exp");
  EXPECT_EQ(f.study, "s");
  EXPECT_EQ(f.directory, "/data/exp");
  EXPECT_EQ(f.storage, "sqlite:///data/exp/s/quarry.db");
  ASSERT_EQ(f.objectives.size(), 1u);
  EXPECT_EQ(f.objectives[0].name, "loss");
  EXPECT_EQ(f.objectives[0].direction, study::Direction::Minimize);
  EXPECT_EQ(f.command, (std::vector<std::string>{"run", "{x}"}));
  EXPECT_TRUE(f.function.empty());
  EXPECT_TRUE(f.env.empty());
  EXPECT_FALSE(f.trial_timeout || f.max_trials || f.timeout || f.workers);
  EXPECT_EQ(f.sampler, "auto");
  EXPECT_EQ(f.sampler_options, nlohmann::json::object());
  EXPECT_EQ(f.scheduler, "none");
  EXPECT_EQ(f.scheduler_options, nlohmann::json::object());
  EXPECT_EQ(f.seed, 0u);
}

TEST(StudyFile, EveryParameterKindWithItsOptions) {
  const StudyFile f =
      parse(with_space("  x: {float: [-5, 10]}\n"
                       "  lr: {float: [1e-5, 0.1], log: true, default: 1e-3}\n"
                       "  drop: {float: [0, 0.5], step: 0.1}\n"
                       "  units: {int: [16, 512], step: 16, default: 64}\n"
                       "  depth: {int: [1, 100], log: true}\n"
                       "  rate: {choice: [1e-2, 1e-3, 1e-4]}\n"
                       "  width: {choice: [\"16\", '32', 64x], default: '32'}\n"
                       "  layers: {choice: [1, 2, 3], ordered: false}\n"
                       "  use_bn: {bool: true}\n"
                       "  seed: {fixed: 3}\n"));
  const auto& ps = f.space.params();
  ASSERT_EQ(ps.size(), 10u);
  const std::vector<std::string> order = {"x",    "lr",    "drop",   "units",  "depth",
                                          "rate", "width", "layers", "use_bn", "seed"};
  for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(ps[i].name(), order[i]);
  EXPECT_EQ(ps[0], space::Param::Float("x", -5, 10));
  EXPECT_EQ(ps[1], space::Param::Float("lr", 1e-5, 0.1, {.log = true, .default_value = 1e-3}));
  EXPECT_EQ(ps[2], space::Param::Float("drop", 0, 0.5, {.step = 0.1}));
  EXPECT_EQ(ps[3], space::Param::Int("units", 16, 512, {.step = 16, .default_value = 64}));
  EXPECT_EQ(ps[4], space::Param::Int("depth", 1, 100, {.log = true}));
  EXPECT_EQ(ps[5], space::Param::Choice("rate", {1e-2, 1e-3, 1e-4}));
  EXPECT_EQ(ps[6], space::Param::Choice("width", {"16", "32", "64x"}, {.default_value = "32"}));
  EXPECT_EQ(ps[7],
            space::Param::Choice("layers", {std::int64_t{1}, std::int64_t{2}, std::int64_t{3}},
                                 {.ordered = false}));
  EXPECT_EQ(ps[8], space::Param::Boolean("use_bn", {.default_value = true}));
  EXPECT_EQ(ps[9], space::Param::Fixed("seed", std::int64_t{3}));
  EXPECT_TRUE(std::holds_alternative<std::string>(ps[6].choices()[0]));  // a quoted "16" is text
  EXPECT_FALSE(ps[7].ordered());
}

TEST(StudyFile, ScalarsAreTypedByTheirText) {
  const StudyFile f = parse(
      with_space("  a: {fixed: 3}\n  b: {fixed: \"3\"}\n  c: {fixed: .5}\n  d: {fixed: -2}\n  e: "
                 "{fixed: 1e-3}\n"
                 "  f: {fixed: true}\n  g: {fixed: 'true'}\n  h: {fixed: adam}\n  i: {fixed: +4}\n"
                 "  j: {fixed: 1.0}\n  k: {fixed: !!str 7}\n  l: {fixed: False}\n"));
  const std::vector<Value> expected = {
      std::int64_t{3},     std::string("3"), 0.5, std::int64_t{-2}, 1e-3, true, std::string("true"),
      std::string("adam"), std::int64_t{4},  1.0, std::string("7"), false};
  ASSERT_EQ(f.space.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Value& got = f.space.params()[i].default_value();
    EXPECT_EQ(got.index(), expected[i].index()) << f.space.params()[i].name();
    EXPECT_EQ(got, expected[i]) << f.space.params()[i].name();
  }
}

TEST(StudyFile, ConditionsOnOneOrSeveralParentsAndValues) {
  const StudyFile f = parse(with_space(
      "  optimizer: {choice: [sgd, adam, rmsprop]}\n"
      "  layers: {int: [1, 3]}\n"
      "  momentum: {float: [0, 0.99], when: {optimizer: sgd}}\n"
      "  beta: {float: [0.8, 0.999], when: {optimizer: [adam, rmsprop], layers: [2, 3]}}\n"));
  const space::Param& momentum = *f.space.find("momentum");
  ASSERT_EQ(momentum.conditions().size(), 1u);
  EXPECT_EQ(momentum.conditions()[0], (space::Condition{"optimizer", {std::string("sgd")}}));
  const space::Param& beta = *f.space.find("beta");
  ASSERT_EQ(beta.conditions().size(), 2u);
  EXPECT_EQ(beta.conditions()[0],
            (space::Condition{"optimizer", {std::string("adam"), std::string("rmsprop")}}));
  EXPECT_EQ(beta.conditions()[1], (space::Condition{"layers", {std::int64_t{2}, std::int64_t{3}}}));
  const space::Params defaults = f.space.defaults();  // optimizer=sgd, layers=1
  EXPECT_TRUE(defaults.count("momentum"));
  EXPECT_FALSE(defaults.count("beta"));
}

TEST(StudyFile, RelativeDirectoryAndStorageResolveAgainstTheFilesFolder) {
  const std::string head = "study: demo\nobjective: loss\nfunction: branin\n";
  const StudyFile runs = parse(head + "directory: runs/\n");
  EXPECT_EQ(runs.directory, "/data/exp/runs");
  EXPECT_EQ(runs.storage, "sqlite:///data/exp/runs/demo/quarry.db");
  EXPECT_EQ(parse(head + "directory: ../out\n").directory, "/data/out");
  EXPECT_EQ(parse(head + "directory: /abs/dir\n").storage, "sqlite:///abs/dir/demo/quarry.db");
  EXPECT_EQ(parse(head + "storage: sqlite://db/x.db\n").storage, "sqlite:///data/exp/db/x.db");
  EXPECT_EQ(parse(head + "storage: sqlite:///tmp/x.db\n").storage, "sqlite:///tmp/x.db");
  EXPECT_EQ(parse(head + "storage: results.db\n").storage, "/data/exp/results.db");
  EXPECT_EQ(parse(head + "storage: 'memory:'\n").storage, "memory:");
  EXPECT_EQ(parse(head + "storage: postgresql://host/db\n").storage, "postgresql://host/db");
}

TEST(StudyFile, RelativeFilePathBecomesAbsolute) {
  const StudyFile f = parse_study_file(kMinimal, "sub/study.yaml");
  EXPECT_EQ(f.path, std::filesystem::current_path() / "sub/study.yaml");
  EXPECT_EQ(f.base_dir, std::filesystem::current_path() / "sub");
  EXPECT_TRUE(f.path.is_absolute());
}

TEST(StudyFile, ObjectivesListKeepsOrderAndDirections) {
  const StudyFile f = parse(
      "study: s\nfunction: zdt1\nobjectives:\n"
      "  - {metric: acc, direction: maximize}\n"
      "  - {metric: size}\n"
      "  - latency\n"
      "  - {metric: loss, direction: min}\n");
  ASSERT_EQ(f.objectives.size(), 4u);
  EXPECT_EQ(f.objectives[0].name, "acc");
  EXPECT_EQ(f.objectives[0].direction, study::Direction::Maximize);
  EXPECT_EQ(f.objectives[1].name, "size");
  EXPECT_EQ(f.objectives[1].direction, study::Direction::Minimize);
  EXPECT_EQ(f.objectives[2].name, "latency");
  EXPECT_EQ(f.objectives[3].direction, study::Direction::Minimize);
}

TEST(StudyFile, FunctionWithOptionsAndNoSpace) {
  const StudyFile f = parse(
      "study: s\nobjective: {metric: value, direction: minimize}\n"
      "function: {rosenbrock: {dims: 10, scale: 0.5, name: r, flags: [1, a], extra: {deep: "
      "true}}}\n");
  EXPECT_EQ(f.function, "rosenbrock");
  EXPECT_EQ(
      f.function_options,
      nlohmann::json::parse(
          R"({"dims": 10, "scale": 0.5, "name": "r", "flags": [1, "a"], "extra": {"deep": true}})"));
  EXPECT_TRUE(f.space.empty());
  EXPECT_TRUE(f.command.empty());
  const StudyFile plain = parse("study: s\nobjective: value\nfunction: branin\n");
  EXPECT_EQ(plain.function, "branin");
  EXPECT_EQ(plain.function_options, nlohmann::json::object());
  const StudyFile bare = parse("study: s\nobjective: value\nfunction: {branin: }\n");
  EXPECT_EQ(bare.function_options, nlohmann::json::object());
}

TEST(StudyFile, SearchSettingsAndEnvironment) {
  const StudyFile f = parse(std::string(kMinimal) +
                            "env: {CUDA_VISIBLE_DEVICES: 0, MODE: fast, EMPTY: ''}\n"
                            "trial_timeout: 60\n"
                            "sampler: {random: {seed: 3}}\n"
                            "pruner: {median: {min_trials: 5, warmup_steps: 2}}\n"
                            "max_trials: 50\n"
                            "timeout: 0.5\n"
                            "workers: 2\n"
                            "stale_after: 20\n"
                            "max_attempts: 5\n"
                            "seed: 18446744073709551615\n");
  EXPECT_EQ(f.stale_after, 20.0);
  EXPECT_EQ(f.max_attempts, 5);
  EXPECT_EQ(f.env, (std::map<std::string, std::string>{
                       {"CUDA_VISIBLE_DEVICES", "0"}, {"MODE", "fast"}, {"EMPTY", ""}}));
  EXPECT_EQ(f.trial_timeout, 60.0);
  EXPECT_EQ(f.sampler, "random");
  EXPECT_EQ(f.sampler_options, nlohmann::json({{"seed", 3}}));
  EXPECT_EQ(f.scheduler, "none");
  EXPECT_EQ(f.pruner, "median");
  EXPECT_EQ(f.pruner_options, nlohmann::json({{"min_trials", 5}, {"warmup_steps", 2}}));
  EXPECT_EQ(f.max_trials, 50);
  EXPECT_EQ(f.timeout, 0.5);
  EXPECT_EQ(f.workers, 2);
  EXPECT_EQ(f.seed, 18446744073709551615u);
  const StudyFile g = parse(std::string(kMinimal) + "sampler: grid\npruner: {median: {}}\n");
  EXPECT_EQ(g.sampler, "grid");
  EXPECT_EQ(g.pruner, "median");
  EXPECT_EQ(g.pruner_options, nlohmann::json::object());
}

TEST(StudyFile, SchedulerNamingAPrunerIsReadAsThePruner) {
  // Files written before `pruner:` existed named pruners under `scheduler:`.
  const StudyFile median = parse(std::string(kMinimal) + "scheduler: {median: {min_trials: 3}}\n");
  EXPECT_EQ(median.scheduler, "none");
  EXPECT_EQ(median.scheduler_options, nlohmann::json::object());
  EXPECT_EQ(median.pruner, "median");
  EXPECT_EQ(median.pruner_options, nlohmann::json({{"min_trials", 3}}));
  const StudyFile curve =
      parse(std::string(kMinimal) +
            "scheduler: {learning_curve: {max_step: 9, with: {hyperband: {max_epochs: 9}}}}\n");
  EXPECT_EQ(curve.scheduler, "hyperband");
  EXPECT_EQ(curve.scheduler_options, nlohmann::json({{"max_epochs", 9}}));
  EXPECT_EQ(curve.pruner, "learning_curve");
  EXPECT_EQ(curve.pruner_options, nlohmann::json({{"max_step", 9}}));
  const StudyFile by_name =
      parse(std::string(kMinimal) + "scheduler: {learning_curve: {with: asha}}\n");
  EXPECT_EQ(by_name.scheduler, "asha");
  EXPECT_EQ(by_name.pruner, "learning_curve");
  EXPECT_EQ(by_name.pruner_options, nlohmann::json::object());
  const StudyFile both =
      parse(std::string(kMinimal) + "scheduler: {hyperband: {max_epochs: 9}}\npruner: median\n");
  EXPECT_EQ(both.scheduler, "hyperband");
  EXPECT_EQ(both.pruner, "median");
}

TEST(StudyFile, APrunerNamedTwiceIsAnError) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "scheduler: median\npruner: median\n"),
            "study.yaml:6: scheduler: 'median' is a pruner, and 'pruner' names one already");
  EXPECT_EQ(error_of(std::string(kMinimal) + "scheduler: {learning_curve: {with: median}}\n"),
            "study.yaml:6: scheduler: with: 'median' is a pruner; name a scheduler (asha, bohb, "
            "hyperband) or use one pruner");
  EXPECT_EQ(error_of(std::string(kMinimal) + "scheduler: {learning_curve: {with: [1]}}\n"),
            "study.yaml:6: scheduler: with: expected a scheduler's name or {name: {options}}, "
            "got [1]");
}

TEST(StudyFile, CommandArgumentsKeepTheirText) {
  const StudyFile f = parse(
      "study: s\nobjective: loss\nspace: {lr: {float: [0.001, 0.1]}}\n"
      "command: [python3, train.py, --epochs, 5, --lr, \"{lr}\", --eps, 1e-08]\n");
  EXPECT_EQ(f.command, (std::vector<std::string>{"python3", "train.py", "--epochs", "5", "--lr",
                                                 "{lr}", "--eps", "1e-08"}));
}

TEST(StudyFile, EveryTruncationFailsCleanlyOrParses) {
  // Whatever a half-written file holds, only UsageError may escape.
  const std::string full = std::string(kMinimal) +
                           "  opt: {choice: [sgd, adam], default: adam}\n"
                           "  m: {float: [0, 0.99], when: {opt: sgd}}\n"
                           "env: {A: b}\nsampler: {random: {seed: 3}}\nworkers: 2\nseed: 4\n";
  for (std::size_t n = 0; n <= full.size(); ++n) {
    try {
      parse_study_file(full.substr(0, n), "study.yaml");
    } catch (const UsageError& e) {
      EXPECT_THAT(e.what(), StartsWith("study.yaml:")) << n;
    }
  }
}

TEST(StudyFile, LoadsFromDisk) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "quarry_config_test";
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / "study.yaml";
  std::ofstream(file) << kMinimal << "directory: runs\n";
  const StudyFile f = load_study_file(file);
  EXPECT_EQ(f.path, std::filesystem::absolute(file).lexically_normal());
  EXPECT_EQ(f.directory, f.base_dir / "runs");
  EXPECT_EQ(f.storage, "sqlite://" + (f.base_dir / "runs" / "s" / "quarry.db").string());
  std::filesystem::remove_all(dir);
}

TEST(StudyFile, MissingOrUnreadableFileIsAUsageError) {
  try {
    load_study_file("/nonexistent/quarry/study.yaml");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_STREQ(
        e.what(),
        "cannot read study file '/nonexistent/quarry/study.yaml': No such file or directory");
  }
  EXPECT_THROW(load_study_file(::testing::TempDir()), UsageError);  // a folder
}

TEST(StudyFile, ExamplesInTheRepositoryLoad) {
  const std::filesystem::path examples = std::filesystem::path(QUARRY_SOURCE_DIR) / "examples";
  const StudyFile branin = load_study_file(examples / "branin.yaml");
  EXPECT_EQ(branin.function, "branin");
  EXPECT_EQ(branin.objectives.size(), 1u);
  const StudyFile quickstart = load_study_file(examples / "quickstart.yaml");
  EXPECT_FALSE(quickstart.space.empty());
  EXPECT_FALSE(quickstart.command.empty());
}

}  // namespace
}  // namespace quarry::config
