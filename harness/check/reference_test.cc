#include "harness/check/reference.h"

#include <gtest/gtest.h>

namespace crossload::check {
namespace {

nlohmann::json with_sklearn(const char* version) { return {{"packages", {{"scikit-learn", version}}}}; }

TEST(CheckReference, TheEnvironmentWithTheRecordedVersionComesFirst) {
  auto order = reference_order({{"host", with_sklearn("1.9.1")}, {"old", with_sklearn("1.5.2")}}, {"1.5.2"});
  EXPECT_EQ(order.matched, "old");
  EXPECT_EQ(order.envs, (std::vector<std::string>{"old", "host"}));
  EXPECT_NE(reference_sentence(order, "old").find("1.5.2 is the version the artifact records"), std::string::npos);
  EXPECT_NE(reference_sentence(order, "host").find("old has the recorded scikit-learn 1.5.2 but could not load it"),
            std::string::npos);
}

TEST(CheckReference, NoMatchKeepsTheGivenOrderAndSaysSo) {
  auto order = reference_order({{"a", with_sklearn("1.9.1")}, {"b", nlohmann::json::object()}}, {"1.2.2"});
  EXPECT_TRUE(order.matched.empty());
  EXPECT_EQ(order.envs, (std::vector<std::string>{"a", "b"}));
  EXPECT_NE(reference_sentence(order, "a").find("no environment has the recorded scikit-learn 1.2.2"),
            std::string::npos);
  EXPECT_NE(reference_sentence(order, "").find("no environment could load"), std::string::npos);
  auto unrecorded = reference_order({{"a", with_sklearn("1.9.1")}}, {});
  EXPECT_NE(reference_sentence(unrecorded, "a").find("records no scikit-learn version"), std::string::npos);
}

}  // namespace
}  // namespace crossload::check
