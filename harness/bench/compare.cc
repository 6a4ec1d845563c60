#include "harness/bench/compare.h"

#include <fmt/format.h>

#include <algorithm>

#include "harness/bench/stats.h"
#include "reports/mann_whitney.h"

namespace crossload::bench {

const char* to_string(Change c) {
  switch (c) {
    case Change::kSlower: return "SLOWER";
    case Change::kFaster: return "faster";
    case Change::kSame: return "same";
    case Change::kTooFew: return "too few repetitions";
    case Change::kFailed: return "failed";
    case Change::kOnlyInBaseline: return "only in baseline";
    case Change::kOnlyInCurrent: return "only in current";
  }
  return "?";
}

namespace {

// One label for the row: the sides' own when they agree, else each side's, named (a run emulated
// on one side only is compared with one that was not).
std::string label_of(const Series& a, const Series& b) {
  if (a.label == b.label) return a.label;
  std::string out = a.label.empty() ? "" : "baseline: " + a.label;
  if (!b.label.empty()) out += (out.empty() ? "" : "; ") + std::string("current: ") + b.label;
  return out;
}

Comparison judge(const std::string& name, const Series& a, const Series& b, const CompareOptions& o) {
  Comparison c;
  c.name = name;
  c.label = label_of(a, b);
  c.baseline_n = a.seconds.size();
  c.current_n = b.seconds.size();
  c.baseline_median = summarize(a.seconds).median;
  c.current_median = summarize(b.seconds).median;
  c.relative = c.baseline_median > 0 ? c.current_median / c.baseline_median - 1 : 0;
  if (!a.error.empty() || !b.error.empty()) {
    c.change = Change::kFailed;
    c.note = !b.error.empty() ? "current: " + b.error : "baseline: " + a.error;
    return c;
  }
  if (c.baseline_n < kMinRepetitions || c.current_n < kMinRepetitions) {
    c.change = Change::kTooFew;
    c.note = fmt::format("needs at least {} repetitions on each side", kMinRepetitions);
    return c;
  }
  c.p_slower = mann_whitney_greater(a.seconds, b.seconds)->p_value;
  c.p_faster = mann_whitney_greater(b.seconds, a.seconds)->p_value;
  if (c.p_slower < o.alpha && c.relative > o.threshold) c.change = Change::kSlower;
  else if (c.p_faster < o.alpha && c.relative < -o.threshold) c.change = Change::kFaster;
  return c;
}

Comparison one_sided(const std::string& name, const Series& s, Change change) {
  Comparison c;
  c.name = name;
  c.change = change;
  c.label = s.label;
  return c;
}

int rank(Change c) { return c == Change::kSlower ? 0 : c == Change::kFailed ? 1 : 2; }

std::string ms(double seconds) { return fmt::format("{:.3f} ms", seconds * 1e3); }

}  // namespace

std::vector<Comparison> compare_series(const std::map<std::string, Series>& baseline,
                                       const std::map<std::string, Series>& current, const CompareOptions& o) {
  std::vector<Comparison> rows;
  for (const auto& [name, a] : baseline) {
    auto it = current.find(name);
    if (it == current.end()) rows.push_back(one_sided(name, a, Change::kOnlyInBaseline));
    else rows.push_back(judge(name, a, it->second, o));
  }
  for (const auto& [name, b] : current)
    if (!baseline.count(name)) rows.push_back(one_sided(name, b, Change::kOnlyInCurrent));
  std::stable_sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return rank(x.change) < rank(y.change); });
  return rows;
}

bool any_slower(const std::vector<Comparison>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r.change == Change::kSlower; });
}

std::string render_comparison(const std::vector<Comparison>& rows, const CompareOptions& o) {
  std::string out = fmt::format("{:<20} {:>8} {:>12} {:>12} {:>9}  {}\n", "change", "median", "baseline",
                                "current", "p", "benchmark");
  std::size_t slower = 0, labelled = 0;
  for (const auto& r : rows) {
    labelled += !r.label.empty();
    slower += r.change == Change::kSlower;
    bool timed = r.baseline_n && r.current_n;
    bool tested = timed && r.change != Change::kTooFew && r.change != Change::kFailed;
    double p = r.relative >= 0 ? r.p_slower : r.p_faster;
    std::string note = r.note.empty() ? "" : "  (" + r.note + ")";
    if (!r.label.empty()) note += "  [" + r.label + "]";
    out += fmt::format("{:<20} {:>8} {:>12} {:>12} {:>9}  {}{}\n", to_string(r.change),
                       timed ? fmt::format("{:+.1f}%", r.relative * 100) : "", timed ? ms(r.baseline_median) : "",
                       timed ? ms(r.current_median) : "", tested ? fmt::format("{:.4f}", p) : "",
                       r.name, note);
  }
  out += fmt::format("{} of {} benchmarks significantly slower (Mann-Whitney U, one-sided p < {}, median change "
                     "> {:.1f}%)\n", slower, rows.size(), o.alpha, o.threshold * 100);
  if (labelled)
    out += fmt::format("{} benchmarks carry a label: under QEMU emulation their absolute times are the emulator's; "
                       "compare them only with runs emulated the same way\n", labelled);
  return out;
}

}  // namespace crossload::bench
