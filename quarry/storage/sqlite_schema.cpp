#include "quarry/storage/sqlite_schema.hpp"

#include <string>

#include "quarry/core/error.hpp"
#include "quarry/storage/codec.hpp"
#include "quarry/storage/rules.hpp"

namespace quarry::storage::detail {

namespace {

constexpr std::int32_t kApplicationId = 0x51525259;  // "QRRY" in the file header
constexpr int kSchemaVersion = 1;

// Trial numbers are dense (0..n-1, nothing is deleted), so MAX(number) + 1 is both the next number
// and the count. NULL in intermediate_values.value is NaN (SQLite stores NaN as NULL anyway).
constexpr const char* kSchema = R"sql(
CREATE TABLE studies (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  directions TEXT NOT NULL,
  created_at REAL NOT NULL);
CREATE TABLE study_attrs (
  study_id INTEGER NOT NULL REFERENCES studies (id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, key)) WITHOUT ROWID;
CREATE TABLE trials (
  study_id INTEGER NOT NULL REFERENCES studies (id),
  number INTEGER NOT NULL,
  state TEXT NOT NULL,
  params TEXT NOT NULL,
  objective_values TEXT NOT NULL,
  budget REAL NOT NULL,
  parent INTEGER,
  created_at REAL NOT NULL,
  started_at REAL,
  finished_at REAL,
  worker TEXT NOT NULL,
  heartbeat REAL,
  attempts INTEGER NOT NULL,
  failure TEXT NOT NULL,
  PRIMARY KEY (study_id, number)) WITHOUT ROWID;
CREATE INDEX trials_by_state ON trials (study_id, state, number);
CREATE TABLE intermediate_values (
  study_id INTEGER NOT NULL,
  number INTEGER NOT NULL,
  step INTEGER NOT NULL,
  value REAL,
  PRIMARY KEY (study_id, number, step)) WITHOUT ROWID;
CREATE TABLE trial_attrs (
  study_id INTEGER NOT NULL,
  number INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, number, key)) WITHOUT ROWID;
)sql";

constexpr const char* kTrialColumns =
    "number, state, params, objective_values, budget, parent, created_at, started_at, "
    "finished_at, worker, heartbeat, attempts, failure";

/// A trial from a row of `SELECT kTrialColumns`; intermediate values and attrs are loaded apart.
study::Trial trial_from_row(const Query& q) {
  study::Trial t;
  t.number = q.integer(0);
  t.state = study::trial_state_from_string(q.text(1));
  t.params = decode_params(q.text(2));
  t.values = decode_values(q.text(3));
  t.budget = q.real(4);
  if (!q.is_null(5)) t.parent = q.integer(5);
  t.created_at = q.real(6);
  t.started_at = q.optional_real(7);
  t.finished_at = q.optional_real(8);
  t.worker = q.text(9);
  t.heartbeat = q.optional_real(10);
  t.attempts = q.integer(11);
  t.failure = q.text(12);
  return t;
}

}  // namespace

namespace {

/// Whether the open file is a Quarry store of this version (true), an empty file that is nobody's
/// yet (false); StorageError for anything else.
bool is_current_store(SqliteConnection& db) {
  const auto scalar = [&](const char* sql) {
    auto q = db.query(sql);
    return q.step() ? q.integer(0) : 0;
  };
  const auto application_id = scalar("PRAGMA application_id");
  const auto version = scalar("PRAGMA user_version");
  const auto tables = scalar("SELECT COUNT(*) FROM sqlite_master");
  if (application_id == kApplicationId) {
    if (version == kSchemaVersion) return true;
    if (version > kSchemaVersion)
      throw StorageError("'" + db.path() + "' was written by a newer Quarry (schema version " +
                         std::to_string(version) + "; this one reads up to " +
                         std::to_string(kSchemaVersion) + "): upgrade quarry");
    throw StorageError("'" + db.path() + "' has Quarry schema version " + std::to_string(version) +
                       ", which no Quarry wrote");
  }
  if (application_id != 0 || tables != 0)
    throw StorageError("'" + db.path() +
                       "' is not a Quarry store (it was written by something else)");
  return false;
}

}  // namespace

