#include "harness/util/source_root.h"
#include "formats/registry.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

namespace crossload {
namespace {

TEST(FormatRegistry, NamesAreUnique) {
  std::set<std::string_view> names;
  for (const auto& f : all_formats()) EXPECT_TRUE(names.insert(f.name).second) << f.name;
  EXPECT_GE(names.size(), 9u);
}

TEST(FormatRegistry, FindsKnownAndRejectsUnknown) {
  ASSERT_TRUE(find_format("skops").has_value());
  EXPECT_EQ(find_format("skops")->folder, "skops");
  EXPECT_FALSE(find_format("pickle-p9").has_value());
}

// The Python twin (formats/registry.py) must list exactly the same variant names.
TEST(FormatRegistry, MatchesPythonRegistry) {
  std::string cmd = std::string("cd ") + crossload::source_root() +
                    " && python3 -c 'from formats.registry import names; print(\"\\n\".join(names()))'";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::set<std::string> py;
  char line[256];
  while (fgets(line, sizeof line, p)) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (!s.empty()) py.insert(s);
  }
  ASSERT_EQ(pclose(p), 0) << "python3 could not list formats/registry.py";
  std::set<std::string> cc;
  for (const auto& f : all_formats()) cc.insert(std::string(f.name));
  EXPECT_EQ(py, cc);
}

}  // namespace
}  // namespace crossload
