#include "harness/recipes/retrain.h"

#include <fmt/format.h>

#include <cmath>

#include "harness/core/protocol.h"

namespace crossload::recipes {

namespace {

using json = nlohmann::json;

constexpr std::chrono::seconds kRetrainTimeout{900};  // five fits of a user's model

json compare_scores(const json& producer_cv, const json& answer) {
  json out = {{"producer_cv", producer_cv}};
  if (answer.contains("skipped")) {
    out["skipped"] = answer["skipped"];
    return out;
  }
  out["consumer_cv"] = answer.value("cv_score", json());
  if (!producer_cv.is_number() || !out["consumer_cv"].is_number()) {
    out["skipped"] = "no CV score to compare (the model has no score, or none was computed where it was made)";
    return out;
  }
  double p = producer_cv.get<double>(), c = out["consumer_cv"].get<double>();
  double rel = std::fabs(c - p) / std::max(std::fabs(p), 1e-12);
  out["relative_difference"] = rel;
  out["reproduces"] = rel <= kReproducedWithin;
  return out;
}

}  // namespace

json retrain_once(EnvSession& env, const std::string& fixture) {
  if (auto it = env.retrained.find(fixture); it != env.retrained.end()) return it->second;
  json answer;
  if (env.emulated) {
    answer = {{"skipped", "not retrained under emulation (five trainings cost minutes there)"}};
  } else if (!env.can_load()) {
    answer = {{"skipped", "the consumer worker is not running"}};
  } else {
    auto r = ask(*env.loader, RetrainCvRequest{fixture}, kRetrainTimeout);
    if (!r.result) answer = {{"skipped", "retraining failed: " + r.why()}};
    else answer = {{"cv_score", r.result->cv_score}};
  }
  env.retrained[fixture] = answer;
  return answer;
}

std::string retrain_sentence(const std::string& consumer, bool loads_but_fails_predict, const json& r) {
  std::string head = fmt::format("does not {} on {}", loads_but_fails_predict ? "predict" : "load", consumer);
  if (r.contains("skipped")) return head + "; not compared: " + r["skipped"].get<std::string>();
  double pct = r.value("relative_difference", 0.0) * 100.0;
  double c = r.value("consumer_cv", 0.0), p = r.value("producer_cv", 0.0);
  if (r.value("reproduces", false))
    return fmt::format("{}, but retraining its recipe there reproduces its CV score within {:.1f} % ({:.4f} vs "
                       "{:.4f})", head, std::max(0.1, std::ceil(pct * 10.0) / 10.0), c, p);
  return fmt::format("{}, and retraining its recipe there does not reproduce its CV score: {:.4f} vs {:.4f} ({:.1f} "
                     "% apart)", head, c, p, pct);
}

bool retrain_applies(const CellRecord& cell) {
  return cell.outcome == Outcome::kLoadError || cell.outcome == Outcome::kPredictError;
}

void add_retrain_check(EnvSession& consumer, const ArtifactRecord& a, CellRecord& cell) {
  if (!retrain_applies(cell)) return;
  json producer_cv = a.manifest.is_object() ? a.manifest.value("training", json::object()).value("cv_score", json())
                                             : json();
  json r = compare_scores(producer_cv, retrain_once(consumer, a.fixture));
  r["sentence"] = retrain_sentence(cell.consumer, cell.outcome == Outcome::kPredictError, r);
  if (!cell.detail.is_object()) cell.detail = json::object();
  cell.detail["retrain"] = r;
}

}  // namespace crossload::recipes
