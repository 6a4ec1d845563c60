// Rules and matching: the catalogue's built-in rules parse, a real artifact written by the venv
// (scikit-learn 1.9, numpy 2) is forecast against environments' facts as the cache or the Debian
// table gives them, and a fact nobody knows makes the forecast UNKNOWN, never OK.
#include "harness/forecast/forecast.h"

#include <gtest/gtest.h>

#include <set>

#include "harness/audit/test_support.h"
#include "harness/causes/catalogue.h"
#include "harness/forecast/environments.h"

namespace crossload::forecast {
namespace {

using audit::testing::have_venv;
using audit::testing::python_artifact;

Facts tree_pickle_facts() {
  auto path = python_artifact(
      "import pickle\nfrom sklearn.datasets import load_iris\nfrom sklearn.tree import DecisionTreeClassifier\n"
      "X, y = load_iris(return_X_y=True)\n"
      "open(sys.argv[1], 'wb').write(pickle.dumps(DecisionTreeClassifier(random_state=0).fit(X, y), protocol=5))\n",
      "tree.pkl");
  EXPECT_TRUE(path);
  audit::Policy policy;
  auto rec = audit::inspect_file(*path, policy);
  EXPECT_TRUE(rec);
  return artifact_facts(*rec);
}

Facts env_of(const char* fingerprint) { return env_facts(nlohmann::json::parse(fingerprint)); }

const char* kHostLike = R"({"python": "3.11.7", "byteorder": "little", "pointer_bits": 64, "machine": "x86_64",
    "packages": {"numpy": "2.4.6", "scipy": "1.17.1", "scikit-learn": "1.9.1", "cloudpickle": "3.1.3",
                 "skops": "0.16.0", "onnxruntime": "1.32.0", "joblib": "1.6.0"}})";

TEST(ForecastRules, BuiltinRulesParseAndNameCatalogueCauses) {
  auto rules = parse_rules(builtin_catalogue_text(), "catalogue.toml");
  ASSERT_TRUE(rules) << rules.error().message;
  EXPECT_GE(rules->size(), 30u);
  EXPECT_EQ(rules->size(), builtin_rules().size());
  for (const auto& r : *rules) EXPECT_NE(builtin_catalogue().find(r.cause), nullptr) << r.cause;
  EXPECT_TRUE(builtin_catalogue().causes.size() > 0);  // the catalogue accepts [[cause.forecast]]
}

TEST(ForecastRules, ParseErrorsNameTheLineAndTheProblem) {
  auto bad_outcome = parse_rules("[[cause]]\nid = \"x\"\n[[cause.forecast]]\noutcome = \"FINE\"\nwhen = { a = \"b\" }\n",
                                 "t.toml");
  ASSERT_FALSE(bad_outcome);
  EXPECT_NE(bad_outcome.error().message.find("t.toml:"), std::string::npos);
  EXPECT_NE(bad_outcome.error().message.find("outcome must be"), std::string::npos);
  auto bad_bound = parse_rules(
      "[[cause]]\nid = \"x\"\n[[cause.forecast]]\noutcome = \"LOAD_ERROR\"\nwhen = { env.numpy = \"<= \" }\n", "t.toml");
  ASSERT_FALSE(bad_bound);
  EXPECT_NE(bad_bound.error().message.find("t.toml:5: env.numpy"), std::string::npos) << bad_bound.error().message;
}

TEST(ForecastRules, VersionsCompareByNumericParts) {
  EXPECT_EQ(compare_versions(version_parts("1.26.4"), version_parts("1.26")), 1);
  EXPECT_EQ(compare_versions(version_parts("1.3"), version_parts("1.3.0")), 0);
  EXPECT_EQ(compare_versions(version_parts("4.0.2+dfsg"), version_parts("4.0.2")), 0);
  EXPECT_EQ(compare_versions(version_parts("1.9.1"), version_parts("1.10")), -1);
  Alternative t;
  t.kind = Alternative::Kind::kVersion;
  t.bounds = {{">=", version_parts("1.26")}, {"<", version_parts("2")}};
  EXPECT_TRUE(t.holds("1.26.4"));
  EXPECT_FALSE(t.holds("2.0.2"));
  EXPECT_FALSE(t.holds("absent"));
}

