#include "harness/run/narrow.h"

#include <gtest/gtest.h>

namespace crossload {
namespace {

Matrix two_envs() {
  auto m = parse_matrix(R"(
[matrix]
producers = ["a"]
consumers = ["a", "b"]
[env.a]
provider = "host"
python = "/usr/bin/python3"
[env.b]
provider = "host"
python = "/usr/bin/python3"
)",
                        "m.toml");
  EXPECT_TRUE(m.ok()) << m.error().message;
  return *m;
}

TEST(Narrow, ReplacesOnlyTheGivenLists) {
  Matrix m = two_envs();
  Narrowing n;
  n.consumers = {"b"};
  n.fixtures = {"iris_*"};
  ASSERT_TRUE(narrow_matrix(m, n).ok());
  EXPECT_EQ(m.producers, std::vector<std::string>{"a"});
  EXPECT_EQ(m.consumers, std::vector<std::string>{"b"});
  EXPECT_EQ(m.fixtures, std::vector<std::string>{"iris_*"});
  EXPECT_EQ(m.formats, std::vector<std::string>{"*"});
}

TEST(Narrow, MayPickAnEnvironmentTheMatrixDefinesButDoesNotList) {
  Matrix m = two_envs();
  Narrowing n;
  n.producers = {"b"};
  ASSERT_TRUE(narrow_matrix(m, n).ok());
  EXPECT_EQ(m.producers, std::vector<std::string>{"b"});
}

TEST(Narrow, UnknownEnvironmentNamesFlagFileAndSuggestion) {
  Matrix m = two_envs();
  Narrowing n;
  n.consumers = {"a", "bb"};
  auto s = narrow_matrix(m, n);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("--consumers: 'bb' is not an environment of m.toml"), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("did you mean"), std::string::npos) << s.error().message;
  EXPECT_EQ(m.consumers, (std::vector<std::string>{"a", "b"}));  // untouched on error
}

TEST(Narrow, AnEnvironmentNamedTwiceIsAUsageError) {
  Matrix m = two_envs();
  Narrowing n;
  n.producers = {"a", "b", "a"};
  auto s = narrow_matrix(m, n);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "--producers: 'a' is named twice; name each environment once");
  EXPECT_EQ(s.error().kind, ErrorKind::kUsage);
}

TEST(Narrow, AReplacedListIsReportedUnderItsFlag) {
  Matrix m = two_envs();
  Narrowing n;
  n.fixtures = {"nosuch*"};
  ASSERT_TRUE(narrow_matrix(m, n).ok());
  EXPECT_EQ(m.list_origin.at("fixtures"), "--fixtures");
  EXPECT_EQ(m.list_origin.at("formats"), "m.toml:2: [matrix] formats");
}

TEST(Narrow, DescribeDiffersBetweenSlicesAndIsEmptyWithoutOne) {
  Narrowing none, a, b;
  a.consumers = {"x"};
  b.consumers = {"y"};
  EXPECT_EQ(none.describe(), "");
  EXPECT_NE(a.describe(), b.describe());
}

}  // namespace
}  // namespace crossload
