// What the browser tests check on a page of charts (tests/report/webdriver.hpp drives the
// browser): how much of the data each canvas drew.
//
//   const auto marks = quarry::test::canvas_marks(browser);   // {"chart-history-0": 5321, ...}
//   for (const auto& [id, painted] : marks.items()) EXPECT_GT(painted.get<int>(), 2000) << id;
#pragma once

#include <nlohmann/json.hpp>

#include "tests/report/webdriver.hpp"

namespace quarry::test {

/// For each visible <canvas> (its section not hidden) of the open page, by id: how many of its
/// pixels are painted in colour outside the chart's legend (not transparent, and not grey: axes,
/// grid lines and text are grey; the data's points, lines, bars and cells are coloured). A chart
/// that drew no data has none; one point of radius 3 is about 28.
inline nlohmann::json canvas_marks(WebDriver& browser) {
  return browser.execute(R"(
    const out = {};
    for (const c of document.querySelectorAll('canvas')) {
      if (c.closest('[hidden]')) continue;
      const chart = Chart.getChart(c);
      const legend = chart && chart.legend && chart.options.plugins.legend.display !== false
          ? chart.legend : {left: 0, right: -1, top: 0, bottom: -1};
      const ratio = c.width / c.clientWidth;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        const x = (i / 4) % c.width / ratio, y = Math.floor(i / 4 / c.width) / ratio;
        if (x >= legend.left && x <= legend.right && y >= legend.top && y <= legend.bottom) continue;
        const chroma = Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]);
        n += d[i + 3] > 0 && chroma > 40;
      }
      out[c.id] = n;
    }
    return out;)");
}

}  // namespace quarry::test
