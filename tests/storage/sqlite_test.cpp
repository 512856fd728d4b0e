// SqliteStorage beyond the shared contract: persistence, many processes on one file, refusing files
// that are not Quarry stores, and open_storage's URLs.
#include "quarry/storage/sqlite.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <linux/capability.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "quarry/core/error.hpp"
#include "quarry/storage/memory.hpp"
#include "quarry/storage/sqlite_connection.hpp"
#include "tests/test_util.hpp"

namespace quarry::storage {
namespace {

namespace fs = std::filesystem;
using quarry::testing::error_of;
using ::testing::HasSubstr;

using quarry::testing::TempDir;

/// Runs SQL on `path` with a connection of our own (not Quarry's).
void run_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

std::int64_t pragma(const std::string& path, const std::string& name) {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  std::int64_t value = -1;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK &&
      sqlite3_prepare_v2(db, ("PRAGMA " + name).c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

/// The message of the StorageError that opening `path` raises, or "no error".
std::string open_error(const std::string& path) {
  try {
    SqliteStorage store(path);
  } catch (const StorageError& e) {
    return e.what();
  }
  return "no error";
}

// --- persistence and the file's markers ------------------------------------------------------

TEST(SqliteStorage, PersistsAcrossReopen) {
  TempDir dir;
  const auto path = dir.file("study.db");
  std::int64_t id = 0;
  {
    SqliteStorage store(path);
    id = store.create_study("keep", {Direction::Maximize}).id;
    store.set_attr(id, "hyperband", R"({"bracket":2})");
    const auto n = store.create_trial(id, {.params = {{"lr", 0.01}}, .worker = "w"})->number;
    store.report(id, n, 4, 0.5);
    store.set_trial_attr(id, n, "size", "100");
    store.finish_trial(id, n, TrialState::Complete, {0.875});
    store.create_trial(id, {.state = TrialState::Waiting, .params = {{"lr", 0.1}}});
  }
  SqliteStorage store(path);
  const auto study = store.find_study("keep");
  ASSERT_TRUE(study);
  EXPECT_EQ(study->id, id);
  EXPECT_EQ(study->directions, std::vector{Direction::Maximize});
  EXPECT_EQ(store.get_attr(id, "hyperband"), R"({"bracket":2})");
  const auto trials = store.get_trials(id);
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0].state, TrialState::Complete);
  EXPECT_EQ(trials[0].values, std::vector{0.875});
  EXPECT_EQ(trials[0].intermediate.at(4), 0.5);
  EXPECT_EQ(trials[0].attrs.at("size"), "100");
  EXPECT_EQ(trials[0].params, (Params{{"lr", 0.01}}));
  EXPECT_EQ(trials[1].state, TrialState::Waiting);
  EXPECT_EQ(store.claim_trial(id, "again")->number, 1);
  EXPECT_EQ(store.create_trial(id, {.worker = "w"})->number, 2);
}

TEST(SqliteStorage, CreatesParentDirectories) {
  TempDir dir;
  const auto path = dir.file("a/b/c/study.db");
  SqliteStorage store(path);
  store.create_study("s", {Direction::Minimize});
  EXPECT_TRUE(fs::is_regular_file(path));
  EXPECT_EQ(store.path(), path);
}

TEST(SqliteStorage, MarksTheFileAsAQuarryStoreInWalMode) {
  TempDir dir;
  const auto path = dir.file("study.db");
  SqliteStorage store(path);
  EXPECT_EQ(pragma(path, "application_id"), 0x51525259);
  EXPECT_EQ(pragma(path, "user_version"), 1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(SqliteStorage, ChecksItsOptions) {
  TempDir dir;
  EXPECT_THROW(SqliteStorage(dir.file("x.db"), {.busy_timeout_ms = 0}), InvalidArgument);
  EXPECT_THROW(SqliteStorage(""), InvalidArgument);
}

// --- many writers ----------------------------------------------------------------------------

constexpr int kProcesses = 8;
constexpr int kCycles = 100;  // create (running) + report + finish, per process
constexpr int kQueued = 20;   // waiting trials each process adds, claimed by whoever comes first
constexpr int kIncrements = 10;

/// One worker process: its own connection, racing the others for numbers, claims and the counter.
int run_worker(const std::string& path, int index) {
  try {
    SqliteStorage store(path);
    const auto study = store.open_or_create_study("shared", {Direction::Minimize}).id;
    const std::string worker = "proc" + std::to_string(index);
    const auto run = [&](std::int64_t number, int step) {
      store.report(study, number, 0, step);
      store.finish_trial(study, number, TrialState::Complete, {double(step)});
    };
    for (int i = 0; i < kQueued; ++i) store.create_trial(study, {.state = TrialState::Waiting});
    for (int i = 0; i < kCycles; ++i) {
      run(store.create_trial(study, {.worker = worker})->number, i);
      if (i % 10 == 0)
        if (auto t = store.claim_trial(study, worker)) run(t->number, i);
    }
    while (auto t = store.claim_trial(study, worker)) run(t->number, -1);
    for (int done = 0; done < kIncrements;) {
      const auto current = store.get_attr(study, "counter");
      const auto next = std::to_string(current ? std::stoi(*current) + 1 : 1);
      if (store.compare_and_set_attr(study, "counter", current, next)) ++done;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "worker process %d: %s\n", index, e.what());
    return 1;
  }
}

TEST(SqliteStorage, EightProcessesShareOneFile) {
  TempDir dir;
  const auto path = dir.file("shared.db");
  std::fflush(nullptr);  // nothing buffered may be written twice by the children
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    const pid_t pid = fork();  // no thread is running here, so the child is a clean copy
    ASSERT_GE(pid, 0) << "fork failed";
    if (pid == 0) _exit(run_worker(path, i));
    children.push_back(pid);
  }
  for (std::size_t i = 0; i < children.size(); ++i) {
    int status = 0;
    ASSERT_EQ(waitpid(children[i], &status, 0), children[i]);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "worker process " << i << " failed";
  }

  SqliteStorage store(path);
  ASSERT_EQ(store.list_studies().size(), 1u);
  const auto study = store.find_study("shared")->id;
  const auto trials = store.get_trials(study);
  ASSERT_EQ(trials.size(), std::size_t{kProcesses * (kCycles + kQueued)});
  std::map<std::string, int> created_running;
  for (std::size_t n = 0; n < trials.size(); ++n) {
    const auto& t = trials[n];
    EXPECT_EQ(t.number, static_cast<std::int64_t>(n));
    EXPECT_EQ(t.state, TrialState::Complete) << "trial " << n;
    EXPECT_EQ(t.attempts, 1) << "trial " << n << " was claimed twice";
    EXPECT_EQ(t.intermediate.size(), 1u) << "trial " << n;
    if (t.created_at == t.started_at) ++created_running[t.worker];
  }
  for (int i = 0; i < kProcesses; ++i)  // each made its own running trials, and nobody else's
    EXPECT_EQ(created_running["proc" + std::to_string(i)], kCycles) << "proc" << i;
  EXPECT_EQ(store.get_attr(study, "counter"), std::to_string(kProcesses * kIncrements));
}

TEST(SqliteStorage, WaitsForALockedFileThenSaysItStayedLocked) {
  TempDir dir;
  const auto path = dir.file("locked.db");
  SqliteStorage store(path, {.busy_timeout_ms = 50});
  const auto study = store.create_study("s", {Direction::Minimize}).id;

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  try {
    store.create_trial(study, {});
    ADD_FAILURE() << "a write went through while another connection held the write lock";
  } catch (const StoreFailure& e) {  // the store failed in use: exit code 4, not 2
    EXPECT_EQ(std::string(e.what()),
              "SqliteStorage: '" + path +
                  "' stayed locked by other writers for 50 ms (database is locked)");
  }
  EXPECT_EQ(store.count_trials(study), 0);  // readers are not blocked by the writer
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_EQ(store.create_trial(study, {})->number, 0);
}

TEST(SqliteStorage, AFileDeletedOrReplacedUnderItIsAStoreFailure) {
  TempDir dir;
  const auto path = dir.file("q.db");
  for (const bool replace : {false, true}) {
    SqliteStorage store(path);
    const auto study = store.create_study("s", {Direction::Minimize}).id;
    ASSERT_EQ(store.create_trial(study, {})->number, 0);
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
    if (replace) SqliteStorage(path).create_study("other", {Direction::Minimize});
    try {
      store.create_trial(study, {});
      ADD_FAILURE() << "a write went to a file no longer at " << path;
    } catch (const StoreFailure& e) {
      EXPECT_EQ(std::string(e.what()),
                "SqliteStorage: '" + path +
                    "' was deleted or replaced while in use; nothing more is written to it");
    }
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  }
}

TEST(SqliteConnection, AFullDiskIsAStoreFailureThatSaysSo) {
  TempDir dir;
  const auto path = dir.file("full.db");
  detail::SqliteConnection db(path, 100, false);
  db.exec("CREATE TABLE t (x BLOB)");
  db.exec("PRAGMA max_page_count = 8");  // SQLite reports SQLITE_FULL past 8 pages
  try {
    db.exec("INSERT INTO t VALUES (randomblob(100000))");
    ADD_FAILURE() << "100 kB went into 8 pages";
  } catch (const StoreFailure& e) {
    EXPECT_THAT(e.what(), HasSubstr("SqliteStorage: '" + path + "': disk full ("));
  }
}

TEST(SqliteStorage, ClaimFindsNothingWaitingWithoutTheWriteLock) {
  TempDir dir;
  const auto path = dir.file("claim.db");
  SqliteStorage store(path, {.busy_timeout_ms = 50});
  const auto study = store.create_study("s", {Direction::Minimize}).id;
  store.create_trial(study, {.worker = "w"});  // running, so nothing is waiting

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_FALSE(store.claim_trial(study, "w2"));  // answered while another connection writes
  EXPECT_THROW(store.claim_trial(study + 1, "w2"), InvalidArgument);
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
}

TEST(SqliteStorage, TwoObjectsOnOneFileSeeEachOthersWrites) {
  TempDir dir;
  const auto path = dir.file("two.db");
  SqliteStorage a(path);
  SqliteStorage b(path);
  const auto first = a.create_study("first", {Direction::Minimize}).id;
  const auto n = a.create_trial(first, {.worker = "a"})->number;
  a.finish_trial(first, n, TrialState::Complete, {1.0});  // a has read the directions of `first`

  EXPECT_FALSE(a.claim_trial(first, "a"));
  const auto queued = b.create_trial(first, {.state = TrialState::Waiting})->number;
  EXPECT_EQ(a.claim_trial(first, "a")->number, queued);  // a's empty claim left nothing stale
  EXPECT_FALSE(b.claim_trial(first, "b"));

  const auto second = b.create_study("second", {Direction::Minimize, Direction::Maximize}).id;
  const auto m = b.create_trial(second, {.worker = "b"})->number;
  EXPECT_THROW(a.finish_trial(second, m, TrialState::Complete, {1.0}), InvalidArgument);
  a.finish_trial(second, m, TrialState::Complete, {1.0, 2.0});
  EXPECT_EQ(b.get_trial(second, m).values, (std::vector{1.0, 2.0}));
}

// --- files that are not Quarry stores --------------------------------------------------------

TEST(SqliteStorage, RefusesAFileThatIsNotSqlite) {
  TempDir dir;
  const auto path = dir.file("notes.db");
  std::ofstream(path) << "these are my notes, not a database; there are many words in here to fill "
                         "more than one hundred bytes, the size of a SQLite header.\n";
  EXPECT_EQ(open_error(path), "'" + path + "' is not a SQLite database");
  std::ifstream in(path);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}).substr(0, 9), "these are");
}

