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

TEST(CheckReference, TheNumpyMajorTheArtifactNamesMustMatchTooAndAStandInIsNotTrusted) {
  nlohmann::json numpy2 = {{"packages", {{"scikit-learn", "1.5.2"}, {"numpy", "2.0.2"}}}};
  nlohmann::json numpy1 = {{"packages", {{"scikit-learn", "1.5.2"}, {"numpy", "1.26.4"}}}};
  auto order = reference_order({{"two", numpy2}, {"one", numpy1}}, {"1.5.2"}, 1);
  EXPECT_EQ(order.matched, "one");
  EXPECT_EQ(order.envs, (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(reference_trusted(order, "one"));
  EXPECT_FALSE(reference_trusted(order, "two"));
  EXPECT_NE(reference_sentence(order, "one").find("its scikit-learn 1.5.2 with numpy 1.x is the version"),
            std::string::npos);
  auto none = reference_order({{"two", numpy2}}, {"1.5.2"}, 1);
  EXPECT_FALSE(reference_trusted(none, "two"));
  EXPECT_NE(reference_sentence(none, "two").find("recorded scikit-learn 1.5.2 with numpy 1.x, so the first that "
                                                 "loads it was used; a different version: not trusted"),
            std::string::npos);
  EXPECT_TRUE(reference_trusted(reference_order({{"a", numpy2}}, {}), "a"));  // nothing recorded to differ from
}

TEST(CheckReference, ARebuiltProducerEnvironmentIsNamedWithItsSpec) {
  nlohmann::json fp = {{"packages", {{"scikit-learn", "1.3.2"}, {"numpy", "1.26.4"}}}};
  auto order = reference_order({{"pip:x", fp}, {"host", with_sklearn("1.9.1")}}, {"1.3.2"}, 1);
  EXPECT_EQ(reference_sentence(order, "pip:x", "pip:x"),
            "reference: scikit-learn 1.3.2 rebuilt from the artifact's recorded versions (pip:x)");
}

}  // namespace
}  // namespace crossload::check
