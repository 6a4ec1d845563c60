#include "harness/env/debian_provider.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "harness/util/text.h"

namespace crossload {
namespace {

namespace fs = std::filesystem;

bool has(const std::vector<std::string>& argv, const std::string& word) {
  return std::find(argv.begin(), argv.end(), word) != argv.end();
}

EnvSpec spec(const std::string& suite, const std::string& arch) {
  EnvSpec e;
  e.name = suite + "-" + arch;
  e.provider = "debian";
  e.suite = suite;
  e.arch = arch;
  e.origin = "test.toml:1";
  return e;
}

TEST(DebianArch, UnknownArchitecturesAreNamedWithASuggestion) {
  EXPECT_TRUE(find_debian_arch("s390x"));
  auto bad = find_debian_arch("s390");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("did you mean 's390x'"), std::string::npos) << bad.error().message;
  EXPECT_TRUE(runs_natively(*find_debian_arch("i386"), "x86_64"));
  EXPECT_FALSE(runs_natively(*find_debian_arch("s390x"), "x86_64"));
}

TEST(DebianLaunch, ForeignCpusRunUnderTheirQemuWithoutNetwork) {
  ProvisionContext ctx;
  ctx.source_root = "/src";
  ctx.run_dir = "/run/x";
  auto l = debian_launch("/cache/rootfs", *find_debian_arch("s390x"), spec("bookworm", "s390x"), ctx, false, false);
  EXPECT_TRUE(l.emulated);
  EXPECT_EQ(l.python.front(), "bwrap");
  EXPECT_EQ(l.python.back(), "/usr/bin/python3");
  EXPECT_EQ(l.python[l.python.size() - 2], "/usr/bin/qemu-s390x-static");
  for (const char* w : {"--unshare-net", "--remount-ro", "/src", "/run/x", "--clearenv"}) EXPECT_TRUE(has(l.python, w)) << w;
  EXPECT_NE(l.where.find("qemu-s390x"), std::string::npos);
}

// --clearenv would drop the one-thread setting the worker client gives every worker: an OpenMP
// pool under QEMU oversubscribes the shared cores and retires a batch child after each load.
TEST(DebianLaunch, LibrariesRunOneThreadUnlessTheCallerSaysOtherwise) {
  const std::vector<std::string> one{"--setenv", "OMP_NUM_THREADS", "1"}, four{"--setenv", "OMP_NUM_THREADS", "4"};
  const char* saved = std::getenv("OMP_NUM_THREADS");
  std::string kept = saved ? saved : "";
  ::unsetenv("OMP_NUM_THREADS");
  auto unset = debian_launch("/r", *find_debian_arch("s390x"), spec("bookworm", "s390x"), {}, false, false);
  ::setenv("OMP_NUM_THREADS", "4", 1);
  auto set = debian_launch("/r", *find_debian_arch("s390x"), spec("bookworm", "s390x"), {}, false, false);
  if (saved) ::setenv("OMP_NUM_THREADS", kept.c_str(), 1);
  else ::unsetenv("OMP_NUM_THREADS");
  EXPECT_NE(std::search(unset.python.begin(), unset.python.end(), one.begin(), one.end()), unset.python.end());
  EXPECT_NE(std::search(set.python.begin(), set.python.end(), four.begin(), four.end()), set.python.end());
  EXPECT_EQ(std::search(set.python.begin(), set.python.end(), one.begin(), one.end()), set.python.end());
}

TEST(DebianLaunch, TheChosenQemuBuildIsBoundOverTheRootfsCopyAndCanBeSwapped) {
  QemuBuild seven{"system", "/usr/bin/qemu-riscv64-static", "qemu-riscv64 version 7.2.22 (Debian 1:7.2+dfsg-7)"};
  QemuBuild ten{"debian:trixie", "/cache/qemu/trixie/usr/bin/qemu-riscv64", "qemu-riscv64 version 10.0.13 (Debian)"};
  auto l = debian_launch("/r", *find_debian_arch("riscv64"), spec("trixie", "riscv64"), {}, false, false, seven);
  const std::vector<std::string> bind{"--ro-bind", seven.binary, "/usr/bin/qemu-riscv64-static"};
  EXPECT_NE(std::search(l.python.begin(), l.python.end(), bind.begin(), bind.end()), l.python.end());
  EXPECT_EQ(l.qemu, seven);
  EXPECT_NE(l.where.find("qemu-riscv64-static 7.2.22 (system)"), std::string::npos) << l.where;
  auto other = with_qemu_build(l, ten);
  ASSERT_TRUE(other) << other.error().message;
  const std::vector<std::string> rebound{"--ro-bind", ten.binary, "/usr/bin/qemu-riscv64-static"};
  EXPECT_NE(std::search(other->python.begin(), other->python.end(), rebound.begin(), rebound.end()), other->python.end());
  EXPECT_EQ(std::search(other->python.begin(), other->python.end(), bind.begin(), bind.end()), other->python.end());
  EXPECT_EQ(other->python[other->python.size() - 2], "/usr/bin/qemu-riscv64-static");  // the path inside is the same
  EXPECT_EQ(other->qemu, ten);
  EXPECT_NE(other->where.find("10.0.13 (debian:trixie)"), std::string::npos) << other->where;
  auto native = debian_launch("/r", *find_debian_arch("amd64"), spec("trixie", "amd64"), {}, true, false, seven);
  EXPECT_FALSE(has(native.python, seven.binary));
  EXPECT_FALSE(with_qemu_build(native, ten));
}

TEST(DebianLaunch, Arm64GetsTheFastPointerAuthAndI386RunsNatively) {
  auto arm = debian_launch("/r", *find_debian_arch("arm64"), spec("trixie", "arm64"), {}, false, false);
  EXPECT_TRUE(has(arm.python, "max,pauth-impdef=on"));
  auto x86 = debian_launch("/r", *find_debian_arch("i386"), spec("bookworm", "i386"), {}, true, false);
  EXPECT_FALSE(x86.emulated);
  EXPECT_EQ(x86.python[0], "setarch");
  EXPECT_EQ(x86.python[1], "i686");
  EXPECT_FALSE(has(x86.python, "/usr/bin/qemu-i386-static"));
}

TEST(DebianProvider, APipEnvironmentWithAnArchIsItsOwnCacheEntryWithOnlyPythonFromTheSuite) {
  EnvSpec wheels = spec("bookworm", "arm64");
  wheels.provider = "pip";
  wheels.pip = {"scikit-learn==1.5.2"};
  EnvSpec suite = spec("bookworm", "arm64");
  suite.pip = wheels.pip;
  CacheKey a = debian_cache_key(wheels), b = debian_cache_key(suite);
  EXPECT_EQ(a.id.rfind("pip-bookworm-arm64-", 0), 0u) << a.id;
  EXPECT_EQ(b.id.rfind("debian-bookworm-arm64-", 0), 0u) << b.id;
  EXPECT_NE(a.canonical.find("base=python3,libstdc++6,libgomp1"), std::string::npos) << a.canonical;
  EXPECT_EQ(a.canonical.find("python3-sklearn"), std::string::npos) << a.canonical;
  auto l = debian_launch("/r", *find_debian_arch("arm64"), wheels, {}, false, false);
  EXPECT_NE(l.where.find("with PyPI wheels"), std::string::npos) << l.where;
}

TEST(MmdebstrapErrors, MissingPoolFilesAndPackagesFitOnOneLine) {
  std::string log =
      "I: running apt-get update...\n"
      "E: Failed to fetch http://deb.debian.org/debian/pool/main/g/glibc/libc6_2.41-12%2bdeb13u5_s390x.deb  404  Not Found [IP: 1.2.3.4 80]\n"
      "E: Failed to fetch http://deb.debian.org/debian/pool/main/x/xz-utils/liblzma5_5.8.1-1_s390x.deb  404  Not Found [IP: 1.2.3.4 80]\n"
      "E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?\n"
      "E: apt download failed: E: apt-get --yes install ...\n"
      "E: mmdebstrap failed to run\n";
  EXPECT_EQ(summarize_mmdebstrap_errors(log),
            "the archive lacks 2 pool file(s) (404): libc6_2.41-12+deb13u5_s390x.deb, liblzma5_5.8.1-1_s390x.deb");
  EXPECT_EQ(summarize_mmdebstrap_errors("E: Unable to locate package python3-nope\nE: apt download failed: x\n"),
            "no such package in this suite/architecture: python3-nope");
  EXPECT_EQ(summarize_mmdebstrap_errors("E: apt-get update did not find any indices for architecture 'riscv64' in suite 'bookworm'\n"),
            "apt-get update did not find any indices for architecture 'riscv64' in suite 'bookworm'");
}

// The real archive: a suite/arch pair that does not exist is ENV_UNAVAILABLE, quickly, with the
// reason, and leaves no cache entry behind.
TEST(DebianProvider, ASuiteArchPairThatDoesNotExistIsUnavailableInBoundedTime) {
  char tmpl[] = "/tmp/crossload-debian-test-XXXXXX";
  fs::path cache = ::mkdtemp(tmpl);
  ProvisionContext ctx;
  ctx.cache_dir = cache.string();
  ctx.timeout = std::chrono::seconds(120);
  DebianProvider provider;
  auto start = std::chrono::steady_clock::now();
  auto launch = provider.provision(spec("bookworm", "riscv64"), ctx);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(launch);
  EXPECT_LT(took, std::chrono::seconds(120));
  const std::string& why = launch.error().message;
  EXPECT_NE(why.find("riscv64"), std::string::npos) << why;
  EXPECT_NE(why.find("bookworm"), std::string::npos) << why;
  EXPECT_NE(why.find("full log: " + cache.string() + "/logs/"), std::string::npos) << why;
  EXPECT_TRUE(fs::is_empty(cache / "envs"));
  fs::remove_all(cache);
}

TEST(DebianProvider, AnUnknownArchitectureFailsBeforeAnythingRuns) {
  ProvisionContext ctx;
  ctx.cache_dir = "/nonexistent";
  DebianProvider provider;
  auto launch = provider.provision(spec("bookworm", "sparc"), ctx);
  ASSERT_FALSE(launch);
  EXPECT_NE(launch.error().message.find("test.toml:1: [env.bookworm-sparc] arch: unknown Debian architecture 'sparc'"),
            std::string::npos)
      << launch.error().message;
}

}  // namespace
}  // namespace crossload
