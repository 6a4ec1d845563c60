#include "formats/pickle/inspector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>

#include "harness/audit/inspect.h"
#include "harness/audit/test_support.h"

namespace crossload::audit {
namespace {

using std::string_literals::operator""s;

using testing::inspect;

bool has_rule(const InspectionRecord& r, Rule rule) {
  return std::any_of(r.findings.begin(), r.findings.end(),
                     [&](const Finding& f) { return f.rule == rule; });
}

bool has_global(const InspectionRecord& r, std::string_view g) {
  return std::find(r.globals.begin(), r.globals.end(), g) != r.globals.end();
}

// --- hand-written pickles: every opcode family -------------------------------------------

TEST(PickleInspector, Protocol0OsSystemIsUnsafeWithOffset) {
  auto r = inspect("cos\nsystem\n(S'echo hi'\ntR.");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_EQ(r->format, "pickle");
  EXPECT_EQ(r->protocol, 0);
  ASSERT_FALSE(r->findings.empty());
  EXPECT_EQ(r->findings[0].rule, Rule::kDangerousGlobal);
  EXPECT_EQ(r->findings[0].offset, 0u);
  EXPECT_TRUE(has_global(*r, "os.system"));
}

TEST(PickleInspector, Python2BuiltinNameIsMapped) {
  auto r = inspect("\x80\x02" "c__builtin__\neval\n(Vprint(1)\ntR."s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_global(*r, "builtins.eval"));
}

TEST(PickleInspector, StackGlobalResolvedThroughMemo) {
  // 'os' and 'system' are memoized first and only referenced by BINGET at STACK_GLOBAL time,
  // after decoys: a scanner looking at the preceding string opcodes sees 'math'/'sqrt'.
  std::string p = "\x80\x04"
                  "\x8c\x02os\x94"            // memo 0 = 'os'
                  "\x8c\x06system\x94"        // memo 1 = 'system'
                  "0" "0"                     // pop both
                  "\x8c\x04math" "\x8c\x04sqrt" "0" "0"
                  "h\x00" "h\x01" "\x93"      // BINGET 0, BINGET 1, STACK_GLOBAL
                  "\x8c\x02id\x85R."s;
  auto r = inspect(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_global(*r, "os.system"));
  EXPECT_FALSE(has_global(*r, "math.sqrt"));
}

TEST(PickleInspector, MemoOverwriteIsFollowed) {
  // PUT 0 'numpy', then PUT 0 again with 'os': the later binding wins, as in the unpickler.
  std::string p = "\x80\x04"
                  "\x8c\x05numpy" "q\x00" "0"
                  "\x8c\x02os" "q\x00" "0"
                  "h\x00" "\x8c\x06system" "\x93" "\x8c\x01x\x85R."s;
  auto r = inspect(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(has_global(*r, "os.system"));
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
}

TEST(PickleInspector, ComputedStackGlobalIsUnsafe) {
  // module name produced by a call: cannot be checked statically
  std::string p = "\x80\x04"
                  "\x8c\x08" "builtins\x8c\x03str\x93" "\x8c\x02os\x85R"
                  "\x8c\x06system\x93" "\x8c\x01x\x85R."s;
  auto r = inspect(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_rule(*r, Rule::kUnresolvedGlobal));
}

TEST(PickleInspector, TrustedOnlyIsSafe) {
  auto r = inspect("\x80\x04\x8c\x0b" "collections\x8c\x0bOrderedDict\x93)R."s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kSafe);
  EXPECT_EQ(r->protocol, 4);
}

TEST(PickleInspector, UnknownGlobalIsUntrusted) {
  auto r = inspect("\x80\x04\x8c\x05mypkg\x8c\x05Model\x93)\x81."s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUntrusted);
  EXPECT_TRUE(has_rule(*r, Rule::kUntrustedGlobal));
}

TEST(PickleInspector, BuildOnImportedClassIsUnsafe) {
  // BUILD with the class itself on the stack sets class attributes in the loading process.
  std::string p = "\x80\x04\x8c\x0b" "collections\x8c\x0bOrderedDict\x93"
                  "}\x8c\x07__doc__\x8c\x01x\x73" "b."s;
  auto r = inspect(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_rule(*r, Rule::kBuildOnCallable));
}

TEST(PickleInspector, DottedAttributePathIsUnsafe) {
  std::string p = "\x80\x04\x8c\x08" "builtins\x8c\x19" "object.__subclasses__.abc\x93."s;
  auto r = inspect(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
}

TEST(PickleInspector, SeveralPicklesInOneFileAreAllScanned) {
  auto r = inspect("\x80\x04N.\x80\x02" "cposix\nsystem\nN\x85R."s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_global(*r, "posix.system"));
}

TEST(PickleInspector, TrailingGarbageAfterPickleIsAnAnomaly) {
  auto r = inspect("\x80\x04N.\x00\x00\x00"s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUntrusted);
  EXPECT_TRUE(has_rule(*r, Rule::kAnomaly));
}

TEST(PickleInspector, Protocol5OpcodesAndFrames) {
  // FRAME, BYTEARRAY8, NEXT_BUFFER, READONLY_BUFFER, BINBYTES8, BINUNICODE8, EMPTY_SET,
  // ADDITEMS, FROZENSET, NEWOBJ_EX, TUPLE1..3, LONG1/LONG4, MEMOIZE
  std::string p = "\x80\x05\x95\x10\x00\x00\x00\x00\x00\x00\x00"s +
                  "\x96\x03\x00\x00\x00\x00\x00\x00\x00" "abc"s +
                  "\x97\x98" "\x8e\x01\x00\x00\x00\x00\x00\x00\x00" "z"s +
                  "\x8d\x01\x00\x00\x00\x00\x00\x00\x00" "y"s + "\x8f(K\x01\x90" "(K\x02\x91"s +
                  "\x8a\x01\x05\x8b\x01\x00\x00\x00\x07" "\x87\x86\x85\x94"s + "."s;
  auto r = inspect(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->protocol, 5);
  EXPECT_TRUE(has_rule(*r, Rule::kLoaderDefined));  // NEXT_BUFFER: buffer from the loader
}

TEST(PickleInspector, ExtensionCodesAndPersistentIdsAreUntrusted) {
  auto r = inspect("\x80\x02\x82\x01."s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUntrusted);
  auto r2 = inspect("Pabc\n.");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->verdict, Verdict::kUntrusted);
}

TEST(PickleInspector, HugeMemoIndexIsAResourceFinding) {
  auto r = inspect("\x80\x04Nr\xff\xff\xff\xff."s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_rule(*r, Rule::kResource));
}

// --- malformed input: an error naming the offset, never a crash ---------------------------

TEST(PickleInspector, TruncatedIsAnErrorWithOffset) {
  auto r = inspect("\x80\x04\x8c\x10short"s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("test.pkl: offset 2"), std::string::npos)
      << r.error().message;
}

TEST(PickleInspector, StackUnderflowIsAnError) {
  auto r = inspect("\x80\x04R."s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("underflow"), std::string::npos);
}

TEST(PickleInspector, MissingMemoIsAnError) {
  auto r = inspect("\x80\x04h\x05."s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("memo"), std::string::npos);
}

TEST(PickleInspector, UnknownOpcodeIsAnError) {
  auto r = inspect("\x80\x04\xff."s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("offset 2"), std::string::npos);
}

TEST(PickleInspector, NoStopIsAnError) {
  auto r = inspect("\x80\x04N"s);
  ASSERT_FALSE(r.ok());
}

TEST(PickleInspector, UnsafePrefixBeforeAnErrorStaysUnsafe) {
  auto r = inspect("cos\nsystem\n(S'id'\ntR\xff");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_rule(*r, Rule::kTruncatedAfterUnsafe));
}

TEST(PickleInspector, DeepMarksAndLongInputStayBounded) {
  std::string p = "\x80\x04" + std::string(200000, '(') + "N." + std::string(0, ' ');
  auto r = inspect(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kSafe);
}

// --- real artifacts from the project venv --------------------------------------------------

class RealPickles : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_venv()) GTEST_SKIP() << "no project venv";
  }
};

