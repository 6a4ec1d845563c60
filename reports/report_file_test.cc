#include "reports/report_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace crossload {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("crossload-report-file-" + name)).string();
}

TEST(ReportFile, WritesSmallAndLargePiecesInOrder) {
  std::string path = temp_path("order");
  auto file = ReportFile::open(path);
  ASSERT_TRUE(file) << file.error().message;
  std::string expected;
  // Pieces below, across and above the 1 MiB buffer, and single characters between them.
  for (std::size_t size : {std::size_t{10}, std::size_t{3000}, std::size_t{1} << 20, std::size_t{700000},
                           (std::size_t{1} << 21) + 5, std::size_t{1}}) {
    std::string piece(size, static_cast<char>('a' + expected.size() % 26));
    (*file)->stream() << piece << '\n';
    expected += piece + '\n';
  }
  ASSERT_TRUE((*file)->close());
  EXPECT_EQ(read_all(path), expected);
  std::filesystem::remove(path);
}

TEST(ReportFile, SaysWhichFileCannotBeOpened) {
  auto file = ReportFile::open("/nonexistent-dir/report.md");
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message.find("/nonexistent-dir/report.md: cannot write report"), std::string::npos)
      << file.error().message;
}

TEST(ReportFile, AFailedWriteIsAnErrorNamingTheFile) {
  auto file = ReportFile::open("/dev/full");
  ASSERT_TRUE(file) << file.error().message;
  (*file)->stream() << std::string(3 << 20, 'x');  // more than the buffer: written at once, and refused
  auto closed = (*file)->close();
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().message, "/dev/full: write failed");
}

}  // namespace
}  // namespace crossload
