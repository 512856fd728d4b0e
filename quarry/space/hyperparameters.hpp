// HyperParameters: the define-by-run handle a model builder calls.
//
//   std::int64_t units = hp.Int("units", 16, 512, {.step = 16});
//   double lr = hp.Choice("learning_rate", {1e-2, 1e-3, 1e-4});
//   if (hp.Choice("optimizer", {"adam", "sgd"}) == "sgd") {
//     auto scope = hp.conditional_scope("optimizer", {"sgd"});
//     double momentum = hp.Float("momentum", 0.0, 0.99);
//   }
//
// The first call of a name registers the parameter (asking again with another definition throws)
// and returns this trial's value: the one already assigned, else the one `suggest` proposes, else
// the default. A parameter whose conditions do not hold returns its default and is not recorded.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "quarry/space/space.hpp"

namespace quarry::space {

class HyperParameters {
 public:
  /// Proposes a value for a parameter met for the first time in this trial.
  using Suggest = std::function<Value(const Param&, const Params& assigned)>;

  HyperParameters() = default;
  explicit HyperParameters(Params values, Suggest suggest = {})
      : values_(std::move(values)), suggest_(std::move(suggest)) {}

  std::int64_t Int(const std::string& name, std::int64_t low, std::int64_t high,
                   IntOptions options = {});
  double Float(const std::string& name, double low, double high, FloatOptions options = {});
  double Choice(const std::string& name, std::vector<double> values, ChoiceOptions options = {});
  double Choice(const std::string& name, std::initializer_list<double> values,
                ChoiceOptions options = {}) {
    return Choice(name, std::vector<double>(values), options);
  }
  std::int64_t Choice(const std::string& name, std::vector<std::int64_t> values,
                      ChoiceOptions options = {});
  std::int64_t Choice(const std::string& name, std::initializer_list<int> values,
                      ChoiceOptions options = {});
  std::string Choice(const std::string& name, std::vector<std::string> values,
                     ChoiceOptions options = {});
  std::string Choice(const std::string& name, std::initializer_list<const char*> values,
                     ChoiceOptions options = {});
  bool Boolean(const std::string& name, BooleanOptions options = {});
  std::int64_t Fixed(const std::string& name, std::int64_t value);
  double Fixed(const std::string& name, double value);
  std::string Fixed(const std::string& name, const std::string& value);
  std::string Fixed(const std::string& name, const char* value) {
    return Fixed(name, std::string(value));
  }
  bool Fixed(const std::string& name, bool value);

  /// Registers (or checks) any parameter and returns this trial's value.
  Value get(const Param& param);
  /// The value of an already registered, active parameter; throws InvalidArgument otherwise.
  const Value& operator[](const std::string& name) const;

  /// While the returned guard lives, parameters registered are active only when `parent` takes one
  /// of `values` (Keras Tuner's `with hp.conditional_scope(parent, values):`).
  class Scope {
   public:
    explicit Scope(HyperParameters* hp) : hp_(hp) {}
    Scope(Scope&& other) noexcept : hp_(std::exchange(other.hp_, nullptr)) {}
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;
    ~Scope() {
      if (hp_) hp_->scopes_.pop_back();
    }

   private:
    HyperParameters* hp_;
  };
  [[nodiscard]] Scope conditional_scope(const std::string& parent, std::vector<Value> values);

  /// True when `name` is registered and its conditions hold for this trial's values.
  bool is_active(const std::string& name) const;

  const Space& space() const { return space_; }
  const Params& values() const { return values_; }

 private:
  Space space_;
  Params values_;
  Suggest suggest_;
  std::vector<Condition> scopes_;
};

}  // namespace quarry::space

namespace quarry {
using space::HyperParameters;
}
