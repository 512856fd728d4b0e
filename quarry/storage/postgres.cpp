#include "quarry/storage/postgres.hpp"

#include "quarry/core/error.hpp"
#include "quarry/storage/codec.hpp"
#include "quarry/storage/postgres_connection.hpp"
#include "quarry/storage/rules.hpp"

namespace quarry::storage {

using detail::PgConnection;
using detail::PgResult;

namespace {

using Lock = std::lock_guard<std::mutex>;

// Opening stores take this advisory lock while they check or create the schema.
constexpr std::int64_t kSchemaLock = 0x5152525953434845;  // "QRRYSCHE"

// Version 1. Trial numbers are dense (0..n-1, nothing is deleted): studies.trials is both the next
// number and the count; create_trial takes it with one UPDATE, which also locks the study's row
// until the trial is inserted. Doubles are float8, which holds NaN and the infinities.
constexpr const char* kSchema = R"sql(
CREATE TABLE quarry_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE studies (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  directions TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  trials BIGINT NOT NULL DEFAULT 0);
CREATE TABLE study_attrs (
  study_id BIGINT NOT NULL REFERENCES studies (id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, key));
CREATE TABLE trials (
  study_id BIGINT NOT NULL REFERENCES studies (id),
  number BIGINT NOT NULL,
  state TEXT NOT NULL,
  params TEXT NOT NULL,
  objective_values TEXT NOT NULL,
  budget DOUBLE PRECISION NOT NULL,
  parent BIGINT,
  created_at DOUBLE PRECISION NOT NULL,
  started_at DOUBLE PRECISION,
  finished_at DOUBLE PRECISION,
  worker TEXT NOT NULL,
  heartbeat DOUBLE PRECISION,
  attempts BIGINT NOT NULL,
  failure TEXT NOT NULL,
  PRIMARY KEY (study_id, number));
CREATE INDEX trials_waiting ON trials (study_id, number) WHERE state = 'waiting';
CREATE TABLE intermediate_values (
  study_id BIGINT NOT NULL,
  number BIGINT NOT NULL,
  step BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (study_id, number, step));
CREATE TABLE trial_attrs (
  study_id BIGINT NOT NULL,
  number BIGINT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, number, key));
)sql";

// The migrations: kMigrations[v - 1] takes a version-v database to version v + 1. None yet.
constexpr const char* kMigrations[] = {nullptr};

constexpr const char* kTrialColumns =
    "number, state, params, objective_values, budget, parent, created_at, started_at, "
    "finished_at, worker, heartbeat, attempts, failure";

Trial trial_from_row(const PgResult& r, int row) {
  Trial t;
  t.number = r.integer(row, 0);
  t.state = study::trial_state_from_string(r.text(row, 1));
  t.params = detail::decode_params(r.text(row, 2));
  t.values = detail::decode_values(r.text(row, 3));
  t.budget = r.real(row, 4);
  if (!r.is_null(row, 5)) t.parent = r.integer(row, 5);
  t.created_at = r.real(row, 6);
  t.started_at = r.optional_real(row, 7);
  t.finished_at = r.optional_real(row, 8);
  t.worker = r.text(row, 9);
  t.heartbeat = r.optional_real(row, 10);
  t.attempts = r.integer(row, 11);
  t.failure = r.text(row, 12);
  return t;
}

}  // namespace

// --- PostgresStorage: opening ----------------------------------------------------------------

PostgresStorage::PostgresStorage(const std::string& url, PostgresOptions options)
    : shown_(shown_url(url)) {
  if (options.retry_for.count() <= 0)
    throw InvalidArgument("PostgresStorage: retry_for must be > 0");
  db_ = std::make_unique<PgConnection>(url, shown_, options.retry_for);
  open_schema();
}

PostgresStorage::~PostgresStorage() = default;

