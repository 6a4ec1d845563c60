#pragma once
#include <cstddef>
#include <optional>

#include "reports/diff.h"
#include "reports/reporter.h"

namespace crossload {

// report.html: one self-contained page (inline CSS, SVG and a few lines of script; nothing
// fetched) that a person takes in at a glance: counts, regressions against a baseline first,
// a compatibility heatmap per format whose cells open their details, cost charts, the
// persistence guide's table filled with this run's evidence, and the environments.
class HtmlReporter : public Reporter {
 public:
  // Above this many cells the sink draws the aggregated page (docs/reports.md): a page of every
  // cell holds them all in memory (about 14 KB each) and grows to ~1.2 KB of HTML per cell.
  static constexpr std::size_t kWholePageCells = 20000;

  HtmlReporter() = default;
  // With a diff against a baseline, its regressions come first on the page. A caller holding a
  // baseline's name builds it as
  //   diff_runs(*read_results(baseline), ResultsSource{"this run", data}, DiffOptions{})
  // (`crossload diff --html` does; `crossload run --baseline` can).
  explicit HtmlReporter(DiffResult baseline_diff) : diff_(std::move(baseline_diff)) {}
  // A lower limit, so tests draw the aggregated page from a few cells.
  HtmlReporter(std::optional<DiffResult> baseline_diff, std::size_t whole_page_limit)
      : diff_(std::move(baseline_diff)), whole_page_limit_(whole_page_limit) {}

  std::string_view name() const override { return "html"; }
  std::string_view default_file() const override { return "report.html"; }
  std::unique_ptr<ReportSink> sink(const RunData& head, std::ostream& out) const override;
  // The page from the whole run at once (what the sink does once every cell has passed).
  void render(const RunData& data, std::ostream& out) const;

 private:
  std::optional<DiffResult> diff_;
  std::size_t whole_page_limit_ = kWholePageCells;
};

}  // namespace crossload
