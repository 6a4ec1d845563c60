#pragma once
#include "reports/reporter.h"

namespace crossload {

// results.json: the documented, versioned schema users script against (README, "results.json").
class JsonReporter : public Reporter {
 public:
  std::string_view name() const override { return "json"; }
  std::string_view default_file() const override { return "results.json"; }
  // Written cell by cell; the bytes are those of the whole document dumped at once.
  std::unique_ptr<ReportSink> sink(const RunData& head, std::ostream& out) const override;
};

}  // namespace crossload
