// Self-contained HTML pages and inline SVG charts (see html.hpp). Coordinates pass through
// coord(), which never writes a non-finite number; values that are not finite are left out of the
// drawing and written as "n/a".
#include "quarry/report/html.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

namespace quarry::report {

namespace {

constexpr std::array<const char*, 8> kPalette = {"#0072b2", "#e69f00", "#009e73", "#cc79a7",
                                                 "#56b4e9", "#d55e00", "#6b6b6b", "#000000"};

/// A pixel coordinate with one decimal: never "nan" or "inf" (those become 0).
std::string coord(double x) {
  if (!std::isfinite(x)) x = 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

/// Characters (UTF-8 code points) in `s`.
std::size_t length(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

/// The width of `s` in pixels at a 12px sans-serif font, roughly.
double text_width(std::string_view s) {
  return 6.8 * static_cast<double>(length(s));
}

/// `s` cut to at most `chars` code points, with an ellipsis when cut.
std::string shorten(const std::string& s, std::size_t chars) {
  if (length(s) <= chars) return s;
  std::size_t seen = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((s[i] & 0xC0) != 0x80) {
      if (seen == chars - 1) break;
      ++seen;
    }
  }
  return s.substr(0, i) + "\u2026";
}

/// An SVG text element; `text` is escaped.
std::string svg_text(double x, double y, std::string_view text, std::string_view attrs = "") {
  std::string s = "<text x=\"" + coord(x) + "\" y=\"" + coord(y) + "\"";
  if (!attrs.empty()) s += " " + std::string(attrs);
  return s + ">" + escape(text) + "</text>";
}

std::string svg_line(double x1, double y1, double x2, double y2, std::string_view css_class) {
  return "<line class=\"" + std::string(css_class) + "\" x1=\"" + coord(x1) + "\" y1=\"" +
         coord(y1) + "\" x2=\"" + coord(x2) + "\" y2=\"" + coord(y2) + "\"/>";
}

std::string svg_open(double width, double height, const std::string& title,
                     std::string_view css_class) {
  std::string s = "<svg class=\"chart " + std::string(css_class) + "\" width=\"" + coord(width) +
                  "\" height=\"" + coord(height) + "\" viewBox=\"0 0 " + coord(width) + " " +
                  coord(height) + "\" role=\"img\"";
  if (!title.empty()) s += " aria-label=\"" + escape(title) + "\"";
  s += ">";
  if (!title.empty()) s += "<title>" + escape(title) + "</title>";
  return s;
}

/// Decimals that show `step` exactly enough for tick labels.
int decimals_for(double step) {
  if (!(step > 0) || !std::isfinite(step)) return 0;
  return std::clamp(static_cast<int>(-std::floor(std::log10(step) + 1e-9)), 0, 10);
}

std::string tick_label(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find_first_not_of("-0.") == std::string::npos) s = "0";  // "-0.00" -> "0"
  return s;
}

/// A domain that covers [low, high] (finite, low < high) widened to round ticks.
struct Domain {
  double low = 0, high = 1;
  std::vector<double> ticks;
  int decimals = 0;
  double at(double v, double from, double to) const {  // v mapped onto [from, to]
    return from + (v - low) / (high - low) * (to - from);
  }
};

Domain make_domain(double low, double high, std::optional<double> fixed_low,
                   std::optional<double> fixed_high, int count) {
  if (fixed_low && std::isfinite(*fixed_low)) low = *fixed_low;
  if (fixed_high && std::isfinite(*fixed_high)) high = *fixed_high;
  if (!std::isfinite(low) || !std::isfinite(high)) low = 0, high = 1;
  if (low > high) std::swap(low, high);
  if (low == high) {
    const double pad = low == 0 ? 1 : std::abs(low) * 0.1;
    if (!fixed_low) low -= pad;
    if (!fixed_high) high += pad;
    if (low == high) high = low + pad;
  }
  Domain d;
  d.low = low;
  d.high = high;
  auto ticks = nice_ticks(low, high, count);
  if (ticks.size() >= 2) {
    const double step = ticks[1] - ticks[0];
    if (!fixed_low) d.low = std::min(low, std::floor(low / step + 1e-9) * step);
    if (!fixed_high) d.high = std::max(high, std::ceil(high / step - 1e-9) * step);
    d.ticks = nice_ticks(d.low, d.high, count);
    d.decimals = decimals_for(step);
  } else {
    d.ticks = ticks;
  }
  return d;
}

/// Colour of t in [0, 1] on a white-to-dark-blue scale.
std::string scale_colour(double t) {
  static constexpr std::array<std::array<int, 3>, 5> kStops = {
      {{247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}}};
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * (kStops.size() - 1);
  const auto i = std::min<std::size_t>(static_cast<std::size_t>(t), kStops.size() - 2);
  const double f = t - static_cast<double>(i);
  char buf[8];
  int rgb[3];
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<int>(std::lround(kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c])));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

std::string slug(const std::string& title) {
  std::string s;
  for (char c : title) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) && u < 128)
      s += static_cast<char>(std::tolower(u));
    else if (!s.empty() && s.back() != '-')
      s += '-';
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s.empty() ? "section" : s;
}

