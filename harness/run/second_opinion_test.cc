#include "harness/run/second_opinion.h"

#include <gtest/gtest.h>

namespace crossload {
namespace {

CellRecord cell(const std::string& consumer, Outcome outcome, const std::string& fixture = "f",
                const std::string& error_type = "") {
  CellRecord c;
  c.fixture = fixture;
  c.format = "pickle-p4";
  c.producer = "host";
  c.consumer = consumer;
  c.id = cell_id(c.fixture, c.format, c.producer, consumer);
  c.outcome = outcome;
  c.detail = nlohmann::json::object();
  if (!error_type.empty()) c.detail["error_type"] = error_type;
  return c;
}

std::vector<std::string> ids(const std::vector<const CellRecord*>& cells) {
  std::vector<std::string> out;
  for (const auto* c : cells) out.push_back(c->id);
  return out;
}

TEST(SecondOpinion, OnlyFailuresNoNativeConsumerSharesAreQuestioned) {
  std::vector<CellRecord> cells{
      cell("host", Outcome::kOkExact, "a"),          cell("armhf", Outcome::kCrash, "a"),       // emulation only
      cell("host", Outcome::kLoadError, "b"),        cell("armhf", Outcome::kLoadError, "b"),   // native too
      cell("host", Outcome::kOkExact, "c"),          cell("armhf", Outcome::kMismatch, "c"),    // not a failure
      cell("trixie-amd64", Outcome::kCrash, "d"),    cell("armhf", Outcome::kCrash, "d"),       // native crashes too
      cell("host", Outcome::kOkExact, "e"),          cell("armhf", Outcome::kPredictError, "e"),
  };
  CellRecord reused = cell("armhf", Outcome::kCrash, "g");
  reused.reused_from = 3;  // computed by an earlier run: not loaded now
  cells.push_back(reused);
  auto got = ids(second_opinion_candidates(cells, {"armhf"}, {"host", "trixie-amd64"}));
  EXPECT_EQ(got, (std::vector<std::string>{"a/pickle-p4/host/armhf", "e/pickle-p4/host/armhf"}));
}

TEST(SecondOpinion, ReproducedMeansTheSameOutcomeAndForErrorsTheSameType) {
  EXPECT_TRUE(reproduces(cell("x", Outcome::kCrash), cell("x", Outcome::kCrash)));
  EXPECT_FALSE(reproduces(cell("x", Outcome::kCrash), cell("x", Outcome::kOkExact)));
  EXPECT_TRUE(reproduces(cell("x", Outcome::kLoadError, "f", "ValueError"), cell("x", Outcome::kLoadError, "f", "ValueError")));
  EXPECT_FALSE(reproduces(cell("x", Outcome::kLoadError, "f", "ValueError"), cell("x", Outcome::kLoadError, "f", "KeyError")));
}

}  // namespace
}  // namespace crossload