constexpr const char* kModels = R"(
import numpy as np
from sklearn import datasets, linear_model, tree, ensemble, preprocessing, pipeline, svm
from sklearn import neighbors, naive_bayes, cluster, decomposition, neural_network, compose
X, y = datasets.load_iris(return_X_y=True)
models = [
  linear_model.LogisticRegression(max_iter=300).fit(X, y),
  tree.DecisionTreeClassifier().fit(X, y),
  ensemble.RandomForestClassifier(n_estimators=3).fit(X, y),
  ensemble.HistGradientBoostingClassifier(max_iter=5).fit(X, y),
  ensemble.GradientBoostingClassifier(n_estimators=3).fit(X, y),
  pipeline.make_pipeline(preprocessing.StandardScaler(), svm.SVC()).fit(X, y),
  neighbors.KNeighborsClassifier().fit(X, y), naive_bayes.GaussianNB().fit(X, y),
  cluster.KMeans(n_clusters=3, n_init=1).fit(X), decomposition.PCA(2).fit(X),
  neural_network.MLPClassifier(max_iter=20).fit(X, y),
  preprocessing.FunctionTransformer(np.log1p).fit(X),
  compose.ColumnTransformer([("s", preprocessing.StandardScaler(), [0, 1]),
                             ("o", preprocessing.OneHotEncoder(), [2])]).fit(X),
  linear_model.SGDClassifier(random_state=np.random.RandomState(0)).fit(X, y),
]
)";

