#include "harness/causes/classify.h"

#include <gtest/gtest.h>

#include "harness/causes/tally.h"

namespace crossload {
namespace {

using json = nlohmann::json;

CellRecord cell(Outcome o, json detail, std::string format = "pickle-p5") {
  CellRecord c;
  c.id = "fx/" + format + "/p/c";
  c.fixture = "fx";
  c.format = std::move(format);
  c.producer = "p";
  c.consumer = "c";
  c.outcome = o;
  c.detail = std::move(detail);
  return c;
}

CellRecord load_error(const std::string& type, const std::string& message, std::string format = "pickle-p5") {
  return cell(Outcome::kLoadError, {{"stage", "load"}, {"error_type", type}, {"message", message}}, format);
}

TEST(Normalise, RemovesPathsAddressesAndLineBreaks) {
  EXPECT_EQ(normalise_message("Can't get attribute 'EuclideanDistance' on <module 'sklearn.metrics._dist_metrics' "
                              "from '/tmp/x/venv/lib/python3.11/site-packages/sklearn/metrics/_dist_metrics.cpython-311.so'>"),
            "Can't get attribute 'EuclideanDistance' on <module 'sklearn.metrics._dist_metrics' from '<path>'>");
  EXPECT_EQ(normalise_message("Can't pickle <function f at 0x7f3a2b1c>:\n  it's   not found"),
            "Can't pickle <function f at <addr>>: it's not found");
  EXPECT_EQ(normalise_message("rtol=1e-06 atol=1e-09 a/b"), "rtol=1e-06 atol=1e-09 a/b");
}

TEST(Classify, OneCauseWhateverThePathInTheMessage) {
  auto a = load_error("AttributeError", "Can't get attribute 'EuclideanDistance' on <module 'sklearn.metrics._dist_metrics' "
                                        "from '/work/main/.venv/lib/python3.11/site-packages/sklearn/metrics/x.so'>");
  auto b = load_error("AttributeError", "Can't get attribute 'EuclideanDistance' on <module 'sklearn.metrics._dist_metrics' "
                                        "from '/root/.cache/crossload/pip/abc/lib/x.so'>");
  auto c = load_error("AttributeError", "module 'sklearn.metrics._dist_metrics' has no attribute 'EuclideanDistance'");
  EXPECT_EQ(cause_id(a), "sklearn-knn-euclidean-distance-1.3");
  EXPECT_EQ(cause_id(b), "sklearn-knn-euclidean-distance-1.3");
  EXPECT_EQ(cause_id(c), "sklearn-knn-euclidean-distance-1.3");
  auto d = load_error("AttributeError", "Can't get attribute 'EuclideanDistance64' on <module 'x' from '/a/b.so'>");
  EXPECT_EQ(cause_id(d), "sklearn-knn-euclidean-distance64-backward-1.3");
}

TEST(Classify, TreeNodeDtypeByDirection) {
  auto forward = load_error("ValueError",
                            "node array from the pickle has an incompatible dtype:\n- expected: {'names': ['left_child', "
                            "'right_child', 'feature', 'threshold', 'impurity', 'n_node_samples', "
                            "'weighted_n_node_samples', 'missing_go_to_left'], 'formats': ['<i8']}\n- got     : [...]");
  auto backward = load_error("ValueError",
                             "node array from the pickle has an incompatible dtype:\n- expected: [('left_child', '<i8'), "
                             "('right_child', '<i8')]\n- got     : {...}");
  EXPECT_EQ(cause_id(forward), "sklearn-tree-node-dtype-1.3");
  EXPECT_EQ(cause_id(backward), "sklearn-tree-node-dtype-backward-1.3");
}

// The held-out runs of 2026-12-06 (docs/findings/armhf-slice, estimators-host): word size in both
// directions, and a silent change only one model shows, named by its fixture.
TEST(Classify, NeighboursAcrossWordSizeAndAModelSpecificSilentChange) {
  EXPECT_EQ(cause_id(load_error("ValueError", "Buffer dtype mismatch, expected 'const intp_t' but got 'long long'")),
            "sklearn-knn-index-width-32bit");
  EXPECT_EQ(cause_id(load_error("ValueError", "Buffer dtype mismatch, expected 'const intp_t' but got 'int'")),
            "sklearn-knn-index-width-32bit-into-64bit");
  json differs = {{"summary", "decision_function: 90 of 90 values differ beyond rtol=1e-05 atol=1e-08 (first at row "
                              "0, column 0: expected 18.35, got 0.25; max abs diff 44.1)"}};
  CellRecord adaboost = cell(Outcome::kMismatch, differs);
  adaboost.fixture = "estimators:AdaBoostClassifier";
  EXPECT_EQ(cause_id(adaboost), "sklearn-adaboost-samme-r-removed");
  EXPECT_EQ(cause_id(cell(Outcome::kMismatch, differs)), std::string(kUnclassified));  // another model: not this cause
}

TEST(Classify, CrashMismatchInvariantAndUnsupported) {
  EXPECT_EQ(cause_id(cell(Outcome::kCrash, {{"stage", "crash"}, {"message", "killed by signal 11"}}, "cloudpickle")),
            "cloudpickle-bytecode-python-minor");
  EXPECT_EQ(cause_id(cell(Outcome::kCrash, {{"message", "killed by signal 11"}}, "skops")), std::string(kUnclassified));
  EXPECT_EQ(cause_id(cell(Outcome::kMismatch,
                          {{"summary", "predict_proba: 30 of 90 values differ beyond rtol=1e-06 atol=1e-09 (first at "
                                       "row 0, column 0: expected 1, got 40; max abs diff 39)"}})),
            "sklearn-tree-value-fractions-1.4");
  EXPECT_EQ(cause_id(cell(Outcome::kMismatch,
                          {{"summary", "predict_proba: 2 of 228 values differ beyond rtol=1e-06 atol=1e-09 (first at "
                                       "row 12, column 0: expected 0.0135, got 0.0136; max abs diff 1.19e-07)"}},
                          "onnx")),
            "onnx-float32-cross-cpu");
  json violated = {{"invariants", json::array({{{"name", "proba-in-unit-interval"},
                                                {"message", "row 0 holds 40 (DecisionTreeClassifier)"}}})}};
  EXPECT_EQ(cause_id(cell(Outcome::kMismatch, violated)), "sklearn-tree-value-fractions-1.4");
  violated["invariants"][0]["message"] = "row 0 holds 1.5 (MyClassifier)";
  EXPECT_EQ(cause_id(cell(Outcome::kMismatch, violated)), "invariant-proba-not-probabilities");
  EXPECT_EQ(cause_id(cell(Outcome::kUnsupported, {{"stage", "unsupported"},
                                                  {"message", "onnxruntime is not installed in this environment"}},
                          "onnx")),
            "onnxruntime-missing");
}

// The full matrix run of 2026-12-07 (docs/findings.md), which the catalogue had not seen: the
// messages of the cells it left unclassified, each with the cause written for it.
TEST(Classify, CausesFoundByTheFullMatrixRun) {
  EXPECT_EQ(cause_id(load_error("ValueError",
                                "node array from the pickle has an incompatible dtype:\n- expected: {'names': "
                                "['left_child', 'right_child', 'feature', 'threshold', 'impurity', 'n_node_samples', "
                                "'weighted_n_node_samples'], 'formats': ['<i4', '<i4', '<i4', '<f8', '<f8', '<i4', "
                                "'<f8'], 'offsets': [0, 4, 8, 16, 24, 32, 40], 'itemsize': 48}\n- got     : {'names': "
                                "['left_child', 'right_child', 'feature', 'threshold', 'impurity', 'n_node_samples', "
                                "'weighted_n_node_samples', 'missing_go_to_left'], 'formats': ['<i8']}")),
            "sklearn-tree-node-dtype-backward-1.3");
  EXPECT_EQ(cause_id(load_error("TypeError", "__randomstate_ctor() takes from 0 to 1 positional arguments but 2 were given")),
            "numpy-randomstate-ctor-backward-1.24");
  // Shard 5: a HistGradientBoostingClassifier of scikit-learn 1.4 (its Generator) in 1.0-1.3's numpy.
  EXPECT_EQ(cause_id(load_error("TypeError", "__generator_ctor() takes from 0 to 1 positional arguments but 2 were given",
                                "cloudpickle")),
            "numpy-randomstate-ctor-backward-1.24");
  json feature_idx = {{"stage", "predict"}, {"error_type", "ValueError"},
                      {"message", "Buffer dtype mismatch, expected 'intp_t' but got 'unsigned int' in "
                                  "'const node_struct.feature_idx'"}};
  EXPECT_EQ(cause_id(cell(Outcome::kPredictError, feature_idx)), "sklearn-hgb-feature-idx-width-1.3");
  EXPECT_EQ(cause_id(load_error("ValueError", "Buffer dtype mismatch; next field is at offset 12 but 16 expected")),
            "sklearn-knn-node-alignment-32bit-abis");
  EXPECT_EQ(cause_id(cell(Outcome::kCrash, {{"stage", "crash"}, {"error_type", "Signal"}}, "dill")),
            "dill-bytecode-python-minor");
  json closure = {{"stage", "predict"}, {"error_type", "TypeError"}, {"message", "'cell' object does not support item assignment"}};
  EXPECT_EQ(cause_id(cell(Outcome::kPredictError, closure, "cloudpickle")), "cloudpickle-bytecode-python-minor");
  // Shards 4 and 5: a dill lambda of Python 3.11 run by 3.12.
  EXPECT_EQ(cause_id(cell(Outcome::kPredictError, closure, "dill")), "dill-bytecode-python-minor");
  EXPECT_EQ(cause_id(cell(Outcome::kUnsupported, {{"stage", "unsupported"}, {"message", "dill is not installed in this environment"}}, "dill")),
            "dill-missing");
  EXPECT_EQ(cause_id(load_error("ModuleNotFoundError", "No module named 'dill'", "dill")), "dill-missing");
  EXPECT_EQ(cause_id(cell(Outcome::kUnsupported, {{"stage", "unsupported"}, {"message", "lz4 is not installed in this environment"}}, "joblib-lz4")),
            "joblib-lz4-missing");
  EXPECT_EQ(cause_id(cell(Outcome::kUnsupported, {{"stage", "dump"}, {"message", "the trixie-armhf worker gave no answer to 'dump' within 900 s"}}, "onnx")),
            "producer-worker-lost");
}

// Named by the models it touches and only for a mismatch of probabilities in a format that holds
// scikit-learn's objects: the same message of another model, or of an ONNX file, is not this cause.
TEST(Classify, TheBinaryLogisticRegressionProbabilitiesChangeIsScopedToItsModels) {
  json differs = {{"summary", "predict_proba: 212 of 228 values differ beyond rtol=1e-06 atol=1e-09 (first at row 0, "
                              "column 1: expected 2.5260390967477047e-09, got 6.380873550534633e-18; max abs diff 0.15)"}};
  CellRecord logreg = cell(Outcome::kMismatch, differs, "joblib");
  logreg.fixture = "breast_cancer_scaler_logreg_pipeline";
  EXPECT_EQ(cause_id(logreg), "sklearn-logreg-binary-proba-backward-1.5");
  CellRecord forest = logreg;
  forest.fixture = "wine_random_forest_classifier";
  EXPECT_EQ(cause_id(forest), std::string(kUnclassified));
  CellRecord onnx = cell(Outcome::kMismatch, differs, "onnx");
  onnx.fixture = logreg.fixture;
  EXPECT_NE(cause_id(onnx), "sklearn-logreg-binary-proba-backward-1.5");
}

TEST(Classify, OkCellsNeedNoCauseAndXfailUsesTheObservedOutcome) {
  EXPECT_EQ(cause_id(cell(Outcome::kOkExact, json::object())), "");
  EXPECT_EQ(cause_id(cell(Outcome::kXpass, json::object())), "");
  auto x = load_error("ModuleNotFoundError", "No module named 'numpy._core'");
  x.outcome = Outcome::kXfail;
  x.detail["expected"] = {{"observed", "LOAD_ERROR"}, {"reason", "known"}};
  EXPECT_EQ(cause_id(x), "numpy2-pickle-into-numpy1");
  EXPECT_EQ(cause_id(load_error("RuntimeError", "something new")), std::string(kUnclassified));
}

// The classifier of a pass remembers each message's pattern matches, not its cause: the same
// message under another fixture, format or outcome is still classified by those.
TEST(Classify, TheClassifierOfAPassAnswersAsCauseIdCellByCell) {
  json differs = {{"summary", "decision_function: 90 of 90 values differ beyond rtol=1e-05 atol=1e-08 (first at row "
                              "0, column 0: expected 18.35, got 0.25; max abs diff 44.1)"}};
  CellRecord adaboost = cell(Outcome::kMismatch, differs);
  adaboost.fixture = "estimators:AdaBoostClassifier";
  json crash = {{"stage", "crash"}, {"message", "killed by signal 11"}};
  CellRecord xfail = load_error("ModuleNotFoundError", "No module named 'numpy._core'");
  xfail.outcome = Outcome::kXfail;
  xfail.detail["expected"] = {{"observed", "LOAD_ERROR"}, {"reason", "known"}};
  std::vector<CellRecord> cells = {
      cell(Outcome::kMismatch, differs), adaboost, cell(Outcome::kMismatch, differs),
      cell(Outcome::kCrash, crash, "cloudpickle"), cell(Outcome::kCrash, crash, "skops"),
      load_error("ValueError", "Buffer dtype mismatch, expected 'const intp_t' but got 'int'"),
      load_error("ValueError", "Buffer dtype mismatch, expected 'const intp_t' but got 'long long'"),
      load_error("ModuleNotFoundError", "No module named 'numpy._core'"), xfail,
      load_error("ModuleNotFoundError", "No module named 'numpy._core'", "onnx"),
      cell(Outcome::kOkExact, json::object()), load_error("RuntimeError", "something new")};
  Classifier classifier;
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& c : cells) EXPECT_EQ(classifier.cause_id(c), cause_id(c)) << c.id << " " << c.detail.dump();
  EXPECT_EQ(classifier.cause_id(adaboost), "sklearn-adaboost-samme-r-removed");
  EXPECT_EQ(classifier.cause_id(cells[0]), std::string(kUnclassified));
}

TEST(Tally, UnclassifiedFirstThenMostCells) {
  std::vector<CellRecord> cells{load_error("ModuleNotFoundError", "No module named 'numpy._core'"),
                                load_error("ModuleNotFoundError", "No module named 'numpy._core'"),
                                load_error("RuntimeError", "something new"),
                                load_error("ValueError", "buffer source array is read-only"),
                                cell(Outcome::kOkExact, json::object())};
  auto groups = group_by_cause(cells);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].id, kUnclassified);
  EXPECT_EQ(groups[1].id, "numpy2-pickle-into-numpy1");
  EXPECT_EQ(groups[1].cells.size(), 2u);
  CauseCoverage cov = coverage(groups, cells.size());
  EXPECT_EQ(cov.needing, 4u);
  EXPECT_EQ(cov.failing_unclassified, 1u);
  EXPECT_DOUBLE_EQ(cov.failing_unclassified_percent(), 25.0);
  EXPECT_EQ(affected_pairs(groups[1]), std::vector<std::string>{"p → c (pickle-p5)"});
}

}  // namespace
}  // namespace crossload
