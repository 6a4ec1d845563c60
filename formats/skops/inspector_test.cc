#include "formats/skops/inspector.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "harness/audit/inspect.h"
#include "harness/audit/test_support.h"

namespace crossload::audit {
namespace {

Result<InspectionRecord> schema(const std::string& json) {
  Policy policy;
  InspectContext ctx{policy, {}, "schema.json"};
  InspectionRecord rec;
  if (auto st = inspect_skops_schema(json, ctx, rec); !st) return st.error();
  rec.settle_verdict();
  return rec;
}

TEST(SkopsInspector, TrustedTypesAreSafeAndVersionIsRead) {
  auto r = schema(R"({"__class__": "LogisticRegression",
    "__module__": "sklearn.linear_model._logistic", "__loader__": "ObjectNode",
    "content": {"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode",
      "content": {"_sklearn_version": {"__class__": "str", "__module__": "builtins",
        "__loader__": "JsonNode", "content": "\"1.9.1\"", "is_json": true}}},
    "protocol": 2, "_skops_version": "0.16.0"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kSafe);
  EXPECT_EQ(r->protocol, 2);
  EXPECT_EQ(r->versions, std::vector<std::string>{"1.9.1"});
}

TEST(SkopsInspector, DangerousFunctionIsUnsafe) {
  auto r = schema(R"({"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
}

TEST(SkopsInspector, MethodNodeIsCheckedAsAnAttributePath) {
  auto r = schema(R"({"__class__": "object", "__module__": "builtins", "__loader__": "MethodNode",
    "content": {"func": "__subclasses__", "obj": {"__class__": "object",
      "__module__": "builtins", "__loader__": "ObjectNode"}}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
}

TEST(SkopsInspector, UnknownTypeIsUntrustedAndUnknownLoaderAnAnomaly) {
  auto r = schema(R"({"__class__": "Model", "__module__": "mypkg", "__loader__": "ObjectNode"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUntrusted);
  auto r2 = schema(R"({"__class__": "dict", "__module__": "builtins", "__loader__": "EvilNode"})");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->verdict, Verdict::kUntrusted);
}

TEST(SkopsInspector, DeepNestingIsRefusedNotRecursedInto) {
  std::string deep(100000, '[');
  auto r = schema(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nests deeper"), std::string::npos);
}

constexpr const char* kFunctionV0 =
    R"({"__class__": "function", "__module__": "builtins", "__loader__": "FunctionNode",
    "content": {"module_path": "posix", "function": "system"}, "protocol": 0})";

TEST(SkopsInspector, FunctionNodeIsJudgedByTheCallableInItsContent) {
  auto r = schema(kFunctionV0);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  ASSERT_FALSE(r->findings.empty());
  const Finding& f = r->findings[0];
  EXPECT_EQ(f.rule, Rule::kDangerousGlobal);
  EXPECT_NE(f.reason.find("would import posix.system"), std::string::npos) << f.reason;
  // The offset is where the callable's name starts in schema.json.
  EXPECT_EQ(f.offset, std::string_view(kFunctionV0).find("posix"));
  // Protocol 0 never imports __class__: builtins.function is not what the file imports.
  EXPECT_EQ(std::find(r->globals.begin(), r->globals.end(), "builtins.function"),
            r->globals.end());
}

TEST(SkopsInspector, TrustingTheDecoyClassDoesNotTrustTheContentCallable) {
  Policy policy;
  ASSERT_TRUE(policy.trust("builtins.function").ok());
  InspectContext ctx{policy, {}, "schema.json"};
  InspectionRecord rec;
  ASSERT_TRUE(inspect_skops_schema(kFunctionV0, ctx, rec).ok());
  rec.settle_verdict();
  EXPECT_EQ(rec.verdict, Verdict::kUnsafe);
}

TEST(SkopsInspector, LaterProtocolsJudgeBothTheClassAndTheContent) {
  auto r = schema(R"({"__class__": "system", "__module__": "os", "__loader__": "FunctionNode",
    "content": {"module_path": "numpy", "function": "sqrt"}, "protocol": 2})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_NE(std::find(r->globals.begin(), r->globals.end(), "os.system"), r->globals.end());
  EXPECT_NE(std::find(r->globals.begin(), r->globals.end(), "numpy.sqrt"), r->globals.end());
}

TEST(SkopsInspector, FindingsPointAtTheNodesNameNotAtZero) {
  std::string text = R"({"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode",
    "content": {"a": {"__class__": "Model", "__module__": "mypkg", "__loader__": "ObjectNode"},
      "b": {"__loader__": "MethodNode", "__class__": "object", "__module__": "builtins",
        "content": {"func": "__subclasses__", "obj": {"__class__": "object",
          "__module__": "builtins", "__loader__": "ObjectNode"}}}}, "protocol": 2})";
  auto r = schema(text);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->findings.size(), 2u);
  for (const auto& f : r->findings) {
    if (f.rule == Rule::kUntrustedGlobal)
      EXPECT_EQ(f.offset, text.find("mypkg")) << f.reason;
    else
      EXPECT_EQ(f.offset, text.find("__subclasses__")) << f.reason;
  }
}

