#include "harness/compare/outcome.h"

#include <array>
#include <utility>

namespace crossload {

namespace {
constexpr std::array<std::pair<Outcome, std::string_view>, 12> kNames{{
    {Outcome::kOkExact, "OK_EXACT"},
    {Outcome::kOkTolerance, "OK_TOLERANCE"},
    {Outcome::kMismatch, "MISMATCH"},
    {Outcome::kLoadError, "LOAD_ERROR"},
    {Outcome::kPredictError, "PREDICT_ERROR"},
    {Outcome::kCrash, "CRASH"},
    {Outcome::kTimeout, "TIMEOUT"},
    {Outcome::kBlocked, "BLOCKED"},
    {Outcome::kUnsupported, "UNSUPPORTED"},
    {Outcome::kEnvUnavailable, "ENV_UNAVAILABLE"},
    {Outcome::kXfail, "XFAIL"},
    {Outcome::kXpass, "XPASS"},
}};
}  // namespace

std::string_view to_string(Outcome o) {
  for (const auto& [k, v] : kNames)
    if (k == o) return v;
  return "UNKNOWN";
}

std::optional<Outcome> outcome_from_string(std::string_view s) {
  for (const auto& [k, v] : kNames)
    if (v == s) return k;
  return std::nullopt;
}

bool is_ok(Outcome o) {
  return o == Outcome::kOkExact || o == Outcome::kOkTolerance || o == Outcome::kXfail ||
         o == Outcome::kUnsupported;
}

int severity(Outcome o) {
  switch (o) {
    case Outcome::kOkExact: return 0;
    case Outcome::kOkTolerance: return 1;
    case Outcome::kXfail: return 2;
    case Outcome::kUnsupported: return 3;
    case Outcome::kXpass: return 4;
    case Outcome::kBlocked: return 5;
    case Outcome::kEnvUnavailable: return 6;
    case Outcome::kMismatch: return 7;
    case Outcome::kPredictError: return 8;
    case Outcome::kLoadError: return 9;
    case Outcome::kTimeout: return 10;
    case Outcome::kCrash: return 11;
  }
  return 12;
}

bool is_failure(Outcome o) {
  return o == Outcome::kMismatch || o == Outcome::kLoadError || o == Outcome::kPredictError ||
         o == Outcome::kCrash || o == Outcome::kTimeout;
}

bool is_skip(Outcome o) {
  return o == Outcome::kUnsupported || o == Outcome::kEnvUnavailable || o == Outcome::kBlocked ||
         o == Outcome::kXfail;
}

bool loaded_ok(Outcome o) { return o == Outcome::kOkExact || o == Outcome::kOkTolerance; }

}  // namespace crossload
