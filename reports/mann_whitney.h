#pragma once
// The Mann-Whitney U test, one-sided: do the current samples tend to be larger than the
// baseline's? It needs no normality, which timing samples (long right tails) never have.
#include <optional>
#include <vector>

namespace crossload {

struct MannWhitney {
  double u = 0;        // pairs (baseline b, current c) with c > b, ties counting one half
  double p_value = 1;  // P(U >= u) if both came from one distribution
  bool exact = false;  // exact distribution (small samples without ties) or normal approximation
};

// nullopt when either side has no sample.
std::optional<MannWhitney> mann_whitney_greater(const std::vector<double>& baseline,
                                                const std::vector<double>& current);

}  // namespace crossload
