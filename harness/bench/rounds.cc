#include "harness/bench/rounds.h"

#include <fmt/format.h>

#include "harness/bench/stats.h"
#include "reports/mann_whitney.h"

namespace crossload::bench {

using json = nlohmann::json;

namespace {

// The case's rounds; one round holding all samples for a case measured without them.
std::vector<Round> rounds_of(const BenchCase& c) {
  if (!c.rounds.empty()) return c.rounds;
  Round all;
  all.samples = c.samples;
  return {all};
}

const std::vector<double>* round_series(const Round& r, const char* metric) {
  auto it = r.samples.find(metric);
  return it == r.samples.end() || it->second.empty() ? nullptr : &it->second;
}

// The first busy round of either case, said in words; empty when none was.
std::string busy_rounds(const BenchCase& baseline, const BenchCase& current) {
  for (const BenchCase* c : {&baseline, &current})
    for (const auto& r : c->rounds)
      if (std::string why = busy_reason(r.load); !why.empty())
        return fmt::format("the machine was busy during round {} of {}/{}: {}", r.index + 1, c->fixture, c->format,
                           why);
  return "";
}

// Each round's ratio, pairing the two cases' rounds of the same index (measured back to back).
std::vector<double> round_ratios(const BenchCase& baseline, const BenchCase& current, const char* metric) {
  std::vector<double> out;
  auto rb = rounds_of(baseline), rc = rounds_of(current);
  for (const auto& b : rb)
    for (const auto& c : rc) {
      if (b.index != c.index) continue;
      auto *sb = round_series(b, metric), *sc = round_series(c, metric);
      if (!sb || !sc) continue;
      if (auto e = ratio_effect(*sb, *sc)) out.push_back(e->ratio);
    }
  return out;
}

bool disagree(const std::vector<double>& ratios) {
  bool faster = false, slower = false;
  for (double r : ratios) {
    faster = faster || r < 1 - kRoundMargin;
    slower = slower || r > 1 + kRoundMargin;
  }
  return faster && slower;
}

std::string ratios_text(const std::vector<double>& ratios) {
  std::string out;
  for (double r : ratios) out += fmt::format("{}{:.2f}x", out.empty() ? "" : ", ", r);
  return out;
}

}  // namespace

int share_of(int total, int rounds, int round) {
  if (rounds <= 0) return 0;
  return total / rounds + (round < total % rounds ? 1 : 0);
}

std::vector<Turn> interleaved(std::size_t items, int rounds, int repetitions, int cold_repetitions) {
  std::vector<Turn> out;
  for (int r = 0; r < rounds; ++r)
    for (std::size_t i = 0; i < items; ++i)
      out.push_back({r, i, share_of(repetitions, rounds, r), share_of(cold_repetitions, rounds, r)});
  return out;
}

TimingVerdict judge_timing(const BenchCase& baseline, const BenchCase& current, const char* metric, Claimed claimed) {
  TimingVerdict t;
  t.status = "not measured";
  auto ib = baseline.samples.find(metric), ic = current.samples.find(metric);
  if (ib == baseline.samples.end() || ic == current.samples.end()) return t;
  auto effect = ratio_effect(ib->second, ic->second);
  if (!effect) return t;
  t.effect = *effect;
  t.median_baseline = summarize(ib->second).median;
  t.median_current = summarize(ic->second).median;
  auto mw = claimed == Claimed::kSlower ? mann_whitney_greater(ib->second, ic->second)
                                        : mann_whitney_greater(ic->second, ib->second);
  t.p_value = mw ? mw->p_value : 1;
  t.round_ratios = round_ratios(baseline, current, metric);
  if (t.why = busy_rounds(baseline, current); !t.why.empty()) {
    t.status = "inconclusive";
  } else if (disagree(t.round_ratios)) {
    t.status = "inconclusive";
    t.why = fmt::format("the rounds disagree on which is faster (current/baseline per round: {})",
                        ratios_text(t.round_ratios));
  } else {
    bool beyond = claimed == Claimed::kFaster ? t.effect.bounded() && t.effect.high < 1
                                              : t.effect.bounded() && t.effect.low > 1;
    t.status = beyond ? "confirmed" : "not confirmed";
  }
  return t;
}

std::string effect_text(const RatioEffect& e) {
  if (!e.bounded()) return fmt::format("{:.2f}x (too few samples for a {:.0f}% interval)", e.ratio, e.confidence * 100);
  return fmt::format("{:.2f}x ({:.0f}% CI {:.2f}-{:.2f})", e.ratio, e.confidence * 100, e.low, e.high);
}

json to_json(const TimingVerdict& t) {
  json j = {{"status", t.status}, {"ratio", t.effect.ratio}, {"confidence", t.effect.confidence},
            {"round_ratios", t.round_ratios}, {"p_value", t.p_value}, {"median_baseline_seconds", t.median_baseline},
            {"median_current_seconds", t.median_current}};
  if (t.effect.bounded()) j.update({{"ci_low", t.effect.low}, {"ci_high", t.effect.high}});
  if (!t.why.empty()) j["inconclusive_because"] = t.why;
  return j;
}

}  // namespace crossload::bench
