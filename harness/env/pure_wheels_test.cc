#include "harness/env/pure_wheels.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "harness/env/interpreters.h"

namespace crossload {
namespace {

namespace fs = std::filesystem;

TEST(PureWheels, ReadsTheSuitesDistributionsAsPipWouldPinThem) {
  char tmpl[] = "/tmp/crossload-rootfs-test-XXXXXX";
  fs::path root = ::mkdtemp(tmpl);
  fs::path dp = root / "usr/lib/python3/dist-packages";
  for (const char* d : {"scikit_learn-1.2.1.dist-info", "numpy-1.24.2.egg-info", "lz4-4.0.2+dfsg.egg-info",
                        "python_dateutil-2.8.2-py3.11.egg-info", "sklearn", "weird-1.0~beta.dist-info"})
    fs::create_directories(dp / d);
  auto dists = rootfs_distributions(root.string());
  std::vector<std::string> got;
  for (const auto& d : dists) got.push_back(d.name + "==" + d.version);
  EXPECT_EQ(got, (std::vector<std::string>{"lz4==4.0.2", "numpy==1.24.2", "python_dateutil==2.8.2",
                                           "scikit_learn==1.2.1"}));
  fs::remove_all(root);
}

TEST(Interpreters, FindsTheRunningPythonByNameAndReportsItsRealPath) {
  auto py = find_interpreter("python3", StepContext{});
  ASSERT_TRUE(py) << py.error().message;
  EXPECT_TRUE(fs::path(py->executable).is_absolute());
  EXPECT_EQ(py->executable, fs::canonical(py->executable).string());
  EXPECT_EQ(major_minor(py->version).rfind("3.", 0), 0u);
  auto none = find_interpreter("python2.1-crossload-none", StepContext{});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("python2.1-crossload-none"), std::string::npos);
}

}  // namespace
}  // namespace crossload
