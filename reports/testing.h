#pragma once
// Hand-built runs for the reporters' golden tests (not part of the library): every outcome,
// warnings, hostile text (markup, control bytes, a UTF-8 character cut in half), manifests with
// skops' untrusted types and ONNX fidelity, an unavailable environment.
#include "harness/util/source_root.h"
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "reports/reporter.h"

namespace crossload::testutil {

using nlohmann::json;

inline EnvRecord env(const std::string& name, const std::string& numpy, const std::string& sklearn,
                     const std::string& byteorder = "little") {
  json fp = {{"python", "3.11.2"},      {"machine", byteorder == "big" ? "s390x" : "x86_64"},
             {"byteorder", byteorder},  {"pointer_bits", 64},
             {"packages", {{"numpy", numpy}, {"scipy", "1.10.1"}, {"scikit-learn", sklearn}, {"joblib", "1.3.2"},
                           {"cloudpickle", "3.0.0"}, {"skops", "0.9.0"}, {"onnx", nullptr}, {"onnxruntime", nullptr}}}};
  return {name, "host", "host interpreter /usr/bin/python3", "ok", "", fp, 0.5};
}

inline ArtifactRecord artifact(const std::string& producer, const std::string& fixture, const std::string& format,
                               int64_t size, json format_details = json::object()) {
  json manifest = {{"fixture", fixture},
                   {"format", format},
                   {"sha256", std::string(64, 'a')},
                   {"size_bytes", size},
                   {"dump_seconds", 0.004},
                   {"format_details", format_details},
                   {"training", {{"cv_score", 0.96}, {"data_sha256", std::string(64, 'd')}, {"recipe_sha256", std::string(64, 'e')}}},
                   {"producer_fingerprint", {{"python", "3.11.2"}, {"packages", {{"numpy", "2.0.1"}, {"scikit-learn", "1.5.0"}}}}}};
  return {producer, fixture, format, "artifacts/" + producer + "/" + fixture + "/model." + format, std::string(64, 'a'),
          size, "ok", "", manifest};
}

inline CellRecord cell(const std::string& fixture, const std::string& format, const std::string& producer,
                       const std::string& consumer, Outcome outcome, json detail = json::object()) {
  return {cell_id(fixture, format, producer, consumer), fixture, format, producer, consumer, outcome, detail, {}, {}};
}

inline CellRecord measured(CellRecord c, double load, double size, double rss = 50e6) {
  c.measurements = {{"load", load, "s"}, {"predict", load / 4, "s"}, {"rss_peak", rss, "bytes"}, {"size", size, "bytes"}};
  return c;
}

inline json compared(const std::string& outcome, double max_abs, double max_ulp, int beyond) {
  json out = {{"outcome", outcome}, {"max_abs", max_abs}, {"max_ulp", max_ulp}, {"n_values", 30},
              {"n_not_identical", beyond}, {"n_beyond_tolerance", beyond},
              {"summary", beyond ? "3 of 30 values beyond tolerance" : "within tolerance"}};
  return {{"outputs", {{"predict_proba", out}}}};
}

inline json error(const std::string& stage, const std::string& type, const std::string& message,
                  const std::string& traceback = "") {
  return {{"stage", stage}, {"error_type", type}, {"message", message}, {"traceback", traceback}};
}

// Two producers (new, old) and consumers (new, old, s390x); every outcome appears once at least.
// `cut_utf8` puts half a character at the end of a traceback, as a byte-wise cut would leave it.
inline RunData sample_run(bool cut_utf8 = true) {
  RunData d;
  d.run = {7, "2024-05-01T12:00:00Z", "2024-05-01T12:03:00Z", "matrix/sample.toml", std::string(64, 'f'), "0.1.0",
           "finished"};
  d.envs = {env("new", "2.0.1", "1.5.0"), env("old", "1.24.2", "1.2.1"), env("s390x", "1.24.2", "1.2.1", "big")};
  d.envs[2].status = "unavailable";
  d.envs[2].reason = "rootfs trixie/s390x: pool file libssl3t64 missing";
  d.envs[2].fingerprint = json::object();
  d.artifacts = {artifact("new", "iris_tree", "pickle-p5", 5120), artifact("new", "iris_tree", "joblib", 5300),
                 artifact("new", "iris_tree", "skops", 9100, {{"untrusted_types", json::array({"sklearn.tree._tree.Tree"})}}),
                 artifact("new", "iris_tree", "onnx", 3000,
                          {{"opset", 15}, {"fidelity", {{"predict", {{"label_agreement", 0.98}}},
                                                        {"predict_proba", {{"max_abs_diff", 2.5e-7}}}}}}),
                 artifact("new", "lambda_pipeline", "cloudpickle", 2500)};
  // What `crossload inspect --format json` says of two of them, as a manifest may carry it.
  d.artifacts[0].manifest["audit"] = {{"verdict", "UNSAFE"},
                                      {"findings", {{{"severity", "error"}, {"rule", "CL100"},
                                                     {"reason", "imports os.system <dangerous>"}, {"offset", 12}}}}};
  d.artifacts[2].manifest["audit"] = {{"verdict", "SAFE"}, {"findings", json::array()}};
  d.artifacts.push_back({"new", "lambda_pipeline", "pickle-p5", "", "", 0, "unsupported",
                         "Can't pickle <function <lambda>>: attribute lookup failed", json::object()});
  auto& c = d.cells;
  c.push_back(measured(cell("iris_tree", "pickle-p5", "new", "new", Outcome::kOkExact, compared("OK_EXACT", 0, 0, 0)), 0.0003, 5120));
  c.push_back(cell("iris_tree", "pickle-p5", "new", "old", Outcome::kLoadError,
                   error("load", "ModuleNotFoundError", "No module named 'numpy._core'",
                         std::string("Traceback (most recent call last):\n  File \"<x>\", line 1\nModuleNotFoundError: ") +
                             (cut_utf8 ? "\xC3" : "\xC3\xA9"))));
  c.push_back(cell("iris_tree", "pickle-p5", "new", "s390x", Outcome::kEnvUnavailable,
                   {{"message", "consumer environment unavailable: pool file libssl3t64 missing"}}));
  c.push_back(measured(cell("iris_tree", "joblib", "new", "new", Outcome::kOkExact, compared("OK_EXACT", 0, 0, 0)), 0.0004, 5300));
  auto tol = measured(cell("iris_tree", "joblib", "old", "new", Outcome::kOkTolerance, compared("OK_TOLERANCE", 1e-12, 3, 0)), 0.0005, 5300);
  tol.warnings = {{"InconsistentVersionWarning", "Trying to unpickle estimator from version 1.2.1 when using version 1.5.0.", "1.2.1"}};
  c.push_back(tol);
  json mismatch = compared("MISMATCH", 0.25, 1e15, 3);
  mismatch["summary"] = "predict_proba: 3 of 30 values beyond tolerance";
  c.push_back(measured(cell("iris_tree", "joblib", "new", "old", Outcome::kMismatch, mismatch), 0.0009, 5300));
  c.push_back(cell("iris_tree", "skops", "new", "old", Outcome::kBlocked,
                   error("load", "UntrustedTypesFoundException", "Untrusted types <sklearn.tree._tree.Tree> & \"friends\"")));
  c.push_back(measured(cell("iris_tree", "skops", "new", "new", Outcome::kOkExact, compared("OK_EXACT", 0, 0, 0)), 0.002, 9100));
  c.push_back(cell("iris_tree", "onnx", "new", "old", Outcome::kPredictError,
                   error("predict", "RuntimeError", "bad\x01 input <X> of type 'float64'")));
  c.push_back(measured(cell("iris_tree", "onnx", "new", "new", Outcome::kOkTolerance, compared("OK_TOLERANCE", 2e-7, 4, 0)), 0.01, 3000));
  c.push_back(cell("lambda_pipeline", "cloudpickle", "new", "old", Outcome::kCrash,
                   {{"message", "worker died of signal 11 (SIGSEGV)"}, {"signal", 11}}));
  c.push_back(cell("lambda_pipeline", "cloudpickle", "old", "new", Outcome::kTimeout, {{"message", "no answer within 300 s"}}));
  c.push_back(cell("lambda_pipeline", "pickle-p5", "new", "new", Outcome::kUnsupported,
                   {{"stage", "unsupported"}, {"message", "Can't pickle <function <lambda>>: attribute lookup failed"}}));
  c.push_back(cell("lambda_pipeline", "cloudpickle", "old", "old", Outcome::kXfail,
                   error("load", "TypeError", "code() argument 13 must be str, not int")));
  c.push_back(measured(cell("lambda_pipeline", "cloudpickle", "new", "new", Outcome::kXpass, compared("OK_EXACT", 0, 0, 0)), 0.0006, 2500));
  std::sort(c.begin(), c.end(), [](const CellRecord& a, const CellRecord& b) { return a.id < b.id; });
  return d;
}

// Only failures: nothing loaded, so no measurements, no charts to draw.
inline RunData failures_only_run() {
  RunData d = sample_run();
  std::erase_if(d.cells, [](const CellRecord& c) { return !c.measurements.empty(); });
  return d;
}

inline RunData empty_run() {
  RunData d;
  d.run = {1, "2024-05-01T12:00:00Z", "", "matrix/empty.toml", "", "0.1.0", "running"};
  return d;
}

inline std::string golden_path(const std::string& name) {
  return std::string(crossload::source_root()) + "/reports/testdata/" + name;
}

// Compares with reports/testdata/<name>; CROSSLOAD_UPDATE_GOLDEN=1 rewrites it instead (review the diff).
inline void expect_golden(const std::string& name, const std::string& actual) {
  std::string path = golden_path(name);
  if (const char* update = std::getenv("CROSSLOAD_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " missing; run the test with CROSSLOAD_UPDATE_GOLDEN=1 to create it";
  std::stringstream expected;
  expected << in.rdbuf();
  if (expected.str() == actual) return;
  // Name the first differing line rather than printing two whole reports.
  std::istringstream want(expected.str()), got(actual);
  std::string w, g;
  int line = 0;
  while (true) {
    ++line;
    bool more_w = static_cast<bool>(std::getline(want, w)), more_g = static_cast<bool>(std::getline(got, g));
    if (w != g || more_w != more_g) break;
  }
  ADD_FAILURE() << "golden " << path << " differs at line " << line << "\n  expected: " << w << "\n  actual:   " << g
                << "\nif the change is intended, rerun with CROSSLOAD_UPDATE_GOLDEN=1 and review the diff";
}

inline std::string render(const Reporter& r, const RunData& d) {
  std::ostringstream out;
  EXPECT_TRUE(r.write(d, out));
  return out.str();
}

}  // namespace crossload::testutil
