#include "harness/env/env_text.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "harness/env/debian_provider.h"
#include "harness/core/matrix.h"

namespace crossload {
namespace {

namespace fs = std::filesystem;

const EnvSpec& matrix_env(const Matrix& m, const std::string& name) {
  const EnvSpec* e = m.find_env(name);
  EXPECT_NE(e, nullptr) << name;
  return *e;
}

TEST(EnvText, DebianSpecSharesTheCacheEntryOfTheDefaultMatrixTable) {
  auto quick = load_matrix("matrix/quick.toml");
  ASSERT_TRUE(quick) << quick.error().message;
  auto e = parse_env_text("debian:bookworm/s390x");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->name, "debian:bookworm/s390x");
  EXPECT_EQ(e->provider, "debian");
  EXPECT_EQ(debian_cache_key(*e).id, debian_cache_key(matrix_env(*quick, "bookworm-s390x")).id);
  auto full = load_matrix("matrix/full.toml");
  ASSERT_TRUE(full) << full.error().message;
  for (const char* suite : {"trixie", "sid"}) {
    auto spec = parse_env_text(std::string("debian:") + suite + "/arm64");
    ASSERT_TRUE(spec) << spec.error().message;
    EXPECT_EQ(debian_cache_key(*spec).id, debian_cache_key(matrix_env(*full, std::string(suite) + "-arm64")).id);
  }
}

TEST(EnvText, PipSpecTakesPinsPythonAndCpu) {
  auto e = parse_env_text("pip:scikit-learn==1.3.2,numpy>=1.24,<2,scipy==1.11.4@3.11");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->provider, "pip");
  EXPECT_EQ(e->pip, (std::vector<std::string>{"scikit-learn==1.3.2", "numpy>=1.24,<2", "scipy==1.11.4"}));
  EXPECT_EQ(e->python, "python3.11");
  EXPECT_TRUE(e->arch.empty());
  auto plain = parse_env_text("pip:scikit-learn==1.5.2");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->python, "python3");
  auto arm = parse_env_text("pip:scikit-learn==1.5.2@3.13/arm64");
  ASSERT_TRUE(arm) << arm.error().message;
  EXPECT_EQ(arm->arch, "arm64");
  EXPECT_EQ(arm->suite, "trixie");  // the suite whose python3 is 3.13
  EXPECT_EQ(arm->pip, std::vector<std::string>{"scikit-learn==1.5.2"});
}

TEST(EnvText, PythonSpecIsAnAbsoluteHostInterpreter) {
  auto e = parse_env_text("python:relative/bin/python");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->provider, "host");
  EXPECT_TRUE(fs::path(e->python).is_absolute());
  EXPECT_EQ(fs::path(e->python).filename(), "python");
}

TEST(EnvText, RequirementsFileInPipFreezeFormWithMarkersAndHashes) {
  char tmpl[] = "/tmp/crossload-reqs-XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  fs::path file = dir / "requirements.txt";
  std::ofstream(file) << "# pinned by pip-compile\n"
                         "-i https://pypi.org/simple\n"
                         "numpy==1.26.4 ; python_version == \"3.11\"\n"
                         "scikit-learn==1.5.2 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n"
                         "\n"
                         "joblib==1.4.2  # via scikit-learn\n";
  auto e = parse_env_text("requirements:" + file.string());
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->pip, (std::vector<std::string>{"numpy==1.26.4 ; python_version == \"3.11\"", "scikit-learn==1.5.2",
                                              "joblib==1.4.2"}));
  EXPECT_EQ(e->python, "python3.11");
  auto override_python = parse_env_text("requirements:" + file.string() + "@3.13");
  ASSERT_TRUE(override_python) << override_python.error().message;
  EXPECT_EQ(override_python->python, "python3.13");
  fs::remove_all(dir);
}

TEST(EnvText, BadSpecsNameTheSpecTheProblemAndTheForms) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (auto [text, says] : {Case{"debian:bookworm", "SUITE/ARCH"}, Case{"debian:bookworm/vax", "vax"},
                            Case{"pip:", "no requirement"}, Case{"pip:scikit-learn==1.5.2@3.7/arm64", "3.9 (bullseye)"},
                            Case{"requirements:/nonexistent/req.txt", "/nonexistent/req.txt: cannot read"},
                            Case{"python:", "no interpreter"}}) {
    auto e = parse_env_text(text);
    ASSERT_FALSE(e) << text;
    EXPECT_NE(e.error().message.find(std::string("--env ") + text), std::string::npos) << e.error().message;
    EXPECT_NE(e.error().message.find(says), std::string::npos) << e.error().message;
    EXPECT_NE(e.error().message.find("debian:SUITE/ARCH"), std::string::npos) << e.error().message;
  }
  EXPECT_TRUE(is_env_text("pip:x"));
  EXPECT_FALSE(is_env_text("bookworm-s390x"));
}

TEST(EnvText, CommandLineSpecsJoinAMatrixOnceAndLeaveItsOwnNamesAlone) {
  auto m = load_matrix("matrix/quick.toml");
  ASSERT_TRUE(m) << m.error().message;
  std::size_t before = m->envs.size();
  ASSERT_TRUE(add_spec_envs(*m, {"host", "debian:sid/s390x", "debian:sid/s390x", "no-such-env"}));
  ASSERT_EQ(m->envs.size(), before + 1);
  EXPECT_EQ(m->envs.back().name, "debian:sid/s390x");
  EXPECT_EQ(env_file_name(m->envs.back().name), "debian:sid_s390x");
  auto bad = add_spec_envs(*m, {"pip:"});
  ASSERT_FALSE(bad);
}

TEST(EnvText, LocatesTheDefaultMatrixInCrossloadsTreeFromAnyDirectory) {
  fs::path root = fs::current_path();  // the unit tests run in the source tree
  EXPECT_EQ(locate_matrix(kDefaultMatrix, root.string()), kDefaultMatrix);  // found here: kept as given
  char tmpl[] = "/tmp/crossload-cwd-XXXXXX";
  fs::path empty = ::mkdtemp(tmpl);
  fs::current_path(empty);
  EXPECT_EQ(locate_matrix(kDefaultMatrix, root.string()), (root / kDefaultMatrix).string());
  EXPECT_EQ(locate_matrix("mine.toml", root.string()), "mine.toml");  // missing everywhere: load_matrix says so
  fs::current_path(root);
  fs::remove_all(empty);
}

}  // namespace
}  // namespace crossload
