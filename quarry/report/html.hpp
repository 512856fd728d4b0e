// Self-contained HTML pages: a page template (inline CSS and scripts, nothing fetched) and charts
// drawn as inline SVG (bars with intervals, lines and points, heat maps), shared by the reports
// (`quarry analyze --format html`, the study report). Every function returns HTML text; text
// passed in (labels, titles, table cells made with text_cell) is escaped, and a NaN or infinite
// value is drawn as a gap or "n/a", never written into the SVG.
//
//   using namespace quarry::report;
//   std::string bars = bar_chart({{.label = "sex=female", .value = 0.91, .low = 0.88,
//                                  .high = 0.94}, {.label = "sex=male", .value = 0.84}},
//                                {.title = "accuracy", .reference = 0.87});
//   std::string html = page("Model analysis", {{.title = "Accuracy", .html = figure(bars)}});
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quarry::report {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// `text` safe inside an element or a quoted attribute: & < > " ' as entities.
std::string escape(std::string_view text);

/// A number for people: `digits` significant digits ("0.9132", "1.2e+06"), "n/a" for NaN, "inf".
std::string format_value(double x, int digits = 4);

// ---- The page ------------------------------------------------------------------------------

struct Section {
  std::string title;  ///< an <h2> (escaped); empty: none
  std::string html;   ///< the body, HTML (from the functions below)
  std::string id;     ///< the anchor the page's contents link to; empty: made from the title
};

struct PageOptions {
  std::string subtitle_html;  ///< under the <h1>: HTML (e.g. facts() and a badge())
  bool contents = true;       ///< a list of links to the titled sections
  std::string style;          ///< CSS added after the template's own
  /// JavaScript sources, each inlined in a <script> at the end of the body, in order (a
  /// "</script" inside one is written so that it cannot end the element early).
  std::vector<std::string> scripts;
  std::string footer_note;  ///< text added to the footer (escaped), e.g. the scripts' licences
};

/// A whole document: doctype, inline style, an <h1> with `title`, then the sections in order.
std::string page(const std::string& title, const std::vector<Section>& sections,
                 const PageOptions& options = {});

/// "PASS" / "FAIL" style label: kind "pass", "fail", "warn" or "info".
std::string badge(std::string_view text, std::string_view kind);

/// A definition list of (name, value) pairs, both text (escaped), laid out in a row.
std::string facts(const std::vector<std::pair<std::string, std::string>>& items);

/// A paragraph of text (escaped); css_class "note" for a muted one.
std::string paragraph(std::string_view text, std::string_view css_class = "");

/// A chart (or any HTML) with a caption under it (escaped).
std::string figure(const std::string& html, std::string_view caption = "");

/// Items side by side, wrapping on narrow screens.
std::string grid(const std::vector<std::string>& items);

// ---- Tables --------------------------------------------------------------------------------

struct Cell {
  std::string html;       ///< the content, HTML
  bool numeric = false;   ///< right-aligned, tabular figures
  std::string css_class;  ///< e.g. "good", "bad", "muted"
};
Cell text_cell(std::string_view text, std::string_view css_class = "");
Cell number_cell(double x, int digits = 4, std::string_view css_class = "");
Cell int_cell(long long x);
Cell html_cell(std::string html, std::string_view css_class = "");

/// A table with a header row (text, escaped); rows may be shorter than the header.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<Cell>>& rows, std::string_view caption = "");

// ---- Charts (inline SVG) -------------------------------------------------------------------

/// One horizontal bar. A NaN value draws no bar: `note` (or "n/a") is written in its place.
struct Bar {
  std::string label;
  double value = kNaN;
  double low = kNaN, high = kNaN;  ///< an interval drawn as a whisker when both are finite
  std::string note;                ///< shown after the value, or instead of a missing one
};

struct BarChartOptions {
  std::string title;                ///< the SVG's accessible title
  std::string value_label;          ///< under the axis
  std::optional<double> reference;  ///< a dashed vertical line (e.g. the overall value)
  std::string reference_label = "overall";
  std::optional<double> min, max;  ///< the axis; default: the data's range and zero
  int width = 640;
  int digits = 3;  ///< of the values written at the bars' ends
};

/// One bar per entry, in order, with the value written at its end. Every drawn bar is a
/// <rect class="bar">; every whisker a <line class="whisker">.
std::string bar_chart(const std::vector<Bar>& bars, const BarChartOptions& options = {});

/// A named series of (x, y) points in order; a point with a NaN coordinate breaks the line.
struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;
  bool line = true;     ///< join the points
  bool markers = true;  ///< a circle at each point (<circle class="point">)
  bool step = false;    ///< join as a staircase (y held until the next x), e.g. best so far
};

struct Axis {
  std::string label;
  std::optional<double> min, max;  ///< default: the data's range, padded to round ticks
};

struct LineChartOptions {
  std::string title;
  Axis x, y;
  bool diagonal = false;  ///< the dashed line y = x (reliability diagrams, ROC curves)
  int width = 480, height = 360;
};

/// Lines and/or points, one colour per series, with ticked axes and a legend (when named).
/// Each series' line is a <polyline class="series"> per unbroken run.
std::string line_chart(const std::vector<Series>& series, const LineChartOptions& options = {});

struct HeatMapOptions {
  std::string title;
  std::string row_title;         ///< e.g. "truth"
  std::string column_title;      ///< e.g. "predicted"
  int digits = 3;                ///< of the numbers in the cells
  bool diagonal_accent = false;  ///< outline the diagonal cells (confusion matrices)
};

/// A grid of cells (one <rect class="cell"> each) coloured from the smallest value (white) to
/// the largest (dark), with the number in each cell when it fits and a colour scale. NaN cells are
/// grey and read "n/a". `values` is rows x columns; missing entries count as NaN.
std::string heat_map(const std::vector<std::string>& rows, const std::vector<std::string>& columns,
                     const std::vector<std::vector<double>>& values,
                     const HeatMapOptions& options = {});

/// Round tick positions covering [low, high] (about `count` of them, steps of 1, 2 or 5 x 10^k).
std::vector<double> nice_ticks(double low, double high, int count = 5);

}  // namespace quarry::report
