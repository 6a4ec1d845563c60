// Facts read from real artifacts written by the project venv's Python (scikit-learn 1.9, numpy 2,
// cloudpickle 3, Python 3.11: ci/requirements.txt) through the static audit, never a load.
#include "harness/forecast/facts.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "harness/audit/test_support.h"

namespace crossload::forecast {
namespace {

using audit::testing::have_venv;
using audit::testing::python_artifact;

bool has(const Facts& f, const std::string& name, const std::string& value) {
  const auto* v = f.find(name);
  return v && std::find(v->begin(), v->end(), value) != v->end();
}

Facts facts_of(const std::string& code, const std::string& name) {
  auto path = python_artifact(code, name);
  EXPECT_TRUE(path);
  audit::Policy policy;
  auto rec = audit::inspect_file(*path, policy);
  EXPECT_TRUE(rec) << rec.error().message;
  return artifact_facts(*rec);
}

const char* kTree =
    "import pickle, sklearn\nfrom sklearn.datasets import load_iris\n"
    "from sklearn.tree import DecisionTreeClassifier\nX, y = load_iris(return_X_y=True)\n"
    "open(sys.argv[1], 'wb').write(pickle.dumps(DecisionTreeClassifier(random_state=0).fit(X, y), protocol=5))\n";

TEST(ForecastFacts, TreePickleTellsReleaseNumpyMajorAndNodeLayout) {
  if (!have_venv()) GTEST_SKIP() << "no .venv (ci/setup makes it)";
  Facts f = facts_of(kTree, "tree.pkl");
  EXPECT_TRUE(has(f, "format", "pickle-p5"));
  EXPECT_TRUE(has(f, "artifact.protocol", "5"));
  const auto* sklearn = f.find("artifact.sklearn");
  ASSERT_TRUE(sklearn);
  EXPECT_EQ(sklearn->at(0).rfind("1.", 0), 0u) << sklearn->at(0);
  EXPECT_TRUE(has(f, "artifact.numpy", "2"));  // numpy 2 names numpy._core
  EXPECT_TRUE(has(f, "artifact.global", "sklearn.tree._tree.Tree"));
  EXPECT_TRUE(has(f, "artifact.record_dtype", "V64"));  // the node with missing_go_to_left, 64-bit
  EXPECT_TRUE(has(f, "artifact.byteorder", "little"));
  EXPECT_TRUE(has(f, "artifact.code", "none"));
  EXPECT_TRUE(has(f, "artifact.code_python", "none"));
}

TEST(ForecastFacts, CloudpickleLambdaTellsThePythonThatCompiledIt) {
  if (!have_venv()) GTEST_SKIP() << "no .venv (ci/setup makes it)";
  Facts f = facts_of(
      "import cloudpickle\nfrom sklearn.preprocessing import FunctionTransformer\n"
      "t = FunctionTransformer(lambda x: x * 2).fit([[1.0]])\n"
      "open(sys.argv[1], 'wb').write(cloudpickle.dumps(t))\n",
      "lambda.cloudpkl");
  EXPECT_TRUE(has(f, "format", "cloudpickle"));
  EXPECT_TRUE(has(f, "artifact.code", "by-value"));
  // The venv's Python is 3.11: RESUME is opcode 151 there (149 from 3.13).
  EXPECT_TRUE(has(f, "artifact.code_python", "3.11-3.12")) << f.find("artifact.code_python")->at(0);
  EXPECT_TRUE(has(f, "artifact.global", "cloudpickle.cloudpickle._function_setstate"));
}

TEST(ForecastFacts, CompressedJoblibIsItsOwnVariant) {
  if (!have_venv()) GTEST_SKIP() << "no .venv (ci/setup makes it)";
  Facts f = facts_of(
      "import joblib\nfrom sklearn.datasets import load_iris\nfrom sklearn.linear_model import LogisticRegression\n"
      "X, y = load_iris(return_X_y=True)\n"
      "joblib.dump(LogisticRegression(max_iter=500).fit(X, y), sys.argv[1], compress=('zlib', 3))\n",
      "model.joblib.z");
  EXPECT_TRUE(has(f, "format", "joblib-zlib"));
  EXPECT_TRUE(has(f, "artifact.global", "sklearn.linear_model._logistic.LogisticRegression"));
  // joblib writes arrays through its own wrapper: this model names no numpy core module, which
  // is why such a joblib file crosses from numpy 2 to numpy 1 where its pickle does not.
  EXPECT_TRUE(has(f, "artifact.numpy", "none"));
}

TEST(ForecastFacts, FingerprintGivesVersionsAndAbsentPackages) {
  auto fp = nlohmann::json::parse(R"({"python": "3.11.2", "byteorder": "big", "pointer_bits": 64,
      "machine": "s390x", "packages": {"numpy": "1.24.2", "scikit-learn": "1.2.1", "onnxruntime": null}})");
  Facts f = env_facts(fp);
  EXPECT_TRUE(has(f, "env.python", "3.11.2"));
  EXPECT_TRUE(has(f, "env.byteorder", "big"));
  EXPECT_TRUE(has(f, "env.pointer_bits", "64"));
  EXPECT_TRUE(has(f, "env.sklearn", "1.2.1"));
  EXPECT_TRUE(has(f, "env.onnxruntime", "absent"));
  EXPECT_EQ(f.find("env.skops"), nullptr);  // not in the fingerprint: unknown, not absent
}

}  // namespace
}  // namespace crossload::forecast
