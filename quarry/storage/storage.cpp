#include "quarry/storage/storage.hpp"

#include <algorithm>

#include "quarry/core/error.hpp"
#include "quarry/storage/memory.hpp"
#include "quarry/storage/postgres.hpp"
#include "quarry/storage/sqlite.hpp"

namespace quarry::storage {

namespace {

std::string to_string(const std::vector<Direction>& directions) {
  std::string out = "[";
  for (std::size_t i = 0; i < directions.size(); ++i)
    out += (i ? ", " : "") + study::to_string(directions[i]);
  return out + "]";
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

StudyInfo Storage::open_or_create_study(const std::string& name,
                                        const std::vector<Direction>& directions) {
  auto study = find_study(name);
  if (!study) {
    try {
      return create_study(name, directions);
    } catch (const DuplicateStudy&) {
      // Another worker created it between our look-up and our insert; nothing deletes a study.
      study = find_study(name);
      if (!study) throw;
    }
  }
  if (study->directions != directions)
    throw InvalidArgument("study '" + name + "' exists with directions " +
                          to_string(study->directions) + ", not " + to_string(directions));
  return *study;
}

std::optional<std::string> sqlite_path(const std::string& url) {
  const std::string scheme = "sqlite://";
  if (url.rfind(scheme, 0) == 0) {
    // sqlite:///abs/path.db keeps the leading '/' of the path; sqlite://rel/path.db is relative.
    const std::string path = url.substr(scheme.size());
    if (path.empty()) throw StorageError("storage URL '" + url + "' names no file");
    return path;
  }
  for (const char* ext : {".db", ".sqlite", ".sqlite3"})
    if (ends_with(url, ext)) return url;
  return std::nullopt;
}

std::shared_ptr<Storage> open_storage_for_reading(const std::string& url) {
  if (const auto path = sqlite_path(url); path && !is_postgres_url(url))
    return std::make_shared<SqliteStorage>(*path, SqliteOptions{.read_only = true});
  return open_storage(url);
}

bool is_postgres_url(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

std::string shown_url(const std::string& url) {
  if (!is_postgres_url(url)) return url;
  std::string out = url;
  // postgresql://user:password@host/...: the password is the userinfo after its first ':'.
  const auto start = out.find("://") + 3;
  const auto end = out.find_first_of("/?", start);
  const auto at = out.rfind('@', end == std::string::npos ? out.size() : end);
  if (at != std::string::npos && at >= start) {
    const auto colon = out.find(':', start);
    if (colon != std::string::npos && colon < at) out.erase(colon, at - colon);
  }
  // ...?password=secret&...: that parameter goes.
  if (const auto query = out.find('?'); query != std::string::npos) {
    std::string kept;
    std::size_t from = query + 1;
    while (from <= out.size()) {
      const auto to = std::min(out.find('&', from), out.size());
      const auto param = out.substr(from, to - from);
      if (param.rfind("password=", 0) != 0 && !param.empty())
        kept += (kept.empty() ? "" : "&") + param;
      from = to + 1;
    }
    out.resize(query);
    if (!kept.empty()) out += "?" + kept;
  }
  return out;
}

std::shared_ptr<Storage> open_storage(const std::string& url) {
  if (url == "memory:") return std::make_shared<MemoryStorage>();
  if (is_postgres_url(url)) return std::make_shared<PostgresStorage>(url);
  if (auto path = sqlite_path(url)) return std::make_shared<SqliteStorage>(*path);
  throw StorageError("unknown storage URL '" + url +
                     "' (expected memory:, sqlite:///path.db, a .db path or postgresql://...)");
}

}  // namespace quarry::storage
