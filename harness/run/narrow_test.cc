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

TEST(Narrow, SpecsOnTheCommandLineBecomeEnvironmentsTheirCommasKept) {
  Matrix m = two_envs();
  Narrowing n;
  // As CLI11 hands over `--consumers a,pip:scikit-learn==1.5.2,numpy==1.26.4@3.11,debian:sid/s390x`.
  n.consumers = {"a", "pip:scikit-learn==1.5.2", "numpy==1.26.4@3.11", "debian:sid/s390x"};
  n.producers = {"python:/usr/bin/python3"};
  ASSERT_TRUE(narrow_matrix(m, n).ok());
  EXPECT_EQ(m.consumers,
            (std::vector<std::string>{"a", "pip:scikit-learn==1.5.2,numpy==1.26.4@3.11", "debian:sid/s390x"}));
  const EnvSpec* pip = m.find_env("pip:scikit-learn==1.5.2,numpy==1.26.4@3.11");
  ASSERT_NE(pip, nullptr);
  EXPECT_EQ(pip->pip, (std::vector<std::string>{"scikit-learn==1.5.2", "numpy==1.26.4"}));
  EXPECT_EQ(pip->python, "python3.11");
  ASSERT_NE(m.find_env("python:/usr/bin/python3"), nullptr);
  EXPECT_EQ(m.find_env("python:/usr/bin/python3")->provider, "host");
  Narrowing bad;
  bad.consumers = {"debian:sid"};
  auto st = narrow_matrix(m, bad);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("--env debian:sid"), std::string::npos) << st.error().message;
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