void PostgresStorage::open_schema() {
  db_->write([&] {
    db_->query("SELECT pg_advisory_xact_lock($1)", kSchemaLock);
    auto tables = db_->query(
        "SELECT to_regclass('quarry_meta') IS NOT NULL, "
        "to_regclass('studies') IS NOT NULL OR to_regclass('trials') IS NOT NULL");
    if (tables.text(0, 0) != "t") {
      if (tables.text(0, 1) == "t")
        throw StorageError("'" + shown_ +
                           "' is not a Quarry store: it has tables named studies or trials that "
                           "Quarry did not write");
      db_->exec(kSchema);
      db_->query("INSERT INTO quarry_meta (key, value) VALUES ('schema_version', $1)",
                 std::to_string(kSchemaVersion));
      return;
    }
    auto row = db_->query("SELECT value FROM quarry_meta WHERE key = 'schema_version'");
    const int version = row.rows() ? std::atoi(row.text(0, 0).c_str()) : 0;
    if (version > kSchemaVersion)
      throw StorageError("'" + shown_ + "' was written by a newer Quarry (schema version " +
                         std::to_string(version) + "; this one reads up to " +
                         std::to_string(kSchemaVersion) + "): upgrade quarry");
    if (version < 1)
      throw StorageError("'" + shown_ + "' has a quarry_meta table without a schema version");
    for (int v = version; v < kSchemaVersion; ++v) db_->exec(kMigrations[v - 1]);
    if (version < kSchemaVersion)
      db_->query("UPDATE quarry_meta SET value = $1 WHERE key = 'schema_version'",
                 std::to_string(kSchemaVersion));
  });
}

// --- helpers (inside a transaction, mutex held) ----------------------------------------------

void PostgresStorage::require_study(std::int64_t study) {
  if (!db_->query("SELECT 1 FROM studies WHERE id = $1", study).rows())
    throw InvalidArgument("PostgresStorage: unknown study id " + std::to_string(study));
}

void PostgresStorage::lock_study(std::int64_t study) {
  if (!db_->query("SELECT 1 FROM studies WHERE id = $1 FOR NO KEY UPDATE", study).rows())
    throw InvalidArgument("PostgresStorage: unknown study id " + std::to_string(study));
}

void PostgresStorage::unknown_trial(std::int64_t study, std::int64_t number) {
  require_study(study);
  throw InvalidArgument("PostgresStorage: unknown " + detail::trial_name(study, number));
}

TrialState PostgresStorage::lock_trial(std::int64_t study, std::int64_t number,
                                       std::int64_t* attempts) {
  auto r = db_->query(
      "SELECT state, attempts FROM trials WHERE study_id = $1 AND number = $2 FOR UPDATE", study,
      number);
  if (!r.rows()) unknown_trial(study, number);
  if (attempts) *attempts = r.integer(0, 1);
  return study::trial_state_from_string(r.text(0, 0));
}

Trial PostgresStorage::load_trial(std::int64_t study, std::int64_t number) {
  static const std::string sql =
      std::string("SELECT ") + kTrialColumns + " FROM trials WHERE study_id = $1 AND number = $2";
  Trial t;
  {
    auto r = db_->query(sql.c_str(), study, number);
    if (!r.rows()) unknown_trial(study, number);
    t = trial_from_row(r, 0);
  }
  auto steps =
      db_->query("SELECT step, value FROM intermediate_values WHERE study_id = $1 AND number = $2",
                 study, number);
  for (int i = 0; i < steps.rows(); ++i) t.intermediate[steps.integer(i, 0)] = steps.real(i, 1);
  auto attrs = db_->query("SELECT key, value FROM trial_attrs WHERE study_id = $1 AND number = $2",
                          study, number);
  for (int i = 0; i < attrs.rows(); ++i) t.attrs[attrs.text(i, 0)] = attrs.text(i, 1);
  return t;
}

const std::vector<Direction>& PostgresStorage::directions_of(std::int64_t study) {
  if (auto it = directions_.find(study); it != directions_.end()) return it->second;
  auto r = db_->query("SELECT directions FROM studies WHERE id = $1", study);
  if (!r.rows()) {
    static const std::vector<Direction> kNone;
    return kNone;
  }
  // A study row never changes once committed.
  return directions_.emplace(study, detail::decode_directions(r.text(0, 0))).first->second;
}

