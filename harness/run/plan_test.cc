#include "harness/run/plan.h"

#include <gtest/gtest.h>

namespace crossload {
namespace {

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
  EXPECT_EQ(selected({"-iris_kmeans"}), (std::vector<std::string>{}));
}

TEST(PlanSelect, AFamilyGlobSelectsTheFamily) {
  EXPECT_EQ(selected({"estimators:*"}), (std::vector<std::string>{"estimators:Ridge", "estimators:TSNE"}));
  EXPECT_EQ(selected({"*", "estimators:*", "-estimators:TSNE"}),
            (std::vector<std::string>{"iris_kmeans", "estimators:Ridge"}));
  EXPECT_EQ(selected({"estimators:Ridge"}), (std::vector<std::string>{"estimators:Ridge"}));
  // Exclusions alone select everything else of the zoo, and none of the family.
  EXPECT_EQ(selected({"-estimators:TSNE"}), (std::vector<std::string>{"iris_kmeans"}));
}

}  // namespace
}  // namespace crossload
