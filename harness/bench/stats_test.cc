#include "harness/bench/stats.h"

#include <gtest/gtest.h>

namespace crossload::bench {
namespace {

TEST(BenchStats, MedianAndQuartilesInterpolateLikeNumpy) {
  Summary s = summarize({5, 1, 4, 2, 3});
  EXPECT_EQ(s.n, 5u);
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.q1, 2);
  EXPECT_DOUBLE_EQ(s.q3, 4);
  EXPECT_DOUBLE_EQ(s.iqr, 2);
  EXPECT_DOUBLE_EQ(summarize({1, 2, 3, 4}).median, 2.5);
  EXPECT_DOUBLE_EQ(summarize({1, 2, 3, 4}).q1, 1.75);  // numpy.percentile([1,2,3,4], 25)
}

TEST(BenchStats, SampleStddevAndCvAsGoogleBenchmark) {
  Summary s = summarize({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_DOUBLE_EQ(s.mean, 5);
  EXPECT_NEAR(s.stddev, 2.138089935, 1e-9);  // n - 1 in the denominator
  EXPECT_NEAR(s.cv, 2.138089935 / 5, 1e-9);
  EXPECT_DOUBLE_EQ(s.min, 2);
  EXPECT_DOUBLE_EQ(s.max, 9);
}

TEST(BenchStats, EmptyAndSingleSampleAreDefined) {
  EXPECT_EQ(summarize({}).n, 0u);
  EXPECT_DOUBLE_EQ(summarize({}).median, 0);
  Summary one = summarize({3});
  EXPECT_DOUBLE_EQ(one.median, 3);
  EXPECT_DOUBLE_EQ(one.stddev, 0);
  EXPECT_DOUBLE_EQ(one.iqr, 0);
}

}  // namespace
}  // namespace crossload::bench
