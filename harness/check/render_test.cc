#include "harness/check/render.h"

#include <gtest/gtest.h>

namespace crossload::check {
namespace {

CheckReport sample() {
  CheckReport r;
  r.artifact = "model.pkl";
  r.variant = "pickle-p5";
  r.verdict = "SAFE";
  r.recorded_versions = {"1.9.1"};
  r.reference_note = "reference computed in host: its scikit-learn 1.9.1 is the version the artifact records";
  r.reference_outputs = {"predict", "predict_proba"};
  EnvCheck ok;
  ok.cell.consumer = "host";
  ok.cell.outcome = Outcome::kOkExact;
  ok.cell.detail = {{"max_abs", 0.0}};
  ok.versions = "python 3.12.3, numpy 2.4.6, scikit-learn 1.9.1";
  ok.reference = true;
  EnvCheck bad;
  bad.cell.consumer = "sklearn-1.5";
  bad.cell.outcome = Outcome::kLoadError;
  bad.cell.detail = {{"stage", "load"}, {"error_type", "ModuleNotFoundError"}, {"message", "No module named 'numpy._core'"}};
  bad.cell.warnings = {{"InconsistentVersionWarning", "Trying to unpickle estimator ...", std::string("1.9.1")}};
  bad.versions = "python 3.11.7, numpy 1.26.4, scikit-learn 1.5.2";
  bad.explanation = "The artifact was written with numpy 2.";
  r.envs = {ok, bad};
  return r;
}

TEST(CheckRender, OneScreenWithOutcomesWarningsAndMeaning) {
  std::string text = render_text(sample());
  EXPECT_EQ(text,
            "crossload check model.pkl  (pickle-p5, audit SAFE, records scikit-learn 1.9.1)\n"
            "reference computed in host: its scikit-learn 1.9.1 is the version the artifact records\n"
            "outputs compared: predict, predict_proba\n"
            "\n"
            "environment          outcome                max diff  versions\n"
            "host                 OK_EXACT (ref)                0  python 3.12.3, numpy 2.4.6, scikit-learn 1.9.1\n"
            "sklearn-1.5          LOAD_ERROR                    -  python 3.11.7, numpy 1.26.4, scikit-learn 1.5.2\n"
            "    error: ModuleNotFoundError: No module named 'numpy._core'\n"
            "    means: The artifact was written with numpy 2.\n"
            "    warning: InconsistentVersionWarning (saved with scikit-learn 1.9.1): Trying to unpickle estimator ...\n"
            "\n"
            "fails in 1 of 2 environments\n");
}

TEST(CheckRender, JsonCarriesTheSameFactsAndTheExitCode) {
  auto j = render_json(sample());
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_EQ(j["environments"][0]["reference"], true);
  EXPECT_EQ(j["environments"][1]["outcome"], "LOAD_ERROR");
  EXPECT_TRUE(j["environments"][1]["max_abs"].is_null());
  EXPECT_EQ(j["environments"][1]["warnings"][0]["original_sklearn_version"], "1.9.1");
  EXPECT_TRUE(j["bad_input"].is_null());
  CheckReport wide = sample();
  wide.bad_input = "x.npy: the inputs have 3 columns, but the model expects 4 features";
  EXPECT_EQ(render_json(wide)["exit_code"], 3);
  EXPECT_NE(render_text(wide).find("error: x.npy: the inputs have 3 columns"), std::string::npos);
  EXPECT_TRUE(j["audit_finding"].is_null());
}

TEST(CheckRender, AnUnsafeArtifactLoadedAnywayShowsTheAuditFindingUnderTheHeader) {
  CheckReport r = sample();
  r.verdict = "UNSAFE";
  r.audit_finding = "builtins.exec is called while loading";
  std::string text = render_text(r);
  EXPECT_EQ(text.substr(0, text.find("reference computed")),
            "crossload check model.pkl  (pickle-p5, audit UNSAFE, records scikit-learn 1.9.1)\n"
            "audit: UNSAFE: builtins.exec is called while loading; loaded anyway (--allow-unsafe), only in the "
            "sandbox\n");
  EXPECT_EQ(render_json(r)["audit_finding"], "builtins.exec is called while loading");
}

TEST(CheckRender, AStandInReferenceOfAnotherVersionIsLabelledNotTrustedWithTheFailedRebuild) {
  CheckReport r = sample();
  r.recorded_versions = {"1.3.2"};
  r.recorded_numpy_major = 1;
  r.rebuilt = RebuiltReference{"pip:scikit-learn==1.3.2@3.11", "it was not built: no wheel"};
  r.envs.resize(1);
  r.envs[0].trusted = false;
  std::string text = render_text(r);
  EXPECT_NE(text.find("records scikit-learn 1.3.2, numpy 1.x)\n"
                      "reference: not rebuilt from the artifact's recorded versions (pip:scikit-learn==1.3.2@3.11): "
                      "it was not built: no wheel\n"), std::string::npos) << text;
  EXPECT_NE(text.find("host                 ref: not trusted              0  python"), std::string::npos) << text;
  EXPECT_NE(text.find("    reference: a different version than the artifact records: not trusted\n"), std::string::npos);
  EXPECT_NE(text.find("within tolerance in all 1 environments, compared with a reference that is not trusted"),
            std::string::npos);
  auto j = render_json(r);
  EXPECT_EQ(j["reference"]["trusted"], false);
  EXPECT_EQ(j["reference"]["rebuilt"]["status"], "failed");
  EXPECT_EQ(j["environments"][0]["reference_trusted"], false);
  EXPECT_EQ(j["recorded_numpy_major"], 1);
  EXPECT_TRUE(render_json(sample())["reference"]["rebuilt"].is_null());
}

}  // namespace
}  // namespace crossload::check