TEST(SkopsInspector, RandomGeneratorIsJudgedByTheBitGeneratorItCalls) {
  auto named = [](const std::string& name) {
    return R"({"__class__": "Generator", "__module__": "numpy.random._generator",
      "__loader__": "RandomGeneratorNode", "content": {"bit_generator": {
        "__class__": "dict", "__module__": "builtins", "__loader__": "DictNode",
        "content": {"bit_generator": {"__class__": "str", "__module__": "builtins",
          "__loader__": "JsonNode", "content": "\")" + name + R"(\"", "is_json": true}}}},
      "protocol": 2})";
  };
  auto ok = schema(named("PCG64"));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->verdict, Verdict::kSafe);
  auto bad = schema(named("__builtins__.exec"));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->verdict, Verdict::kUnsafe);
  auto v0 = schema(R"({"__class__": "Generator", "__module__": "numpy.random._generator",
    "__loader__": "RandomGeneratorNode", "content": {"bit_generator":
      {"bit_generator": "MyBitGen", "state": {}}}, "protocol": 0})");
  ASSERT_TRUE(v0.ok());
  EXPECT_EQ(v0->verdict, Verdict::kUntrusted);
  EXPECT_NE(std::find(v0->globals.begin(), v0->globals.end(), "numpy.random.MyBitGen"),
            v0->globals.end());
}

TEST(SkopsInspector, NotAZipIsAnError) {
  Policy policy;
  auto r = inspect_bytes("PK\x03\x04garbage", "x.skops", policy);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("x.skops: offset"), std::string::npos);
}

TEST(SkopsInspector, RealSkopsFileListsItsTypesAndArrays) {
  if (!testing::have_venv()) GTEST_SKIP() << "no project venv";
  auto path = testing::python_artifact(
      "import skops.io as sio\n"
      "from sklearn.tree import DecisionTreeClassifier\n"
      "from sklearn.datasets import load_iris\n"
      "X, y = load_iris(return_X_y=True)\n"
      "sio.dump(DecisionTreeClassifier(max_depth=2).fit(X, y), sys.argv[1])\n",
      "m.skops");
  ASSERT_TRUE(path);
  Policy policy;
  auto r = inspect_file(*path, policy);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, "skops");
  EXPECT_EQ(r->verdict, Verdict::kSafe);
  EXPECT_NE(std::find(r->globals.begin(), r->globals.end(), "sklearn.tree._tree.Tree"),
            r->globals.end());
  EXPECT_FALSE(r->arrays.empty());
  EXPECT_EQ(r->versions, std::vector<std::string>{"1.9.1"});
}

}  // namespace
}  // namespace crossload::audit
