#include "harness/bench/compare.h"

#include <gtest/gtest.h>

#include "harness/bench/test_support.h"

namespace crossload::bench {
namespace {

using testing::around;

std::map<std::string, Series> one(const std::string& name, std::vector<double> v) { return {{name, {std::move(v), "", ""}}}; }

Comparison only_row(const std::vector<Comparison>& rows) {
  EXPECT_EQ(rows.size(), 1u);
  return rows.empty() ? Comparison{} : rows[0];
}

TEST(BenchCompare, ASignificantSlowdownPastTheThresholdIsFlagged) {
  auto rows = compare_series(one("load", around(1.0)), one("load", around(1.3)), {});
  Comparison r = only_row(rows);
  EXPECT_EQ(r.change, Change::kSlower);
  EXPECT_NEAR(r.relative, 0.3, 1e-9);
  EXPECT_LT(r.p_slower, 0.001);
  EXPECT_TRUE(any_slower(rows));
  EXPECT_NE(render_comparison(rows, {}).find("SLOWER"), std::string::npos);
}

TEST(BenchCompare, ASignificantChangeBelowTheThresholdIsNot) {
  auto rows = compare_series(one("load", around(1.0)), one("load", around(1.03)), {.threshold = 0.05});
  EXPECT_EQ(only_row(rows).change, Change::kSame);
  EXPECT_FALSE(any_slower(rows));
}

TEST(BenchCompare, OverlappingSamplesAreNotSignificant) {
  std::vector<double> a = {1, 5, 2, 6, 3, 7, 4, 8, 9}, b = {1.5, 5.5, 2.5, 6.5, 3.5, 7.5, 4.5, 8.5, 9.5};
  EXPECT_EQ(only_row(compare_series(one("x", a), one("x", b), {})).change, Change::kSame);
}

TEST(BenchCompare, FasterFewAndFailedAreSaidAndNeverFlagged) {
  EXPECT_EQ(only_row(compare_series(one("x", around(1.0)), one("x", around(0.5)), {})).change, Change::kFaster);
  EXPECT_EQ(only_row(compare_series(one("x", around(1.0, 5)), one("x", around(2.0, 5)), {})).change, Change::kTooFew);
  std::map<std::string, Series> failed = {{"x", {{}, "measure: crash", ""}}};
  auto rows = compare_series(one("x", around(1.0)), failed, {});
  EXPECT_EQ(only_row(rows).change, Change::kFailed);
  EXPECT_FALSE(any_slower(rows));
}

TEST(BenchCompare, TheEmulationLabelIsPrinted) {
  const std::string qemu = "under QEMU emulation: absolute times are the emulator's";
  std::map<std::string, Series> a = {{"load/s390x", {around(1.0), "", qemu}}}, b = {{"load/s390x", {around(1.0), "", qemu}}};
  auto rows = compare_series(a, b, {});
  EXPECT_EQ(only_row(rows).label, qemu);
  std::string text = render_comparison(rows, {});
  EXPECT_NE(text.find("load/s390x  [" + qemu + "]"), std::string::npos) << text;
  EXPECT_NE(text.find("1 benchmarks carry a label"), std::string::npos) << text;
  std::map<std::string, Series> native = {{"load/s390x", {around(1.0), "", ""}}};
  EXPECT_EQ(only_row(compare_series(a, native, {})).label, "baseline: " + qemu);
  EXPECT_EQ(render_comparison(compare_series(native, native, {}), {}).find("label"), std::string::npos);
}

TEST(BenchCompare, BenchmarksOnOneSideOnlyAreListed) {
  auto rows = compare_series(one("old", around(1.0)), one("new", around(1.0)), {});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].change, Change::kOnlyInBaseline);
  EXPECT_EQ(rows[1].change, Change::kOnlyInCurrent);
}

}  // namespace
}  // namespace crossload::bench