TEST(SqliteStorage, RefusesASqliteDatabaseWrittenBySomethingElse) {
  TempDir dir;
  const auto tables = dir.file("other.db");
  run_sql(tables, "CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x');");
  EXPECT_EQ(open_error(tables),
            "'" + tables + "' is not a Quarry store (it was written by something else)");
  EXPECT_EQ(pragma(tables, "application_id"), 0);  // left as it was

  const auto marked = dir.file("marked.db");
  run_sql(marked, "PRAGMA application_id = 1234;");
  EXPECT_EQ(open_error(marked),
            "'" + marked + "' is not a Quarry store (it was written by something else)");
}

TEST(SqliteStorage, RefusesAStoreFromANewerQuarry) {
  TempDir dir;
  const auto path = dir.file("newer.db");
  { SqliteStorage store(path); }
  run_sql(path, "PRAGMA user_version = 99;");
  EXPECT_EQ(open_error(path),
            "'" + path +
                "' was written by a newer Quarry (schema version 99; this one reads up to 1): "
                "upgrade quarry");
}

/// Gives up every capability of this process (effective, permitted, inheritable). A process may
/// always lower its own capabilities: no privilege, uid change or user namespace is needed.
bool drop_all_capabilities() {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  return syscall(SYS_capset, &header, data) == 0;
}

