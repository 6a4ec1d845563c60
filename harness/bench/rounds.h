#pragma once
// The order a bench measures in, and what its rounds say together. The cases of one fixture take
// turns: round 1 of A, of B, ..., then round 2 of A, of B, ... (ABAB, never all of A then all of
// B), each round taking an even share of the repetitions. A comparison of two cases' timings is
// `inconclusive` when a round of either ran on a busy machine (machine_load.h) or when the rounds
// disagree on which case is faster; otherwise its confidence interval decides.
#include <string>
#include <vector>

#include "harness/bench/effect.h"
#include "harness/bench/records.h"

namespace crossload::bench {

// How many of `total` repetitions round `round` (0-based) of `rounds` takes: even shares, the
// first `total % rounds` rounds one more.
int share_of(int total, int rounds, int round);

struct Turn {
  int round = 0;
  std::size_t item = 0;  // which case of the fixture
  int warm = 0, cold = 0;  // repetitions in this turn
};

// Every turn, in the order they run: all items of round 0, then all of round 1, ...
std::vector<Turn> interleaved(std::size_t items, int rounds, int repetitions, int cold_repetitions);

// Two rounds disagree when one puts the current case faster than the baseline and another slower,
// each by more than this share (rounds closer to equal than that take no side).
inline constexpr double kRoundMargin = 0.02;

enum class Claimed { kFaster, kSlower };  // what a claim says the current case is

struct TimingVerdict {
  std::string status;  // "confirmed" | "not confirmed" | "inconclusive" | "not measured"
  std::string why;     // inconclusive: what was busy or which rounds disagreed
  RatioEffect effect;  // current / baseline, with its 95% interval
  std::vector<double> round_ratios;  // each round's own Hodges-Lehmann ratio
  double p_value = 1;  // one-sided Mann-Whitney, in the claimed direction
  double median_baseline = 0, median_current = 0;
};

// `metric`'s samples of `current` against `baseline`'s. A case without rounds counts as one round
// on a machine of unknown load.
TimingVerdict judge_timing(const BenchCase& baseline, const BenchCase& current, const char* metric, Claimed claimed);

// "1.23x (95% CI 1.10-1.31)"
std::string effect_text(const RatioEffect& e);
nlohmann::json to_json(const TimingVerdict& t);

}  // namespace crossload::bench
