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