constexpr const char* kStyle = R"(
:root { --ink: #1f2328; --muted: #656d76; --line: #d0d7de; --soft: #f6f8fa; --accent: #0072b2;
        --good: #1a7f37; --bad: #cf222e; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px 28px 48px; color: var(--ink);
       font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
header { border-bottom: 1px solid var(--line); padding-bottom: 12px; margin-bottom: 16px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 8px; }
nav ul { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav a, a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
dl.facts { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 8px 0; }
dl.facts div { display: flex; gap: 6px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; word-break: break-all; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-weight: 700;
         font-size: 12px; letter-spacing: .04em; color: #fff; background: var(--muted); }
.badge.pass { background: var(--good); } .badge.fail { background: var(--bad); }
.badge.warn { background: var(--warn); } .badge.info { background: var(--accent); }
p.note { color: var(--muted); }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
caption { text-align: left; color: var(--muted); padding-bottom: 4px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
tbody tr:nth-child(even) { background: #fbfcfd; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.good { color: var(--good); } td.bad { color: var(--bad); } td.muted { color: var(--muted); }
.grid { display: flex; flex-wrap: wrap; gap: 12px 32px; align-items: flex-start; }
figure { margin: 8px 0 16px; max-width: 100%; overflow-x: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 2px; }
svg.chart { display: block; font: 12px system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
svg.chart text { fill: var(--ink); }
svg.chart text.muted, svg.chart .tick text { fill: var(--muted); }
svg.chart .grid-line { stroke: #eaeef2; }
svg.chart .axis { stroke: #8c959f; }
svg.chart .bar { fill: var(--accent); opacity: .85; }
svg.chart .bar.negative { fill: var(--warn); }
svg.chart .whisker, svg.chart .cap { stroke: var(--ink); stroke-width: 1.5; }
svg.chart .reference { stroke: var(--bad); stroke-dasharray: 4 3; stroke-width: 1.5; }
svg.chart .diagonal { stroke: #8c959f; stroke-dasharray: 5 4; }
svg.chart .series { fill: none; stroke-width: 2; stroke-linejoin: round; }
svg.chart .cell { stroke: #fff; stroke-width: 1; }
svg.chart .cell.accent { stroke: var(--ink); stroke-width: 1.5; }
svg.chart text.light { fill: #fff; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
)";

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string format_value(double x, int digits) {
  if (std::isnan(x)) return "n/a";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[48];
  if (x == std::trunc(x) && std::abs(x) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", x);
  else
    std::snprintf(buf, sizeof buf, "%.*g", std::max(1, digits), x);
  std::string s = buf;
  if (s == "-0") s = "0";
  return s;
}

std::vector<double> nice_ticks(double low, double high, int count) {
  if (!std::isfinite(low) || !std::isfinite(high)) return {};
  if (low > high) std::swap(low, high);
  if (low == high) return {low};
  const double raw = (high - low) / std::max(1, count);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  const double first = std::ceil(low / step - 1e-9) * step;
  for (int i = 0; i < 1000; ++i) {
    double t = first + i * step;
    if (t > high + step * 1e-9) break;
    if (std::abs(t) < step * 1e-9) t = 0;
    ticks.push_back(t);
  }
  return ticks;
}

// ---- The page ------------------------------------------------------------------------------

namespace {

// `source` with every "</script" (any case) written "<\/script": the same JavaScript (in strings,
// regular expressions and comments "\/" reads as "/"), but it cannot close the element.
std::string inline_script(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    out += source[i];
    if (source[i] == '<' && i + 1 < source.size() && source[i + 1] == '/') {
      std::string next = source.substr(i + 2, 6);
      for (auto& c : next) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (next == "script") out += '\\';
    }
  }
  return out;
}

}  // namespace

std::string page(const std::string& title, const std::vector<Section>& sections,
                 const PageOptions& options) {
  std::vector<std::string> ids;
  std::set<std::string> used;
  for (const auto& s : sections) {
    std::string id = s.id.empty() ? slug(s.title) : slug(s.id);
    const std::string base = id;
    for (int n = 2; used.contains(id); ++n) id = base + "-" + std::to_string(n);
    used.insert(id);
    ids.push_back(id);
  }
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>" +
      escape(title) + "</title>\n<style>" + kStyle + options.style +
      "</style>\n</head>\n<body>\n<header>\n<h1>" + escape(title) + "</h1>\n" +
      options.subtitle_html + "\n";
  if (options.contents) {
    std::string links;
    for (std::size_t i = 0; i < sections.size(); ++i)
      if (!sections[i].title.empty())
        links += "<li><a href=\"#" + ids[i] + "\">" + escape(sections[i].title) + "</a></li>";
    if (!links.empty()) out += "<nav><ul>" + links + "</ul></nav>\n";
  }
  out += "</header>\n";
  for (std::size_t i = 0; i < sections.size(); ++i) {
    out += "<section id=\"" + ids[i] + "\">\n";
    if (!sections[i].title.empty()) out += "<h2>" + escape(sections[i].title) + "</h2>\n";
    out += sections[i].html + "\n</section>\n";
  }
  out += "<footer>Made by Quarry. This page is self-contained: it fetches nothing";
  out += options.scripts.empty() ? " and runs no script." : ".";
  if (!options.footer_note.empty()) out += " " + escape(options.footer_note);
  out += "</footer>\n";
  for (const auto& script : options.scripts)
    out += "<script>" + inline_script(script) + "</script>\n";
  out += "</body>\n</html>\n";
  return out;
}

std::string badge(std::string_view text, std::string_view kind) {
  return "<span class=\"badge " + escape(kind) + "\">" + escape(text) + "</span>";
}

std::string facts(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string out = "<dl class=\"facts\">";
  for (const auto& [name, value] : items)
    out += "<div><dt>" + escape(name) + "</dt><dd>" + escape(value) + "</dd></div>";
  return out + "</dl>";
}

std::string paragraph(std::string_view text, std::string_view css_class) {
  std::string open = css_class.empty() ? "<p>" : "<p class=\"" + escape(css_class) + "\">";
  return open + escape(text) + "</p>";
}

std::string figure(const std::string& html, std::string_view caption) {
  std::string out = "<figure>" + html;
  if (!caption.empty()) out += "<figcaption>" + escape(caption) + "</figcaption>";
  return out + "</figure>";
}

std::string grid(const std::vector<std::string>& items) {
  std::string out = "<div class=\"grid\">";
  for (const auto& item : items) out += "<div>" + item + "</div>";
  return out + "</div>";
}

// ---- Tables --------------------------------------------------------------------------------

Cell text_cell(std::string_view text, std::string_view css_class) {
  return {escape(text), false, std::string(css_class)};
}
Cell number_cell(double x, int digits, std::string_view css_class) {
  return {escape(format_value(x, digits)), true,
          std::string(std::isnan(x) && css_class.empty() ? "muted" : css_class)};
}
Cell int_cell(long long x) {
  return {std::to_string(x), true, ""};
}
Cell html_cell(std::string html, std::string_view css_class) {
  return {std::move(html), false, std::string(css_class)};
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<Cell>>& rows, std::string_view caption) {
  std::string out = "<table>";
  if (!caption.empty()) out += "<caption>" + escape(caption) + "</caption>";
  out += "<thead><tr>";
  for (const auto& h : header) out += "<th>" + escape(h) + "</th>";
  out += "</tr></thead><tbody>";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const auto& cell : row) {
      std::string classes = cell.numeric ? "num" : "";
      if (!cell.css_class.empty()) classes += (classes.empty() ? "" : " ") + cell.css_class;
      out += classes.empty() ? "<td>" : "<td class=\"" + escape(classes) + "\">";
      out += cell.html + "</td>";
    }
    out += "</tr>";
  }
  return out + "</tbody></table>";
}

// ---- Bar chart -----------------------------------------------------------------------------

std::string bar_chart(const std::vector<Bar>& bars, const BarChartOptions& options) {
  constexpr double kRow = 24, kBar = 14, kTop = 22, kBottom = 42;
  constexpr std::size_t kLabelChars = 40;
  double label_w = 40, value_w = 48;
  double low = 0, high = 0;
  bool any = false;
  auto take = [&](double v) {
    if (!std::isfinite(v)) return;
    low = any ? std::min(low, v) : std::min(0.0, v);
    high = any ? std::max(high, v) : std::max(0.0, v);
    any = true;
  };
  for (const auto& b : bars) {
    label_w = std::max(label_w, text_width(shorten(b.label, kLabelChars)));
    std::string end = std::isfinite(b.value) ? format_value(b.value, options.digits) : "";
    std::string note = b.note.empty() && !std::isfinite(b.value) ? "n/a" : b.note;
    if (!note.empty()) end += (end.empty() ? "" : " ") + note;
    value_w = std::max(value_w, text_width(end));
    take(b.value);
    if (std::isfinite(b.low) && std::isfinite(b.high)) take(b.low), take(b.high);
  }
  if (options.reference) take(*options.reference);
  label_w = std::min(label_w, 300.0) + 12;
  value_w = std::min(value_w, 220.0) + 12;
  const Domain d = make_domain(any ? low : 0, any ? high : 1, options.min, options.max, 5);
  const double width = std::max(static_cast<double>(options.width), label_w + value_w + 160);
  const double x0 = label_w, x1 = width - value_w;
  const double height =
      kTop + kRow * static_cast<double>(std::max<std::size_t>(bars.size(), 1)) + kBottom;
  const double y_axis = kTop + kRow * static_cast<double>(std::max<std::size_t>(bars.size(), 1));
  auto x_of = [&](double v) { return d.at(std::clamp(v, d.low, d.high), x0, x1); };

  std::string s = svg_open(width, height, options.title, "bars");
  s += "<g class=\"tick\">";
  for (double t : d.ticks) {
    s += svg_line(x_of(t), kTop - 4, x_of(t), y_axis, "grid-line");
    s += svg_text(x_of(t), y_axis + 14, tick_label(t, d.decimals), "text-anchor=\"middle\"");
  }
  s += "</g>";
  s += svg_line(x0, y_axis, x1, y_axis, "axis");
  const double zero = x_of(0);
  s += svg_line(zero, kTop - 4, zero, y_axis, "axis");
  if (!options.value_label.empty())
    s += svg_text((x0 + x1) / 2, y_axis + 32, options.value_label,
                  "text-anchor=\"middle\" class=\"muted\"");
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double top = kTop + kRow * static_cast<double>(i);
    const double mid = top + kRow / 2;
    std::string tip = b.label + ": " + format_value(b.value, options.digits);
    if (std::isfinite(b.low) && std::isfinite(b.high))
      tip += " [" + format_value(b.low, options.digits) + ", " +
             format_value(b.high, options.digits) + "]";
    if (!b.note.empty()) tip += " (" + b.note + ")";
    s += "<g><title>" + escape(tip) + "</title>";
    s += svg_text(x0 - 8, mid + 4, shorten(b.label, kLabelChars), "text-anchor=\"end\"");
    if (std::isfinite(b.value)) {
      const double a = x_of(b.value);
      s += "<rect class=\"bar" + std::string(b.value < 0 ? " negative" : "") + "\" x=\"" +
           coord(std::min(a, zero)) + "\" y=\"" + coord(mid - kBar / 2) + "\" width=\"" +
           coord(std::max(std::abs(a - zero), 1.0)) + "\" height=\"" + coord(kBar) + "\"/>";
    }
    if (std::isfinite(b.low) && std::isfinite(b.high)) {
      const double l = x_of(std::min(b.low, b.high)), h = x_of(std::max(b.low, b.high));
      s += svg_line(l, mid, h, mid, "whisker");
      s += svg_line(l, mid - 5, l, mid + 5, "cap") + svg_line(h, mid - 5, h, mid + 5, "cap");
    }
    std::string end = std::isfinite(b.value) ? format_value(b.value, options.digits) : "";
    std::string note = b.note.empty() && !std::isfinite(b.value) ? "n/a" : b.note;
    s += "<text x=\"" + coord(x1 + 8) + "\" y=\"" + coord(mid + 4) + "\">" + escape(end);
    if (!note.empty())
      s += std::string(end.empty() ? "" : " ") + "<tspan class=\"muted\">" + escape(note) +
           "</tspan>";
    s += "</text></g>";
  }
  if (options.reference && std::isfinite(*options.reference)) {
    const double r = x_of(*options.reference);
    s += svg_line(r, kTop - 6, r, y_axis, "reference");
    s += svg_text(r, kTop - 10,
                  options.reference_label + " " + format_value(*options.reference, options.digits),
                  "text-anchor=\"middle\" class=\"muted\"");
  }
  return s + "</svg>";
}

// ---- Line chart ----------------------------------------------------------------------------

std::string line_chart(const std::vector<Series>& series, const LineChartOptions& options) {
  constexpr double kLeft = 58, kRight = 18, kTop = 14, kAxis = 46, kLegendRow = 18;
  double xl = kNaN, xh = kNaN, yl = kNaN, yh = kNaN;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      xl = std::isnan(xl) ? x : std::min(xl, x);
      xh = std::isnan(xh) ? x : std::max(xh, x);
      yl = std::isnan(yl) ? y : std::min(yl, y);
      yh = std::isnan(yh) ? y : std::max(yh, y);
    }
  const Domain dx = make_domain(xl, xh, options.x.min, options.x.max, 5);
  const Domain dy = make_domain(yl, yh, options.y.min, options.y.max, 5);
  const double width = std::max(options.width, 200);

  // The legend: named series flowed into rows under the axis label.
  std::vector<std::pair<double, double>> legend_at(series.size(), {-1, -1});
  double lx = kLeft, rows = 0;
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (series[i].name.empty()) continue;
    const double w = 26 + text_width(shorten(series[i].name, 48)) + 18;
    if (rows == 0 || (lx + w > width - kRight && lx > kLeft)) lx = kLeft, rows += 1;
    legend_at[i] = {lx, rows};
    lx += w;
  }
  const double plot_h = std::max(options.height, 160) - kTop - kAxis;
  const double height = kTop + plot_h + kAxis + rows * kLegendRow + (rows > 0 ? 4 : 0);
  const double x0 = kLeft, x1 = width - kRight, y0 = kTop + plot_h, y1 = kTop;
  auto px = [&](double v) { return dx.at(std::clamp(v, dx.low, dx.high), x0, x1); };
  auto py = [&](double v) { return dy.at(std::clamp(v, dy.low, dy.high), y0, y1); };

  std::string s = svg_open(width, height, options.title, "lines");
  s += "<g class=\"tick\">";
  for (double t : dx.ticks) {
    s += svg_line(px(t), y1, px(t), y0, "grid-line");
    s += svg_text(px(t), y0 + 15, tick_label(t, dx.decimals), "text-anchor=\"middle\"");
  }
  for (double t : dy.ticks) {
    s += svg_line(x0, py(t), x1, py(t), "grid-line");
    s += svg_text(x0 - 6, py(t) + 4, tick_label(t, dy.decimals), "text-anchor=\"end\"");
  }
  s += "</g>";
  s += svg_line(x0, y0, x1, y0, "axis") + svg_line(x0, y0, x0, y1, "axis");
  if (!options.x.label.empty())
    s +=
        svg_text((x0 + x1) / 2, y0 + 33, options.x.label, "text-anchor=\"middle\" class=\"muted\"");
  if (!options.y.label.empty()) {
    const double cx = 14, cy = (y0 + y1) / 2;
    s += svg_text(cx, cy, options.y.label,
                  "text-anchor=\"middle\" class=\"muted\" transform=\"rotate(-90 " + coord(cx) +
                      " " + coord(cy) + ")\"");
  }
  if (options.diagonal) {
    const double lo = std::max(dx.low, dy.low), hi = std::min(dx.high, dy.high);
    if (lo < hi) s += svg_line(px(lo), py(lo), px(hi), py(hi), "diagonal");
  }
  for (std::size_t i = 0; i < series.size(); ++i) {
    const Series& se = series[i];
    const std::string colour = kPalette[i % kPalette.size()];
    s += "<g>";
    if (!se.name.empty()) s += "<title>" + escape(se.name) + "</title>";
    if (se.line) {
      std::string points;
      std::size_t run = 0;
      double last_y = kNaN;
      auto flush = [&] {
        if (run >= 2)
          s += "<polyline class=\"series\" stroke=\"" + std::string(colour) + "\" points=\"" +
               points + "\"/>";
        points.clear();
        run = 0;
      };
      for (const auto& [x, y] : se.points) {
        if (!std::isfinite(x) || !std::isfinite(y)) {
          flush();
          continue;
        }
        if (se.step && run > 0) points += " " + coord(px(x)) + "," + coord(py(last_y));
        points += (points.empty() ? "" : " ") + coord(px(x)) + "," + coord(py(y));
        last_y = y;
        ++run;
      }
      flush();
    }
    if (se.markers) {
      const bool tips = se.points.size() <= 400;
      for (const auto& [x, y] : se.points) {
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        s += "<circle class=\"point\" cx=\"" + coord(px(x)) + "\" cy=\"" + coord(py(y)) +
             "\" r=\"3\" fill=\"" + colour + "\"";
        if (tips)
          s += "><title>" +
               escape((se.name.empty() ? "" : se.name + ": ") + "(" + format_value(x) + ", " +
                      format_value(y) + ")") +
               "</title></circle>";
        else
          s += "/>";
      }
    }
    s += "</g>";
    if (legend_at[i].second > 0) {
      const double ly = y0 + kAxis + (legend_at[i].second - 1) * kLegendRow + 2;
      const double lx0 = legend_at[i].first;
      s += "<g class=\"legend\"><line x1=\"" + coord(lx0) + "\" y1=\"" + coord(ly) + "\" x2=\"" +
           coord(lx0 + 20) + "\" y2=\"" + coord(ly) + "\" stroke=\"" + colour +
           "\" stroke-width=\"3\"/>" + svg_text(lx0 + 26, ly + 4, shorten(se.name, 48)) + "</g>";
    }
  }
  return s + "</svg>";
}

// ---- Heat map ------------------------------------------------------------------------------

std::string heat_map(const std::vector<std::string>& rows, const std::vector<std::string>& columns,
                     const std::vector<std::vector<double>>& values,
                     const HeatMapOptions& options) {
  const std::size_t n = rows.size(), m = columns.size();
  auto value = [&](std::size_t r, std::size_t c) {
    return r < values.size() && c < values[r].size() ? values[r][c] : kNaN;
  };
  double lo = kNaN, hi = kNaN;
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < m; ++c) {
      const double v = value(r, c);
      if (!std::isfinite(v)) continue;
      lo = std::isnan(lo) ? v : std::min(lo, v);
      hi = std::isnan(hi) ? v : std::max(hi, v);
    }
  const double cell =
      std::clamp(420.0 / static_cast<double>(std::max<std::size_t>({n, m, 1})), 14.0, 52.0);
  constexpr std::size_t kChars = 24;
  double row_w = 0, col_w = 0;
  for (const auto& r : rows) row_w = std::max(row_w, text_width(shorten(r, kChars)));
  for (const auto& c : columns) col_w = std::max(col_w, text_width(shorten(c, kChars)));
  const bool rotate = col_w > cell - 4;
  const double row_title_w = options.row_title.empty() ? 0 : 20;
  const double x0 = row_title_w + row_w + 10, y0 = 8;
  const double grid_w = cell * static_cast<double>(m), grid_h = cell * static_cast<double>(n);
  const double labels_h = rotate ? col_w * 0.72 + 16 : 18;
  const double column_title_h = options.column_title.empty() ? 0 : 20;
  const double scale_w = 90;
  // Rotated column labels lean right, past the grid when long.
  const double lean = rotate ? x0 + grid_w - cell / 2 + col_w * 0.77 + 8 : 0;
  const double width = std::max(x0 + grid_w + 16 + scale_w, lean);
  const double height = std::max(y0 + grid_h + labels_h + column_title_h + 6, 150.0);

  std::string s = svg_open(width, height, options.title, "heat");
  if (!options.row_title.empty()) {
    const double cx = 12, cy = y0 + grid_h / 2;
    s += svg_text(cx, cy, options.row_title,
                  "text-anchor=\"middle\" class=\"muted\" transform=\"rotate(-90 " + coord(cx) +
                      " " + coord(cy) + ")\"");
  }
  for (std::size_t r = 0; r < n; ++r)
    s += svg_text(x0 - 6, y0 + cell * (static_cast<double>(r) + 0.5) + 4, shorten(rows[r], kChars),
                  "text-anchor=\"end\"");
  for (std::size_t c = 0; c < m; ++c) {
    const double cx = x0 + cell * (static_cast<double>(c) + 0.5), cy = y0 + grid_h + 14;
    if (rotate)
      s += svg_text(cx - 4, cy - 4, shorten(columns[c], kChars),
                    "text-anchor=\"start\" transform=\"rotate(40 " + coord(cx - 4) + " " +
                        coord(cy - 4) + ")\"");
    else
      s += svg_text(cx, cy, shorten(columns[c], kChars), "text-anchor=\"middle\"");
  }
  if (!options.column_title.empty())
    s += svg_text(x0 + grid_w / 2, y0 + grid_h + labels_h + 14, options.column_title,
                  "text-anchor=\"middle\" class=\"muted\"");
  const double span = hi - lo;
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < m; ++c) {
      const double v = value(r, c);
      const bool finite = std::isfinite(v);
      const double t = !finite ? 0 : span > 0 ? (v - lo) / span : 0.5;
      const double x = x0 + cell * static_cast<double>(c), y = y0 + cell * static_cast<double>(r);
      const std::string text = format_value(v, options.digits);
      s += "<g><title>" + escape(rows[r] + " \u2192 " + columns[c] + ": " + text) + "</title>";
      s += "<rect class=\"cell" + std::string(options.diagonal_accent && r == c ? " accent" : "") +
           "\" x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" width=\"" + coord(cell) +
           "\" height=\"" + coord(cell) + "\" fill=\"" +
           (finite ? scale_colour(t) : std::string("#e0e0e0")) + "\"/>";
      if (text_width(text) * 0.9 <= cell - 4)
        s += svg_text(
            x + cell / 2, y + cell / 2 + 4, text,
            std::string("text-anchor=\"middle\"") + (finite && t > 0.55 ? " class=\"light\"" : ""));
      s += "</g>";
    }
  // The colour scale: five swatches from the smallest value to the largest.
  const double sx = x0 + grid_w + 16, sw = 14, sh = 18;
  if (std::isfinite(lo)) {
    for (int k = 0; k < 5; ++k) {
      const double t = 1.0 - k / 4.0;
      const double y = y0 + sh * k;
      s += "<rect class=\"swatch\" x=\"" + coord(sx) + "\" y=\"" + coord(y) + "\" width=\"" +
           coord(sw) + "\" height=\"" + coord(sh) + "\" fill=\"" + scale_colour(t) + "\"/>";
      s += svg_text(sx + sw + 6, y + sh / 2 + 4, format_value(lo + t * span, options.digits),
                    "class=\"muted\"");
    }
  } else {
    s += svg_text(sx, y0 + 12, "n/a", "class=\"muted\"");
  }
  return s + "</svg>";
}

}  // namespace quarry::report