void open_schema(SqliteConnection& db) {
  db.write([&] {
    if (is_current_store(db)) return;
    db.exec(kSchema);
    db.exec(("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
    db.exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  });
}

void check_schema(SqliteConnection& db) {
  db.read([&] {
    if (!is_current_store(db))
      throw StorageError("'" + db.path() + "' is not a Quarry store (it is empty)");
  });
}

void require_study(SqliteConnection& db, std::int64_t study) {
  if (!db.query("SELECT 1 FROM studies WHERE id = ?", study).step())
    throw InvalidArgument("SqliteStorage: unknown study id " + std::to_string(study));
}

void unknown_trial(SqliteConnection& db, std::int64_t study, std::int64_t number) {
  require_study(db, study);
  throw InvalidArgument("SqliteStorage: unknown " + trial_name(study, number));
}

study::TrialState state_of(SqliteConnection& db, std::int64_t study, std::int64_t number,
                           std::int64_t* attempts) {
  auto q = db.query("SELECT state, attempts FROM trials WHERE study_id = ? AND number = ?", study,
                    number);
  if (!q.step()) unknown_trial(db, study, number);
  if (attempts) *attempts = q.integer(1);
  return study::trial_state_from_string(q.text(0));
}

std::optional<std::int64_t> first_waiting(SqliteConnection& db, std::int64_t study) {
  // One query answers both "is there such a study" (a row) and "which trial waits" (its value).
  auto q = db.query(
      "SELECT (SELECT number FROM trials WHERE study_id = ?1 AND state = 'waiting' "
      "ORDER BY number LIMIT 1) FROM studies WHERE id = ?1",
      study);
  if (!q.step()) require_study(db, study);  // throws
  if (q.is_null(0)) return std::nullopt;
  return q.integer(0);
}

study::Trial load_trial(SqliteConnection& db, std::int64_t study, std::int64_t number) {
  static const std::string sql =
      std::string("SELECT ") + kTrialColumns + " FROM trials WHERE study_id = ? AND number = ?";
  study::Trial t;
  {
    auto q = db.query(sql.c_str(), study, number);
    if (!q.step()) unknown_trial(db, study, number);
    t = trial_from_row(q);
  }
  auto steps =
      db.query("SELECT step, value FROM intermediate_values WHERE study_id = ? AND number = ?",
               study, number);
  while (steps.step()) t.intermediate[steps.integer(0)] = steps.real(1);
  auto attrs = db.query("SELECT key, value FROM trial_attrs WHERE study_id = ? AND number = ?",
                        study, number);
  while (attrs.step()) t.attrs[attrs.text(0)] = attrs.text(1);
  return t;
}

std::vector<study::Trial> load_trials(SqliteConnection& db, std::int64_t study) {
  static const std::string sql =
      std::string("SELECT ") + kTrialColumns + " FROM trials WHERE study_id = ? ORDER BY number";
  require_study(db, study);
  std::vector<study::Trial> trials;
  {
    auto q = db.query(sql.c_str(), study);
    while (q.step()) trials.push_back(trial_from_row(q));
  }
  const auto at = [&](std::int64_t number) -> study::Trial& {
    if (number < 0 || number >= static_cast<std::int64_t>(trials.size()) ||
        trials[number].number != number)
      throw StorageError("SqliteStorage: '" + db.path() + "' has a gap in the numbers of study " +
                         std::to_string(study) + " at trial " + std::to_string(number));
    return trials[number];
  };
  for (std::size_t i = 0; i < trials.size(); ++i) at(static_cast<std::int64_t>(i));
  auto steps =
      db.query("SELECT number, step, value FROM intermediate_values WHERE study_id = ?", study);
  while (steps.step()) at(steps.integer(0)).intermediate[steps.integer(1)] = steps.real(2);
  auto attrs = db.query("SELECT number, key, value FROM trial_attrs WHERE study_id = ?", study);
  while (attrs.step()) at(attrs.integer(0)).attrs[attrs.text(1)] = attrs.text(2);
  return trials;
}

}  // namespace quarry::storage::detail
