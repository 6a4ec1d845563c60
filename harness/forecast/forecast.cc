#include "harness/forecast/forecast.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace crossload::forecast {

namespace {

enum class Verdict { kHolds, kFails, kUnknown };

const std::vector<std::string>* lookup(const Facts& artifact, const Facts& env, const std::string& fact) {
  return fact.rfind("env.", 0) == 0 ? env.find(fact) : artifact.find(fact);
}

// Holds when some value passes some alternative; the value that did is the evidence.
Verdict judge(const Condition& c, const Facts& artifact, const Facts& env, std::string& evidence) {
  const auto* values = lookup(artifact, env, c.fact);
  if (!values) return Verdict::kUnknown;
  for (const auto& v : *values)
    for (const auto& t : c.any_of)
      if (t.holds(v)) {
        evidence = t.kind == Alternative::Kind::kExact ? fmt::format("{} = {}", c.fact, v)
                                                : fmt::format("{} = {} ({})", c.fact, v, t.text);
        return Verdict::kHolds;
      }
  return Verdict::kFails;
}

void add_unique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// A load that fails never reaches predict: among matching rules, the earliest stage wins.
int stage(Outcome o) { return o == Outcome::kLoadError ? 0 : o == Outcome::kCrash ? 1 : 2; }

}  // namespace

Forecast forecast_one(const Facts& artifact, const Facts& env, const std::vector<Rule>& rules) {
  std::optional<Forecast> best;
  Forecast undecided;
  std::vector<std::string> undecided_causes;
  for (const auto& rule : rules) {
    std::vector<std::string> evidence, missing;
    bool fails = false;
    for (const auto& c : rule.when) {
      std::string why;
      Verdict v = judge(c, artifact, env, why);
      if (v == Verdict::kFails) {
        fails = true;
        break;
      }
      if (v == Verdict::kUnknown) missing.push_back(c.fact);
      else evidence.push_back(std::move(why));
    }
    if (fails) continue;
    if (missing.empty()) {
      if (!best || stage(rule.outcome) < stage(best->outcome))
        best = Forecast{rule.outcome, rule.cause, std::move(evidence), {}};
      continue;
    }
    for (const auto& m : missing) add_unique(undecided.missing, m);
    add_unique(undecided_causes, rule.cause);
  }
  if (best) return std::move(*best);
  if (!undecided.missing.empty()) {
    undecided.outcome = Outcome::kUnknown;
    undecided.evidence.push_back(fmt::format("could be {}", fmt::join(undecided_causes, ", ")));
    return undecided;
  }
  return Forecast{Outcome::kOk, "", {fmt::format("no rule of the catalogue's {} matches", rules.size())}, {}};
}

nlohmann::json to_json(const Forecast& f) {
  nlohmann::json j = {{"outcome", outcome_name(f.outcome)}, {"evidence", f.evidence}};
  j["cause"] = f.cause.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.cause);
  if (!f.missing.empty()) j["missing"] = f.missing;
  return j;
}

}  // namespace crossload::forecast
