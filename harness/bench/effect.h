#pragma once
// How much slower or faster one set of timings is than another, with its uncertainty: the
// Hodges-Lehmann estimate of the ratio (the median of all pairwise ratios current/baseline) and
// the distribution-free confidence interval around it (Moses' interval on the pairwise log
// ratios, the one that inverts the Mann-Whitney test). A ratio below 1: current is faster.
#include <optional>
#include <vector>

namespace crossload::bench {

struct RatioEffect {
  double ratio = 1;             // Hodges-Lehmann estimate of current / baseline
  double low = 0, high = 0;     // the confidence interval; 0 and +inf when the samples are too few
  double confidence = 0.95;
  bool bounded() const;         // the interval is finite (enough samples for this confidence)
};

// nullopt when a side is empty or holds a time that is not positive.
std::optional<RatioEffect> ratio_effect(const std::vector<double>& baseline, const std::vector<double>& current,
                                        double confidence = 0.95);

}  // namespace crossload::bench
