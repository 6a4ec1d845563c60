#pragma once
// Forecast rules: the [[cause.forecast]] tables of harness/causes/catalogue.toml, each saying
// which artifact facts crossed with which environment facts give which outcome for that cause.
// docs/forecast.md describes the condition syntax. Parse errors name the file, line and key; the
// built-in rules are checked by the unit tests, so builtin_rules() never fails at run time.
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "harness/util/result.h"

namespace crossload::forecast {

// What a forecast says about one artifact in one environment.
enum class Outcome { kOk, kLoadError, kPredictError, kCrash, kUnknown };
std::string_view outcome_name(Outcome o);
std::optional<Outcome> outcome_from_name(std::string_view name);
inline bool is_failure(Outcome o) {
  return o == Outcome::kLoadError || o == Outcome::kPredictError || o == Outcome::kCrash;
}

// One version number; components past the numeric prefix ("+dfsg", "rc1") are ignored.
std::vector<long> version_parts(std::string_view text);
// <0, 0, >0 as a compares to b, missing components counting as 0.
int compare_versions(const std::vector<long>& a, const std::vector<long>& b);

struct Bound {
  std::string op;  // "<", "<=", ">", ">=", "==", "!="
  std::vector<long> version;
};

// One alternative of a condition: a version range, a regular expression, "absent",
// "present", or an exact value.
struct Alternative {
  enum class Kind { kVersion, kRegex, kAbsent, kPresent, kExact } kind = Kind::kExact;
  std::string text;  // as written
  std::vector<Bound> bounds;
  std::optional<std::regex> regex;
  bool holds(const std::string& value) const;
};

// A fact and its alternatives: it holds when some value of the fact passes some alternative.
struct Condition {
  std::string fact;  // "format", "artifact.sklearn", "env.numpy", ...
  std::vector<Alternative> any_of;
};

struct Rule {
  std::string cause;  // the catalogue id the rule belongs to
  Outcome outcome = Outcome::kLoadError;
  std::vector<Condition> when;
};

// The rules of a catalogue's text, in file order (the first rule that matches wins).
Result<std::vector<Rule>> parse_rules(std::string_view catalogue_text, const std::string& source);
// The rules of the catalogue compiled into this binary.
const std::vector<Rule>& builtin_rules();

}  // namespace crossload::forecast
