#include "harness/run/plan.h"

#include <gtest/gtest.h>

#include "harness/run/narrow.h"

namespace crossload {
namespace {

const char* kMatrix = R"(
[matrix]
fixtures = ["iris_*", "-iris_big"]
formats = ["pickle-*"]
producers = ["host"]
consumers = ["host"]
[env.host]
provider = "host"
python = "/usr/bin/python3"
)";

const std::vector<FixtureInfo> kZoo{{"iris_logreg", "", {}, {}, 0, 0}, {"iris_big", "", {}, {}, 0, 0},
                                    {"wine_forest", "", {}, {}, 0, 0}};

Matrix matrix_with(const std::string& from, const std::string& to) {
  std::string text = kMatrix;
  if (!from.empty()) text.replace(text.find(from), from.size(), to);
  auto m = parse_matrix(text, "m.toml");
  EXPECT_TRUE(m.ok()) << m.error().message;
  return *m;
}

TEST(Plan, SelectsByGlobsWithExclusions) {
  auto s = select(matrix_with("", ""), kZoo);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->fixtures.size(), 1u);
  EXPECT_EQ(s->fixtures[0].name, "iris_logreg");
  EXPECT_EQ(s->formats, (std::vector<std::string>{"pickle-p4", "pickle-p5"}));
}

// A glob that matched nothing gave a green "run 1: 0 cells": a CI job that tested nothing.
TEST(Plan, AGlobOrNameMatchingNothingNamesFileLineKeyAndTheNearName) {
  auto s = select(matrix_with(R"(["iris_*", "-iris_big"])", R"(["nomatch_*"])"), kZoo);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "m.toml:3: [matrix] fixtures: 'nomatch_*' matches no fixture "
                               "(known: iris_logreg, iris_big, wine_forest)");
  EXPECT_EQ(s.error().kind, ErrorKind::kBadInput);
  s = select(matrix_with(R"(["pickle-*"])", R"(["pickle-p4", "pickel-p5"])"), kZoo);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("m.toml:4: [matrix] formats: 'pickel-p5' matches no format (did you mean "
                                   "'pickle-p5'?)"), std::string::npos) << s.error().message;
}

TEST(Plan, AListThatSelectsNothingIsAnError) {
  auto s = select(matrix_with(R"(["iris_*", "-iris_big"])", R"(["iris_*", "-iris_*"])"), kZoo);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message.rfind("m.toml:3: [matrix] fixtures: 'iris_*, -iris_*' selects no fixture", 0), 0u)
      << s.error().message;
}

TEST(Plan, AFlagMatchingNothingIsAUsageErrorNamingTheFlag) {
  Matrix m = matrix_with("", "");
  Narrowing n;
  n.fixtures = {"wine_forst"};
  ASSERT_TRUE(narrow_matrix(m, n).ok());
  auto s = select(m, kZoo);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message.rfind("--fixtures: 'wine_forst' matches no fixture (did you mean 'wine_forest'?)", 0),
            0u) << s.error().message;
  EXPECT_EQ(s.error().kind, ErrorKind::kUsage);
}

}  // namespace
}  // namespace crossload