TEST(Forecast, NumpyTwoPickleIntoBookwormIsALoadErrorWithEvidence) {
  if (!have_venv()) GTEST_SKIP() << "no .venv (ci/setup makes it)";
  Facts env = debian_suite_facts("bookworm");
  ASSERT_FALSE(env.values.empty());
  Forecast f = forecast_one(tree_pickle_facts(), env);
  EXPECT_EQ(f.outcome, Outcome::kLoadError);
  EXPECT_EQ(f.cause, "numpy2-pickle-into-numpy1");
  std::set<std::string> ev(f.evidence.begin(), f.evidence.end());
  EXPECT_TRUE(ev.count("artifact.numpy = 2")) << nlohmann::json(f.evidence).dump();
  EXPECT_TRUE(ev.count("env.numpy = 1.24.2 (< 1.26)")) << nlohmann::json(f.evidence).dump();
}

TEST(Forecast, SameStackIsOk) {
  if (!have_venv()) GTEST_SKIP() << "no .venv (ci/setup makes it)";
  Forecast f = forecast_one(tree_pickle_facts(), env_of(kHostLike));
  EXPECT_EQ(f.outcome, Outcome::kOk) << f.cause;
  EXPECT_TRUE(f.cause.empty());
}

TEST(Forecast, OlderScikitLearnWithNumpyTwoHitsTheTreeNodeLayout) {
  if (!have_venv()) GTEST_SKIP() << "no .venv (ci/setup makes it)";
  Forecast f = forecast_one(tree_pickle_facts(), env_of(R"({"python": "3.11.7", "byteorder": "little",
      "pointer_bits": 64, "packages": {"numpy": "2.0.2", "scikit-learn": "1.2.2"}})"));
  EXPECT_EQ(f.outcome, Outcome::kLoadError);
  EXPECT_EQ(f.cause, "sklearn-tree-node-dtype-backward-1.3");
}

TEST(Forecast, AnUnknownFactIsNamedNotGuessed) {
  if (!have_venv()) GTEST_SKIP() << "no .venv (ci/setup makes it)";
  // numpy 2 is known, scikit-learn is not: the tree rules could hold.
  Forecast f = forecast_one(tree_pickle_facts(), env_of(R"({"python": "3.11.7", "byteorder": "little",
      "pointer_bits": 64, "packages": {"numpy": "2.2.4"}})"));
  EXPECT_EQ(f.outcome, Outcome::kUnknown);
  EXPECT_NE(std::find(f.missing.begin(), f.missing.end(), "env.sklearn"), f.missing.end());
}

TEST(Forecast, FirstMatchingRuleWinsAndFailedConditionsBeatUnknownOnes) {
  Rule needs_env{"a", Outcome::kLoadError, {{"env.x", {}}}};
  needs_env.when[0].any_of.push_back(Alternative{Alternative::Kind::kExact, "1", {}, {}});
  Rule impossible{"b", Outcome::kCrash, {{"artifact.y", {}}, {"env.x", {}}}};
  impossible.when[0].any_of.push_back(Alternative{Alternative::Kind::kExact, "no", {}, {}});
  impossible.when[1].any_of.push_back(Alternative{Alternative::Kind::kExact, "1", {}, {}});
  Facts art;
  art.set("artifact.y", "yes");
  Facts env;
  EXPECT_EQ(forecast_one(art, env, {impossible}).outcome, Outcome::kOk);  // known false wins
  EXPECT_EQ(forecast_one(art, env, {needs_env}).outcome, Outcome::kUnknown);
  env.set("env.x", "1");
  Forecast f = forecast_one(art, env, {needs_env, impossible});
  EXPECT_EQ(f.outcome, Outcome::kLoadError);
  EXPECT_EQ(f.cause, "a");
}

}  // namespace
}  // namespace crossload::forecast
