// The audit of what dill really writes (the project venv's dill): its reconstructors are judged
// by what they build, and by-value code as cloudpickle's is (formats/pickle/inspector_test.cc).
#include <gtest/gtest.h>

#include <algorithm>

#include "harness/audit/test_support.h"

namespace crossload::audit {
namespace {

class DillArtifacts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_venv()) GTEST_SKIP() << "no .venv (run ci/setup)";
  }
};

bool has_rule(const InspectionRecord& r, Rule rule) {
  return std::any_of(r.findings.begin(), r.findings.end(), [&](const Finding& f) { return f.rule == rule; });
}

// A FunctionTransformer whose function (`source` defines f) dill carries by value.
std::optional<std::string> by_value(const std::string& source, const std::string& name) {
  return testing::python_artifact(
      "import dill\nfrom sklearn.preprocessing import FunctionTransformer\n"
      "ns = {}\nexec(" + source + ", ns)\nns['f'].__module__ = '__main__'\n"
      "open(sys.argv[1], 'wb').write(dill.dumps(FunctionTransformer(ns['f'])))\n",
      name);
}

TEST_F(DillArtifacts, AModelWithoutCodeIsUntrustedOnlyForDillsArrayHelper) {
  auto path = testing::python_artifact(
      "import dill\nfrom sklearn.linear_model import LogisticRegression\n"
      "open(sys.argv[1], 'wb').write(dill.dumps(LogisticRegression().fit([[0.0], [1.0]], [0, 1])))\n",
      "plain.dill");
  ASSERT_TRUE(path);
  auto r = inspect_file(*path, Policy());
  ASSERT_TRUE(r.ok()) << r.error().message;
  // dill rebuilds each array through dill._dill._create_array(numpy's reconstructor, args, state).
  EXPECT_EQ(r->format, "dill");
  EXPECT_EQ(r->verdict, Verdict::kUntrusted) << (r->findings.empty() ? "" : r->findings[0].reason);
  EXPECT_FALSE(has_rule(*r, Rule::kUnresolvedGlobal));
  EXPECT_GE(r->arrays.size(), 3u);  // classes_, coef_, intercept_ (and n_iter_)
  EXPECT_TRUE(std::any_of(r->arrays.begin(), r->arrays.end(), [](const ArrayInfo& a) { return a.dtype == "f8"; }));
}

TEST_F(DillArtifacts, ALambdaOfAnImportedModuleIsDillAndUntrustedForItsCode) {
  auto path = testing::python_artifact(
      "import dill, types, numpy as np\nfrom sklearn.preprocessing import FunctionTransformer\n"
      "m = types.ModuleType('recipes'); exec('import numpy as np\\nf = lambda x: np.log1p(x) * 2', m.__dict__)\n"
      "import sys as s; s.modules['recipes'] = m\n"
      "open(sys.argv[1], 'wb').write(dill.dumps(FunctionTransformer(m.f).fit([[1.0]])))\n",
      "lambda.dill");
  ASSERT_TRUE(path);
  auto r = inspect_file(*path, Policy());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, "dill");
  EXPECT_TRUE(has_rule(*r, Rule::kCodeObject));
  // dill's reconstructors are judged by their role, not refused as dill.load would be.
  for (const auto& f : r->findings)
    EXPECT_EQ(f.reason.find("dill._dill._create_function (nested"), std::string::npos) << f.reason;
}

TEST_F(DillArtifacts, ByValueCodeCallingOsSystemIsUnsafeAtTheNamesOffset) {
  auto path = by_value("'def f(X):\\n    import os\\n    os.system(\"true\")\\n    return X\\n'", "system.dill");
  ASSERT_TRUE(path);
  auto r = inspect_file(*path, Policy());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  auto f = std::find_if(r->findings.begin(), r->findings.end(), [](const Finding& f) {
    return f.rule == Rule::kCodeObject && f.severity == Severity::kError;
  });
  ASSERT_NE(f, r->findings.end());
  // co_names read after dill's leading co_lnotab: the names are os and system, at their offset.
  EXPECT_NE(f->reason.find("os (process)"), std::string::npos) << f->reason;
  EXPECT_NE(f->reason.find("system (process)"), std::string::npos) << f->reason;
  EXPECT_NE(f->reason.find("'f'"), std::string::npos) << f->reason;  // co_name, shifted too
  std::string bytes = testing::read_all(*path);
  ASSERT_LT(f->offset + 4, bytes.size());
  EXPECT_EQ(bytes.substr(f->offset, 4), std::string("\x8c\x02os", 4));
}

TEST_F(DillArtifacts, DillLoadInsideAPickleStaysDangerous) {
  auto path = testing::python_artifact(
      "import pickle, dill\n"
      "class Nested:\n"
      "    def __reduce__(self):\n"
      "        return (dill.loads, (b'',))\n"
      "open(sys.argv[1], 'wb').write(pickle.dumps(Nested()))\n",
      "nested.pkl");
  ASSERT_TRUE(path);
  auto r = inspect_file(*path, Policy());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_rule(*r, Rule::kDangerousGlobal));
}

}  // namespace
}  // namespace crossload::audit
