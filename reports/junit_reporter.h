#pragma once
#include "reports/reporter.h"

namespace crossload {

// junit.xml: what every CI system shows natively. One testsuite per producer → consumer pair,
// one testcase per cell (named fixture/format); MISMATCH, LOAD_ERROR, PREDICT_ERROR, CRASH and
// TIMEOUT are failures with their message, UNSUPPORTED, ENV_UNAVAILABLE, BLOCKED and XFAIL are
// skipped with their reason, everything else passes.
class JunitReporter : public Reporter {
 public:
  std::string_view name() const override { return "junit"; }
  std::string_view default_file() const override { return "junit.xml"; }
  std::unique_ptr<ReportSink> sink(const RunData& head, std::ostream& out) const override;
};

}  // namespace crossload
