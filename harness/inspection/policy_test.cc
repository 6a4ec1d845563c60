#include "harness/inspection/policy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace crossload::audit {
namespace {

Trust trust_of(const Policy& p, std::string_view module, std::string_view name) {
  return p.classify(module, name).trust;
}

TEST(Policy, PicklescanAndModelscanDenialsAreDangerous) {
  Policy p;
  const std::pair<std::string_view, std::string_view> denied[] = {
      {"os", "system"}, {"posix", "system"}, {"nt", "system"}, {"subprocess", "Popen"},
      {"builtins", "eval"}, {"builtins", "exec"}, {"builtins", "getattr"},
      {"builtins", "__import__"}, {"__builtin__", "open"}, {"runpy", "_run_code"},
      {"socket", "create_connection"}, {"sys", "modules"}, {"operator", "attrgetter"},
      {"operator", "methodcaller"}, {"pty", "spawn"}, {"pickle", "loads"},
      {"webbrowser", "open"}, {"httplib", "HTTPSConnection"}, {"requests.api", "get"},
      {"aiohttp.client", "ClientSession"}, {"shutil", "rmtree"}, {"ssl", "get_server_certificate"},
      {"functools", "partial"}, {"numpy.f2py", "crackfortran"},
      {"numpy.testing._private.utils", "runstring"}, {"pydoc", "locate"}, {"timeit", "timeit"},
      {"cProfile", "run"}, {"code", "InteractiveInterpreter.runcode"}, {"ctypes", "CDLL"},
      {"asyncio.subprocess", "create_subprocess_exec"}, {"asyncio.unix_events", "x"},
      {"importlib", "import_module"}, {"marshal", "loads"}, {"torch.serialization", "load"},
      {"bdb", "Bdb"}, {"pdb", "Pdb"}, {"venv", "create"}, {"pip", "main"},
      {"distutils.file_util", "write_file"}, {"profile", "Profile.run"},
      {"numpy", "load"}, {"joblib", "load"}, {"copyreg", "add_extension"},
      {"sklearn.datasets", "fetch_openml"}};
  for (const auto& [m, n] : denied)
    EXPECT_EQ(trust_of(p, m, n), Trust::kDangerous) << m << "." << n;
}

TEST(Policy, WhatModelsNeedIsTrusted) {
  Policy p;
  const std::pair<std::string_view, std::string_view> ok[] = {
      {"numpy._core.multiarray", "_reconstruct"}, {"numpy", "ndarray"}, {"numpy", "dtype"},
      {"numpy", "log1p"}, {"numpy", "float64"}, {"copy_reg", "_reconstructor"},
      {"__builtin__", "object"}, {"sklearn.tree._classes", "DecisionTreeClassifier"},
      {"sklearn.tree._tree", "Tree"}, {"sklearn._loss._loss", "__pyx_unpickle_CyHalfBinomialLoss"},
      {"sklearn.neighbors._kd_tree", "newObj"},
      {"sklearn.metrics._classification", "accuracy_score"},
      {"scipy.sparse._csr", "csr_matrix"}, {"joblib.numpy_pickle", "NumpyArrayWrapper"},
      {"numpy.random._pickle", "__randomstate_ctor"}};
  for (const auto& [m, n] : ok) EXPECT_EQ(trust_of(p, m, n), Trust::kTrusted) << m << "." << n;
}

TEST(Policy, UnknownIsUntrustedAndSklearnFunctionsOutsideParametersToo) {
  Policy p;
  EXPECT_EQ(trust_of(p, "mypkg", "Model"), Trust::kUntrusted);
  EXPECT_EQ(trust_of(p, "sklearn.utils.validation", "check_memory"), Trust::kUntrusted);
  EXPECT_EQ(trust_of(p, "sklearn.tree._classes", "Outer.Inner"), Trust::kUntrusted);
}

TEST(Policy, TrustFileExtendsButNeverOverridesDanger) {
  auto path = std::filesystem::temp_directory_path() / "crossload-policy-test.trust";
  std::ofstream(path) << "# reviewed\nmypkg.Model\nother.*   # a whole module\nos.system\n";
  Policy p;
  ASSERT_TRUE(p.add_trust_file(path.string()).ok());
  EXPECT_EQ(trust_of(p, "mypkg", "Model"), Trust::kTrusted);
  EXPECT_EQ(trust_of(p, "other", "Anything"), Trust::kTrusted);
  EXPECT_EQ(trust_of(p, "other.sub", "Anything"), Trust::kUntrusted);
  EXPECT_EQ(trust_of(p, "os", "system"), Trust::kDangerous);
  std::filesystem::remove(path);
}

TEST(Policy, MalformedTrustFileNamesFileAndLine) {
  auto path = std::filesystem::temp_directory_path() / "crossload-policy-bad.trust";
  std::ofstream(path) << "mypkg.Model\nnot a name\n";
  Policy p;
  auto st = p.add_trust_file(path.string());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(path.string() + ":2:"), std::string::npos)
      << st.error().message;
  std::filesystem::remove(path);
}

TEST(Policy, OnnxDomains) {
  Policy p;
  EXPECT_TRUE(p.onnx_domain_trusted(""));
  EXPECT_TRUE(p.onnx_domain_trusted("ai.onnx.ml"));
  EXPECT_FALSE(p.onnx_domain_trusted("com.example"));
  EXPECT_TRUE(p.onnx_operator_dangerous("com.microsoft", "PythonOp"));
  EXPECT_FALSE(p.onnx_operator_dangerous("", "Add"));
}

}  // namespace
}  // namespace crossload::audit
