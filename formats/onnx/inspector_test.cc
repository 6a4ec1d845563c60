#include "formats/onnx/inspector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "harness/audit/inspect.h"
#include "harness/audit/test_support.h"

namespace crossload::audit {
namespace {

class RealOnnx : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_venv()) GTEST_SKIP() << "no project venv";
  }
};

constexpr const char* kHelpers = R"(
import onnx
from onnx import TensorProto, helper
def model(nodes, inits, opsets=()):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), *opsets])
def external(location, length=4):
    t = TensorProto(); t.name = "W"; t.data_type = TensorProto.FLOAT; t.dims.append(1)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", str(length))):
        e = t.external_data.add(); e.key = k; e.value = v
    return t
add = helper.make_node("Add", ["X", "W"], ["Y"])
)";

InspectionRecord inspect_python(const std::string& code, const std::string& name) {
  auto path = testing::python_artifact(std::string(kHelpers) + code, name);
  EXPECT_TRUE(path);
  Policy policy;
  auto r = inspect_file(path.value_or("/nonexistent"), policy);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : InspectionRecord{};
}

bool has_rule(const InspectionRecord& r, Rule rule) {
  return std::any_of(r.findings.begin(), r.findings.end(),
                     [&](const Finding& f) { return f.rule == rule; });
}

TEST_F(RealOnnx, Skl2onnxModelIsSafeWithOpsetsOperatorsAndInitializers) {
  auto r = inspect_python(
      "import numpy as np\n"
      "from skl2onnx import to_onnx\n"
      "from sklearn.linear_model import LogisticRegression\n"
      "from sklearn.preprocessing import StandardScaler\n"
      "from sklearn.pipeline import make_pipeline\n"
      "from sklearn.datasets import load_iris\n"
      "X, y = load_iris(return_X_y=True)\n"
      "m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y)\n"
      "open(sys.argv[1], 'wb').write(to_onnx(m, X[:1].astype(np.float32)).SerializeToString())\n",
      "m.onnx");
  EXPECT_EQ(r.format, "onnx");
  EXPECT_EQ(r.verdict, Verdict::kSafe);
  EXPECT_TRUE(r.protocol.has_value());
  EXPECT_FALSE(r.opsets.empty());
  EXPECT_TRUE(std::any_of(r.operators.begin(), r.operators.end(), [](const OperatorUse& o) {
    return o.domain == "ai.onnx.ml" && o.op_type == "LinearClassifier";
  }));
}

TEST_F(RealOnnx, ExternalDataEscapingTheDirectoryIsUnsafe) {
  auto r = inspect_python(
      "open(sys.argv[1], 'wb').write(model([add], [external('../../etc/passwd')])"
      ".SerializeToString())\n",
      "escape.onnx");
  EXPECT_EQ(r.verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_rule(r, Rule::kPathEscape));
  EXPECT_EQ(r.external_data, std::vector<std::string>{"../../etc/passwd"});
}

TEST_F(RealOnnx, ExternalDataInsideTheDirectoryIsANote) {
  auto r = inspect_python(
      "open(sys.argv[1], 'wb').write(model([add], [external('weights.bin')])"
      ".SerializeToString())\n",
      "ok.onnx");
  EXPECT_EQ(r.verdict, Verdict::kSafe);
}

TEST_F(RealOnnx, GiganticDeclaredTensorIsUnsafe) {
  auto r = inspect_python(
      "t = TensorProto(); t.name = 'W'; t.data_type = TensorProto.DOUBLE\n"
      "t.dims.extend([1 << 40, 1 << 30])\n"
      "open(sys.argv[1], 'wb').write(model([add], [t]).SerializeToString())\n",
      "big.onnx");
  EXPECT_EQ(r.verdict, Verdict::kUnsafe);
  EXPECT_TRUE(has_rule(r, Rule::kResource));
}

TEST_F(RealOnnx, CustomDomainIsUntrustedAndPythonOpUnsafe) {
  auto custom = inspect_python(
      "n = helper.make_node('Magic', ['X'], ['Y'], domain='com.example')\n"
      "open(sys.argv[1], 'wb').write(model([n], [], [helper.make_opsetid('com.example', 1)])"
      ".SerializeToString())\n",
      "custom.onnx");
  EXPECT_EQ(custom.verdict, Verdict::kUntrusted);
  auto py = inspect_python(
      "n = helper.make_node('PythonOp', ['X'], ['Y'], domain='com.microsoft')\n"
      "open(sys.argv[1], 'wb').write(model([n], [], [helper.make_opsetid('com.microsoft', 1)])"
      ".SerializeToString())\n",
      "py.onnx");
  EXPECT_EQ(py.verdict, Verdict::kUnsafe);
}

TEST_F(RealOnnx, SubgraphOperatorsAreCounted) {
  auto r = inspect_python(
      "then_g = helper.make_graph([helper.make_node('Neg', ['X'], ['Y'])], 't', [],\n"
      "    [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [1])])\n"
      "else_g = helper.make_graph([helper.make_node('Abs', ['X'], ['Y'])], 'e', [],\n"
      "    [helper.make_tensor_value_info('Y', TensorProto.FLOAT, [1])])\n"
      "c = helper.make_tensor('C', TensorProto.BOOL, [], [True])\n"
      "n = helper.make_node('If', ['C'], ['Y'], then_branch=then_g, else_branch=else_g)\n"
      "open(sys.argv[1], 'wb').write(model([n], [c]).SerializeToString())\n",
      "if.onnx");
  EXPECT_EQ(r.verdict, Verdict::kSafe);
  for (std::string op : {"If", "Neg", "Abs"})
    EXPECT_TRUE(std::any_of(r.operators.begin(), r.operators.end(),
                            [&](const OperatorUse& o) { return o.op_type == op; }))
        << op;
}

TEST(OnnxInspector, TruncatedProtobufIsAnErrorWithOffset) {
  Policy policy;
  auto r = inspect_bytes(std::string("\x08\x07\x3a\x7f\x0a", 5), "t.onnx", policy);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("t.onnx: offset 2"), std::string::npos)
      << r.error().message;
}

TEST(OnnxInspector, DeeplyNestedSubgraphsAreRefused) {
  // graph{node{attribute{g: graph{node{...}}}}} 40 levels deep, built inside out
  std::string g;  // an empty GraphProto
  auto len_field = [](int number, const std::string& body) {
    std::string out(1, static_cast<char>((number << 3) | 2));
    std::size_t n = body.size();
    do {
      out += static_cast<char>((n & 0x7F) | (n > 0x7F ? 0x80 : 0));
      n >>= 7;
    } while (n);
    return out + body;
  };
  for (int i = 0; i < 40; ++i) g = len_field(1, len_field(5, len_field(6, g)));
  std::string model = std::string("\x08\x07", 2) + len_field(7, g);
  Policy policy;
  auto r = inspect_bytes(model, "deep.onnx", policy);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace crossload::audit
