#include "harness/bench/rounds.h"

#include <gtest/gtest.h>

#include <limits>

#include "harness/bench/test_support.h"

namespace crossload::bench {
namespace {

using testing::around;
using testing::busy_machine;
using testing::in_rounds;

TEST(BenchRounds, RepetitionsAreSharedEvenlyFirstRoundsTakeTheRest) {
  EXPECT_EQ(share_of(9, 3, 0), 3);
  EXPECT_EQ(share_of(10, 3, 0), 4);
  EXPECT_EQ(share_of(10, 3, 1), 3);
  EXPECT_EQ(share_of(2, 3, 2), 0);  // two cold starts over three rounds: none in the last
  int total = 0;
  for (int r = 0; r < 4; ++r) total += share_of(11, 4, r);
  EXPECT_EQ(total, 11);
}

TEST(BenchRounds, CasesTakeTurnsRoundByRound) {
  auto turns = interleaved(2, 3, 9, 3);
  ASSERT_EQ(turns.size(), 6u);
  std::vector<std::pair<int, std::size_t>> order;
  for (const auto& t : turns) order.emplace_back(t.round, t.item);
  // A B A B A B: never all of A then all of B.
  EXPECT_EQ(order, (std::vector<std::pair<int, std::size_t>>{{0, 0}, {0, 1}, {1, 0}, {1, 1}, {2, 0}, {2, 1}}));
  for (const auto& t : turns) {
    EXPECT_EQ(t.warm, 3);
    EXPECT_EQ(t.cold, 1);
  }
}

// Three rounds of three loads each, `current` taking `ratios[r]` times as long as `baseline` in round r.
std::pair<BenchCase, BenchCase> pair_with(const std::vector<double>& ratios, std::vector<MachineLoad> loads = {}) {
  std::vector<std::vector<double>> a, b;
  for (double r : ratios) {
    a.push_back(around(0.010, 3));
    b.push_back(around(0.010 * r, 3));
  }
  return {in_rounds("f", "a", a, {}, loads), in_rounds("f", "b", b, {}, loads)};
}

TEST(BenchRounds, AgreeingQuietRoundsLetTheIntervalDecide) {
  auto [a, b] = pair_with({0.5, 0.52, 0.48});
  TimingVerdict t = judge_timing(a, b, kWarmLoad, Claimed::kFaster);
  EXPECT_EQ(t.status, "confirmed");
  EXPECT_LT(t.effect.high, 1);
  EXPECT_EQ(t.round_ratios.size(), 3u);
  EXPECT_EQ(judge_timing(a, b, kWarmLoad, Claimed::kSlower).status, "not confirmed");
}

TEST(BenchRounds, RoundsThatDisagreeMakeItInconclusive) {
  // Pooled, b looks faster; but one round had it 20% slower.
  auto [a, b] = pair_with({0.5, 0.5, 1.2});
  TimingVerdict t = judge_timing(a, b, kWarmLoad, Claimed::kFaster);
  EXPECT_EQ(t.status, "inconclusive");
  EXPECT_NE(t.why.find("rounds disagree"), std::string::npos) << t.why;
  EXPECT_NE(t.why.find("1.20x"), std::string::npos) << t.why;
}

TEST(BenchRounds, RoundsWithinTheMarginDoNotDisagree) {
  auto [a, b] = pair_with({1.01, 0.99, 1.0});
  TimingVerdict t = judge_timing(a, b, kWarmLoad, Claimed::kFaster);
  EXPECT_EQ(t.status, "not confirmed");
  EXPECT_TRUE(t.why.empty());
}

TEST(BenchRounds, ABusyRoundMakesItInconclusive) {
  auto [a, b] = pair_with({0.5, 0.5, 0.5}, {MachineLoad{0.4, 0.4, 0.4, 0, 50, 2, true}, busy_machine()});
  TimingVerdict t = judge_timing(a, b, kWarmLoad, Claimed::kFaster);
  EXPECT_EQ(t.status, "inconclusive");
  EXPECT_NE(t.why.find("busy during round 2 of f/a: load average 7.70 > 2 CPUs"), std::string::npos) << t.why;
}

TEST(BenchRounds, MissingSeriesIsNotMeasured) {
  BenchCase a = BenchCase::of("host", "f", "a"), b = BenchCase::of("host", "f", "b");
  EXPECT_EQ(judge_timing(a, b, kWarmLoad, Claimed::kFaster).status, "not measured");
}

TEST(BenchRounds, EffectTextGivesTheInterval) {
  RatioEffect e{1.234, 1.1, 1.31, 0.95};
  EXPECT_EQ(effect_text(e), "1.23x (95% CI 1.10-1.31)");
  EXPECT_EQ(effect_text(RatioEffect{0.9, 0, std::numeric_limits<double>::infinity(), 0.95}),
            "0.90x (too few samples for a 95% interval)");
}

}  // namespace
}  // namespace crossload::bench
