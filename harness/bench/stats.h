#pragma once
// Summaries of repeated timings: medians and quartiles, which a noisy machine's long right tails
// move far less than means.
#include <cstddef>
#include <vector>

namespace crossload::bench {

struct Summary {
  std::size_t n = 0;
  double median = 0, q1 = 0, q3 = 0, iqr = 0;
  double mean = 0, stddev = 0, cv = 0;  // cv: stddev / mean (0 when the mean is 0)
  double min = 0, max = 0;
};

// Quartiles by linear interpolation between order statistics (numpy's default); all zero
// for no samples.
Summary summarize(std::vector<double> samples);

// The q-quantile (0..1) of sorted samples, interpolated; 0 for none.
double quantile_sorted(const std::vector<double>& sorted, double q);

}  // namespace crossload::bench
