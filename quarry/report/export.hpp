// Trials as text: an aligned table for the terminal, CSV and JSON for other tools.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quarry/study/trial.hpp"

namespace quarry::report {

struct Columns {
  std::vector<std::string> metrics;  ///< objective names, one per value ("value" when unnamed)
  std::vector<std::string> params;   ///< parameter names, in space order
};

/// Every parameter name met in `trials`, and `metrics` (or value, value_1... when empty).
Columns columns_for(const std::vector<study::Trial>& trials, std::vector<std::string> metrics,
                    std::size_t objectives);

void write_table(std::ostream& out, const std::vector<study::Trial>& trials,
                 const Columns& columns);
/// RFC 4180 CSV with a header row.
void write_csv(std::ostream& out, const std::vector<study::Trial>& trials, const Columns& columns);
nlohmann::json trial_to_json(const study::Trial& trial, const Columns& columns);
void write_json(std::ostream& out, const std::vector<study::Trial>& trials, const Columns& columns);

/// "0.3979" / "nan" / "inf": numbers as shown to people (6 significant digits).
std::string format_number(double x);
/// "1.2s", "3m05s", "1h02m".
std::string format_duration(double seconds);

}  // namespace quarry::report
