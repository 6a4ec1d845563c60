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
  known.keep_fingerprint(spec_of(), launch, {{"python", "3.11.2"}});
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
  known.keep_fingerprint(spec_of(), launch, {{"python", "3.11.2"}});
  fs::create_directories(venv.site / "numpy-2.0.0.dist-info");  // the folder's mtime moves
  fs::last_write_time(venv.site, fs::last_write_time(venv.site) + std::chrono::seconds(5));
  EXPECT_FALSE(known.fingerprint(spec_of(), launch));
  known.keep_fingerprint(spec_of(), launch, {{"python", "3.11.2"}});
  ASSERT_TRUE(known.fingerprint(spec_of(), launch));
  fs::remove(venv.python);
  std::ofstream(venv.python) << "#!/bin/sh\n# another build\n";
  EXPECT_FALSE(known.fingerprint(spec_of(), launch));
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
