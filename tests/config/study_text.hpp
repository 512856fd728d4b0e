// Study-file texts and the bad-file case type shared by the config tests.
#pragma once

#include <ostream>
#include <string>

namespace quarry::config::testing {

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