// --- studies ---------------------------------------------------------------------------------

StudyInfo PostgresStorage::create_study(const std::string& name,
                                        const std::vector<Direction>& directions) {
  detail::check_new_study(name, directions);
  Lock lock(mutex_);
  return db_->write([&] {
    const double now = study::now_seconds();
    auto r = db_->query(
        "INSERT INTO studies (name, directions, created_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (name) DO NOTHING RETURNING id",
        name, detail::encode_directions(directions), now);
    if (!r.rows()) throw DuplicateStudy("study '" + name + "' already exists in '" + shown_ + "'");
    return StudyInfo{r.integer(0, 0), name, directions, now};
  });
}

std::optional<StudyInfo> PostgresStorage::find_study(const std::string& name) {
  Lock lock(mutex_);
  return db_->read([&]() -> std::optional<StudyInfo> {
    auto r = db_->query("SELECT id, directions, created_at FROM studies WHERE name = $1", name);
    if (!r.rows()) return std::nullopt;
    return StudyInfo{r.integer(0, 0), name, detail::decode_directions(r.text(0, 1)), r.real(0, 2)};
  });
}

std::vector<StudyInfo> PostgresStorage::list_studies() {
  Lock lock(mutex_);
  return db_->read([&] {
    std::vector<StudyInfo> out;
    auto r = db_->query("SELECT id, name, directions, created_at FROM studies ORDER BY id");
    for (int i = 0; i < r.rows(); ++i)
      out.push_back(
          {r.integer(i, 0), r.text(i, 1), detail::decode_directions(r.text(i, 2)), r.real(i, 3)});
    return out;
  });
}

std::optional<std::string> PostgresStorage::get_attr(std::int64_t study, const std::string& key) {
  Lock lock(mutex_);
  return db_->read([&]() -> std::optional<std::string> {
    auto r =
        db_->query("SELECT value FROM study_attrs WHERE study_id = $1 AND key = $2", study, key);
    if (r.rows()) return r.text(0, 0);
    require_study(study);
    return std::nullopt;
  });
}

void PostgresStorage::set_attr(std::int64_t study, const std::string& key,
                               const std::string& value) {
  Lock lock(mutex_);
  db_->write([&] {
    require_study(study);
    db_->query(
        "INSERT INTO study_attrs (study_id, key, value) VALUES ($1, $2, $3) "
        "ON CONFLICT (study_id, key) DO UPDATE SET value = EXCLUDED.value",
        study, key, value);
  });
}

bool PostgresStorage::compare_and_set_attr(std::int64_t study, const std::string& key,
                                           const std::optional<std::string>& expected,
                                           const std::string& desired) {
  Lock lock(mutex_);
  return db_->write([&] {
    lock_study(study);
    std::optional<std::string> current;
    {
      auto r =
          db_->query("SELECT value FROM study_attrs WHERE study_id = $1 AND key = $2", study, key);
      if (r.rows()) current = r.text(0, 0);
    }
    if (current != expected) return false;
    db_->query(
        "INSERT INTO study_attrs (study_id, key, value) VALUES ($1, $2, $3) "
        "ON CONFLICT (study_id, key) DO UPDATE SET value = EXCLUDED.value",
        study, key, desired);
    return true;
  });
}

// --- trials ----------------------------------------------------------------------------------

std::optional<Trial> PostgresStorage::create_trial(std::int64_t study, const NewTrial& trial,
                                                   std::optional<std::int64_t> limit) {
  detail::check_new_trial(trial.state);
  Lock lock(mutex_);
  return db_->write([&]() -> std::optional<Trial> {
    // Creators of one study queue on its row for the next number; at the limit nothing changes.
    auto next = db_->query(
        "UPDATE studies SET trials = trials + 1 WHERE id = $1 AND ($2::BIGINT IS NULL OR "
        "trials < $2) RETURNING trials - 1",
        study, limit);
    if (!next.rows()) {
      require_study(study);
      return std::nullopt;
    }
    const Trial t = detail::new_trial_record(next.integer(0, 0), trial);
    db_->query(
        "INSERT INTO trials (study_id, number, state, params, objective_values, budget, parent, "
        "created_at, started_at, finished_at, worker, heartbeat, attempts, failure) "
        "VALUES ($1, $2, $3, $4, '[]', $5, $6, $7, $8, NULL, $9, $10, $11, '')",
        study, t.number, study::to_string(t.state), detail::encode_params(t.params), t.budget,
        t.parent, t.created_at, t.started_at, t.worker, t.heartbeat, t.attempts);
    return t;
  });
}

