#include "harness/core/expectations.h"

#include <gtest/gtest.h>

#include "harness/core/matrix.h"

namespace crossload {
namespace {

const char* kMatrix = R"([matrix]
producers = ["new"]
consumers = ["old"]
[env.new]
provider = "host"
python = "/usr/bin/python3"
[env.old]
provider = "host"
python = "/usr/bin/python3"

[[expect]]
fixtures = ["*_tree_*"]
formats = ["pickle-*"]
consumer_sklearn = "<1.3"
outcomes = ["LOAD_ERROR"]
reason = "tree node dtype gained missing_go_to_left in 1.3"
)";

CellRecord cell(Outcome o, const std::string& fixture = "iris_tree_clf") {
  CellRecord c;
  c.fixture = fixture, c.format = "pickle-p5", c.producer = "new", c.consumer = "old";
  c.id = cell_id(c.fixture, c.format, c.producer, c.consumer);
  c.outcome = o;
  return c;
}

Fingerprints fps(const std::string& consumer_sklearn) {
  return {{"new", {{"packages", {{"scikit-learn", "1.9.1"}}}}},
          {"old", {{"packages", {{"scikit-learn", consumer_sklearn}}}}}};
}

TEST(Expectations, ExpectedFailureBecomesXfailKeepingWhatWasObserved) {
  auto m = parse_matrix(kMatrix, "m.toml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->expectations.size(), 1u);
  CellRecord c = cell(Outcome::kLoadError);
  apply_expectations(m->expectations, fps("1.2.2"), c);
  EXPECT_EQ(c.outcome, Outcome::kXfail);
  EXPECT_EQ(c.detail["expected"]["observed"], "LOAD_ERROR");
  EXPECT_EQ(c.detail["expected"]["declared_at"], "m.toml:11");
}

TEST(Expectations, UnexpectedSuccessIsXpassAndOtherFailuresStayVisible) {
  auto m = parse_matrix(kMatrix, "m.toml");
  ASSERT_TRUE(m.ok());
  CellRecord ok = cell(Outcome::kOkExact);
  apply_expectations(m->expectations, fps("1.2.2"), ok);
  EXPECT_EQ(ok.outcome, Outcome::kXpass);
  CellRecord crash = cell(Outcome::kCrash);
  apply_expectations(m->expectations, fps("1.2.2"), crash);
  EXPECT_EQ(crash.outcome, Outcome::kCrash);
}

TEST(Expectations, VersionAndNameSelectorsMustAllMatch) {
  auto m = parse_matrix(kMatrix, "m.toml");
  ASSERT_TRUE(m.ok());
  CellRecord newer = cell(Outcome::kLoadError);
  apply_expectations(m->expectations, fps("1.5.2"), newer);
  EXPECT_EQ(newer.outcome, Outcome::kLoadError);
  CellRecord other = cell(Outcome::kLoadError, "iris_svc");
  apply_expectations(m->expectations, fps("1.2.2"), other);
  EXPECT_EQ(other.outcome, Outcome::kLoadError);
}

TEST(Expectations, VersionSpecifiers) {
  EXPECT_TRUE(version_matches("1.2.2", "<1.3"));
  EXPECT_FALSE(version_matches("1.3.0", "<1.3"));
  EXPECT_TRUE(version_matches("1.5.2", ">=1.0,<1.6"));
  EXPECT_TRUE(version_matches("1.5.2", "==1.5.*"));
  EXPECT_FALSE(version_matches("1.6.0", "==1.5.*"));
  EXPECT_TRUE(version_matches("2.4.6", ""));
}

TEST(Expectations, BadTablesNameFileLineAndKey) {
  std::string text = std::string(kMatrix) + "\n[[expect]]\noutcome = [\"CRASH\"]\nreason = \"x\"\n";
  auto m = parse_matrix(text, "m.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "m.toml:18: [[expect]] outcome: unknown key (did you mean 'outcomes'?)");
  text = std::string(kMatrix) + "\n[[expect]]\noutcomes = [\"BROKEN\"]\nreason = \"x\"\n";
  m = parse_matrix(text, "m.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, "m.toml:18: [[expect]] outcomes: unknown outcome 'BROKEN'");
}

// A specifier version_matches cannot read matched nothing, silently: the expectation never applied.
TEST(Expectations, AVersionSpecifierThatIsNoneIsAnErrorNamingFileLineAndKey) {
  for (const char* spec : {">>=banana", "banana", ">=", "1.3,", ">=1.3,,<2", "~=1.3", "<1.*", "=>1.3"}) {
    std::string text = std::string(kMatrix) + "\n[[expect]]\nproducer_sklearn = \"" + spec +
                       "\"\noutcomes = [\"CRASH\"]\nreason = \"x\"\n";
    auto m = parse_matrix(text, "m.toml");
    ASSERT_FALSE(m.ok()) << spec;
    EXPECT_EQ(m.error().message.rfind("m.toml:18: [[expect]] producer_sklearn: '" + std::string(spec) + "'", 0), 0u)
        << m.error().message;
  }
  for (const char* spec : {">=1.3", "<1.3.2", ">=1.0, <1.3", "==1.5.*", "1.2", "!=1.4.0rc1", "<=2.0.post1", ""}) {
    std::string text = std::string(kMatrix) + "\n[[expect]]\nconsumer_numpy = \"" + spec +
                       "\"\noutcomes = [\"CRASH\"]\nreason = \"x\"\n";
    auto m = parse_matrix(text, "m.toml");
    EXPECT_TRUE(m.ok()) << spec << ": " << m.error().message;
  }
}

}  // namespace
}  // namespace crossload
