#pragma once
// The check scikit-learn's persistence guide recommends when an artifact cannot be used in
// another environment: retrain the recipe there and see whether its cross-validation score is in
// the producer's range. For recipe cells (run --recipe) and checked artifacts (check --recipe)
// that fail to load or predict.
#include <string>

#include <nlohmann/json.hpp>

#include "harness/core/environments.h"
#include "harness/store/records.h"

namespace crossload::recipes {

// How far apart two CV scores may be (relative to the producer's) and still "reproduce" it.
inline constexpr double kReproducedWithin = 0.01;

// When `cell` (of a recipe artifact) is LOAD_ERROR or PREDICT_ERROR, retrains the recipe in the
// consumer (once per environment and recipe; not under emulation, where it costs minutes) and
// sets cell.detail["retrain"] = {consumer_cv, producer_cv, relative_difference, reproduces,
// sentence}. Any other cell is left as it is.
void add_retrain_check(EnvSession& consumer, const ArtifactRecord& artifact, CellRecord& cell);

// The cells the retrain check is for: those that failed to load or to predict.
bool retrain_applies(const CellRecord& cell);

// The environment's retrain_cv answer for the fixture as {cv_score} (a number or null), asked
// once per session and remembered; {skipped: why} under emulation, when its consumer worker is
// not running, or when retraining failed. check --recipe asks the reference environment through
// it, so the CV score it compares with obeys the same guards as the failing environments'.
nlohmann::json retrain_once(EnvSession& env, const std::string& fixture);

// "does not load on X, but retraining its recipe there reproduces its CV score within 0.3 % (0.9530 vs
// 0.9510)"; reports prefix "Retrain check: the model " (reports/explain.cc), for a recipe's cell
// and a checked artifact alike.
std::string retrain_sentence(const std::string& consumer, bool loads_but_fails_predict, const nlohmann::json& retrain);

}  // namespace crossload::recipes
