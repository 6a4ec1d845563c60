#include "harness/bench/effect.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace crossload::bench {
namespace {

TEST(BenchEffect, HodgesLehmannIsTheMedianPairwiseRatio) {
  // Pairwise ratios of {2,4,8} over {1,2,4}: 2,1,.5, 4,2,1, 8,4,2 -> median 2.
  auto e = ratio_effect({1, 2, 4}, {2, 4, 8});
  ASSERT_TRUE(e);
  EXPECT_NEAR(e->ratio, 2.0, 1e-12);
}

TEST(BenchEffect, IntervalFromTheRankedLogRatios) {
  std::vector<double> a, b;
  for (int i = 0; i < 9; ++i) a.push_back(10 + i), b.push_back(20 + 2 * i);
  auto e = ratio_effect(a, b);
  ASSERT_TRUE(e && e->bounded());
  EXPECT_NEAR(e->ratio, 2.0, 1e-12);  // b is exactly a doubled
  // 9 x 9: k = floor(40.5 - 1.96 * sqrt(81 * 19 / 12)) = 18, the exact table's C(0.05) + 1.
  std::vector<double> logs;
  for (double x : a)
    for (double y : b) logs.push_back(std::log(y / x));
  std::sort(logs.begin(), logs.end());
  EXPECT_NEAR(e->low, std::exp(logs[17]), 1e-12);
  EXPECT_NEAR(e->high, std::exp(logs[81 - 18]), 1e-12);
  EXPECT_LT(e->low, 2.0);
  EXPECT_GT(e->high, 2.0);
}

TEST(BenchEffect, TooFewSamplesGiveNoBoundedInterval) {
  auto e = ratio_effect({1, 2, 3}, {2, 3, 4});
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->bounded());
}

TEST(BenchEffect, EmptyOrNonPositiveTimesHaveNoEffect) {
  EXPECT_FALSE(ratio_effect({}, {1}));
  EXPECT_FALSE(ratio_effect({1, 0}, {1}));
}

}  // namespace
}  // namespace crossload::bench