std::optional<Trial> PostgresStorage::claim_trial(std::int64_t study, const std::string& worker) {
  Lock lock(mutex_);
  // Most calls find nothing waiting: one read says so, without a write transaction.
  const bool waits = db_->read([&] {
    auto r = db_->query(
        "SELECT EXISTS (SELECT 1 FROM trials WHERE study_id = $1 AND state = 'waiting') "
        "FROM studies WHERE id = $1",
        study);
    if (!r.rows()) require_study(study);  // throws
    return r.text(0, 0) == "t";
  });
  if (!waits) return std::nullopt;
  return db_->write([&]() -> std::optional<Trial> {
    const double now = study::now_seconds();
    auto r = db_->query(
        "UPDATE trials SET state = 'running', worker = $2, started_at = $3, heartbeat = $3, "
        "attempts = attempts + 1 WHERE study_id = $1 AND number = ("
        "SELECT number FROM trials WHERE study_id = $1 AND state = 'waiting' ORDER BY number "
        "LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING number",
        study, worker, now);
    if (!r.rows()) return std::nullopt;  // another worker claimed it in between
    return load_trial(study, r.integer(0, 0));
  });
}

void PostgresStorage::set_params(std::int64_t study, std::int64_t number, const Params& params) {
  Lock lock(mutex_);
  db_->write([&] {
    auto r = db_->query(
        "SELECT state, params FROM trials WHERE study_id = $1 AND number = $2 FOR UPDATE", study,
        number);
    if (!r.rows()) unknown_trial(study, number);
    detail::check_writable(study::trial_state_from_string(r.text(0, 0)), study, number,
                           "set_params", {TrialState::Waiting, TrialState::Running});
    Params merged = detail::decode_params(r.text(0, 1));
    for (const auto& [name, value] : params) merged[name] = value;
    db_->query("UPDATE trials SET params = $1 WHERE study_id = $2 AND number = $3",
               detail::encode_params(merged), study, number);
  });
}

void PostgresStorage::report(std::int64_t study, std::int64_t number, std::int64_t step,
                             double value) {
  Lock lock(mutex_);
  db_->write([&] {
    detail::check_writable(lock_trial(study, number), study, number, "report",
                           {TrialState::Running});
    db_->query(
        "INSERT INTO intermediate_values (study_id, number, step, value) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (study_id, number, step) DO UPDATE SET value = EXCLUDED.value",
        study, number, step, value);
  });
}

bool PostgresStorage::heartbeat(std::int64_t study, std::int64_t number,
                                const std::string& worker) {
  Lock lock(mutex_);
  return db_->write([&] {
    auto r = db_->query(
        "UPDATE trials SET heartbeat = $1 WHERE study_id = $2 AND number = $3 AND "
        "state = 'running' AND worker = $4",
        study::now_seconds(), study, number, worker);
    if (r.affected() == 1) return true;
    if (!db_->query("SELECT 1 FROM trials WHERE study_id = $1 AND number = $2", study, number)
             .rows())
      unknown_trial(study, number);
    return false;
  });
}

void PostgresStorage::finish_trial(std::int64_t study, std::int64_t number, TrialState state,
                                   const std::vector<double>& values, const std::string& failure) {
  Lock lock(mutex_);
  db_->write([&] {
    detail::check_writable(lock_trial(study, number), study, number, "finish_trial",
                           {TrialState::Running});
    detail::check_finish(study, number, state, values.size(), directions_of(study).size());
    db_->query(
        "UPDATE trials SET state = $1, objective_values = $2, failure = $3, finished_at = $4 "
        "WHERE study_id = $5 AND number = $6",
        study::to_string(state), detail::encode_values(values), failure, study::now_seconds(),
        study, number);
  });
}

