// The objective of a model study (make_spec_objective): one trial's spec resolved at its fidelity,
// its hard constraints checked before training, its weights inherited by network morphism, then
// trained by train_trial. See training.hpp.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "quarry/core/error.hpp"
#include "quarry/nn/fidelity.hpp"
#include "quarry/nn/metrics.hpp"
#include "quarry/nn/morphism.hpp"
#include "quarry/nn/trial_training.hpp"

namespace quarry::nn {

namespace {

std::string number(double x) {
  std::ostringstream out;
  out << std::setprecision(12) << x;
  return out.str();
}

/// "params 250123 > 100000" for a broken constraint.
std::string broken(const study::Constraint& c, double value) {
  return c.metric + " " + number(value) + (c.op == study::Constraint::Op::Le ? " > " : " < ") +
         number(c.bound);
}

/// Fails the trial before any training when its model breaks a constraint on params or flops.
void check_before_training(Model& model, objectives::TrialContext& context,
                           const std::vector<study::Constraint>& constraints) {
  std::vector<study::Constraint> early;
  for (const auto& c : constraints)
    if (measured_before_training(c.metric)) early.push_back(c);
  if (early.empty()) return;
  const Complexity size = model.complexity(1);
  const auto value = [&](const std::string& metric) { return *complexity_value(metric, size); };
  if (check_constraints(context, early, value)) return;
  std::string why;
  for (const auto& c : early)
    if (study::violation(c, value(c.metric)) > 0)
      why += (why.empty() ? "" : ", ") + broken(c, value(c.metric));
  throw TrialFailed("infeasible before training: " + why + " (not trained)");
}

class SpecObjective final : public objectives::Objective {
 public:
  SpecObjective(SpecResolver resolve, TrainingData data, TrainingOptions options)
      : resolve_(std::move(resolve)), data_(std::move(data)), options_(std::move(options)) {}

  std::vector<double> evaluate(objectives::TrialContext& context) override {
    pin_math_threads();
    if (options_.architecture)
      context.set_attr("architecture",
                       nlohmann::json(options_.architecture(context.params())).dump());
    const double f = fraction(context.budget());
    const TrainingData data = view(f, context);
    const ModelSpec spec = spec_at(context.params(), f);
    Model model(spec, data.train->shape, trial_seed(options_, context.number()));
    check_before_training(model, context, options_.constraints);
    inherit(model, spec, context);
    return train_trial(model, context, data, options_);
  }
  std::string describe() const override { return "model trained on " + data_.train->source; }

 private:
  double fraction(double budget) const {
    return options_.fidelity == Fidelity::Epochs ? 1.0
                                                 : budget_fraction(budget, options_.max_budget);
  }

  /// The spec of `params` at fraction `f` of the full budget.
  ModelSpec spec_at(const Params& params, double f) const {
    const bool images = data_.train->shape.size() == 3;
    SpecRequest request{data_.train->shape, options_.fidelity == Fidelity::Cells ? f : 1.0};
    if (options_.fidelity == Fidelity::Resolution && images) {
      const std::int64_t h = scaled_side(data_.train->shape[1], f);
      const std::int64_t w = scaled_side(data_.train->shape[2], f);
      request.input_shape = {data_.train->shape[0], h, w};
    }
    ModelSpec spec = resolve_(params, request);
    if (options_.fidelity == Fidelity::Filters) spec.layers = scale_width(spec.layers, f);
    return spec;
  }

  /// The training rows at fraction `f` (rows, resolution), made once and shared by the trials.
  TrainingData view(double f, objectives::TrialContext& context) {
    if (options_.fidelity == Fidelity::Epochs) return data_;
    TrainingData out = data_;
    if (options_.fidelity == Fidelity::Rows) {
      const auto rows =
          static_cast<std::int64_t>(std::ceil(f * static_cast<double>(data_.train->rows()) - 1e-9));
      out.train = cached(rows, [&] { return data_.train->head(std::max<std::int64_t>(1, rows)); });
    } else if (options_.fidelity == Fidelity::Resolution && data_.train->shape.size() == 3) {
      const std::int64_t h = scaled_side(data_.train->shape[1], f);
      const std::int64_t w = scaled_side(data_.train->shape[2], f);
      out.train = cached(-h, [&] { return resize_images(*data_.train, h, w); });
      out.validation = cached(-1000 - h, [&] { return resize_images(*data_.validation, h, w); });
    }
    context.set_attr("fidelity", nlohmann::json{{"kind", to_string(options_.fidelity)},
                                                {"fraction", f},
                                                {"rows", out.train->rows()},
                                                {"shape", out.train->shape}}
                                     .dump());
    return out;
  }

