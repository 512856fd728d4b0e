// Standard test functions with known optima, to try samplers and schedulers (and `quarry` itself)
// without training anything. All are minimised.
//
// Convention: the parameters are always named x0, x1, ..., x{n-1} (Floats over the function's box),
// also for Branin, whose literature names (x1, x2) are our (x0, x1). Formulas and optima follow
// Surjanovic & Bingham, "Virtual Library of Simulation Experiments" (sfu.ca/~ssurjano):
//   - Branin (Branin-Hoo; Dixon & Szego, 1978): x0 in [-5, 10], x1 in [0, 15];
//     f = (x1 - 5.1/(4 pi^2) x0^2 + 5/pi x0 - 6)^2 + 10 (1 - 1/(8 pi)) cos(x0) + 10;
//     minimum 0.397887 at (-pi, 12.275), (pi, 2.275), (9.42478, 2.475).
//   - Hartmann6 (Hartman, 1973; Dixon & Szego, 1978): [0, 1]^6;
//     f = -sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2);
//     minimum -3.32237 at (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).
//   - Rosenbrock (Rosenbrock, 1960), n-D (dims >= 2, default 2): [-5, 10]^n;
//     f = sum_{i<n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2; minimum 0 at (1, ..., 1).
// As Objectives they read x0..x{n-1} from the trial's parameters, report nothing per step and
// return one value. make_function() builds one by name for the CLI ("branin", "hartmann6",
// "rosenbrock" with option {"dims": n}).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/objectives/objective.hpp"
#include "quarry/space/space.hpp"

namespace quarry::objectives {

class BenchmarkFunction : public Objective {
 public:
  /// x0..x{n-1}, Floats over the function's box.
  const space::Space& space() const { return space_; }
  std::size_t dims() const { return space_.size(); }

  /// f(x); x must have dims() entries.
  virtual double value(std::span<const double> x) const = 0;
  /// The global minimum's value.
  virtual double optimum() const = 0;
  /// Every point where the global minimum is reached (as published, to ~6 digits).
  virtual std::vector<std::vector<double>> optimal_points() const = 0;

  /// f at the trial's x0..x{n-1}; throws InvalidArgument when one is missing.
  std::vector<double> evaluate(TrialContext& context) override;
  std::string describe() const override { return name_; }

 protected:
  struct Bounds {
    double low, high;
  };
  BenchmarkFunction(std::string name, const std::vector<Bounds>& box);

 private:
  std::string name_;
  space::Space space_;
};

class Branin final : public BenchmarkFunction {
 public:
  Branin();
  double value(std::span<const double> x) const override;
  double optimum() const override { return 0.397887; }
  std::vector<std::vector<double>> optimal_points() const override;
};

class Hartmann6 final : public BenchmarkFunction {
 public:
  Hartmann6();
  double value(std::span<const double> x) const override;
  double optimum() const override { return -3.32237; }
  std::vector<std::vector<double>> optimal_points() const override;
};

struct RosenbrockOptions {
  int dims = 2;  ///< number of variables (>= 2)
};

class Rosenbrock final : public BenchmarkFunction {
 public:
  explicit Rosenbrock(RosenbrockOptions options = {});
  double value(std::span<const double> x) const override;
  double optimum() const override { return 0.0; }
  std::vector<std::vector<double>> optimal_points() const override;
};

/// A registry entry: the name make_function() takes and a one-line description.
struct FunctionInfo {
  std::string name;
  std::string description;
};

/// The functions make_function() knows, in alphabetical order.
const std::vector<FunctionInfo>& known_functions();

/// The function called `name`, configured by `options` (a JSON object, or null for none).
/// Throws InvalidArgument for an unknown name (listing the known ones), an unknown option or a
/// bad option value.
std::unique_ptr<BenchmarkFunction> make_function(const std::string& name);
std::unique_ptr<BenchmarkFunction> make_function(const std::string& name,
                                                 const nlohmann::json& options);

}  // namespace quarry::objectives