/// What `f` returns when run as an ordinary user would run it. Root passes every permission
/// check through its capabilities (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), not through its uid:
/// so `f` runs in a child process that first drops all its capabilities and then, still uid 0,
/// meets the files' mode bits like any owner; the text comes back through a pipe. (Becoming
/// another user instead would need CAP_SETUID and a mapped uid, which a container's root may
/// lack.) Fails the test when the child cannot do that.
std::string without_privileges(const std::function<std::string()>& f) {
  int fds[2];
  if (pipe(fds) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return {};
  }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (!drop_all_capabilities()) _exit(3);
    std::string all;
    try {
      all = f();
    } catch (const std::exception& e) {
      all = std::string("exception: ") + e.what();
    }
    _exit(write(fds[1], all.data(), all.size()) == ssize_t(all.size()) ? 0 : 4);
  }
  close(fds[1]);
  std::string all;
  char buf[512];
  for (ssize_t n; pid > 0 && (n = read(fds[0], buf, sizeof buf)) > 0;) all.append(buf, n);
  close(fds[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "the child process failed (fork, capset or write; exit status "
                  << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";
    return {};
  }
  return all;
}

/// open_error(path) for each path, as an ordinary user would see them (without_privileges).
std::vector<std::string> open_errors_without_privileges(const std::vector<std::string>& paths) {
  const std::string all = without_privileges([&] {
    std::string out;
    for (const auto& p : paths) out += open_error(p) + "\n";
    return out;
  });
  std::vector<std::string> messages;
  for (std::size_t at = 0, nl; (nl = all.find('\n', at)) != std::string::npos; at = nl + 1)
    messages.push_back(all.substr(at, nl - at));
  return messages;
}

