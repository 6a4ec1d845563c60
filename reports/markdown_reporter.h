#pragma once
#include "reports/reporter.h"

namespace crossload {

// report.md: a summary that reads well on its own and fits a GitHub job summary.
class MarkdownReporter : public Reporter {
 public:
  std::string_view name() const override { return "md"; }
  std::string_view default_file() const override { return "report.md"; }
  std::unique_ptr<ReportSink> sink(const RunData& head, std::ostream& out) const override;
};

}  // namespace crossload