  template <typename Make>
  std::shared_ptr<const data::Dataset> cached(std::int64_t key, Make make) {
    std::lock_guard lock(mutex_);
    auto& slot = views_[key];
    if (!slot) slot = std::make_shared<const data::Dataset>(make());
    return slot;
  }

  /// Starts `model` from the weights of a trained trial whose network morphs into it: its parent
  /// (a promotion to more filters), else with inherit_weights the best finished trial that can.
  void inherit(Model& model, const ModelSpec& spec, objectives::TrialContext& context) {
    if (!options_.trials || options_.checkpoints.empty()) return;
    // A promotion of another fidelity continues in train_trial; a new trial only inherits when
    // asked. Decided before reading the store.
    if (context.parent() ? options_.fidelity != Fidelity::Filters : !options_.inherit_weights)
      return;
    const auto trials = options_.trials();
    std::vector<const study::Trial*> donors;
    if (context.parent()) {
      for (const auto& t : trials)
        if (t.number == *context.parent()) donors.push_back(&t);
    } else {
      donors = best_donors(trials);
    }
    for (const study::Trial* donor : donors) {
      const auto path = checkpoint_path(options_.checkpoints, donor->number);
      auto problem = checkpoint_problem(donor->number, donor->attrs, path);
      if (!problem) {
        const ModelSpec donor_spec = spec_at(donor->params, fraction(donor->budget));
        try {
          if (!inherit_weights(model, spec, donor_spec, path.string(),
                               options_.seed + static_cast<std::uint64_t>(context.number())))
            continue;                         // its network does not morph into this one
        } catch (const InvalidArgument& e) {  // not a checkpoint of the donor's network
          problem = e.what();
        }
      }
      if (problem) {  // a promotion says why it trained from scratch; a donor is just skipped
        if (context.parent()) record_no_inheritance(context, *problem);
        continue;
      }
      context.set_attr("inherited_from", std::to_string(donor->number));
      context.set_attr("inheritance", "\"morphism\"");
      return;
    }
  }

  /// The ten best complete, feasible trials by the first objective.
  std::vector<const study::Trial*> best_donors(const std::vector<study::Trial>& trials) const {
    std::vector<const study::Trial*> out;
    for (const auto& t : trials)
      if (t.state == study::TrialState::Complete && !t.values.empty() &&
          std::isfinite(t.values[0]) && study::is_feasible(t))
        out.push_back(&t);
    const bool higher = higher_is_better(options_.objective);  // Keras' "auto" (metrics.hpp)
    std::stable_sort(out.begin(), out.end(), [&](const auto* a, const auto* b) {
      return higher ? a->values[0] > b->values[0] : a->values[0] < b->values[0];
    });
    if (out.size() > 10) out.resize(10);
    return out;
  }

  SpecResolver resolve_;
  TrainingData data_;
  TrainingOptions options_;
  std::mutex mutex_;
  std::map<std::int64_t, std::shared_ptr<const data::Dataset>> views_;
};

}  // namespace

std::unique_ptr<objectives::Objective> make_spec_objective(SpecResolver resolve, TrainingData data,
                                                           TrainingOptions options) {
  if (!data.train || data.train->rows() == 0)
    throw InvalidArgument("model study: the training data is empty");
  if (options.fidelity != Fidelity::Epochs && !(options.max_budget > 0))
    throw InvalidArgument("model study: fidelity " + to_string(options.fidelity) +
                          " needs the full budget (max_budget > 0)");
  return std::make_unique<SpecObjective>(std::move(resolve), std::move(data), std::move(options));
}

}  // namespace quarry::nn
