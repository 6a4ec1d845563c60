#pragma once
// The outcome taxonomy of ARCHITECTURE.md: exactly one per consumer cell.
#include <optional>
#include <string_view>

namespace crossload {

enum class Outcome {
  kOkExact,        // bitwise identical after byte-order normalisation
  kOkTolerance,    // within the fixture's rtol/atol
  kMismatch,       // labels or values differ beyond tolerance
  kLoadError,      // loading raised
  kPredictError,   // loaded, but predicting raised
  kCrash,          // the loading process died of a signal
  kTimeout,
  kBlocked,        // refused by policy (unsafe audit verdict, untrusted skops types)
  kUnsupported,    // the format cannot persist this model
  kEnvUnavailable, // the consumer (or producer) environment could not be provisioned
  kXfail,          // failed as the matrix expects
  kXpass,          // expected to fail, but passed
};

std::string_view to_string(Outcome o);
std::optional<Outcome> outcome_from_string(std::string_view s);
bool is_ok(Outcome o);  // OK_EXACT, OK_TOLERANCE, XFAIL (expected) count as not failing
// The classes every report and the cause tally share.
bool is_failure(Outcome o);  // MISMATCH, LOAD_ERROR, PREDICT_ERROR, CRASH, TIMEOUT
bool is_skip(Outcome o);     // UNSUPPORTED, ENV_UNAVAILABLE, BLOCKED, XFAIL
bool loaded_ok(Outcome o);   // OK_EXACT, OK_TOLERANCE
// Severity order used to pick the worst of several outputs and to detect regressions.
int severity(Outcome o);

}  // namespace crossload
