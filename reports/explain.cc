#include "reports/explain.h"

#include "harness/causes/classify.h"

namespace crossload {

namespace {

std::string explain_outcome(const CellRecord& c) {
  switch (c.outcome) {
    case Outcome::kMismatch:
      return "Predictions differ beyond the fixture's tolerance: the model loads but gives other answers.";
    case Outcome::kPredictError:
      return "The model loaded but predicting raised: a failure met only in production.";
    case Outcome::kCrash: return "The loading process died; the artifact or the runtime crashes there.";
    case Outcome::kTimeout: return "Loading or predicting did not finish within the cell timeout.";
    default: return "";
  }
}

std::string explain_failure(const CellRecord& c, const std::string& cause_id) {
  if (const Cause* cause = builtin_catalogue().find(cause_id)) return cause->what + " " + cause->fix;
  for (const auto& w : c.warnings) {
    if (w.original_sklearn_version && !w.original_sklearn_version->empty())
      return "Loaded with another scikit-learn version than it was saved with (" +
             *w.original_sklearn_version +
             "): scikit-learn does not support this and results may silently differ.";
  }
  return explain_outcome(c);
}

}  // namespace

// run --recipe and check --recipe: the guide's retrain check (harness/recipes/retrain.h), beside the
// load outcome. "the model", not "this recipe": in a check the thing that failed is the user's file.
std::string retrain_check(const CellRecord& c) {
  if (!c.detail.is_object() || !c.detail.contains("retrain")) return "";
  const auto& r = c.detail["retrain"];
  if (!r.is_object() || !r.contains("sentence") || !r["sentence"].is_string()) return "";
  return "Retrain check: the model " + r["sentence"].get<std::string>() + ".";
}

std::string explain(const CellRecord& c) { return explain(c, cause_id(c)); }

std::string explain(const CellRecord& c, const std::string& cause) {
  std::string text = explain_failure(c, cause), retrain = retrain_check(c);
  if (retrain.empty()) return text;
  return text.empty() ? retrain : text + " " + retrain;
}

}  // namespace crossload
