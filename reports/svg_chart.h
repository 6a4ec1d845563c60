#pragma once
// Inline SVG bar charts for the HTML report: no script, no fonts or files to fetch, so the
// report stays one file that renders offline and prints.
#include <string>
#include <vector>

namespace crossload {

struct Bar {
  std::string label;   // left of the bar
  double value = 0;    // drawn length, linear from zero
  std::string text;    // right of the bar ("1.2 ms")
  std::string color;   // CSS colour
  std::string tooltip; // hover text
};

struct BarGroup {
  std::string label;  // a heading row above its bars
  std::vector<Bar> bars;
};

struct BarChart {
  std::string title;  // aria-label and <title>
  std::vector<BarGroup> groups;
};

// Horizontal bars, grouped; one scale for the whole chart so groups compare.
std::string render_bar_chart(const BarChart& chart);

}  // namespace crossload
