// Study-file texts and the bad-file case type shared by the config tests.
#pragma once

#include <ostream>
#include <string>

#include "quarry/config/study_file.hpp"
#include "quarry/core/error.hpp"
#include "tests/test_util.hpp"

namespace quarry::config::testing {

/// The UsageError's message for `yaml` read as "study.yaml", "no error" when it loads; any other
/// exception fails the test.
inline std::string error_of(const std::string& yaml) {
  try {
    parse_study_file(yaml, "study.yaml");
  } catch (const UsageError& e) {
    // `quarry search study.yaml` says the same, after "quarry: error: ", and exits with 2.
    quarry::testing::record_error(yaml, 2, std::string("quarry: error: ") + e.what());
    return e.what();
  }
  return "no error";
}

/// A model study whose layers are `items` (from line 6 on).
inline std::string with_layers(const std::string& items) {
  return "study: s\nobjective: val_accuracy\ndata: {idx: fashion-mnist}\nmodel:\n  layers:\n" +
         items;
}

/// A model study with two layers; `rest` continues the model mapping from line 6 on.
inline std::string with_model(const std::string& rest) {
  return "study: s\nobjective: val_accuracy\ndata: {idx: fashion-mnist}\nmodel:\n"
         "  layers: [flatten, {dense: 10}]\n" +
         rest;
}

/// A model study (lines 1-3) plus `rest` from line 4 on.
inline std::string with_sections(const std::string& rest) {
  return "study: s\nobjective: val_accuracy\nmodel: {layers: [flatten, {dense: 10}]}\n" + rest;
}

/// A file that must not load, and a part of the one-line message it must give.
struct BadCase {
  std::string yaml;
  std::string error;  // a substring of the message, from "study.yaml:<line>:"
};

inline void PrintTo(const BadCase& c, std::ostream* os) {
  *os << "'" << c.error << "'";
}

}  // namespace quarry::config::testing
