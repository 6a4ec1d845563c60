#include "reports/svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "reports/markup.h"

namespace crossload {

namespace {

struct Layout {
  int width = 720, label_width = 150, text_width = 110;
  int group_height = 22, bar_height = 14, bar_gap = 4, margin = 6;
  int bar_area() const { return width - label_width - text_width; }
};

int chart_height(const BarChart& c, const Layout& l) {
  int h = 2 * l.margin;
  for (const auto& g : c.groups) h += l.group_height + static_cast<int>(g.bars.size()) * (l.bar_height + l.bar_gap);
  return h;
}

double max_value(const BarChart& c) {
  double m = 0;
  for (const auto& g : c.groups)
    for (const auto& b : g.bars)
      if (std::isfinite(b.value)) m = std::max(m, b.value);
  return m;
}

// A value > 0 never disappears: one pixel says "small" where zero pixels would say "absent".
double bar_length(double value, double max, int area) {
  if (!(value > 0) || !(max > 0)) return 0;
  return std::max(1.0, value / max * area);
}

std::string render_bar(const Bar& b, int y, double max, const Layout& l) {
  double len = bar_length(b.value, max, l.bar_area());
  int text_y = y + l.bar_height - 3;
  return fmt::format(
      "<g class=\"bar\"><title>{}</title>"
      "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>"
      "<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>"
      "<text x=\"{:.1f}\" y=\"{}\" class=\"value\">{}</text></g>\n",
      html_escape(b.tooltip), l.label_width - 6, text_y, html_escape(b.label), l.label_width, y, len, l.bar_height,
      html_escape(b.color), l.label_width + len + 4, text_y, html_escape(b.text));
}

}  // namespace

std::string render_bar_chart(const BarChart& c) {
  Layout l;
  double max = max_value(c);
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-label=\"{0}\" "
      "viewBox=\"0 0 {1} {2}\" width=\"{1}\" height=\"{2}\" font-size=\"11\">\n<title>{0}</title>\n",
      html_escape(c.title), l.width, chart_height(c, l));
  int y = l.margin;
  for (const auto& g : c.groups) {
    svg += fmt::format("<text x=\"0\" y=\"{}\" class=\"group\" font-weight=\"bold\">{}</text>\n", y + 15,
                       html_escape(g.label));
    y += l.group_height;
    for (const auto& b : g.bars) {
      svg += render_bar(b, y, max, l);
      y += l.bar_height + l.bar_gap;
    }
  }
  svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#888\"/>\n", l.label_width, l.margin,
                     y);
  return svg + "</svg>\n";
}

}  // namespace crossload