TEST_F(RealPickles, EveryProtocolOfRealModelsIsSafe) {
  // One Python run writes models.pkl.p0 ... models.pkl.p5 next to models.pkl.
  auto path = testing::python_artifact(
      std::string(kModels) +
          "import pickle\nfor p in range(6):\n"
          "    open(sys.argv[1] + '.p%d' % p, 'wb').write(pickle.dumps(models, protocol=p))\n"
          "open(sys.argv[1], 'wb').write(b'')\n",
      "models.pkl");
  ASSERT_TRUE(path);
  for (int proto : {0, 1, 2, 3, 4, 5}) {
    Policy policy;
    auto r = inspect_file(*path + ".p" + std::to_string(proto), policy);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->verdict, Verdict::kSafe) << "protocol " << proto << ": "
                                          << (r->findings.empty() ? "" : r->findings[0].reason);
    EXPECT_EQ(r->versions, std::vector<std::string>{"1.9.1"}) << "protocol " << proto;
    EXPECT_GT(r->arrays.size(), 10u);
    EXPECT_EQ(r->protocol, proto);
    for (const auto& a : r->arrays)
      if (a.dtype == "f8") {
        EXPECT_EQ(a.byte_order, "little") << "protocol " << proto;
      }
  }
}

TEST_F(RealPickles, ArraysAreDescribed) {
  auto path = testing::python_artifact(
      "import pickle, numpy as np\n"
      "a = np.arange(12, dtype='>f4').reshape(3, 4)\n"
      "open(sys.argv[1], 'wb').write(pickle.dumps([a, np.zeros(5, dtype='<i8')], protocol=5))\n",
      "arrays.pkl");
  ASSERT_TRUE(path);
  Policy policy;
  auto r = inspect_file(*path, policy);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->arrays.size(), 2u);
  EXPECT_EQ(r->arrays[0].dtype, "f4");
  EXPECT_EQ(r->arrays[0].byte_order, "big");
  EXPECT_EQ(r->arrays[0].shape, (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(r->arrays[0].bytes, 48u);
  EXPECT_EQ(r->arrays[1].dtype, "i8");
  EXPECT_EQ(r->arrays[1].bytes, 40u);
}

TEST_F(RealPickles, CloudpickleLambdaIsUntrustedForItsCode) {
  auto path = testing::python_artifact(
      "import cloudpickle, numpy as np\n"
      "from sklearn.preprocessing import FunctionTransformer\n"
      "ft = FunctionTransformer(lambda x: np.log1p(x) * 2).fit([[1.0]])\n"
      "open(sys.argv[1], 'wb').write(cloudpickle.dumps(ft))\n",
      "lambda.cloudpkl");
  ASSERT_TRUE(path);
  Policy policy;
  auto r = inspect_file(*path, policy);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, "cloudpickle");
  EXPECT_EQ(r->verdict, Verdict::kUntrusted);
  EXPECT_TRUE(has_rule(*r, Rule::kCodeObject));
}

