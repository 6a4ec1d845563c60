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

TEST_F(DillArtifacts, AModelWithoutCodeIsSafeThroughDillsArrayHelper) {
  auto path = testing::python_artifact(
      "import dill\nfrom sklearn.linear_model import LogisticRegression\n"
      "open(sys.argv[1], 'wb').write(dill.dumps(LogisticRegression().fit([[0.0], [1.0]], [0, 1])))\n",
      "plain.dill");
  ASSERT_TRUE(path);
  auto r = inspect_file(*path, Policy());
  ASSERT_TRUE(r.ok()) << r.error().message;
  // dill rebuilds each array through dill._dill._create_array(numpy's reconstructor, args, state),
  // which only rebuilds data: trusted as numpy's reconstructor is.
  EXPECT_EQ(r->format, "dill");
  EXPECT_EQ(r->verdict, Verdict::kSafe) << (r->findings.empty() ? "" : r->findings[0].reason);
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

TEST_F(DillArtifacts, ArraysThroughDillsHelperAndAnotherCallableAreUnsafe) {
  // _create_array(os.system, ('true',), None): the helper is trusted only with numpy's reconstructor.
  auto path = testing::python_artifact(
      "open(sys.argv[1], 'wb').write(b'\\x80\\x04cdill._dill\\n_create_array\\ncos\\nsystem\\n'\n"
      "    b'\\x8c\\x04true\\x85N\\x87R.')\n",
      "array_system.dill");
  ASSERT_TRUE(path);
  auto r = inspect_file(*path, Policy());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_rule(*r, Rule::kUnresolvedGlobal));
}

// Pickles written opcode by opcode around dill's cell setter, getattr(dill._dill, '_setattr',
// setattr) (dill/_shims.py): `setter` is how it is reached, `use` what is done with it.
std::optional<std::string> cell_setter_pickle(const std::string& setter, const std::string& use,
                                              const std::string& name) {
  return testing::python_artifact(
      "G = lambda m, n: b'c' + m.encode() + b'\\n' + n.encode() + b'\\n'\n"
      "S = lambda s: b'\\x8c' + bytes([len(s)]) + s.encode()\n"
      "cell = G('dill._dill', '_create_cell') + b'N\\x85R'\n"
      "idiom = G('builtins', 'getattr') + G('dill', '_dill') + S('_setattr') + G('builtins', 'setattr') + b'\\x87R'\n"
      "setter = " + setter + "\n"
      "open(sys.argv[1], 'wb').write(b'\\x80\\x04' + setter + " + use + " + b'.')\n",
      name);
}

TEST_F(DillArtifacts, DillsCellSetterIsAnUntrustedReconstructorNotADangerousGetattr) {
  auto path = cell_setter_pickle("idiom", "cell + S('cell_contents') + b'K\\x01\\x87R'", "cell.dill");
  ASSERT_TRUE(path);
  auto r = inspect_file(*path, Policy());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUntrusted) << (r->findings.empty() ? "" : r->findings[0].reason);
  EXPECT_FALSE(has_rule(*r, Rule::kDangerousGlobal));
  EXPECT_TRUE(std::any_of(r->findings.begin(), r->findings.end(), [](const Finding& f) {
    return f.rule == Rule::kUntrustedGlobal && f.reason.find("dill._dill._setattr") != std::string::npos;
  }));
}

TEST_F(DillArtifacts, AnyOtherGetattrStaysDangerous) {
  const char* hostile[][2] = {
      // another attribute of dill._dill (its os module), with setattr as the default
      {"G('builtins', 'getattr') + G('dill', '_dill') + S('os') + G('builtins', 'setattr') + b'\\x87R'",
       "b'0'"},
      // dill's attribute, with another default
      {"G('builtins', 'getattr') + G('dill', '_dill') + S('_setattr') + G('os', 'system') + b'\\x87R'",
       "b'0'"},
      // getattr(os.system) itself: no module global at all
      {"G('builtins', 'getattr') + G('os', 'system') + S('__call__') + b'\\x86R'", "b'0'"},
      // the idiom, whose getattr is then taken from the memo for something else
      {"G('builtins', 'getattr') + b'\\x94' + G('dill', '_dill') + S('_setattr') + G('builtins', 'setattr') + "
       "b'\\x87R0'",
       "b'h\\x00' + G('dill', '_dill') + S('os') + b'\\x86R'"},
  };
  for (const auto& [setter, use] : hostile) {
    auto path = cell_setter_pickle(setter, use, "hostile.dill");
    ASSERT_TRUE(path);
    auto r = inspect_file(*path, Policy());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->verdict, Verdict::kUnsafe) << setter;
    EXPECT_TRUE(std::any_of(r->findings.begin(), r->findings.end(), [](const Finding& f) {
      return f.rule == Rule::kDangerousGlobal && f.reason.find("builtins.getattr") != std::string::npos;
    })) << setter;
  }
}

TEST_F(DillArtifacts, DillsCellSetterOnAnythingButACellsContentsIsUnsafe) {
  for (const char* use : {"G('collections', 'OrderedDict') + S('cell_contents') + b'K\\x01\\x87R'",
                          "cell + S('__class__') + b'K\\x01\\x87R'"}) {
    auto path = cell_setter_pickle("idiom", use, "not_a_cell.dill");
    ASSERT_TRUE(path);
    auto r = inspect_file(*path, Policy());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->verdict, Verdict::kUnsafe) << use;
    EXPECT_TRUE(std::any_of(r->findings.begin(), r->findings.end(), [](const Finding& f) {
      return f.reason.find("other than a closure cell") != std::string::npos;
    })) << use;
  }
}

TEST_F(DillArtifacts, DillsTypeByNameIsJudgedAsTheTypeItNames) {
  // _load_type('slice') is builtins.slice (a ColumnTransformer's column slices); a name ending in
  // Type is types.<name>; neither helper nor name escapes the policy.
  const std::pair<const char*, Verdict> cases[] = {
      {"slice", Verdict::kSafe}, {"CodeType", Verdict::kUntrusted}, {"FileType", Verdict::kUntrusted}};
  for (const auto& [name, verdict] : cases) {
    auto path = testing::python_artifact(
        std::string("open(sys.argv[1], 'wb').write(b'\\x80\\x04cdill._dill\\n_load_type\\n\\x8c' + bytes([len('") +
            name + "')]) + b'" + name + "\\x85R.')\n",
        "type.dill");
    ASSERT_TRUE(path);
    auto r = inspect_file(*path, Policy());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->verdict, verdict) << name;
  }
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