bool PostgresStorage::requeue_trial(std::int64_t study, std::int64_t number, std::int64_t attempts,
                                    const std::string& reason) {
  Lock lock(mutex_);
  return db_->write([&] {
    std::int64_t current = 0;
    const auto state = lock_trial(study, number, &current);
    detail::check_writable(state, study, number, "requeue_trial",
                           {TrialState::Waiting, TrialState::Running});
    if (state != TrialState::Running || current != attempts) return false;
    db_->query(
        "UPDATE trials SET state = 'waiting', heartbeat = NULL, failure = $1 "
        "WHERE study_id = $2 AND number = $3",
        reason, study, number);
    db_->query("DELETE FROM intermediate_values WHERE study_id = $1 AND number = $2", study,
               number);
    db_->query(
        "INSERT INTO trial_attrs (study_id, number, key, value) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (study_id, number, key) DO UPDATE SET value = EXCLUDED.value",
        study, number, detail::requeue_key(attempts), detail::requeue_value(reason));
    return true;
  });
}

void PostgresStorage::set_trial_attr(std::int64_t study, std::int64_t number,
                                     const std::string& key, const std::string& value) {
  Lock lock(mutex_);
  db_->write([&] {
    detail::check_writable(lock_trial(study, number), study, number, "set_trial_attr",
                           {TrialState::Waiting, TrialState::Running});
    db_->query(
        "INSERT INTO trial_attrs (study_id, number, key, value) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (study_id, number, key) DO UPDATE SET value = EXCLUDED.value",
        study, number, key, value);
  });
}

Trial PostgresStorage::get_trial(std::int64_t study, std::int64_t number) {
  Lock lock(mutex_);
  return db_->snapshot([&] { return load_trial(study, number); });
}

std::vector<Trial> PostgresStorage::get_trials(std::int64_t study) {
  static const std::string sql =
      std::string("SELECT ") + kTrialColumns + " FROM trials WHERE study_id = $1 ORDER BY number";
  Lock lock(mutex_);
  return db_->snapshot([&] {
    require_study(study);
    std::vector<Trial> trials;
    {
      auto r = db_->query(sql.c_str(), study);
      trials.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) trials.push_back(trial_from_row(r, i));
    }
    const auto at = [&](std::int64_t number) -> Trial& {
      if (number < 0 || number >= static_cast<std::int64_t>(trials.size()) ||
          trials[static_cast<std::size_t>(number)].number != number)
        throw StorageError("'" + shown_ + "' has a gap in the numbers of study " +
                           std::to_string(study) + " at trial " + std::to_string(number));
      return trials[static_cast<std::size_t>(number)];
    };
    for (std::size_t i = 0; i < trials.size(); ++i) at(static_cast<std::int64_t>(i));
    auto steps = db_->query(
        "SELECT number, step, value FROM intermediate_values WHERE study_id = $1", study);
    for (int i = 0; i < steps.rows(); ++i)
      at(steps.integer(i, 0)).intermediate[steps.integer(i, 1)] = steps.real(i, 2);
    auto attrs =
        db_->query("SELECT number, key, value FROM trial_attrs WHERE study_id = $1", study);
    for (int i = 0; i < attrs.rows(); ++i)
      at(attrs.integer(i, 0)).attrs[attrs.text(i, 1)] = attrs.text(i, 2);
    return trials;
  });
}

std::int64_t PostgresStorage::count_trials(std::int64_t study) {
  Lock lock(mutex_);
  return db_->read([&] {
    auto r = db_->query("SELECT trials FROM studies WHERE id = $1", study);
    if (!r.rows()) require_study(study);  // throws
    return r.integer(0, 0);
  });
}

}  // namespace quarry::storage
