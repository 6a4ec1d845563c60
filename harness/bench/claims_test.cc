#include "harness/bench/claims.h"

#include <gtest/gtest.h>

#include "harness/bench/test_support.h"

namespace crossload::bench {
namespace {

using testing::around;
using testing::make_case;
using testing::results_of;

const Verdict& find(const std::vector<Verdict>& v, const std::string& id) {
  for (const auto& x : v)
    if (x.id == id) return x;
  static Verdict none;
  ADD_FAILURE() << "no verdict " << id;
  return none;
}

TEST(BenchClaims, Protocol5ConfirmedWhenFasterAndLeaner) {
  auto r = results_of({make_case(kLargeFixture, "pickle-p4", around(0.030), {{kRssGrowth, 80e6}}),
                       make_case(kLargeFixture, "pickle-p5", around(0.015), {{kRssGrowth, 40e6}})});
  auto verdicts = judge_claims(r);
  const Verdict& v = find(verdicts, "protocol5");
  EXPECT_EQ(v.status, "confirmed");
  EXPECT_NEAR(v.numbers["load_speedup"].get<double>(), 2.0, 1e-9);
  EXPECT_NEAR(v.numbers["memory_ratio"].get<double>(), 2.0, 1e-9);
  EXPECT_NE(v.measured.find("loads in 0.50x (95% CI"), std::string::npos) << v.measured;
  EXPECT_NEAR(v.numbers["timing"]["ratio"].get<double>(), 0.5, 1e-9);
  EXPECT_LT(v.numbers["timing"]["ci_high"].get<double>(), 1);
}

TEST(BenchClaims, Protocol5InconclusiveOnABusyMachine) {
  std::vector<MachineLoad> loads = {testing::busy_machine()};
  auto r = results_of({testing::in_rounds(kLargeFixture, "pickle-p4", {around(0.030, 3), around(0.030, 3)},
                                          {{kRssGrowth, 80e6}}, loads),
                       testing::in_rounds(kLargeFixture, "pickle-p5", {around(0.015, 3), around(0.015, 3)},
                                          {{kRssGrowth, 40e6}}, loads)});
  const Verdict v = find(judge_claims(r), "protocol5");
  EXPECT_EQ(v.status, "inconclusive");
  EXPECT_NE(v.measured.find("inconclusive: the machine was busy during round 1"), std::string::npos) << v.measured;
  EXPECT_EQ(v.numbers["timing"]["status"], "inconclusive");
}

TEST(BenchClaims, Protocol5WithMoreMemoryIsNotConfirmedWhateverTheLoad) {
  std::vector<MachineLoad> loads = {testing::busy_machine()};
  auto r = results_of({testing::in_rounds(kLargeFixture, "pickle-p4", {around(0.030, 3), around(0.030, 3)},
                                          {{kRssGrowth, 40e6}}, loads),
                       testing::in_rounds(kLargeFixture, "pickle-p5", {around(0.015, 3), around(0.015, 3)},
                                          {{kRssGrowth, 80e6}}, loads)});
  EXPECT_EQ(find(judge_claims(r), "protocol5").status, "not confirmed");
}

TEST(BenchClaims, CompressionInconclusiveWhenRoundsDisagree) {
  auto r = results_of({testing::in_rounds(kCodecFixture, "joblib", {around(0.1, 3), around(0.1, 3), around(0.1, 3)},
                                          {{kSizeBytes, 1000}}),
                       testing::in_rounds(kCodecFixture, "joblib-zlib-3", {around(0.2, 3), around(0.2, 3), around(0.09, 3)},
                                          {{kSizeBytes, 300}})});
  const Verdict v = find(judge_claims(r), "compression/zlib");
  EXPECT_EQ(v.status, "inconclusive");
  EXPECT_NE(v.measured.find("rounds disagree"), std::string::npos) << v.measured;
}

TEST(BenchClaims, CompressionIsJudgedOnTheLargeForest) {
  EXPECT_STREQ(kCodecFixture, "large_extra_trees_regressor");
  bool planned = false;
  for (const auto& item : claims_plan()) planned = planned || item.fixture == kCodecFixture;
  EXPECT_TRUE(planned);
}

TEST(BenchClaims, Protocol5NotConfirmedWhenNoFaster) {
  auto r = results_of({make_case(kLargeFixture, "pickle-p4", around(0.015), {{kRssGrowth, 80e6}}),
                       make_case(kLargeFixture, "pickle-p5", around(0.015), {{kRssGrowth, 40e6}})});
  EXPECT_EQ(find(judge_claims(r), "protocol5").status, "not confirmed");
}

TEST(BenchClaims, MmapSharingNeedsKLoadersBelowOneCopy) {
  auto shared = results_of({make_case(kLargeFixture, "joblib", around(0.01), {{kPssGrowthTotal, 160e6}, {kPssProcesses, 4}}),
                            make_case(kLargeFixture, "joblib-mmap", around(0.01), {{kPssGrowthTotal, 8e6}, {kPssProcesses, 4}})});
  EXPECT_EQ(find(judge_claims(shared), "mmap_sharing").status, "confirmed");
  auto copied = results_of({make_case(kLargeFixture, "joblib", around(0.01), {{kPssGrowthTotal, 160e6}, {kPssProcesses, 4}}),
                            make_case(kLargeFixture, "joblib-mmap", around(0.01), {{kPssGrowthTotal, 150e6}, {kPssProcesses, 4}})});
  EXPECT_EQ(find(judge_claims(copied), "mmap_sharing").status, "not confirmed");
}

TEST(BenchClaims, OnnxRamNeedsHalfThePeak) {
  auto r = results_of({make_case(kSmallFixture, "pickle-p5", around(0.001), {{kColdPeakRss, 120e6}}),
                       make_case(kSmallFixture, "onnx", around(0.001), {{kColdPeakRss, 90e6}})});
  auto verdicts = judge_claims(r);
  const Verdict& v = find(verdicts, "onnx_ram");
  EXPECT_EQ(v.status, "not confirmed");
  EXPECT_NEAR(v.numbers["ratio"].get<double>(), 120.0 / 90.0, 1e-9);
}

TEST(BenchClaims, OnnxRamComparesTheNativeProcessWhenMeasured) {
  BenchCase native = make_case(kSmallFixture, "onnx", around(0.004), {{kColdPeakRss, 25e6}});
  native.native = true;
  auto r = results_of({make_case(kSmallFixture, "pickle-p5", around(0.001), {{kColdPeakRss, 125e6}}),
                       make_case(kSmallFixture, "onnx", around(0.002), {{kColdPeakRss, 64e6}}), native});
  auto verdicts = judge_claims(r);
  const Verdict& v = find(verdicts, "onnx_ram");
  EXPECT_EQ(v.status, "confirmed");
  EXPECT_NEAR(v.numbers["ratio"].get<double>(), 5.0, 1e-9);  // Python + scikit-learn over the native process
  EXPECT_NEAR(v.numbers["ratio_python_onnxruntime"].get<double>(), 64.0 / 25.0, 1e-9);
  EXPECT_NEAR(v.numbers["load_ratio_native_to_python"].get<double>(), 2.0, 1e-9);
  EXPECT_NE(v.measured.find("native C++ consumer"), std::string::npos) << v.measured;
  EXPECT_NE(v.measured.find("25.0 MB"), std::string::npos) << v.measured;
  EXPECT_NE(v.measured.find("5.00x"), std::string::npos) << v.measured;
}

TEST(BenchClaims, OnnxRamWithoutANativeCaseSaysSo) {
  auto r = results_of({make_case(kSmallFixture, "pickle-p5", around(0.001), {{kColdPeakRss, 125e6}}),
                       make_case(kSmallFixture, "onnx", around(0.002), {{kColdPeakRss, 25e6}})});
  auto verdicts = judge_claims(r);
  const Verdict& v = find(verdicts, "onnx_ram");
  EXPECT_EQ(v.status, "confirmed");
  EXPECT_FALSE(v.numbers.contains("peak_rss_native_bytes"));
  EXPECT_NE(v.measured.find("no native C++ consumer"), std::string::npos) << v.measured;
}

TEST(BenchClaims, CompressionPerCodecSizeAndSlowerLoad) {
  auto r = results_of({make_case(kCodecFixture, "joblib", around(0.001), {{kSizeBytes, 1000}}),
                       make_case(kCodecFixture, "joblib-xz-3", around(0.004), {{kSizeBytes, 200}}),
                       make_case(kCodecFixture, "joblib-lz4-3", around(0.001), {{kSizeBytes, 1100}})});
  auto verdicts = judge_claims(r);
  const Verdict& xz = find(verdicts, "compression/xz");
  EXPECT_EQ(xz.status, "confirmed");
  EXPECT_NEAR(xz.numbers["size_ratio"].get<double>(), 0.2, 1e-9);
  EXPECT_EQ(find(verdicts, "compression/lz4").status, "not confirmed");
  EXPECT_EQ(find(verdicts, "compression/gzip").status, "not measured");
  EXPECT_NEAR(xz.numbers["timing"]["ratio"].get<double>(), 4.0, 1e-9);
  EXPECT_GT(xz.numbers["timing"]["ci_low"].get<double>(), 1);
}

TEST(BenchClaims, AFailedCaseLeavesItsClaimNotMeasured) {
  BenchCase p5 = make_case(kLargeFixture, "pickle-p5", around(0.015), {{kRssGrowth, 40e6}});
  p5.failures["rss"] = "crash: Signal";
  auto r = results_of({make_case(kLargeFixture, "pickle-p4", around(0.03), {{kRssGrowth, 80e6}}), p5});
  EXPECT_EQ(find(judge_claims(r), "protocol5").status, "not measured");
}

TEST(BenchClaims, EmulatedEnvironmentsAreMarked) {
  auto r = results_of({}, true);
  for (const auto& v : judge_claims(r)) EXPECT_TRUE(v.emulated) << v.id;
}

}  // namespace
}  // namespace crossload::bench
