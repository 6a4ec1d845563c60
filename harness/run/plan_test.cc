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

std::vector<std::string> selected(const std::vector<std::string>& patterns) {
  Matrix m;
  m.path = "m.toml";
  m.fixtures = patterns;
  m.formats = {"*"};
  std::vector<FixtureInfo> known;
  for (const char* name : {"iris_kmeans", "estimators:Ridge", "estimators:TSNE"}) {
    known.emplace_back();
    known.back().name = name;
  }
  auto s = select(m, known);
  EXPECT_TRUE(s) << s.error().message;
  std::vector<std::string> names;
  for (const auto& f : s->fixtures) names.push_back(f.name);
  return names;
}

TEST(PlanSelect, StarKeepsMeaningTheZooNotTheGeneratedFamily) {
  EXPECT_EQ(selected({"*"}), (std::vector<std::string>{"iris_kmeans"}));
}

TEST(PlanSelect, AFamilyGlobSelectsTheFamily) {
  EXPECT_EQ(selected({"estimators:*"}), (std::vector<std::string>{"estimators:Ridge", "estimators:TSNE"}));
  EXPECT_EQ(selected({"*", "estimators:*", "-estimators:TSNE"}),
            (std::vector<std::string>{"iris_kmeans", "estimators:Ridge"}));
  EXPECT_EQ(selected({"estimators:Ridge"}), (std::vector<std::string>{"estimators:Ridge"}));
  // Exclusions alone select everything else of the zoo, and none of the family.
  EXPECT_EQ(selected({"-estimators:TSNE"}), (std::vector<std::string>{"iris_kmeans"}));
}

TEST(PlanSelect, AListSelectingNothingOnceTheFamilyRuleAppliesIsAnError) {
  Matrix m;
  m.path = "m.toml";
  m.fixtures = {"-iris_kmeans"};  // the zoo's only fixture excluded; "-" never selects the family
  m.formats = {"*"};
  std::vector<FixtureInfo> known(3);
  known[0].name = "iris_kmeans", known[1].name = "estimators:Ridge", known[2].name = "estimators:TSNE";
  auto s = select(m, known);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "m.toml: [matrix] fixtures: '-iris_kmeans' selects no fixture "
                               "(known: iris_kmeans, estimators:* (2))");
}

}  // namespace
}  // namespace crossload