TEST(SqliteStorage, NamesAFileItMayNotOpenAndTheReason) {
  TempDir dir;
  const auto unreadable = dir.file("unreadable.db");
  const auto read_only = dir.file("read-only.db");
  for (const auto& p : {unreadable, read_only}) SqliteStorage store(p);
  ASSERT_EQ(chmod(unreadable.c_str(), 0), 0);
  ASSERT_EQ(chmod(read_only.c_str(), 0444), 0);
  // Others may reach the files but nobody may add one; writable again before TempDir cleans up.
  ASSERT_EQ(chmod(dir.path().c_str(), 0555), 0);
  struct Restore {
    const fs::path& dir;
    ~Restore() { chmod(dir.c_str(), 0755); }
  } restore{dir.path()};
  const auto messages = open_errors_without_privileges({unreadable, read_only, dir.file("new.db")});
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages.at(0), "SqliteStorage: cannot open '" + unreadable +
                                "': unable to open database file (Permission denied)");
  EXPECT_EQ(messages.at(1), "SqliteStorage: cannot open '" + read_only +
                                "': it can be read but not written (Permission denied)");
  EXPECT_EQ(messages.at(2), "SqliteStorage: cannot open '" + dir.file("new.db") +
                                "': unable to open database file (Permission denied)");
}

