#include "harness/env/platform_wheels.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace crossload {
namespace {

namespace fs = std::filesystem;

TEST(PlatformWheels, TagsRunFromTheRootfsGlibcDownToManylinux2014) {
  auto tags = manylinux_tags("aarch64", "2.36");
  ASSERT_EQ(tags.size(), 21u);  // 2_36 .. 2_17 and the legacy manylinux2014 name
  EXPECT_EQ(tags.front(), "manylinux_2_36_aarch64");
  EXPECT_EQ(tags[19], "manylinux_2_17_aarch64");
  EXPECT_EQ(tags.back(), "manylinux2014_aarch64");
}

TEST(PlatformWheels, X86TagsReachBackToManylinux1) {
  auto tags = manylinux_tags("i686", "2.41");
  EXPECT_EQ(tags.front(), "manylinux_2_41_i686");
  EXPECT_EQ(tags[tags.size() - 4], "manylinux_2_5_i686");
  EXPECT_EQ(std::vector<std::string>(tags.end() - 3, tags.end()),
            (std::vector<std::string>{"manylinux2014_i686", "manylinux2010_i686", "manylinux1_i686"}));
}

TEST(PlatformWheels, AGlibcOlderThanManylinuxOrNotTwoPointXHasNoTags) {
  EXPECT_TRUE(manylinux_tags("aarch64", "2.16").empty());
  EXPECT_TRUE(manylinux_tags("aarch64", "").empty());
}

TEST(PlatformWheels, ReadsGlibcVersionFromLibcBytesAndNamesTheFileWhenItCannot) {
  char tmpl[] = "/tmp/crossload-glibc-test-XXXXXX";
  fs::path root = ::mkdtemp(tmpl);
  fs::path lib = root / "usr/lib/aarch64-linux-gnu";
  fs::create_directories(lib);
  auto missing = rootfs_glibc_version(root.string(), "aarch64-linux-gnu");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("aarch64-linux-gnu/libc.so.6: cannot open"), std::string::npos);
  fs::create_directories(root / "lib/aarch64-linux-gnu");  // bookworm: /lib is not merged
  std::ofstream(root / "lib/aarch64-linux-gnu/libc.so.6") << "GNU C Library (Debian GLIBC 2.36-9) stable release version 2.36.";
  auto unmerged = rootfs_glibc_version(root.string(), "aarch64-linux-gnu");
  ASSERT_TRUE(unmerged) << unmerged.error().message;
  EXPECT_EQ(*unmerged, "2.36");
  std::string blob("\x7f" "ELF\0\0junk", 10);
  blob += "GNU C Library (Debian GLIBC 2.36-9+deb12u9) stable release version 2.36.\n";
  std::ofstream(lib / "libc.so.6", std::ios::binary) << blob;
  auto v = rootfs_glibc_version(root.string(), "aarch64-linux-gnu");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, "2.36");
  std::ofstream(lib / "libc.so.6", std::ios::binary) << "not a libc";
  auto none = rootfs_glibc_version(root.string(), "aarch64-linux-gnu");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no glibc version string"), std::string::npos);
  fs::remove_all(root);
}

}  // namespace
}  // namespace crossload
