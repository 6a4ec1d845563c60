#include "harness/core/matrix.h"
#include "harness/util/text.h"

#include <gtest/gtest.h>

namespace crossload {
namespace {

const char* kGood = R"(
[matrix]
name = "t"
fixtures = ["iris_*", "-iris_big"]
producers = ["host"]
consumers = ["host"]

[env.host]
provider = "host"
python = "/usr/bin/python3"
)";

TEST(Matrix, ParsesAGoodFile) {
  auto m = parse_matrix(kGood, "m.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->name, "t");
  ASSERT_EQ(m->envs.size(), 1u);
  EXPECT_EQ(m->envs[0].python, "/usr/bin/python3");
  EXPECT_EQ(m->formats, std::vector<std::string>{"*"});
  EXPECT_EQ(m->envs[0].origin, "m.toml:8");
}

TEST(Matrix, UnknownKeyNamesFileLineKeyAndSuggestion) {
  std::string text = kGood;
  text.replace(text.find("python ="), 6, "pyhton");
  auto m = parse_matrix(text, "m.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "m.toml:10: [env.host] pyhton: unknown key (did you mean 'python'?)");
}

TEST(Matrix, SyntaxErrorNamesLine) {
  auto m = parse_matrix("[matrix]\nname = \"x\nproducers=[]\n", "bad.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message.rfind("bad.toml:2: ", 0), 0u) << m.error().message;
}

TEST(Matrix, UndeclaredConsumerIsAnError) {
  std::string text = kGood;
  text.replace(text.find("consumers = [\"host\"]"), 20, "consumers = [\"hots\"]");
  auto m = parse_matrix(text, "m.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("m.toml:6: [matrix] consumers: no [env.hots] table in this file (did you mean 'host'?)"),
            std::string::npos) << m.error().message;
}

TEST(Matrix, WrongTypeAndMissingProviderField) {
  std::string text = kGood;
  text.replace(text.find("python = \"/usr/bin/python3\""), 27, "python = 3");
  auto m = parse_matrix(text, "m.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "m.toml:10: [env.host] python: must be a string");
  text = kGood;
  text.replace(text.find("python = \"/usr/bin/python3\""), 27, "");
  m = parse_matrix(text, "m.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "m.toml:8: [env.host] python: required by provider 'host'");
}

TEST(Matrix, PipWithAnArchDefaultsToBookwormAndASuiteAloneIsAnError) {
  const char* text = R"(
[matrix]
producers = ["arm"]
consumers = ["arm"]

[env.arm]
provider = "pip"
arch = "arm64"
pip = ["scikit-learn==1.5.2"]
)";
  auto m = parse_matrix(text, "m.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->envs[0].suite, "bookworm");
  std::string no_arch = text;
  no_arch.replace(no_arch.find("arch = \"arm64\""), 14, "suite = \"sid\"");
  m = parse_matrix(no_arch, "m.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message,
            "m.toml:6: [env.arm] suite: a pip environment takes a suite only with an arch "
            "(wheels for that CPU in a Debian rootfs of that suite)");
}

TEST(Matrix, UnknownProviderListsKnownOnes) {
  std::string text = kGood;
  text.replace(text.find("provider = \"host\""), 17, "provider = \"conda\"");
  auto m = parse_matrix(text, "m.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("unknown provider 'conda' (known: host"), std::string::npos);
}

TEST(Matrix, MissingFileIsAnError) {
  auto m = load_matrix("/nonexistent/x.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "/nonexistent/x.toml: cannot open matrix file");
}

TEST(Matrix, LoadLimitsDefaultToFourGiBAndTheCellTimeout) {
  std::string text = kGood;
  text.replace(text.find("producers"), 0, "cell_timeout = 42\n");
  auto m = parse_matrix(text, "m.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->cell_timeout_seconds, 42);
  EXPECT_EQ(m->cpu_limit_seconds, 42);
  EXPECT_EQ(m->memory_limit_mb, 4096);
}

TEST(Matrix, LoadLimitsCanBeSet) {
  std::string text = kGood;
  text.replace(text.find("producers"), 0, "memory_limit_mb = 512\ncpu_limit = 7.5\ncell_timeout = 30\n");
  auto m = parse_matrix(text, "m.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->memory_limit_mb, 512);
  EXPECT_EQ(m->cpu_limit_seconds, 7.5);
  EXPECT_EQ(m->cell_timeout_seconds, 30);
}

TEST(Matrix, BadLoadLimitsNameFileLineAndKey) {
  for (auto [line, message] :
       {std::pair{"memory_limit_mb = 0", "m.toml:5: [matrix] memory_limit_mb: must be a positive number of MiB, at most 16777216"},
        std::pair{"memory_limit_mb = \"4G\"", "m.toml:5: [matrix] memory_limit_mb: must be a positive number of MiB, at most 16777216"},
        std::pair{"cpu_limit = -1", "m.toml:5: [matrix] cpu_limit: must be a positive number of seconds, at most 604800"},
        std::pair{"memory_limit = 10", "m.toml:5: [matrix] memory_limit: unknown key (did you mean 'memory_limit_mb'?)"},
        std::pair{"cpu_limt = 10", "m.toml:5: [matrix] cpu_limt: unknown key (did you mean 'cpu_limit'?)"}}) {
    std::string text = kGood;
    text.replace(text.find("producers"), 0, std::string(line) + "\n");
    auto m = parse_matrix(text, "m.toml");
    ASSERT_FALSE(m.ok()) << line;
    EXPECT_EQ(m.error().message, message);
  }
}

// inf, nan and huge numbers overflowed the wall clock: every cell timed out "within -9223372036854776 s".
TEST(Matrix, NonFiniteOrAbsurdLimitsNameFileLineAndKey) {
  for (const char* line : {"cell_timeout = inf", "cell_timeout = nan", "cell_timeout = 1e300", "cell_timeout = 1e10",
                           "cpu_limit = inf", "cpu_limit = 1e10", "memory_limit_mb = inf", "memory_limit_mb = 1e300",
                           "cell_timeout = -inf"}) {
    std::string text = kGood;
    text.replace(text.find("producers"), 0, std::string(line) + "\n");
    auto m = parse_matrix(text, "m.toml");
    ASSERT_FALSE(m.ok()) << line;
    std::string key(line, std::string(line).find(' '));
    EXPECT_EQ(m.error().message.rfind("m.toml:5: [matrix] " + key + ": must be a positive number of ", 0), 0u)
        << m.error().message;
    EXPECT_NE(m.error().message.find("at most"), std::string::npos) << m.error().message;
  }
  std::string text = kGood;
  text.replace(text.find("producers"), 0, "cell_timeout = 604800\nmemory_limit_mb = 16777216\n");
  EXPECT_TRUE(parse_matrix(text, "m.toml").ok());  // the bounds themselves are allowed
}

// plan counted a listed-twice environment's cells twice where run recorded them once.
TEST(Matrix, AnEnvironmentListedTwiceIsAnErrorNamingFileLineAndKey) {
  std::string text = kGood;
  text.replace(text.find("consumers = [\"host\"]"), 20, "consumers = [\"host\", \"host\"]");
  auto m = parse_matrix(text, "m.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "m.toml:6: [matrix] consumers: 'host' is listed twice; list each environment once");
}

TEST(Matrix, RemembersTheLineOfEachList) {
  auto m = parse_matrix(kGood, "m.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->list_origin.at("fixtures"), "m.toml:4: [matrix] fixtures");
  EXPECT_EQ(m->list_origin.at("consumers"), "m.toml:6: [matrix] consumers");
  EXPECT_EQ(m->list_origin.at("formats"), "m.toml:2: [matrix] formats");  // absent: the table's line
}

TEST(Glob, FilterWithNegationLastMatchWins) {
  EXPECT_TRUE(glob_match("iris_*", "iris_hgb"));
  EXPECT_FALSE(glob_match("iris_*", "wine_hgb"));
  EXPECT_TRUE(glob_match("*_?gb", "iris_hgb"));
  EXPECT_TRUE(filter_selects({"iris_*", "-iris_big"}, "iris_hgb"));
  EXPECT_FALSE(filter_selects({"iris_*", "-iris_big"}, "iris_big"));
  EXPECT_TRUE(filter_selects({"-large_*"}, "iris_hgb"));
  EXPECT_FALSE(filter_selects({"-large_*"}, "large_forest"));
}

}  // namespace
}  // namespace crossload
