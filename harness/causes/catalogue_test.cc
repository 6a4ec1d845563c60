#include "harness/causes/catalogue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace crossload {
namespace {

using ::testing::HasSubstr;

constexpr const char* kOne = R"(
[[cause]]
id = "a"
title = "t"
boundary = { component = "numpy", producer = ">= 2", consumer = "< 2" }
what = "w"
fix = "f"
[[cause.signature]]
outcomes = ["LOAD_ERROR"]
exception = "ModuleNotFoundError"
pattern = '''^No module named 'numpy\._core'$'''
)";

TEST(Catalogue, BuiltinParsesWithoutError) {
  auto parsed = parse_catalogue(builtin_catalogue_text(), "catalogue.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_GE(parsed->causes.size(), 30u);
  EXPECT_EQ(builtin_catalogue().causes.size(), parsed->causes.size());
  for (const auto& c : parsed->causes) {
    EXPECT_FALSE(c.what.empty()) << c.id;
    EXPECT_FALSE(c.fix.empty()) << c.id;
    EXPECT_FALSE(c.boundary.component.empty()) << c.id;
  }
  EXPECT_NE(builtin_catalogue().find("sklearn-tree-node-dtype-1.3"), nullptr);
}

TEST(Catalogue, ReadsOneCause) {
  auto parsed = parse_catalogue(kOne, "x.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->causes.size(), 1u);
  const Cause& c = parsed->causes[0];
  EXPECT_EQ(c.boundary.producer, ">= 2");
  ASSERT_EQ(c.signatures.size(), 1u);
  EXPECT_EQ(c.signatures[0].outcomes, std::vector<Outcome>{Outcome::kLoadError});
  EXPECT_TRUE(c.signatures[0].compiled.has_value());
}

TEST(Catalogue, UnknownKeyNamesFileLineAndSuggestion) {
  std::string text = std::string(kOne) + "formts = [\"onnx\"]\n";
  auto parsed = parse_catalogue(text, "x.toml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error().message, HasSubstr("x.toml:"));
  EXPECT_THAT(parsed.error().message, HasSubstr("formts: unknown key"));
  EXPECT_THAT(parsed.error().message, HasSubstr("formats"));
}

TEST(Catalogue, BadPatternUnknownOutcomeAndDuplicateIdAreErrors) {
  std::string bad_regex = kOne;
  bad_regex.replace(bad_regex.find("^No module"), 3, "(No");
  EXPECT_THAT(parse_catalogue(bad_regex, "x.toml").error().message, HasSubstr("pattern: not a regular expression"));
  std::string bad_outcome = kOne;
  bad_outcome.replace(bad_outcome.find("LOAD_ERROR"), 10, "LOAD_EROR");
  EXPECT_THAT(parse_catalogue(bad_outcome, "x.toml").error().message, HasSubstr("unknown outcome 'LOAD_EROR'"));
  EXPECT_THAT(parse_catalogue(std::string(kOne) + kOne, "x.toml").error().message, HasSubstr("id 'a' appears twice"));
  EXPECT_THAT(parse_catalogue("[[cause]]\nid = \"b\"\n", "x.toml").error().message, HasSubstr("title: missing"));
  EXPECT_THAT(parse_catalogue("x = \n", "x.toml").error().message, HasSubstr("x.toml:1:"));
}

}  // namespace
}  // namespace crossload
