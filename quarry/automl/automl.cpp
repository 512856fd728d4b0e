// The AutoML run (automl.hpp): task and columns, the fallback, the stored search, the ensemble, the
// refit and permutation importance, all inside one time budget.
#include "quarry/automl/automl.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "quarry/automl/estimator.hpp"
#include "quarry/automl/family_sampler.hpp"
#include "quarry/automl/family_support.hpp"
#include "quarry/automl/model.hpp"
#include "quarry/automl/preprocess.hpp"
#include "quarry/core/error.hpp"
#include "quarry/core/rng.hpp"
#include "quarry/objectives/objective.hpp"
#include "quarry/runner/runner.hpp"
#include "quarry/samplers/registry.hpp"
#include "quarry/schedulers/registry.hpp"
#include "quarry/storage/storage.hpp"
#include "quarry/study/study.hpp"

namespace quarry::automl {
namespace {

// Successive halving (ASHA) over each family's budget (boosting rounds, trees, epochs): rungs at
// 1/9, 1/3 and all of it. A trial's budget b is the fraction b / kMaxBudget.
constexpr std::int64_t kMaxBudget = 9;
constexpr std::int64_t kEta = 3;

double fraction_of(double budget) {
  return budget > 0 ? budget / kMaxBudget : 1.0;
}

// The order cheap first tries run in: the families whose cheap configuration costs least first.
int cost_rank(const std::string& family) {
  static const std::vector<std::string> order = {"linear", "xgboost", "random_forest", "knn",
                                                 "mlp"};
  const auto it = std::find(order.begin(), order.end(), family);
  return static_cast<int>(it - order.begin());
}

bool applies(const Family& f, TaskType task) {
  return task == TaskType::Regression ? f.regression : f.classification;
}

// One fold's features, fitted once and shared read-only by every trial.
struct FoldData {
  std::optional<Preprocessor> prep;  // fitted on the fold's training rows
  Matrix train_x, valid_x;
  std::vector<double> train_y;
  std::vector<std::int64_t> valid_rows;
};

// The parameters of `family` in a trial's assignment (their full names).
space::Params family_params(const space::Params& all, const std::string& family) {
  space::Params out;
  const std::string prefix = family + ".";
  for (const auto& [name, value] : all)
    if (name.rfind(prefix, 0) == 0) out[name] = value;
  return out;
}

std::int64_t output_columns(TaskType task, std::int64_t classes) {
  return task == TaskType::Regression ? 1 : classes;
}

// Out-of-fold predictions on disk: rows, cols (int64), then rows * cols floats (NaN: not scored).
void write_matrix(const std::filesystem::path& path, const Matrix& m) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(&m.rows), sizeof m.rows);
    out.write(reinterpret_cast<const char*>(&m.cols), sizeof m.cols);
    out.write(reinterpret_cast<const char*>(m.values.data()),
              static_cast<std::streamsize>(m.values.size() * sizeof(float)));
    if (!out) throw Error(tmp + ": cannot write out-of-fold predictions");
  }
  std::filesystem::rename(tmp, path);
}

std::optional<Matrix> read_matrix(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  Matrix m;
  in.read(reinterpret_cast<char*>(&m.rows), sizeof m.rows);
  in.read(reinterpret_cast<char*>(&m.cols), sizeof m.cols);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!in || ec || m.rows < 0 || m.cols < 0 || m.cols > 4096 ||
      size != sizeof m.rows + sizeof m.cols + static_cast<std::uintmax_t>(m.rows * m.cols) * 4)
    return std::nullopt;
  m.values.resize(static_cast<std::size_t>(m.rows * m.cols));
  in.read(reinterpret_cast<char*>(m.values.data()),
          static_cast<std::streamsize>(m.values.size() * sizeof(float)));
  if (!in) return std::nullopt;
  return m;
}

double attr_number(const Trial& t, const std::string& key, double fallback = 0) {
  const auto it = t.attrs.find(key);
  if (it == t.attrs.end()) return fallback;
  try {
    return nlohmann::json::parse(it->second).get<double>();
  } catch (const std::exception&) {
    return fallback;
  }
}

std::string trial_family(const Trial& t) {
  const auto it = t.params.find("family");
  return it == t.params.end() ? std::string() : space::to_string(it->second);
}

