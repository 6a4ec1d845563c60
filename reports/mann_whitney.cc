#include "reports/mann_whitney.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace crossload {

namespace {

// Beyond this the exact table costs more than it is worth and the normal approximation is good.
constexpr std::size_t kExactLimit = 25;

struct Ranked {
  double rank_sum_current = 0;
  double tie_term = 0;  // sum of t^3 - t over groups of t tied values
};

Ranked rank(const std::vector<double>& baseline, const std::vector<double>& current) {
  std::vector<std::pair<double, bool>> all;  // value, is_current
  for (double v : baseline) all.emplace_back(v, false);
  for (double v : current) all.emplace_back(v, true);
  std::sort(all.begin(), all.end());
  Ranked r;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j].first == all[i].first) ++j;
    double t = static_cast<double>(j - i), midrank = (static_cast<double>(i + j) + 1) / 2;
    for (std::size_t k = i; k < j; ++k)
      if (all[k].second) r.rank_sum_current += midrank;
    r.tie_term += t * t * t - t;
    i = j;
  }
  return r;
}

// P(U >= u) from the exact null distribution. ways[i][j][k] counts the orderings of i current and
// j baseline values with U = k: the largest value is either a current one (beating all j baseline
// values) or a baseline one (beating none), which gives the recursion.
double exact_upper_tail(std::size_t m, std::size_t n, double u) {
  std::size_t max_u = m * n;
  std::vector<std::vector<std::vector<double>>> ways(m + 1, std::vector<std::vector<double>>(n + 1));
  for (std::size_t i = 0; i <= m; ++i)
    for (std::size_t j = 0; j <= n; ++j) {
      auto& w = ways[i][j];
      w.assign(i * j + 1, 0.0);
      if (i == 0 || j == 0) { w[0] = 1; continue; }
      for (std::size_t k = 0; k <= i * j; ++k) {
        double from_current = k >= j && k - j <= (i - 1) * j ? ways[i - 1][j][k - j] : 0;
        double from_baseline = k <= i * (j - 1) ? ways[i][j - 1][k] : 0;
        w[k] = from_current + from_baseline;
      }
    }
  const auto& dist = ways[m][n];
  double total = std::accumulate(dist.begin(), dist.end(), 0.0), tail = 0;
  for (std::size_t k = 0; k <= max_u; ++k)
    if (static_cast<double>(k) >= u - 1e-9) tail += dist[k];
  return tail / total;
}

double normal_upper_tail(std::size_t m, std::size_t n, double u, double tie_term) {
  double N = static_cast<double>(m + n), mn = static_cast<double>(m * n);
  double variance = mn / 12 * ((N + 1) - tie_term / (N * (N - 1)));
  if (variance <= 0) return 1;  // every value tied: no evidence either way
  double z = (u - mn / 2 - 0.5) / std::sqrt(variance);  // continuity correction
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

}  // namespace

std::optional<MannWhitney> mann_whitney_greater(const std::vector<double>& baseline,
                                                const std::vector<double>& current) {
  if (baseline.empty() || current.empty()) return std::nullopt;
  std::size_t m = current.size(), n = baseline.size();
  Ranked r = rank(baseline, current);
  MannWhitney result;
  result.u = r.rank_sum_current - static_cast<double>(m * (m + 1)) / 2;
  result.exact = r.tie_term == 0 && m <= kExactLimit && n <= kExactLimit;
  result.p_value = result.exact ? exact_upper_tail(m, n, result.u) : normal_upper_tail(m, n, result.u, r.tie_term);
  return result;
}

}  // namespace crossload
