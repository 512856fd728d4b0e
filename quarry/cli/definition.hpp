// A study's resolved definition, stored with the study so that `quarry worker` on any machine can
// run it without a copy of the YAML file: the study file's path and text, and the SHA-256 of every
// data file it reads (a model study's `data.path`, every file under it when it is a folder; an
// AutoML section's train and test tables). Study attribute "definition", JSON:
//   {"path": "/abs/study.yaml", "text": "...", "data": [{"path": "/abs/x.csv", "sha256": "..."}]}
// A password in the file's storage URL is left out of the stored text. Relative paths in the text
// resolve against the stored path's folder, on every machine, so
// workers expect the data at the same absolute paths (a shared or identically laid out disk).
#pragma once

#include <string>
#include <vector>

#include "quarry/config/study_file.hpp"
#include "quarry/study/study.hpp"

namespace quarry::cli {

/// The attribute the definition is stored under.
inline constexpr const char* kDefinitionAttr = "definition";

/// Stores `file`'s definition with the study (replacing an older one): its text is read again
/// from file.path, its data files are hashed.
void store_definition(Study& study, const config::StudyFile& file);

/// A definition read back from a store.
struct StoredDefinition {
  std::int64_t id = -1;    ///< the study's id in the store
  config::StudyFile file;  ///< parsed from the stored text, as if read from the stored path
  struct DataFile {
    std::string path, sha256;
  };
  std::vector<DataFile> data;
};

/// The study's stored definition, parsed; nullopt when it has none (created by `quarry ask`, the
/// C++ API or a Quarry without workers). UsageError when the stored text does not parse.
std::optional<StoredDefinition> load_definition(Storage& storage, std::int64_t study,
                                                const std::string& name);

/// UsageError naming the file when a data file is missing here or differs from the one the
/// study was created with.
void check_data(const StoredDefinition& definition);

}  // namespace quarry::cli