// The search's deadline moves as trials finish: it leaves room for refitting the best ones.
class Budget {
 public:
  Budget(double start, double seconds, int workers, int folds)
      : start_(start), seconds_(seconds), workers_(workers), folds_(folds) {}

  double start() const { return start_; }
  double end() const { return start_ + seconds_; }
  double elapsed() const { return detail::steady_seconds() - start_; }
  /// Final steps (ensemble, refit, importance) must be done by then.
  double hard_end() const { return start_ + 0.97 * seconds_; }

  /// A trial's fold fits took `seconds` in all: refitting it on every row takes about a fold's
  /// time scaled to all the rows.
  void observe(double fit_seconds) {
    std::lock_guard lock(mutex_);
    const double per_fold = fit_seconds / folds_;
    const double refit = folds_ > 1 ? per_fold * folds_ / (folds_ - 1.0) : per_fold * 1.25;
    refits_.push_back(refit);
    std::sort(refits_.rbegin(), refits_.rend());
    if (refits_.size() > 5) refits_.resize(5);
  }

  /// When the search stops starting trials and cuts running fits short.
  double search_end() const {
    std::lock_guard lock(mutex_);
    // The few slowest good candidates refitted side by side, plus the ensemble, the importance
    // (5 % of the budget) and slack (5 %).
    double refit = 0;
    for (std::size_t i = 0; i < refits_.size() && i < 3; ++i) refit += refits_[i];
    refit /= std::min(workers_, 3);
    const double reserve = std::min(0.5 * seconds_, 1.5 * refit + 0.1 * seconds_);
    return start_ + seconds_ - reserve;
  }

 private:
  double start_, seconds_;
  int workers_, folds_;
  mutable std::mutex mutex_;
  std::vector<double> refits_;  // estimated refit seconds of finished trials, slowest first
};

struct Setup {
  Target target;
  std::vector<ColumnPlan> plan;
  data::Table table;      // the rows with a target, in file order
  std::vector<double> y;  // one per row of `table`
  Metric metric = Metric::RocAuc;
  Validation validation;
  std::vector<const Family*> families;
};

Setup prepare(const data::Table& train, const AutoMLOptions& options) {
  Setup s;
  if (options.target.empty()) throw InvalidArgument("automl: the target column is required");
  if (!(options.time_budget > 0))
    throw InvalidArgument("automl: the time budget must be > 0 seconds, got " +
                          std::to_string(options.time_budget));
  if (options.workers < 1)
    throw InvalidArgument("automl: workers >= 1 must hold, got " + std::to_string(options.workers));
  s.target = detect_target(train, options.target, options.task);
  s.plan = plan_columns(train, options.target);
  if (std::none_of(s.plan.begin(), s.plan.end(),
                   [](const ColumnPlan& c) { return c.role != ColumnPlan::Role::Dropped; }))
    throw InvalidArgument(train.source + ": no usable feature column (every column but '" +
                          options.target + "' is dropped)");
  std::vector<std::int64_t> rows;
  for (std::int64_t i = 0; i < train.rows(); ++i)
    if (!std::isnan(s.target.y[static_cast<std::size_t>(i)])) {
      rows.push_back(i);
      s.y.push_back(s.target.y[static_cast<std::size_t>(i)]);
    }
  s.table = train.take(rows);
  s.target.y.clear();
  s.metric = options.metric.value_or(default_metric(s.target.task));
  if (!applies_to(s.metric, s.target.task))
    throw InvalidArgument("automl: metric '" + to_string(s.metric) + "' does not apply to a " +
                          to_string(s.target.task) + " task");
  s.validation = make_validation(s.y, s.target.task, {.seed = options.seed});
  for (const auto& f : families()) {
    if (!applies(f, s.target.task)) continue;
    if (!options.families.empty() && std::find(options.families.begin(), options.families.end(),
                                               f.name) == options.families.end())
      continue;
    s.families.push_back(&f);
  }
  for (const auto& name : options.families) family(name);  // unknown names: one line listing all
  if (s.families.empty())
    throw InvalidArgument("automl: no model family for a " + to_string(s.target.task) + " task");
  std::stable_sort(s.families.begin(), s.families.end(), [](const Family* a, const Family* b) {
    return cost_rank(a->name) < cost_rank(b->name);
  });
  return s;
}

