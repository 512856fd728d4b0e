#include "quarry/objectives/functions.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"

namespace quarry::objectives {

using std::numbers::pi;

BenchmarkFunction::BenchmarkFunction(std::string name, const std::vector<Bounds>& box)
    : name_(std::move(name)) {
  for (std::size_t i = 0; i < box.size(); ++i)
    space_.add(space::Param::Float("x" + std::to_string(i), box[i].low, box[i].high));
}

std::vector<double> BenchmarkFunction::evaluate(TrialContext& context) {
  std::vector<double> x;
  for (const auto& p : space_.params()) {
    const auto it = context.params().find(p.name());
    if (it == context.params().end())
      throw InvalidArgument(name_ + ": parameter '" + p.name() +
                            "' is missing from the trial's parameters");
    x.push_back(space::to_double(it->second));
  }
  return {value(x)};
}

// ---- Branin ----

Branin::Branin() : BenchmarkFunction("branin", {{-5, 10}, {0, 15}}) {}

double Branin::value(std::span<const double> x) const {
  const double b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi);
  const double u = x[1] - b * x[0] * x[0] + c * x[0] - 6;
  return u * u + 10 * (1 - t) * std::cos(x[0]) + 10;
}

std::vector<std::vector<double>> Branin::optimal_points() const {
  return {{-pi, 12.275}, {pi, 2.275}, {9.42478, 2.475}};
}

// ---- Hartmann6 ----

namespace {
constexpr double kAlpha[4] = {1.0, 1.2, 3.0, 3.2};
constexpr double kA[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                             {0.05, 10, 17, 0.1, 8, 14},
                             {3, 3.5, 1.7, 10, 17, 8},
                             {17, 8, 0.05, 10, 0.1, 14}};
constexpr double kP[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                             {2329, 4135, 8307, 3736, 1004, 9991},
                             {2348, 1451, 3522, 2883, 3047, 6650},
                             {4047, 8828, 8732, 5743, 1091, 381}};
}  // namespace

Hartmann6::Hartmann6() : BenchmarkFunction("hartmann6", std::vector<Bounds>(6, {0, 1})) {}

double Hartmann6::value(std::span<const double> x) const {
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) {
      const double d = x[static_cast<std::size_t>(j)] - kP[i][j] * 1e-4;
      inner += kA[i][j] * d * d;
    }
    sum += kAlpha[i] * std::exp(-inner);
  }
  return -sum;
}

std::vector<std::vector<double>> Hartmann6::optimal_points() const {
  return {{0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}};
}

// ---- Rosenbrock ----

namespace {
int checked_dims(int dims) {
  require(dims >= 2, "Rosenbrock", "dims >= 2", dims);
  return dims;
}
}  // namespace

Rosenbrock::Rosenbrock(RosenbrockOptions options)
    : BenchmarkFunction(
          options.dims == 2 ? "rosenbrock"
                            : "rosenbrock(dims=" + std::to_string(options.dims) + ")",
          std::vector<Bounds>(static_cast<std::size_t>(checked_dims(options.dims)), {-5, 10})) {}

double Rosenbrock::value(std::span<const double> x) const {
  double sum = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const double a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
    sum += 100 * a * a + b * b;
  }
  return sum;
}

std::vector<std::vector<double>> Rosenbrock::optimal_points() const {
  return {std::vector<double>(dims(), 1.0)};
}

// ---- Registry ----

const std::vector<FunctionInfo>& known_functions() {
  static const std::vector<FunctionInfo> list = {
      {"branin", "Branin-Hoo, 2-D (x0 in [-5,10], x1 in [0,15]); min 0.397887 at 3 points"},
      {"hartmann6", "Hartmann, 6-D on [0,1]^6; min -3.32237"},
      {"rosenbrock", "Rosenbrock, n-D on [-5,10]^n (option dims, default 2); min 0 at (1,...,1)"},
  };
  return list;
}

namespace {
int dims_option(const nlohmann::json& json) {
  const ComponentOptions options("function 'rosenbrock'", json, {"dims"});
  const auto dims = options.integer("dims", 2);
  if (dims < 2 || dims > 10000)
    throw InvalidArgument("function 'rosenbrock': dims must be in [2, 10000], got " +
                          std::to_string(dims));
  return static_cast<int>(dims);
}
}  // namespace

std::unique_ptr<BenchmarkFunction> make_function(const std::string& name) {
  return make_function(name, nlohmann::json());
}

std::unique_ptr<BenchmarkFunction> make_function(const std::string& name,
                                                 const nlohmann::json& options) {
  if (name == "branin" || name == "hartmann6")
    (void)ComponentOptions("function '" + name + "'", options, {});
  if (name == "branin") return std::make_unique<Branin>();
  if (name == "hartmann6") return std::make_unique<Hartmann6>();
  if (name == "rosenbrock") {
    return std::make_unique<Rosenbrock>(RosenbrockOptions{.dims = dims_option(options)});
  }
  (void)find_entry(known_functions(), "function",
                   name);  // throws: every listed name returned above
  throw InvalidArgument("function '" + name + "' is listed but has no factory");
}

}  // namespace quarry::objectives
