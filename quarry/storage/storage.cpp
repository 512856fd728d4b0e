#include "quarry/storage/storage.hpp"

#include "quarry/core/error.hpp"
#include "quarry/storage/memory.hpp"
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

std::shared_ptr<Storage> open_storage(const std::string& url) {
  if (url == "memory:") return std::make_shared<MemoryStorage>();
  if (auto path = sqlite_path(url)) return std::make_shared<SqliteStorage>(*path);
  throw StorageError("unknown storage URL '" + url +
                     "' (expected memory:, sqlite:///path.db or a .db path)");
}

}  // namespace quarry::storage