/// A store the user may read but not write (nor its folder): the reading commands open it
/// read-only and see everything; a write through such a handle fails cleanly.
TEST(SqliteStorage, ReadsAStoreItMayNotWrite) {
  TempDir dir;
  const auto path = dir.file("theirs.db");
  {
    SqliteStorage store(path);
    const auto s = store.create_study("s", {Direction::Minimize}).id;
    store.create_trial(s, {.state = TrialState::Running, .worker = "w"});
    store.finish_trial(s, 0, TrialState::Complete, {0.25});
  }
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  ASSERT_EQ(chmod(dir.path().c_str(), 0555), 0);
  struct Restore {
    const fs::path& dir;
    ~Restore() { chmod(dir.c_str(), 0755); }
  } restore{dir.path()};
  const auto seen = without_privileges([&] {
    std::string out = open_error(path) + "\n";  // read-write: refused, as before
    const auto store = open_storage_for_reading(path);
    const auto s = store->find_study("s").value().id;
    const auto trials = store->get_trials(s);
    out += std::to_string(trials.size()) + " " + std::to_string(trials[0].values[0]) + "\n";
    try {
      store->set_attr(s, "k", "v");
      out += "written";
    } catch (const StorageError& e) {
      out += std::string("write refused: ") + e.what();
    }
    return out;
  });
  EXPECT_THAT(seen, HasSubstr("it can be read but not written (Permission denied)\n1 0.250000\n"));
  EXPECT_THAT(seen, HasSubstr("write refused: "));
  EXPECT_THAT(seen, HasSubstr("readonly database"));
  // A file that is no Quarry store is refused read-only too, and an absent one is not created.
  EXPECT_THAT(
      error_of<StorageError>([&] { SqliteStorage(dir.file("absent.db"), {.read_only = true}); }),
      HasSubstr("absent.db"));
  EXPECT_FALSE(fs::exists(dir.file("absent.db")));
}

TEST(SqliteStorage, NamesAPathUnderARegularFileAndTheReason) {
  TempDir dir;
  const auto file = dir.file("plain");
  std::ofstream(file) << "not a directory\n";
  const auto path = file + "/study.db";
  EXPECT_EQ(open_error(path),
            "SqliteStorage: cannot create the directory of '" + path + "': Not a directory");
}

TEST(SqliteStorage, NamesADirectoryWhereTheFileShouldBe) {
  TempDir dir;
  const auto path = dir.file("folder.db");
  fs::create_directory(path);  // no capability lets even root open a directory as a database
  EXPECT_EQ(open_error(path), "SqliteStorage: cannot open '" + path +
                                  "': unable to open database file (Is a directory)");
  EXPECT_TRUE(fs::is_directory(path));
}

// --- open_storage ----------------------------------------------------------------------------

TEST(OpenStorage, PicksTheStoreFromTheUrl) {
  TempDir dir;
  EXPECT_TRUE(std::dynamic_pointer_cast<MemoryStorage>(open_storage("memory:")));
  const auto absolute = dir.file("abs.db");
  const auto by_url =
      std::dynamic_pointer_cast<SqliteStorage>(open_storage("sqlite://" + absolute));
  ASSERT_TRUE(by_url);
  EXPECT_EQ(by_url->path(), absolute);
  for (const char* name : {"plain.db", "plain.sqlite", "plain.sqlite3"}) {
    const auto store = std::dynamic_pointer_cast<SqliteStorage>(open_storage(dir.file(name)));
    ASSERT_TRUE(store) << name;
    EXPECT_EQ(store->path(), dir.file(name));
  }
  // sqlite://rel/path.db is relative to the working directory.
  const auto cwd = fs::current_path();
  fs::current_path(dir.path());
  const auto relative = std::dynamic_pointer_cast<SqliteStorage>(open_storage("sqlite://rel/r.db"));
  fs::current_path(cwd);
  ASSERT_TRUE(relative);
  EXPECT_EQ(relative->path(), "rel/r.db");
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "rel/r.db"));
}

TEST(OpenStorage, RefusesUnknownUrls) {
  for (const std::string url : {"mysql://host/db", "study.txt", "memory", ""})
    EXPECT_EQ(
        [&] {
          try {
            open_storage(url);
          } catch (const StorageError& e) {
            return std::string(e.what());
          }
          return std::string("no error");
        }(),
        "unknown storage URL '" + url +
            "' (expected memory:, sqlite:///path.db, a .db path or postgresql://...)");
  EXPECT_THROW(open_storage("sqlite://"), StorageError);
}

}  // namespace
}  // namespace quarry::storage
