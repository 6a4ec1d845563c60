#include "harness/recipes/retrain.h"

#include <gtest/gtest.h>

namespace crossload::recipes {
namespace {

TEST(CheckRetrain, SaysWhetherRetrainingReproducesTheScore) {
  nlohmann::json close = {{"producer_cv", 0.9533}, {"consumer_cv", 0.9511}, {"relative_difference", 0.0023},
                          {"reproduces", true}};
  EXPECT_EQ(retrain_sentence("sklearn-1.5", false, close),
            "does not load on sklearn-1.5, but retraining its recipe there reproduces its CV score within 0.3 % "
            "(0.9511 vs 0.9533)");
  nlohmann::json far = {{"producer_cv", 0.95}, {"consumer_cv", 0.80}, {"relative_difference", 0.158},
                        {"reproduces", false}};
  EXPECT_EQ(retrain_sentence("old", true, far),
            "does not predict on old, and retraining its recipe there does not reproduce its CV score: 0.8000 vs 0.9500 "
            "(15.8 % apart)");
  nlohmann::json skipped = {{"skipped", "not retrained under emulation (five trainings cost minutes there)"}};
  EXPECT_NE(retrain_sentence("s390x", false, skipped).find("not retrained under emulation"), std::string::npos);
}

TEST(CheckRetrain, OnlyFailedCellsAreRetrained) {
  EnvSession nobody;  // no worker: a failed cell gets a "skipped" note, an OK one nothing
  ArtifactRecord a;
  a.fixture = "churn";
  a.manifest = {{"training", {{"cv_score", 0.9}}}};
  CellRecord ok;
  ok.outcome = Outcome::kOkExact;
  add_retrain_check(nobody, a, ok);
  EXPECT_FALSE(ok.detail.contains("retrain"));
  CellRecord failed;
  failed.consumer = "old";
  failed.outcome = Outcome::kLoadError;
  failed.detail = {{"message", "No module named 'numpy._core'"}};
  add_retrain_check(nobody, a, failed);
  ASSERT_TRUE(failed.detail.contains("retrain"));
  EXPECT_EQ(failed.detail["retrain"]["producer_cv"], 0.9);
  EXPECT_NE(failed.detail["retrain"]["sentence"].get<std::string>().find("does not load on old"), std::string::npos);
  EXPECT_EQ(failed.detail["message"], "No module named 'numpy._core'");
}

TEST(CheckRetrain, EmulatedOrStoppedEnvironmentsAreNotAskedAndTheAnswerIsKept) {
  EnvSession emulated;  // no worker either: asking it would crash, so the guard must answer first
  emulated.emulated = true;
  EXPECT_NE(retrain_once(emulated, "churn").value("skipped", "").find("under emulation"), std::string::npos);
  EnvSession stopped;
  EXPECT_EQ(retrain_once(stopped, "churn").value("skipped", ""), "the consumer worker is not running");
  stopped.retrained["churn"] = {{"cv_score", 0.5}};  // an earlier answer is not asked again
  EXPECT_EQ(retrain_once(stopped, "churn").value("cv_score", 0.0), 0.5);
}

}  // namespace
}  // namespace crossload::recipes
