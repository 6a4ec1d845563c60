#include "harness/bench/effect.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace crossload::bench {

namespace {

// The standard normal quantile for a two-sided confidence level, by bisection on erfc (the
// levels used are few and this keeps the file free of tables).
double z_two_sided(double confidence) {
  double tail = (1 - confidence) / 2, lo = 0, hi = 10;
  for (int i = 0; i < 100; ++i) {
    double mid = (lo + hi) / 2;
    (0.5 * std::erfc(mid / std::sqrt(2.0)) > tail ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

double median_sorted(const std::vector<double>& v) {
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

bool RatioEffect::bounded() const { return low > 0 && std::isfinite(high); }

std::optional<RatioEffect> ratio_effect(const std::vector<double>& baseline, const std::vector<double>& current,
                                        double confidence) {
  if (baseline.empty() || current.empty()) return std::nullopt;
  std::vector<double> logs;  // every pairwise log(current / baseline), sorted
  for (double b : baseline)
    for (double c : current) {
      if (!(b > 0) || !(c > 0)) return std::nullopt;
      logs.push_back(std::log(c) - std::log(b));
    }
  std::sort(logs.begin(), logs.end());
  RatioEffect e;
  e.confidence = confidence;
  e.ratio = std::exp(median_sorted(logs));
  // Moses: the k-th smallest and k-th largest pairwise difference bound the interval, k from the
  // Mann-Whitney statistic's normal approximation (Hollander & Wolfe, 4.3).
  double m = static_cast<double>(baseline.size()), n = static_cast<double>(current.size()), mn = m * n;
  double k = std::floor(mn / 2 - z_two_sided(confidence) * std::sqrt(mn * (m + n + 1) / 12));
  if (k < 1) {
    e.high = std::numeric_limits<double>::infinity();
    return e;
  }
  auto ki = static_cast<std::size_t>(k);
  e.low = std::exp(logs[ki - 1]);
  e.high = std::exp(logs[logs.size() - ki]);
  return e;
}

}  // namespace crossload::bench
