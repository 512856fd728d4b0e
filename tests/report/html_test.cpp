// The page template and the SVG charts (quarry/report/html.hpp): escaping, well-formed markup,
// one drawn element per value (bars, cells, points), the scale of bars and colours, and NaN drawn
// as a gap or "n/a" rather than written into the SVG.
#include "quarry/report/html.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/report/markup.hpp"

namespace quarry::report {
namespace {

using quarry::testing::markup_problem;
using quarry::testing::mentions_non_finite;
using quarry::testing::occurrences;
using ::testing::HasSubstr;
using ::testing::Not;

/// The value of attribute `name` in the tag `tag` ("" when absent).
std::string attribute(const std::string& tag, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const auto at = tag.find(key);
  if (at == std::string::npos) return "";
  const auto begin = at + key.size();
  return tag.substr(begin, tag.find('"', begin) - begin);
}

/// The numeric attribute `name` of every <rect class="bar..."> in `svg`, in order.
std::vector<double> bar_attribute(const std::string& svg, const std::string& name) {
  std::vector<double> out;
  for (auto at = svg.find("<rect class=\"bar"); at != std::string::npos;
       at = svg.find("<rect class=\"bar", at + 1)) {
    const std::string value = attribute(svg.substr(at, svg.find('>', at) - at), name);
    if (!value.empty()) out.push_back(std::stod(value));
  }
  return out;
}

TEST(HtmlEscape, EscapesMarkupCharacters) {
  EXPECT_EQ(escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
  EXPECT_EQ(escape("plain text, caf\u00e9"), "plain text, caf\u00e9");
  EXPECT_EQ(escape(""), "");
}

TEST(HtmlFormat, ValuesForPeople) {
  EXPECT_EQ(format_value(kNaN), "n/a");
  EXPECT_EQ(format_value(1.0 / 0.0), "inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-inf");
  EXPECT_EQ(format_value(1234), "1234");  // counts stay whole, not 1.23e+03
  EXPECT_EQ(format_value(0.912345), "0.9123");
  EXPECT_EQ(format_value(0.912345, 2), "0.91");
  EXPECT_EQ(format_value(-0.0), "0");
}

TEST(HtmlTicks, RoundStepsInsideTheRange) {
  EXPECT_THAT(nice_ticks(0, 1, 5), ::testing::ElementsAre(0, 0.2, 0.4, 0.6000000000000001, 0.8, 1));
  const auto t = nice_ticks(0.13, 0.87, 5);
  ASSERT_EQ(t.size(), 4u);
  EXPECT_DOUBLE_EQ(t.front(), 0.2);
  EXPECT_DOUBLE_EQ(t.back(), 0.8);
  const auto big = nice_ticks(-250, 1100, 4);
  EXPECT_DOUBLE_EQ(big[1] - big[0], 500);
  EXPECT_TRUE(nice_ticks(kNaN, 1).empty());
  EXPECT_THAT(nice_ticks(3, 3), ::testing::ElementsAre(3));
}

TEST(HtmlBarChart, OneBarPerFiniteValueScaledFromZero) {
  const std::vector<Bar> bars = {{.label = "overall", .value = 0.8, .low = 0.75, .high = 0.85},
                                 {.label = "sex=a<b", .value = 0.4},
                                 {.label = "sex=male", .value = 0.6, .low = 0.5, .high = 0.7},
                                 {.label = "tiny", .note = "too small (n=3)"},
                                 {.label = "island=Dream", .value = 0.2}};
  const std::string svg = bar_chart(bars, {.title = "accuracy", .reference = 0.8});
  EXPECT_EQ(markup_problem(svg), "");
  EXPECT_FALSE(mentions_non_finite(svg));
  EXPECT_EQ(occurrences(svg, "<rect class=\"bar"), 4u);  // the too-small slice has none
  EXPECT_EQ(occurrences(svg, "class=\"whisker\""), 2u);
  EXPECT_EQ(occurrences(svg, "class=\"reference\""), 1u);
  EXPECT_THAT(svg, HasSubstr("sex=a&lt;b"));
  EXPECT_THAT(svg, Not(HasSubstr("sex=a<b")));
  EXPECT_THAT(svg, HasSubstr("too small (n=3)"));
  EXPECT_THAT(svg, HasSubstr("<title>accuracy</title>"));
  // Widths are proportional to the values (the axis starts at zero): 0.8 is twice 0.4.
  const auto widths = bar_attribute(svg, "width");
  ASSERT_EQ(widths.size(), 4u);
  EXPECT_NEAR(widths[0] / widths[1], 2.0, 0.02);
  EXPECT_NEAR(widths[2] / widths[3], 3.0, 0.03);
  // Bars are stacked top to bottom in the given order.
  const auto ys = bar_attribute(svg, "y");
  EXPECT_TRUE(std::is_sorted(ys.begin(), ys.end()));
}

TEST(HtmlBarChart, NegativeValuesGrowLeftOfZero) {
  const std::string svg = bar_chart({{.label = "a", .value = -0.5}, {.label = "b", .value = 1.0}});
  EXPECT_EQ(markup_problem(svg), "");
  const auto xs = bar_attribute(svg, "x");
  const auto widths = bar_attribute(svg, "width");
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_NEAR(xs[0] + widths[0], xs[1], 0.11);  // both meet at the zero line
  EXPECT_NEAR(widths[1] / widths[0], 2.0, 0.02);
  EXPECT_EQ(occurrences(svg, "class=\"bar negative\""), 1u);
}

TEST(HtmlBarChart, NaNEverywhereDrawsNoBarAndStaysValid) {
  const std::string svg =
      bar_chart({{.label = "x", .value = kNaN, .low = kNaN, .high = 0.3}, {.label = "y"}},
                {.reference = kNaN});
  EXPECT_EQ(markup_problem(svg), "");
  EXPECT_FALSE(mentions_non_finite(svg));
  EXPECT_EQ(occurrences(svg, "<rect class=\"bar"), 0u);
  EXPECT_EQ(occurrences(svg, "class=\"whisker\""), 0u);
  EXPECT_EQ(occurrences(svg, "class=\"reference\""), 0u);
  EXPECT_EQ(occurrences(svg, ">n/a<"), 2u);
  EXPECT_EQ(markup_problem(bar_chart({})), "");
}

TEST(HtmlLineChart, NaNBreaksTheLineIntoRuns) {
  const Series a{.name = "candidate <new>",
                 .points = {{0, 0}, {0.1, 0.5}, {kNaN, 0.7}, {0.5, 0.8}, {1, 1}}};
  const Series b{.name = "baseline", .points = {{0, 0}, {1, 1}}, .markers = false};
  const std::string svg =
      line_chart({a, b}, {.title = "ROC",
                          .x = {.label = "false positive rate", .min = 0, .max = 1},
                          .y = {.label = "true positive rate", .min = 0, .max = 1},
                          .diagonal = true});
  EXPECT_EQ(markup_problem(svg), "");
  EXPECT_FALSE(mentions_non_finite(svg));
  EXPECT_EQ(occurrences(svg, "<polyline class=\"series\""), 3u);  // a: two runs, b: one
  EXPECT_EQ(occurrences(svg, "<circle class=\"point\""), 4u);     // a's finite points only
  EXPECT_EQ(occurrences(svg, "class=\"diagonal\""), 1u);
  EXPECT_THAT(svg, HasSubstr("candidate &lt;new&gt;"));
  EXPECT_THAT(svg, HasSubstr(">false positive rate<"));
  EXPECT_THAT(svg, HasSubstr(">0.2<"));  // a tick label
}

TEST(HtmlLineChart, StepSeriesAddsTheCorners) {
  const Series s{.points = {{1, 3}, {2, 1}, {3, 0.5}}, .markers = false, .step = true};
  const std::string svg = line_chart({s});
  EXPECT_EQ(markup_problem(svg), "");
  const auto at = svg.find("<polyline");
  ASSERT_NE(at, std::string::npos);
  const std::string points = attribute(svg.substr(at, svg.find('>', at) - at), "points");
  EXPECT_EQ(occurrences(points, ","), 5u);  // 3 points and 2 corners
  EXPECT_EQ(occurrences(svg, "class=\"diagonal\""), 0u);
}

TEST(HtmlLineChart, EmptyAndAllNaNSeriesStayValid) {
  const std::string svg = line_chart({{.name = "n", .points = {{kNaN, kNaN}, {1, kNaN}}}, {}});
  EXPECT_EQ(markup_problem(svg), "");
  EXPECT_FALSE(mentions_non_finite(svg));
  EXPECT_EQ(occurrences(svg, "<polyline"), 0u);
  EXPECT_EQ(occurrences(svg, "<circle"), 0u);
  EXPECT_EQ(markup_problem(line_chart({})), "");
}

TEST(HtmlHeatMap, OneCellPerEntryColouredByValue) {
  const std::vector<std::string> labels = {"T-shirt", "Shirt", "a<b"};
  const std::vector<std::vector<double>> confusion = {{50, 8, 0}, {12, 30, 1}, {0, 2, 40}};
  const std::string svg = heat_map(labels, labels, confusion,
                                   {.title = "confusion",
                                    .row_title = "truth",
                                    .column_title = "predicted",
                                    .diagonal_accent = true});
  EXPECT_EQ(markup_problem(svg), "");
  EXPECT_EQ(occurrences(svg, "<rect class=\"cell"), 9u);
  EXPECT_EQ(occurrences(svg, "class=\"cell accent\""), 3u);
  EXPECT_THAT(svg, HasSubstr("fill=\"#08306b\""));  // 50, the largest: the darkest
  EXPECT_THAT(svg, HasSubstr("fill=\"#f7fbff\""));  // 0, the smallest: white
  EXPECT_THAT(svg, HasSubstr(">12<"));
  EXPECT_THAT(svg, HasSubstr("a&lt;b"));
  EXPECT_THAT(svg, HasSubstr(">truth<"));
  EXPECT_THAT(svg, HasSubstr(">predicted<"));
}

TEST(HtmlHeatMap, NaNAndMissingCellsAreGreyAndSayNA) {
  const std::string svg =
      heat_map({"r1", "r2"}, {"c1", "c2", "c3"}, {{0.5, kNaN, 0.25}, {1.0}});  // r2 is short
  EXPECT_EQ(markup_problem(svg), "");
  EXPECT_FALSE(mentions_non_finite(svg));
  EXPECT_EQ(occurrences(svg, "<rect class=\"cell"), 6u);
  EXPECT_EQ(occurrences(svg, "fill=\"#e0e0e0\""), 3u);
  EXPECT_EQ(occurrences(svg, ">n/a<"), 3u);
  const std::string empty = heat_map({"r"}, {"c"}, {{kNaN}});
  EXPECT_EQ(markup_problem(empty), "");
  EXPECT_FALSE(mentions_non_finite(empty));
}

TEST(HtmlTable, EscapesTextAndMarksNumbers) {
  const std::string t = table({"metric", "a&b"},
                              {{text_cell("x<y"), number_cell(0.5)},
                               {text_cell("z"), number_cell(kNaN)},
                               {html_cell(badge("FAIL", "fail"))}},
                              "caption <1>");
  EXPECT_EQ(markup_problem(t), "");
  EXPECT_EQ(occurrences(t, "<tr>"), 4u);
  EXPECT_THAT(t, HasSubstr("<th>a&amp;b</th>"));
  EXPECT_THAT(t, HasSubstr("<td>x&lt;y</td>"));
  EXPECT_THAT(t, HasSubstr("<td class=\"num\">0.5</td>"));
  EXPECT_THAT(t, HasSubstr("<td class=\"num muted\">n/a</td>"));
  EXPECT_THAT(t, HasSubstr("<span class=\"badge fail\">FAIL</span>"));
  EXPECT_THAT(t, HasSubstr("<caption>caption &lt;1&gt;</caption>"));
}

TEST(HtmlPage, SelfContainedWithContentsAndUniqueAnchors) {
  const std::string chart = bar_chart({{.label = "a", .value = 1}});
  const std::string html =
      page("Report <1>",
           {{.title = "Metrics", .html = figure(chart, "per slice")},
            {.title = "Metrics", .html = paragraph("again & again", "note")},
            {.html = grid({"<p>one</p>", "<p>two</p>"})}},
           {.subtitle_html = facts({{"model", "m<1>"}, {"rows", "10"}}) + badge("PASS", "pass")});
  EXPECT_EQ(markup_problem(html), "");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_THAT(html, HasSubstr("<title>Report &lt;1&gt;</title>"));
  EXPECT_THAT(html, HasSubstr("<section id=\"metrics\">"));
  EXPECT_THAT(html, HasSubstr("<section id=\"metrics-2\">"));
  EXPECT_THAT(html, HasSubstr("<a href=\"#metrics-2\">Metrics</a>"));
  EXPECT_THAT(html, HasSubstr("<dd>m&lt;1&gt;</dd>"));
  EXPECT_THAT(html, HasSubstr("<figcaption>per slice</figcaption>"));
  EXPECT_THAT(html, HasSubstr("<p class=\"note\">again &amp; again</p>"));
  EXPECT_THAT(html, HasSubstr("<style>"));
  EXPECT_THAT(html, Not(HasSubstr("http")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
}

TEST(HtmlMarkupCheck, CatchesBrokenMarkup) {  // the checker the tests above rely on
  EXPECT_EQ(markup_problem("<svg><g></g></svg>"), "");
  EXPECT_THAT(markup_problem("<svg><g></svg>"), HasSubstr("closes <g>"));
  EXPECT_THAT(markup_problem("<p>a<b</p>"), HasSubstr("<b"));
  EXPECT_THAT(markup_problem("<p>a & b</p>"), HasSubstr("bare '&'"));
  EXPECT_THAT(markup_problem("<rect x=\"nan\"/>"), HasSubstr("not numeric"));
  EXPECT_THAT(markup_problem("<rect x=1/>"), HasSubstr("unquoted"));
  EXPECT_THAT(markup_problem("<div>"), HasSubstr("never closed"));
  EXPECT_TRUE(mentions_non_finite("<text>nan</text>"));
  EXPECT_TRUE(mentions_non_finite("<text x=\"-inf\">1</text>"));
  EXPECT_FALSE(mentions_non_finite("<p>information, banana</p>"));
}

}  // namespace
}  // namespace quarry::report