TEST_F(RealPickles, CloudpickleCallingByValueCodeAtLoadIsUnsafe) {
  auto path = testing::python_artifact(
      "import cloudpickle\n"
      "class Evil:\n"
      "    def __reduce__(self):\n"
      "        return ((lambda s: len(s)), ('harmless here',))\n"
      "open(sys.argv[1], 'wb').write(cloudpickle.dumps(Evil()))\n",
      "evil.cloudpkl");
  ASSERT_TRUE(path);
  Policy policy;
  auto r = inspect_file(*path, policy);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_rule(*r, Rule::kLoadTimeCode));
}

// Writes a FunctionTransformer whose function (`source` defines f) is defined by value (its
// __module__ is __main__), so cloudpickle keeps its code; returns the artifact's path.
std::optional<std::string> by_value(const std::string& source, const std::string& name) {
  return testing::python_artifact(
      "import cloudpickle\nfrom sklearn.preprocessing import FunctionTransformer\n"
      "ns = {}\nexec(" + source + ", ns)\nns['f'].__module__ = '__main__'\n"
      "open(sys.argv[1], 'wb').write(cloudpickle.dumps(FunctionTransformer(ns['f'])))\n",
      name);
}

// The error finding on by-value code in `r`, if any.
const Finding* code_error(const InspectionRecord& r) {
  for (const auto& f : r.findings)
    if (f.rule == Rule::kCodeObject && f.severity == Severity::kError) return &f;
  return nullptr;
}

// The finding that makes the by-value code in the file at `path` UNSAFE (the test fails when
// there is none).
std::optional<Finding> unsafe_code(const std::string& path) {
  auto r = inspect_file(path, Policy());
  if (!r.ok()) {
    ADD_FAILURE() << r.error().message;
    return std::nullopt;
  }
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  const Finding* f = code_error(*r);
  EXPECT_NE(f, nullptr);
  return f ? std::optional<Finding>(*f) : std::nullopt;
}

TEST_F(RealPickles, ByValueCodeCallingOsSystemIsUnsafeAtTheNamesOffset) {
  auto path = by_value("'def f(X):\\n    import os\\n    os.system(\"true\")\\n    return X\\n'",
                       "system.cloudpkl");
  ASSERT_TRUE(path);
  auto f = unsafe_code(*path);
  ASSERT_TRUE(f);
  EXPECT_NE(f->reason.find("os (process)"), std::string::npos) << f->reason;
  EXPECT_NE(f->reason.find("system (process)"), std::string::npos) << f->reason;
  // The offset is the opcode that writes the name "os" (SHORT_BINUNICODE, length, "os").
  std::string bytes = testing::read_all(*path);
  ASSERT_LT(f->offset + 4, bytes.size());
  EXPECT_EQ(bytes.substr(f->offset, 4), std::string("\x8c\x02os", 4));
}

TEST_F(RealPickles, ByValueCodeNamesInNestedCodeAndConstantsAreJudged) {
  auto path = by_value("'def f(X):\\n    def g(s):\\n"
                       "        return getattr(__import__(\"posix\"), s)\\n    return X\\n'",
                       "nested.cloudpkl");
  ASSERT_TRUE(path);
  auto f = unsafe_code(*path);
  ASSERT_TRUE(f);
  for (std::string what : {"'g'", "__import__", "posix"})  // nested code, a name, a constant
    EXPECT_NE(f->reason.find(what), std::string::npos) << f->reason;
}

TEST_F(RealPickles, ArithmeticByValueCodeStaysUntrustedAsByValueCode) {
  auto path = by_value("'f = lambda x: x + 1'", "plus_one.cloudpkl");
  ASSERT_TRUE(path);
  auto r = inspect_file(*path, Policy());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUntrusted);
  EXPECT_EQ(code_error(*r), nullptr);
  EXPECT_TRUE(std::any_of(r->findings.begin(), r->findings.end(), [](const Finding& f) {
    return f.rule == Rule::kCodeObject && f.reason.find("by-value code") != std::string::npos;
  }));
}

}  // namespace
}  // namespace crossload::audit
