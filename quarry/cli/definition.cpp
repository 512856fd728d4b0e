#include "quarry/cli/definition.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "quarry/core/error.hpp"
#include "quarry/core/sha256.hpp"
#include "quarry/storage/storage.hpp"

namespace quarry::cli {

namespace fs = std::filesystem;

namespace {

/// The data files a study reads, absolute, sorted: folders stand for every file under them.
std::vector<fs::path> data_files(const config::StudyFile& file) {
  std::vector<fs::path> roots;
  if (file.data && !file.data->path.empty()) roots.push_back(file.data->path);
  if (file.automl) {
    roots.push_back(file.automl->train);
    if (!file.automl->test.empty()) roots.push_back(file.automl->test);
  }
  std::vector<fs::path> out;
  for (const auto& root : roots) {
    std::error_code ec;
    if (fs::is_directory(root, ec)) {
      for (const auto& entry : fs::recursive_directory_iterator(root, ec))
        if (entry.is_regular_file()) out.push_back(entry.path());
    } else if (fs::is_regular_file(root, ec)) {
      out.push_back(root);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read study file '" + path.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void store_definition(Study& study, const config::StudyFile& file) {
  nlohmann::json data = nlohmann::json::array();
  for (const auto& path : data_files(file))
    data.push_back({{"path", path.string()}, {"sha256", sha256_file(path)}});
  // A password written in the file's storage URL stays out of the store (workers are given the
  // URL on their command line).
  std::string text = read_text(file.path);
  if (const auto shown = storage::shown_url(file.storage); shown != file.storage)
    for (auto at = text.find(file.storage); at != std::string::npos;
         at = text.find(file.storage, at + shown.size()))
      text.replace(at, file.storage.size(), shown);
  const nlohmann::json definition = {{"path", file.path.string()}, {"text", text}, {"data", data}};
  study.storage().set_attr(study.id(), kDefinitionAttr, definition.dump());
}

std::optional<StoredDefinition> load_definition(Storage& storage, std::int64_t study,
                                                const std::string& name) {
  const auto text = storage.get_attr(study, kDefinitionAttr);
  if (!text) return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
    StoredDefinition out{
        study,
        config::parse_study_file(j.at("text").get<std::string>(), j.at("path").get<std::string>()),
        {}};
    out.file.study = name;  // `quarry search FILE --study NAME` stored the file under NAME
    for (const auto& d : j.at("data"))
      out.data.push_back({d.at("path").get<std::string>(), d.at("sha256").get<std::string>()});
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw StorageError("study '" + name + "': its stored definition cannot be read: " + e.what());
  }
}

void check_data(const StoredDefinition& definition) {
  const auto& study = definition.file.study;
  for (const auto& d : definition.data) {
    std::error_code ec;
    if (!fs::is_regular_file(d.path, ec))
      throw UsageError(d.path + ": data file of study '" + study +
                       "' is missing on this machine (the study was created with sha256 " +
                       d.sha256.substr(0, 12) + "...)");
    const auto here = sha256_file(d.path);
    if (here != d.sha256)
      throw UsageError(d.path + ": differs from the data study '" + study +
                       "' was created with (sha256 " + here.substr(0, 12) + "... here, " +
                       d.sha256.substr(0, 12) +
                       "... in the store): copy the same file here, or create a new study");
  }
}

}  // namespace quarry::cli
