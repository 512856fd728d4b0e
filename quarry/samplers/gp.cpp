#include "quarry/samplers/gp.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "quarry/core/error.hpp"
#include "quarry/core/options.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/samplers/encoder.hpp"
#include "quarry/samplers/gaussian_process.hpp"
#include "quarry/samplers/gp_acquisition.hpp"
#include "quarry/samplers/gp_points.hpp"

namespace quarry::samplers {

namespace {

/// Incumbents whose neighbourhoods seed half the candidates.
constexpr std::size_t kIncumbents = 5;

void require(bool ok, const std::string& rule) {
  if (!ok) throw InvalidArgument("GpSampler: " + rule);
}

}  // namespace

GpOptions gp_options_from_json(const nlohmann::json& j, std::uint64_t seed) {
  const ComponentOptions options("sampler 'gp'", j,
                                 {"seed", "n_startup", "acquisition", "beta", "noise", "max_points",
                                  "candidates", "local_searches", "fit_restarts", "warp"});
  const GpOptions d;
  return {.seed = options.count("seed", seed),
          .n_startup = options.integer("n_startup", d.n_startup, 1),
          .acquisition = options.text("acquisition", d.acquisition),
          .beta = options.real("beta", d.beta),
          .noise = options.has("noise") ? std::optional(options.real("noise", 0)) : std::nullopt,
          .max_points = options.integer("max_points", d.max_points, 10),
          .candidates = options.integer("candidates", d.candidates, 16),
          .local_searches = options.integer("local_searches", d.local_searches, 1),
          .fit_restarts = options.integer("fit_restarts", d.fit_restarts, 1),
          .warp = options.text("warp", d.warp)};
}

GpSampler::GpSampler(GpOptions options) : options_(std::move(options)) {
  const GpOptions& o = options_;
  require(o.n_startup >= 1, "n_startup must be >= 1, got " + std::to_string(o.n_startup));
  require(o.acquisition == "ei" || o.acquisition == "ucb",
          "acquisition must be 'ei' or 'ucb', got '" + o.acquisition + "'");
  require(std::isfinite(o.beta) && o.beta >= 0,
          "beta must be a finite number >= 0, got " + std::to_string(o.beta));
  if (o.noise)
    quarry::require(std::isfinite(*o.noise) && *o.noise > 0, "GpSampler", "noise > 0", *o.noise);
  require(o.max_points >= 10, "max_points must be >= 10, got " + std::to_string(o.max_points));
  require(o.candidates >= 16, "candidates must be >= 16, got " + std::to_string(o.candidates));
  require(o.local_searches >= 1,
          "local_searches must be >= 1, got " + std::to_string(o.local_searches));
  require(o.fit_restarts >= 1, "fit_restarts must be >= 1, got " + std::to_string(o.fit_restarts));
  require(o.warp == "log" || o.warp == "none",
          "warp must be 'log' or 'none', got '" + o.warp + "'");
}

Params GpSampler::sample_relative(const Space& space, const std::vector<Trial>& history,
                                  std::int64_t number) {
  const Encoder encoder(space);
  if (encoder.dims() == 0) return {};
  const GpObservations obs = gp_observations(*this, encoder, history, number,
                                             static_cast<std::size_t>(options_.max_points));
  if (static_cast<std::int64_t>(obs.x.size()) < options_.n_startup) return {};

  const std::uint64_t n = static_cast<std::uint64_t>(number);
  const std::vector<double> y = options_.warp == "log" ? log_warp(obs.loss) : obs.loss;
  Rng fit_rng = Rng::stream(options_.seed, {n, hash_name("gp:fit")});
  const GpKernel kernel = fit_kernel(
      obs.x, y,
      {.restarts = static_cast<int>(options_.fit_restarts), .noise_variance = options_.noise},
      fit_rng);
  const GpTrainingSet data = with_constant_liars(obs, y);
  const GaussianProcess gp(data.x, data.y, kernel);

  const double best = *std::min_element(y.begin(), y.end());
  const GpAcquisition acq(gp, options_.acquisition == "ei", best, options_.beta);
  Rng rng = Rng::stream(options_.seed, {n, hash_name("gp:candidates")});
  const std::vector<double> chosen =
      maximise_acquisition(encoder, acq, incumbents(obs, y, kIncumbents),
                           {.candidates = static_cast<std::size_t>(options_.candidates),
                            .local_searches = static_cast<std::size_t>(options_.local_searches)},
                           rng);
  return encoder.decode(chosen);
}

Value GpSampler::sample_independent(const Param& param, const Params& assigned,
                                    const std::vector<Trial>& history, std::int64_t number) {
  (void)assigned, (void)history;
  Rng rng =
      Rng::stream(options_.seed, {static_cast<std::uint64_t>(number), hash_name(param.name()), 0});
  return param.from_unit(rng.uniform());
}

}  // namespace quarry::samplers
