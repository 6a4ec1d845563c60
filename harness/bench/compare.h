#pragma once
// `crossload bench compare A.json B.json`: per benchmark, how B's repetitions moved against A's,
// judged with a one-sided Mann-Whitney U test (no normality needed; timing tails are long).
// A change counts only when it is both significant (p < alpha) and larger than the threshold.
#include <optional>
#include <string>
#include <vector>

#include "harness/bench/gbench_json.h"

namespace crossload::bench {

// Fewer repetitions than this on either side and the test cannot say much: no verdict.
inline constexpr std::size_t kMinRepetitions = 9;

enum class Change { kSlower, kFaster, kSame, kTooFew, kFailed, kOnlyInBaseline, kOnlyInCurrent };
const char* to_string(Change c);

struct CompareOptions {
  double threshold = 0.05;  // relative change of the median (0.05: 5 %)
  double alpha = 0.05;
};

struct Comparison {
  std::string name;
  Change change = Change::kSame;
  double baseline_median = 0, current_median = 0;  // seconds
  double relative = 0;                              // current / baseline - 1
  double p_slower = 1, p_faster = 1;                // one-sided Mann-Whitney p-values
  std::size_t baseline_n = 0, current_n = 0;
  std::string note;                                 // an error message, a missing side
  std::string label;  // the benchmark's label (QEMU emulation: its times are the emulator's)
};

std::vector<Comparison> compare_series(const std::map<std::string, Series>& baseline,
                                       const std::map<std::string, Series>& current, const CompareOptions& o);
bool any_slower(const std::vector<Comparison>& rows);

// A plain-text table, one row per benchmark, slow-downs first.
std::string render_comparison(const std::vector<Comparison>& rows, const CompareOptions& o);

}  // namespace crossload::bench
