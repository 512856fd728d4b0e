// Storage URLs: which store a URL names (storage::sqlite_path, is_postgres_url) and the URL as
// shown to users (shown_url, without its password). Only StorageError may escape; a URL that is
// not PostgreSQL's is shown as it is, and a shown URL never holds a password parameter.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.hpp"
#include "quarry/core/error.hpp"
#include "quarry/storage/storage.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string url(reinterpret_cast<const char*>(data), size);
  quarry::fuzz::only_throws<quarry::StorageError>([&] { quarry::storage::sqlite_path(url); });
  const std::string shown = quarry::storage::shown_url(url);
  if (!quarry::storage::is_postgres_url(url)) {
    if (shown != url) quarry::fuzz::finding("a URL that is not PostgreSQL's was changed");
    return 0;
  }
  if (shown.size() > url.size()) quarry::fuzz::finding("the shown URL is longer");
  // libpq reads the query as key=value pairs between '&'s after the first '?'.
  const auto query = shown.find('?');
  for (std::size_t from = query == std::string::npos ? shown.size() : query + 1;
       from < shown.size();) {
    const auto to = std::min(shown.find('&', from), shown.size());
    if (shown.compare(from, 9, "password=") == 0)
      quarry::fuzz::finding("the shown URL keeps a password: " + shown);
    from = to + 1;
  }
  return 0;
}
