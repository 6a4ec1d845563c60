// Reference values from scipy.stats.mannwhitneyu(current, baseline, alternative="greater").
#include "reports/mann_whitney.h"

#include <gtest/gtest.h>

namespace crossload {
namespace {

TEST(MannWhitney, SmallSamplesWithoutTiesUseTheExactDistribution) {
  auto r = mann_whitney_greater({1.0, 1.3, 0.9, 1.05, 1.15, 0.95}, {1.2, 1.5, 1.1, 1.9, 1.4, 1.7});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->exact);
  EXPECT_DOUBLE_EQ(r->u, 33);
  EXPECT_NEAR(r->p_value, 0.007575757575757576, 1e-12);  // method="exact"
}

TEST(MannWhitney, CompleteSeparationOfThreeAgainstThreeIsOneIn20) {
  auto r = mann_whitney_greater({1, 2, 3}, {4, 5, 6});
  EXPECT_NEAR(r->p_value, 1.0 / 20, 1e-12);
  EXPECT_NEAR(mann_whitney_greater({4, 5, 6}, {1, 2, 3})->p_value, 1.0, 1e-12);  // the other direction
}

TEST(MannWhitney, TiesUseTheNormalApproximationWithTieCorrection) {
  auto r = mann_whitney_greater({1, 2, 2, 3, 3, 3, 4, 4}, {2, 2, 3, 3, 4, 5, 5, 6});
  EXPECT_FALSE(r->exact);
  EXPECT_DOUBLE_EQ(r->u, 44);
  EXPECT_NEAR(r->p_value, 0.1074734775847635, 1e-9);  // method="asymptotic", use_continuity=True
}

TEST(MannWhitney, LargeSamplesUseTheNormalApproximation) {
  std::vector<double> b{10.346, 10.822, 10.33, 8.697, 10.905, 10.446, 9.463, 10.581, 10.365, 10.294,
                        10.028, 10.547, 9.264, 9.837, 9.518, 10.599, 10.04, 9.708, 9.218, 9.743,
                        10.008, 9.724, 11.294, 11.007, 7.289, 8.111, 9.825, 9.578, 10.214, 10.217};
  std::vector<double> c{13.118, 9.888, 10.622, 13.043, 11.647, 11.663, 10.486, 9.352, 11.167, 11.109,
                        9.773, 10.317, 10.928, 10.055, 10.902, 11.095, 11.036, 10.494, 11.594, 11.891,
                        11.321, 10.182, 11.732, 10.499, 11.879, 9.928, 11.914, 10.98, 9.751, 10.686};
  auto r = mann_whitney_greater(b, c);
  EXPECT_FALSE(r->exact);
  EXPECT_DOUBLE_EQ(r->u, 724);
  EXPECT_NEAR(r->p_value, 2.6325044893520866e-05, 1e-9);
}

TEST(MannWhitney, IdenticalSamplesAreNoEvidence) {
  EXPECT_DOUBLE_EQ(mann_whitney_greater({2, 2, 2}, {2, 2, 2})->p_value, 1.0);
  EXPECT_FALSE(mann_whitney_greater({}, {1.0}));
}

}  // namespace
}  // namespace crossload
