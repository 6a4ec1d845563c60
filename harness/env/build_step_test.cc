#include "harness/env/build_step.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

namespace crossload {
namespace {

// A pip-installed crossload finds the system tools on PATH only when it needs them: a missing one
// is an error naming the Debian package, not a bare "not found".
Result<ProcessResult> run(const std::string& program, const std::string& what) {
  ProcessOptions o;
  o.argv = {program, "--version"};
  return run_step_checked(o, StepContext{}, what);
}

TEST(BuildStep, AMissingSystemToolNamesItsDebianPackage) {
  std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", "/nonexistent-crossload-test", 1);
  auto mm = run("mmdebstrap", "building the rootfs");
  auto qemu = run("qemu-s390x-static", "checking QEMU");
  auto other = run("no-such-tool-xyz", "x");
  ::setenv("PATH", saved.c_str(), 1);
  ASSERT_FALSE(mm);
  EXPECT_NE(mm.error().message.find("mmdebstrap: command not found on PATH (Debian package mmdebstrap: apt-get "
                                    "install mmdebstrap)"),
            std::string::npos)
      << mm.error().message;
  ASSERT_FALSE(qemu);
  EXPECT_NE(qemu.error().message.find("Debian package qemu-user-static"), std::string::npos) << qemu.error().message;
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().message.find("Debian package"), std::string::npos) << other.error().message;
}

}  // namespace
}  // namespace crossload