std::vector<std::int64_t> all_rows(std::int64_t n) {
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

// Fits one model on every row; the fallback and the refit.
Member fit_member(const Setup& s, const Matrix& x, const Family& f, const space::Params& params,
                  double weight, std::uint64_t seed, double fraction, double deadline) {
  auto estimator = f.make(params, s.target.task);
  estimator->fit(x, s.y,
                 {.num_classes = s.target.num_classes(),
                  .seed = seed,
                  .budget_fraction = f.has_budget ? fraction : 1.0,
                  .deadline = deadline});
  return {f.name, weight, params, std::shared_ptr<Estimator>(std::move(estimator)),
          f.has_budget ? fraction : 1.0};
}

nlohmann::json fingerprint(const Setup& s, const AutoMLOptions& options) {
  nlohmann::json columns = nlohmann::json::array(), families = nlohmann::json::array();
  for (const auto& c : s.table.columns) columns.push_back(c.name);
  for (const auto* f : s.families) families.push_back(f->name);
  return {
      {"families", families}, {"target", options.target},         {"rows", s.table.rows()},
      {"columns", columns},   {"task", to_string(s.target.task)}, {"metric", to_string(s.metric)},
      {"seed", options.seed}, {"validation", s.validation.method}};
}

}  // namespace

AutoMLResult fit(const data::Table& train, const AutoMLOptions& options,
                 const std::function<void(const Progress&)>& on_progress) {
  const double start = detail::steady_seconds();
  Setup s = prepare(train, options);
  const auto& validation = s.validation;
  const int folds = static_cast<int>(validation.folds.size());
  Budget budget(start, options.time_budget, options.workers, folds);
  const TaskType task = s.target.task;
  const std::int64_t classes = s.target.num_classes();
  const std::int64_t n = s.table.rows();

  AutoMLResult result;
  result.target = s.target;
  result.columns = s.plan;
  result.metric = s.metric;
  result.validation = validation.reason;
  std::filesystem::create_directories(options.out / "oof");

  // The stored study, checked first: a study of other data must not lose its model to a fallback.
  auto store = storage::open_storage("sqlite://" + (options.out / "quarry.db").string());
  // The family by time share, its parameters by TPE; successive halving within each family.
  std::set<std::string> budgeted;
  for (const auto* f : s.families)
    if (f->has_budget) budgeted.insert(f->name);
  auto sampler = std::make_shared<FamilySampler>(
      samplers::make_sampler("tpe", {{"n_startup_trials", 8}}, options.seed), budgeted,
      static_cast<double>(kMaxBudget));
  std::shared_ptr<schedulers::Scheduler> scheduler = schedulers::make_scheduler(
      "asha",
      {{"max_budget", kMaxBudget}, {"min_budget", 1}, {"eta", kEta}, {"group_by", "family"}});
  Study study(store, options.study,
              {.directions = {Direction::Minimize}, .sampler = sampler, .scheduler = scheduler});
  const auto print = fingerprint(s, options);
  if (const auto stored = store->get_attr(study.id(), "automl.data")) {
    if (nlohmann::json::parse(*stored) != print)
      throw InvalidArgument((options.out / "quarry.db").string() +
                            " holds an AutoML study of other data or settings (" + *stored +
                            "): use another --out");
  } else {
    store->set_attr(study.id(), "automl.data", print.dump());
  }

  // The space: the choice of family, and each family's parameters under it.
  Space space;
  std::vector<Value> names;
  for (const auto* f : s.families) names.emplace_back(f->name);
  space.add(space::Param::Choice("family", names, {.ordered = false}));
  for (const auto* f : s.families)
    for (const auto& p : f->params) space.add(p.with_condition({"family", {Value(f->name)}}));
  study.register_space(space);

  // 1. The fallback: the cheapest family's cheap configuration on every row, saved at once (unless
  // an earlier run of this study left a model: that one stays until a better one replaces it).
  const auto all = all_rows(n);
  const Preprocessor full_prep =
      Preprocessor::fit(s.table, s.plan, s.y, task, all, kMinMissingRows);
  const Matrix full_x = full_prep.transform(s.table, all);
  {
    const Family& cheapest = *s.families.front();
    Member fallback;
    try {
      fallback = fit_member(s, full_x, cheapest, cheapest.cheap, 1, options.seed, 1.0,
                            budget.start() + 0.5 * options.time_budget);
    } catch (const InvalidArgument&) {
      throw;
    } catch (const std::exception& e) {
      throw InvalidArgument("automl: the fallback model (" + cheapest.name +
                            ") failed: " + e.what());
    }
    if (detail::steady_seconds() > budget.end())
      throw InvalidArgument("automl: a time budget of " + std::to_string(options.time_budget) +
                            " s is too small: the fallback model alone took " +
                            std::to_string(budget.elapsed()) + " s");
    const auto stored = study.trials();
    const bool earlier_model = std::filesystem::exists(options.out / "model" / "model.json") &&
                               std::any_of(stored.begin(), stored.end(), [](const Trial& t) {
                                 return t.state == TrialState::Complete;
                               });
    if (!earlier_model)
      AutoModel(task, options.target, s.target.classes, s.metric, full_prep, {fallback})
          .save(options.out / "model");
  }

  // 2. The folds' features, fitted inside each fold.
  std::vector<FoldData> fold_data(static_cast<std::size_t>(folds));
  for (int k = 0; k < folds; ++k) {
    const auto& fold = validation.folds[static_cast<std::size_t>(k)];
    auto& d = fold_data[static_cast<std::size_t>(k)];
    d.prep = Preprocessor::fit(s.table, s.plan, s.y, task, fold.train, kMinMissingRows);
    d.train_x = d.prep->transform(s.table, fold.train);
    d.valid_x = d.prep->transform(s.table, fold.valid);
    for (auto r : fold.train) d.train_y.push_back(s.y[static_cast<std::size_t>(r)]);
    d.valid_rows = fold.valid;
  }
  std::vector<double> scored_y;
  for (auto r : validation.scored) scored_y.push_back(s.y[static_cast<std::size_t>(r)]);

  // 3. The stored search.
  // Queued trials run whatever max_trials says: queue no more cheap tries than it allows.
  if (study.trials().empty()) {
    std::vector<space::Params> queue;
    for (const auto* f : s.families) {
      auto params = f->cheap;
      params["family"] = f->name;
      queue.push_back(std::move(params));
    }
    for (const auto* f : s.families)
      for (const auto& preset : f->portfolio) {
        auto params = f->cheap;
        for (const auto& [name, value] : preset) params[name] = value;
        params["family"] = f->name;
        queue.push_back(std::move(params));
      }
    for (std::size_t i = 0; i < queue.size(); ++i) {
      if (options.max_trials && static_cast<std::int64_t>(i) >= *options.max_trials) break;
      study.enqueue(queue[i]);
    }
  }
  for (const auto& t : study.trials())
    if (t.state == TrialState::Complete) budget.observe(attr_number(t, "fit_time"));

  std::atomic<bool> time_up{false};
  const auto oof_path = [&](std::int64_t number) {
    return options.out / "oof" / (std::to_string(number) + ".bin");
  };
  objectives::FunctionObjective objective("automl", [&](TrialContext& ctx) {
    const auto name = space::to_string(ctx.params().at("family"));
    const Family& f = family(name);
    const auto params = family_params(ctx.params(), name);
    const double fraction = f.has_budget ? fraction_of(ctx.budget()) : 1.0;
    ctx.set_attr("budget_fraction", nlohmann::json(fraction).dump());
    if (!f.has_budget && ctx.parent()) {
      // A promotion of a family whose work does not grow with the budget: the same model again.
      const Trial parent = study.trial(*ctx.parent());
      if (auto m = read_matrix(oof_path(parent.number)); m && parent.values.size() == 1) {
        write_matrix(oof_path(ctx.number()), *m);
        for (const char* key : {"fit_time", "predict_time_per_row", "score"})
          if (auto it = parent.attrs.find(key); it != parent.attrs.end())
            ctx.set_attr(key, it->second);
        ctx.set_attr("same_as", std::to_string(parent.number));
        return parent.values;
      }
    }
    Matrix oof(n, output_columns(task, classes), std::numeric_limits<float>::quiet_NaN());
    double fit_seconds = 0, predict_seconds = 0;
    std::int64_t predicted_rows = 0;
    for (int k = 0; k < folds; ++k) {
      // Time is up (or Ctrl-C): the trial goes back to the queue rather than end half-trained.
      if (ctx.stop_requested()) throw TrialInterrupted();
      const auto& d = fold_data[static_cast<std::size_t>(k)];
      auto estimator = f.make(params, task);
      const double t0 = detail::steady_seconds();
      estimator->fit(d.train_x, d.train_y,
                     {.num_classes = classes,
                      .seed = options.seed + static_cast<std::uint64_t>(k),
                      .budget_fraction = fraction,
                      .deadline = budget.search_end()});
      const double t1 = detail::steady_seconds();
      const Matrix p = estimator->predict(d.valid_x);
      fit_seconds += t1 - t0;
      predict_seconds += detail::steady_seconds() - t1;
      predicted_rows += p.rows;
      for (std::int64_t i = 0; i < p.rows; ++i)
        std::copy_n(p.row(i), p.cols, oof.row(d.valid_rows[static_cast<std::size_t>(i)]));
    }
    const Matrix scored = oof.take(validation.scored);
    for (float v : scored.values)
      if (!std::isfinite(v)) throw TrialFailed(name + " predicted a non-finite value");
    const double value = score(s.metric, task, scored_y, scored);
    write_matrix(oof_path(ctx.number()), oof);
    ctx.set_attr("fit_time", nlohmann::json(fit_seconds).dump());
    ctx.set_attr(
        "predict_time_per_row",
        nlohmann::json(predict_seconds / std::max<std::int64_t>(1, predicted_rows)).dump());
    ctx.set_attr("score", nlohmann::json(value).dump());
    if (detail::steady_seconds() > budget.search_end()) ctx.set_attr("cut_by_deadline", "true");
    budget.observe(fit_seconds);
    return std::vector<double>{greater_is_better(s.metric) ? -value : value};
  });

  const auto row_of = [&](const Trial& t) {
    const auto fam = trial_family(t);
    return LeaderboardRow{fam + " #" + std::to_string(t.number),
                          fam,
                          t.number,
                          attr_number(t, "score", std::numeric_limits<double>::quiet_NaN()),
                          attr_number(t, "fit_time"),
                          attr_number(t, "predict_time_per_row"),
                          attr_number(t, "budget_fraction", 1.0)};
  };
  std::mutex best_mutex;
  std::optional<Trial> best;
  if (auto b = study.best_trial()) best = *b;
  runner::RunOptions run_options{
      .workers = options.workers, .max_trials = options.max_trials, .stop = &time_up};
  run_options.on_event = [&](const runner::Event& e) {
    if (e.kind != runner::Event::Kind::Finished) return;
    std::lock_guard lock(best_mutex);
    if (e.trial.state == TrialState::Complete && (!best || e.trial.values[0] < best->values[0]))
      best = e.trial;
    if (!on_progress) return;
    Progress p;
    p.row = row_of(e.trial);
    if (e.trial.state != TrialState::Complete)
      p.row.validation_score = std::numeric_limits<double>::quiet_NaN();
    p.failure = e.trial.failure;
    if (best) p.best = row_of(*best);
    p.elapsed = budget.elapsed();
    on_progress(p);
  };
  // A stop asked before the search starts (or a budget already spent) starts no trial at all;
  // the watcher below would notice only after its first 50 ms sleep.
  if (detail::steady_seconds() >= budget.search_end() || (options.stop && options.stop->load()))
    time_up = true;
  std::atomic<bool> search_over{false};
  std::thread watch([&] {
    while (!search_over.load()) {
      if (detail::steady_seconds() >= budget.search_end() ||
          (options.stop && options.stop->load())) {
        time_up = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  try {
    runner::run(study, objective, run_options);
  } catch (...) {
    search_over = true;
    watch.join();
    throw;
  }
  search_over = true;
  watch.join();

  // 4. The leaderboard and the ensemble over the best trials' out-of-fold predictions.
  std::vector<Trial> complete;
  for (const auto& t : study.trials()) {
    // A promotion that only repeated its parent (same_as) is not a model of its own.
    // A trial cut short by the deadline is not the configuration its parameters describe.
    if (t.state == TrialState::Complete && !t.attrs.contains("same_as") &&
        !t.attrs.contains("cut_by_deadline"))
      complete.push_back(t);
    if (t.state == TrialState::Failed) ++result.failed;
  }
  for (const auto& t : study.trials()) result.trials += t.finished();
  std::sort(complete.begin(), complete.end(),
            [](const Trial& a, const Trial& b) { return a.values[0] < b.values[0]; });
  for (const auto& t : complete) result.leaderboard.push_back(row_of(t));
  if (complete.empty())
    result.leaderboard.push_back({"fallback " + s.families.front()->name, s.families.front()->name,
                                  -1, std::numeric_limits<double>::quiet_NaN(), 0, 0});

  std::vector<Matrix> candidates;
  std::vector<const Trial*> candidate_trials;
  // The ensemble's candidates: the 10 best trials, and the 4 best of each family (diversity: a
  // search that settles on one family fills its top ranks with near copies).
  std::map<std::string, int> per_family;
  for (std::size_t rank = 0; rank < complete.size(); ++rank) {
    const Trial& t = complete[rank];
    if (rank >= 10 && per_family[trial_family(t)] >= 4) continue;
    ++per_family[trial_family(t)];
    if (auto m = read_matrix(oof_path(t.number));
        m && m->rows == n && m->cols == output_columns(task, classes)) {
      candidates.push_back(m->take(validation.scored));
      candidate_trials.push_back(&t);
    }
  }
  std::vector<Member> members;
  bool ensemble_wins = false;
  if (!candidates.empty()) {
    result.best_single_validation_score = row_of(*candidate_trials.front()).validation_score;
    result.ensemble = select_ensemble(candidates, scored_y, task, s.metric);
    for (const auto* t : candidate_trials) result.ensemble_trials.push_back(t->number);
    int used = 0;
    for (double w : result.ensemble.weights) used += w > 0;
    const double single = result.best_single_validation_score;
    ensemble_wins = used > 1 && (greater_is_better(s.metric) ? result.ensemble.score > single
                                                             : result.ensemble.score < single);
    if (ensemble_wins) {
      LeaderboardRow row{"ensemble", "ensemble", -1, result.ensemble.score, 0, 0};
      for (std::size_t i = 0; i < candidate_trials.size(); ++i) {
        const double w = result.ensemble.weights[i];
        if (w <= 0) continue;
        const auto r = row_of(*candidate_trials[i]);
        row.fit_time += r.fit_time;
        row.predict_time_per_row += r.predict_time_per_row;
      }
      result.leaderboard.insert(result.leaderboard.begin(), row);
    }
  }
  result.winner = result.leaderboard.front().model;
  result.validation_score = result.leaderboard.front().validation_score;

  // 5. The refit on every row, side by side, before the hard end of the budget.
  result.model_dir = options.out / "model";
  if (!candidates.empty()) {
    std::vector<std::pair<const Trial*, double>> chosen;
    if (ensemble_wins) {
      for (std::size_t i = 0; i < candidate_trials.size(); ++i)
        if (result.ensemble.weights[i] > 0)
          chosen.emplace_back(candidate_trials[i], result.ensemble.weights[i]);
    } else {
      chosen.emplace_back(candidate_trials.front(), 1.0);
    }
    std::vector<std::optional<Member>> fitted(chosen.size());
    std::vector<std::string> errors(chosen.size());
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < std::min<int>(options.workers, static_cast<int>(chosen.size())); ++w)
      threads.emplace_back([&] {
        for (std::size_t i = next++; i < chosen.size(); i = next++) {
          const auto& [t, weight] = chosen[i];
          const auto name = trial_family(*t);
          try {
            fitted[i] = fit_member(s, full_x, family(name), family_params(t->params, name), weight,
                                   options.seed, attr_number(*t, "budget_fraction", 1.0),
                                   budget.hard_end());
          } catch (const std::exception& e) {
            errors[i] = e.what();
          }
        }
      });
    for (auto& th : threads) th.join();
    for (auto& m : fitted)
      if (m) members.push_back(std::move(*m));
    // A member whose refit failed is left out (the others' weights rescaled); with none left, the
    // model saved before (the fallback) stays, and the result says so.
    for (std::size_t i = 0; i < errors.size(); ++i)
      if (!errors[i].empty())
        result.refit_errors.push_back(row_of(*chosen[i].first).model + ": " + errors[i]);
    if (members.empty()) {
      result.winner = "fallback " + s.families.front()->name;
      result.validation_score = std::numeric_limits<double>::quiet_NaN();
    } else if (members.size() < chosen.size() && chosen.size() > 1) {
      result.winner = "ensemble (" + std::to_string(members.size()) + " of " +
                      std::to_string(chosen.size()) + " members refitted)";
    }
    if (!members.empty()) {
      double total = 0;
      for (const auto& m : members) total += m.weight;
      for (auto& m : members) m.weight /= total;
      AutoModel(task, options.target, s.target.classes, s.metric, full_prep, members)
          .save(result.model_dir);
    }
  }

  // 6. Permutation importance of the winner's first member on the validation folds: each used
  // column's cells shuffled among the fold's validation rows, the loss's increase averaged.
  const auto loss_of = [&](const Matrix& p, const std::vector<double>& y) {
    return loss(s.metric, task, y, p);
  };
  if (!members.empty()) {
    const double importance_end =
        std::min(budget.hard_end(), detail::steady_seconds() + 0.1 * options.time_budget);
    const Member& m = members.front();
    const auto columns = full_prep.columns();
    std::vector<double> increase(columns.size(), 0);
    std::vector<int> counted(columns.size(), 0);
    for (int k = 0; k < folds && detail::steady_seconds() < importance_end; ++k) try {
        const auto& fold = validation.folds[static_cast<std::size_t>(k)];
        const auto& d = fold_data[static_cast<std::size_t>(k)];
        auto estimator = family(m.family).make(m.params, task);
        estimator->fit(d.train_x, d.train_y,
                       {.num_classes = classes,
                        .seed = options.seed,
                        .budget_fraction = m.budget_fraction,
                        .deadline = importance_end});
        std::vector<double> valid_y;
        for (auto r : fold.valid) valid_y.push_back(s.y[static_cast<std::size_t>(r)]);
        const double base = loss_of(estimator->predict(d.valid_x), valid_y);
        data::Table shuffled = s.table.take(fold.valid);
        auto rng = Rng::stream(options.seed,
                               {hash_name("automl::importance"), static_cast<std::uint64_t>(k)});
        for (std::size_t c = 0; c < columns.size() && detail::steady_seconds() < importance_end;
             ++c) {
          auto col = std::find_if(shuffled.columns.begin(), shuffled.columns.end(),
                                  [&](const data::Column& x) { return x.name == columns[c]; });
          const data::Column original = *col;
          std::vector<std::int64_t> order = all_rows(col->rows());
          for (std::size_t i = order.size(); i > 1; --i)
            std::swap(order[i - 1], order[rng.below(i)]);
          for (std::size_t i = 0; i < order.size(); ++i) {
            const auto j = static_cast<std::size_t>(order[i]);
            col->text[i] = original.text[j];
            col->numbers[i] = original.numbers[j];
            col->missing[i] = original.missing[j];
          }
          const auto x = d.prep->transform(shuffled, all_rows(shuffled.rows()));
          increase[c] += loss_of(estimator->predict(x), valid_y) - base;
          ++counted[c];
          *col = original;
        }
      } catch (const std::exception&) {
        // A fold the metric cannot score (one class in it) or a model that fails there: this fold
        // gives no importance; the model is saved already.
      }
    for (std::size_t c = 0; c < columns.size(); ++c)
      if (counted[c] > 0) result.importance.emplace_back(columns[c], increase[c] / counted[c]);
    std::stable_sort(result.importance.begin(), result.importance.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    nlohmann::json j = nlohmann::json::array();
    for (const auto& [c, v] : result.importance) j.push_back({{"column", c}, {"importance", v}});
    std::ofstream(result.model_dir / "importance.json") << j.dump(2) << "\n";
  }
  result.elapsed = budget.elapsed();
  return result;
}

}  // namespace quarry::automl
