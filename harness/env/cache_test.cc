#include "harness/env/cache.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "harness/env/debian_provider.h"
#include "harness/env/interpreters.h"
#include "harness/env/pip_provider.h"

namespace crossload {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/crossload-cache-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

EnvSpec debian(const std::string& suite, const std::string& arch, std::vector<std::string> packages = {}) {
  EnvSpec e;
  e.name = "x";
  e.provider = "debian";
  e.suite = suite;
  e.arch = arch;
  e.packages = std::move(packages);
  return e;
}

int count_lines(const fs::path& p) {
  std::ifstream in(p);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

void wait_for_file(const fs::path& p) {
  for (int i = 0; i < 500 && !fs::exists(p); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(fs::exists(p));
}

TEST(CacheKey, IsStableReadableAndSensitiveToWhatMatters) {
  auto a = debian_cache_key(debian("bookworm", "s390x"));
  EXPECT_EQ(a.id, debian_cache_key(debian("bookworm", "s390x")).id);
  EXPECT_EQ(a.id.rfind("debian-bookworm-s390x-", 0), 0u) << a.id;
  EXPECT_NE(a.id, debian_cache_key(debian("bookworm", "arm64")).id);
  EXPECT_NE(a.id, debian_cache_key(debian("trixie", "s390x")).id);
  EXPECT_NE(a.id, debian_cache_key(debian("bookworm", "s390x", {"python3-pandas"})).id);
  EXPECT_NE(a.canonical.find("fixup_version="), std::string::npos);
}

TEST(CacheKey, IgnoresTheOrderOfPackageLists) {
  EXPECT_EQ(debian_cache_key(debian("sid", "amd64", {"a", "b"})).id,
            debian_cache_key(debian("sid", "amd64", {"b", "a"})).id);
}

TEST(CacheKey, PipKeysFollowInterpreterAndPins) {
  EnvSpec e;
  e.provider = "pip";
  e.pip = {"scikit-learn==1.5.2", "numpy<2"};
  Interpreter py{"/usr/bin/python3.11", "3.11.2"};
  auto k = pip_cache_key(e, py);
  EXPECT_EQ(k.id.rfind("pip-py3.11-", 0), 0u) << k.id;
  EnvSpec other = e;
  other.pip = {"numpy<2", "scikit-learn==1.5.2"};
  EXPECT_EQ(k.id, pip_cache_key(other, py).id);
  other.pip = {"scikit-learn==1.4.2", "numpy<2"};
  EXPECT_NE(k.id, pip_cache_key(other, py).id);
  EXPECT_NE(k.id, pip_cache_key(e, Interpreter{"/opt/py310/bin/python3.10", "3.10.13"}).id);
}

TEST(FileLock, ASecondProcessWaitsForTheFirst) {
  TempDir tmp;
  fs::path lock = tmp.path / "x.lock", held = tmp.path / "held";
  pid_t child = ::fork();
  if (child == 0) {
    auto l = FileLock::acquire(lock.string(), 5s);
    std::ofstream(held) << "1";
    std::this_thread::sleep_for(600ms);
    ::_exit(l ? 0 : 1);
  }
  wait_for_file(held);
  EXPECT_FALSE(FileLock::is_free(lock.string()));
  auto quick = FileLock::acquire(lock.string(), 100ms);
  ASSERT_FALSE(quick);
  EXPECT_NE(quick.error().message.find("still locked"), std::string::npos);
  bool waited = false;
  auto start = std::chrono::steady_clock::now();
  auto l = FileLock::acquire(lock.string(), 10s, [&] { waited = true; });
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_TRUE(waited);
  EXPECT_GT(std::chrono::steady_clock::now() - start, 200ms);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(EnvCache, BuildsOnceAndReusesTheCompleteEntry) {
  TempDir tmp;
  EnvCache cache(tmp.path.string());
  auto key = make_cache_key("test", {{"a", "1"}});
  int builds = 0;
  BuildFn build = [&](const BuildDir& d) -> Result<nlohmann::json> {
    ++builds;
    std::ofstream(fs::path(d.dir) / "payload") << "ok";
    return nlohmann::json{{"answer", 42}};
  };
  auto dir = cache.get_or_build(key, build, nullptr, 5s);
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_TRUE(fs::exists(fs::path(*dir) / "payload"));
  auto stamp = cache.stamp(key);
  ASSERT_TRUE(stamp);
  EXPECT_EQ((*stamp)["facts"]["answer"], 42);
  EXPECT_TRUE(stamp->contains("provision_seconds"));
  ASSERT_TRUE(cache.get_or_build(key, build, nullptr, 5s));
  EXPECT_EQ(builds, 1);
}

TEST(EnvCache, AFailedBuildLeavesNothingButItsLog) {
  TempDir tmp;
  EnvCache cache(tmp.path.string());
  auto key = make_cache_key("test", {{"a", "2"}});
  auto dir = cache.get_or_build(
      key,
      [&](const BuildDir& d) -> Result<nlohmann::json> {
        std::ofstream(fs::path(d.dir) / "half") << "x";
        return make_error("mmdebstrap said no");
      },
      nullptr, 5s);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().message, "mmdebstrap said no");
  EXPECT_FALSE(cache.stamp(key));
  EXPECT_FALSE(fs::exists(cache.entry_dir(key)));
  EXPECT_TRUE(fs::exists(cache.log_path(key)));
  for (const auto& e : cache.list()) ADD_FAILURE() << "left behind: " << e.dir;
}

TEST(EnvCache, AnInterruptedBuildIsNeverUsedAndIsCleanedUp) {
  TempDir tmp;
  EnvCache cache(tmp.path.string());
  auto key = make_cache_key("test", {{"a", "3"}});
  fs::path started = tmp.path / "started";
  pid_t child = ::fork();
  if (child == 0) {
    (void)cache.get_or_build(
        key,
        [&](const BuildDir& d) -> Result<nlohmann::json> {
          std::ofstream(fs::path(d.dir) / "half") << "x";
          std::ofstream(started) << "1";
          std::this_thread::sleep_for(60s);
          return nlohmann::json::object();
        },
        nullptr, 5s);
    ::_exit(0);
  }
  wait_for_file(started);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_FALSE(cache.stamp(key));
  ASSERT_EQ(cache.list().size(), 1u);
  EXPECT_FALSE(cache.list()[0].complete);
  auto removed = cache.gc(std::nullopt, false);
  EXPECT_EQ(removed.size(), 1u);
  EXPECT_TRUE(cache.list().empty());
  int builds = 0;
  auto dir = cache.get_or_build(key, [&](const BuildDir&) -> Result<nlohmann::json> { ++builds; return nlohmann::json::object(); },
                                nullptr, 5s);
  ASSERT_TRUE(dir);
  EXPECT_EQ(builds, 1);
}

TEST(EnvCache, TwoProcessesBuildingTheSameEntryBuildItOnce) {
  TempDir tmp;
  auto key = make_cache_key("test", {{"a", "4"}});
  fs::path counter = tmp.path / "builds";
  auto racer = [&] {
    EnvCache cache(tmp.path.string());
    auto dir = cache.get_or_build(
        key,
        [&](const BuildDir&) -> Result<nlohmann::json> {
          std::ofstream(counter, std::ios::app) << "built\n";
          std::this_thread::sleep_for(300ms);
          return nlohmann::json::object();
        },
        nullptr, 10s);
    ::_exit(dir ? 0 : 1);
  };
  pid_t a = ::fork();
  if (a == 0) racer();
  pid_t b = ::fork();
  if (b == 0) racer();
  int sa = 0, sb = 0;
  ::waitpid(a, &sa, 0);
  ::waitpid(b, &sb, 0);
  EXPECT_EQ(WEXITSTATUS(sa), 0);
  EXPECT_EQ(WEXITSTATUS(sb), 0);
  EXPECT_EQ(count_lines(counter), 1);
  EXPECT_TRUE(EnvCache(tmp.path.string()).stamp(key));
}

TEST(EnvCache, GcUnusedKeepsWhatTheMatrixNames) {
  TempDir tmp;
  EnvCache cache(tmp.path.string());
  auto keep = make_cache_key("keep", {{"a", "5"}}), drop = make_cache_key("drop", {{"a", "6"}});
  auto ok = [](const BuildDir&) -> Result<nlohmann::json> { return nlohmann::json::object(); };
  ASSERT_TRUE(cache.get_or_build(keep, ok, nullptr, 5s));
  ASSERT_TRUE(cache.get_or_build(drop, ok, nullptr, 5s));
  auto would = cache.gc(std::vector<std::string>{keep.id}, true);
  ASSERT_EQ(would.size(), 1u);
  EXPECT_TRUE(fs::exists(cache.entry_dir(drop)));
  cache.gc(std::vector<std::string>{keep.id}, false);
  EXPECT_FALSE(fs::exists(cache.entry_dir(drop)));
  EXPECT_TRUE(cache.stamp(keep));
}

}  // namespace
}  // namespace crossload
