#include "harness/run/known_envs.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "harness/compare/testing.h"

namespace crossload {
namespace {

namespace fs = std::filesystem;
using testutil::TempDir;

// A venv-like interpreter in the cache: <cache>/venv/bin/python and its site-packages.
struct FakeVenv {
  fs::path python, site;
  explicit FakeVenv(const fs::path& cache) {
    python = cache / "venv" / "bin" / "python";
    site = cache / "venv" / "lib" / "python3.11" / "site-packages";
    fs::create_directories(python.parent_path());
    fs::create_directories(site);
    std::ofstream(python) << "#!/bin/sh\n";
  }
};

EnvSpec spec_of() {
  EnvSpec s;
  s.name = "venv";
  s.provider = "pip";
  s.pip = {"scikit-learn==1.5.2"};
  return s;
}

TEST(KnownEnvs, AFingerprintKeptIsKnownWhileNothingChanges) {
  TempDir tmp;
  FakeVenv venv(tmp.path());
  Launch launch{{venv.python.string()}, {}, false, "fake venv"};
  KnownEnvs known(tmp.path(), "worker-1", true);
  EXPECT_FALSE(known.fingerprint(spec_of(), launch));
  known.keep_fingerprint(spec_of(), launch, {{"python", "3.11.2"}}, known.identity(launch));
  auto fp = known.fingerprint(spec_of(), launch);
  ASSERT_TRUE(fp);
  EXPECT_EQ((*fp)["python"], "3.11.2");
  // Another worker code, sandbox setting or declaration is another entry.
  EXPECT_FALSE(KnownEnvs(tmp.path(), "worker-2", true).fingerprint(spec_of(), launch));
  EXPECT_FALSE(KnownEnvs(tmp.path(), "worker-1", false).fingerprint(spec_of(), launch));
  EnvSpec other = spec_of();
  other.pip = {"scikit-learn==1.6.1"};
  EXPECT_FALSE(known.fingerprint(other, launch));
}

TEST(KnownEnvs, InstallingAPackageOrReplacingTheInterpreterForgetsTheFingerprint) {
  TempDir tmp;
  FakeVenv venv(tmp.path());
  Launch launch{{venv.python.string()}, {}, false, "fake venv"};
  KnownEnvs known(tmp.path(), "worker-1", true);
  known.keep_fingerprint(spec_of(), launch, {{"python", "3.11.2"}}, known.identity(launch));
  fs::create_directories(venv.site / "numpy-2.0.0.dist-info");  // the folder's mtime moves
  fs::last_write_time(venv.site, fs::last_write_time(venv.site) + std::chrono::seconds(5));
  EXPECT_FALSE(known.fingerprint(spec_of(), launch));
  known.keep_fingerprint(spec_of(), launch, {{"python", "3.11.2"}}, known.identity(launch));
  ASSERT_TRUE(known.fingerprint(spec_of(), launch));
  fs::remove(venv.python);
  std::ofstream(venv.python) << "#!/bin/sh\n# another build\n";
  auto gone = known.fingerprint(spec_of(), launch);
  ASSERT_FALSE(gone);
  EXPECT_NE(gone.error().message.find(venv.python.string() + " changed"), std::string::npos) << gone.error().message;
}

TEST(KnownEnvs, AChangeWhileTheWorkerStartedIsAChangeNextTime) {
  TempDir tmp;
  FakeVenv venv(tmp.path());
  Launch launch{{venv.python.string()}, {}, false, "fake venv"};
  KnownEnvs known(tmp.path(), "worker-1", true);
  nlohmann::json before = known.identity(launch);
  fs::last_write_time(venv.site, fs::last_write_time(venv.site) + std::chrono::seconds(5));  // pip ran meanwhile
  known.keep_fingerprint(spec_of(), launch, {{"python", "3.11.2"}}, before);
  EXPECT_FALSE(known.fingerprint(spec_of(), launch));
}

// A Debian rootfs in the cache, run through bwrap as the debian provider does.
struct FakeRootfs {
  fs::path entry, rootfs, python, dist;
  Launch launch;
  explicit FakeRootfs(const fs::path& cache) {
    entry = cache / "envs" / "debian-bookworm-s390x-0123";
    rootfs = entry / "rootfs";
    python = rootfs / "usr/bin/python3.11";
    dist = rootfs / "usr/lib/python3/dist-packages";
    fs::create_directories(python.parent_path());
    fs::create_directories(dist);
    std::ofstream(python) << "s390x ELF";
    fs::create_symlink("python3.11", rootfs / "usr/bin/python3");
    std::ofstream(entry / "stamp.json") << "{}";
    launch.python = {"bwrap", "--bind", rootfs.string(), "/", "--ro-bind", "/work/tree", "/work/tree",
                     "/usr/bin/python3"};
  }
};

TEST(KnownEnvs, ARootfsIsKnownByTheInterpreterInsideIt) {
  TempDir tmp;
  FakeRootfs fs_(tmp.path());
  KnownEnvs known(tmp.path(), "worker-1", true);
  known.keep_fingerprint(spec_of(), fs_.launch, {{"python", "3.11.2"}}, known.identity(fs_.launch));
  ASSERT_TRUE(known.fingerprint(spec_of(), fs_.launch));
  // bwrap creates a mount point for a new output path: the rootfs's own mtime moves, nothing runs differently.
  fs::create_directories(fs_.rootfs / "check");
  fs::last_write_time(fs_.rootfs, fs::last_write_time(fs_.rootfs) + std::chrono::seconds(5));
  EXPECT_TRUE(known.fingerprint(spec_of(), fs_.launch));
  // The interpreter inside the rootfs (not the host's /usr/bin/python3) is what counts.
  fs::last_write_time(fs_.python, fs::last_write_time(fs_.python) + std::chrono::seconds(5));
  auto touched = known.fingerprint(spec_of(), fs_.launch);
  ASSERT_FALSE(touched);
  EXPECT_NE(touched.error().message.find((fs_.rootfs / "usr/bin/python3").string() + " changed"), std::string::npos)
      << touched.error().message;
  known.keep_fingerprint(spec_of(), fs_.launch, {{"python", "3.11.2"}}, known.identity(fs_.launch));
  ASSERT_TRUE(known.fingerprint(spec_of(), fs_.launch));
  // A rebuilt entry has a new stamp; an installed package changes dist-packages.
  std::ofstream(fs_.entry / "stamp.json.new") << "{\"rebuilt\": true}";
  fs::rename(fs_.entry / "stamp.json.new", fs_.entry / "stamp.json");
  EXPECT_FALSE(known.fingerprint(spec_of(), fs_.launch));
  known.keep_fingerprint(spec_of(), fs_.launch, {{"python", "3.11.2"}}, known.identity(fs_.launch));
  fs::create_directories(fs_.dist / "skops");
  fs::last_write_time(fs_.dist, fs::last_write_time(fs_.dist) + std::chrono::seconds(5));
  EXPECT_FALSE(known.fingerprint(spec_of(), fs_.launch));
}

TEST(KnownEnvs, TheFixtureListIsKeptByTheCodeThatMakesIt) {
  TempDir tmp;
  KnownEnvs known(tmp.path(), "worker-1", true);
  EXPECT_FALSE(known.listing("fixtures-1"));
  known.keep_listing("fixtures-1", {{"fixtures", {{{"name", "iris_kmeans"}}}}});
  auto listing = known.listing("fixtures-1");
  ASSERT_TRUE(listing);
  EXPECT_EQ((*listing)["fixtures"][0]["name"], "iris_kmeans");
  EXPECT_FALSE(known.listing("fixtures-2"));
  EXPECT_FALSE(KnownEnvs(tmp.path(), "worker-2", true).listing("fixtures-1"));
}

}  // namespace
}  // namespace crossload
