#include "harness/env/qemu.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <filesystem>
#include <set>

#include "harness/env/debian_provider.h"

namespace crossload {
namespace {

TEST(QemuBuilds, TableParsesAndNamesKnownCpusAndBuilds) {
  toml::table t = toml::parse(builtin_qemu_builds_text(), std::string_view("qemu_builds.toml"));
  ASSERT_TRUE(t["preferred"].as_table());
  for (const auto& [arch, build] : *t["preferred"].as_table()) {
    EXPECT_TRUE(find_debian_arch(std::string(arch.str()))) << arch;
    ASSERT_TRUE(build.value<std::string>()) << arch;
    EXPECT_TRUE(check_qemu_build_name(*build.value<std::string>())) << arch;
  }
}

TEST(QemuBuilds, PreferredBuildComesFromTheTable) {
  EXPECT_EQ(preferred_qemu_build("loong64"), "debian:trixie");
  EXPECT_EQ(preferred_qemu_build("no-such-cpu"), "system");
}

TEST(QemuBuilds, NamesAreChecked) {
  EXPECT_TRUE(check_qemu_build_name("system"));
  EXPECT_TRUE(check_qemu_build_name("debian:trixie"));
  EXPECT_FALSE(check_qemu_build_name("debian:"));
  EXPECT_FALSE(check_qemu_build_name("trixie"));
  EXPECT_FALSE(check_qemu_build_name("debian:../x"));
}

TEST(QemuBuilds, AnUnpackedBuildIsFoundAndAMissingOneSaysHowToGetIt) {
  namespace fs = std::filesystem;
  fs::path cache = fs::temp_directory_path() / ("crossload-qemu-test-" + std::to_string(::getpid()));
  fs::create_directories(cache / "qemu/fake/usr/bin");
  // A stand-in for the emulator is enough here: only its path and --version line are read.
  fs::copy_file("/bin/true", cache / "qemu/fake/usr/bin/qemu-s390x");
  auto found = find_qemu_build("debian:fake", "s390x", cache.string());
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->binary, (cache / "qemu/fake/usr/bin/qemu-s390x").string());
  auto missing = find_qemu_build("debian:nosuite", "s390x", cache.string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("ci/fetch-qemu nosuite"), std::string::npos) << missing.error().message;
  std::set<std::string> names;
  for (const auto& b : installed_qemu_builds("s390x", cache.string())) names.insert(b.name);
  EXPECT_TRUE(names.count("debian:fake"));
  fs::remove_all(cache);
}

}  // namespace
}  // namespace crossload
