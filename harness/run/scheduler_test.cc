#include "harness/run/scheduler.h"

#include <gtest/gtest.h>

#include <sstream>

#include "harness/run/progress.h"
#include "harness/run/reuse.h"

namespace crossload {
namespace {

TEST(SchedulerTest, LoadersShareTheJobsAmongConsumersWithAtLeastOneEach) {
  EXPECT_EQ(loaders_per_consumer(2, 1), 2);
  EXPECT_EQ(loaders_per_consumer(8, 3), 2);
  EXPECT_EQ(loaders_per_consumer(2, 3), 1);
  EXPECT_EQ(loaders_per_consumer(1, 0), 1);
}

TEST(SchedulerTest, NothingStartsWithoutAFreeSlot) {
  EXPECT_EQ(next_step({0, 5, 2, true, true}), NextStep::kWait);
  EXPECT_EQ(next_step({1, 0, 2, false, false}), NextStep::kWait);
}

TEST(SchedulerTest, LoadsComeFirstWhileTheQueueIsLongEnough) {
  EXPECT_EQ(next_step({1, 5, 2, true, true}), NextStep::kLoad);
}

TEST(SchedulerTest, ProducesAheadWhenTheQueueWouldRunDry) {
  EXPECT_EQ(next_step({1, 1, 2, true, true}), NextStep::kProduce);
  EXPECT_EQ(next_step({1, 0, 2, true, false}), NextStep::kProduce);
  // Workers all busy with a long queue: a free slot goes to the next fixture.
  EXPECT_EQ(next_step({1, 9, 2, true, false}), NextStep::kProduce);
}

TEST(SchedulerTest, PicksTheIdleLaneWithTheLongestQueue) {
  EXPECT_EQ(pick_lane({{true, 1}, {false, 9}, {true, 4}, {true, 0}}), 2);
  EXPECT_EQ(pick_lane({{false, 3}, {true, 0}}), -1);
  EXPECT_EQ(pick_lane({}), -1);
}

TEST(SchedulerTest, AnotherLoaderStartsOnlyForALongerQueueAndWithinTheAllowance) {
  EXPECT_TRUE(should_start_loader(2, 1, 2));
  EXPECT_FALSE(should_start_loader(1, 1, 2));  // one load, one worker: enough
  EXPECT_FALSE(should_start_loader(9, 2, 2));
}

TEST(SchedulerTest, UnderTheBudgetAnIdleWorkerWithNothingLeftStopsFirst) {
  // {stoppable, work, consumer}
  EXPECT_EQ(pick_to_stop({{true, 3, true}, {false, 0, true}, {true, 0, false}}, false), 2);
  EXPECT_EQ(pick_to_stop({{true, 3, true}, {true, 0, true}}, true), 1);
  // A consumer waiting for its turn never stops one that still has loads.
  EXPECT_EQ(pick_to_stop({{true, 3, true}, {true, 1, false}}, false), -1);
  EXPECT_EQ(pick_to_stop({}, true), -1);
}

TEST(SchedulerTest, ProductionMayStopTheIdleConsumerWithTheFewestLoads) {
  EXPECT_EQ(pick_to_stop({{true, 7, true}, {true, 2, true}, {true, 1, false}, {false, 0, true}}, true), 1);
  EXPECT_EQ(pick_to_stop({{false, 2, true}, {true, 4, false}}, true), -1);  // producers only stop when done
}

TEST(SchedulerTest, TheParkedEnvironmentUnderQemuWakesFirstThenTheLongestQueue) {
  // {parked, emulated, queued}
  EXPECT_EQ(pick_to_wake({{true, false, 90}, {true, true, 10}, {true, true, 20}}), 2);
  EXPECT_EQ(pick_to_wake({{true, false, 5}, {false, true, 50}, {true, false, 9}}), 2);
  EXPECT_EQ(pick_to_wake({{true, true, 0}, {false, false, 3}}), -1);  // nothing waiting, or running already
}

TEST(ProgressTest, EtaScalesTheTimeOfComputedCellsToWhatIsLeft) {
  ProgressCounts c{100, 30, 10, 0, 20};  // 20 reused cost nothing, 10 computed took 5 s
  EXPECT_DOUBLE_EQ(eta_seconds(c, 5.0), 35.0);
  EXPECT_LT(eta_seconds({100, 20, 0, 0, 20}, 5.0), 0);  // nothing computed yet: unknown
  EXPECT_DOUBLE_EQ(eta_seconds({10, 10, 10, 0, 0}, 5.0), 0);
}

TEST(ProgressTest, DurationsReadAsClockTimes) {
  EXPECT_EQ(format_clock(42), "0:42");
  EXPECT_EQ(format_clock(62.4), "1:02");
  EXPECT_EQ(format_clock(3723), "1:02:03");
  EXPECT_EQ(format_clock(-1), "--:--");
}

TEST(ProgressTest, LineShowsBarCountsFailuresEtaAndTheCurrentCell) {
  ProgressCounts c{40, 10, 10, 2, 3};
  EXPECT_EQ(progress_line(c, 42, "a/pickle-p5/host/host", 200),
            "[#####...............] 10/40  2 failed  3 reused  ETA 0:42  a/pickle-p5/host/host");
  EXPECT_EQ(progress_line(c, 42, "a/pickle-p5/host/host", 12), "[#####......");
}

// `run -v` printed a worker's traceback raw, several lines for one cell.
TEST(ProgressTest, EveryCellIsOneLogLineEvenWithAMultiLineMessage) {
  std::ostringstream out;
  RunLog log(out, Verbosity::kVerbose);
  Progress progress(log, 2);
  CellRecord c{"f/pickle-p5/a/b", "f", "pickle-p5", "a", "b", Outcome::kLoadError,
               {{"message", "Traceback (most recent call last):\n  File \"x.py\"\r\nValueError: boom"}}, {}, {}, "", 0};
  progress.cell(c, false);
  c.detail = {{"summary", "differs\nhere"}};
  progress.cell(c, true);
  EXPECT_EQ(out.str(),
            "[1/2] LOAD_ERROR      f/pickle-p5/a/b  Traceback (most recent call last):\\n  File \"x.py\"\\r\\n"
            "ValueError: boom\n"
            "[2/2] LOAD_ERROR      f/pickle-p5/a/b  differs\\nhere  (reused)\n");
}

TEST(ProgressTest, FailuresAreWhatNeedsALook) {
  EXPECT_TRUE(counts_as_failure(Outcome::kLoadError));
  EXPECT_TRUE(counts_as_failure(Outcome::kXpass));
  EXPECT_FALSE(counts_as_failure(Outcome::kOkTolerance));
  EXPECT_FALSE(counts_as_failure(Outcome::kXfail));
  EXPECT_FALSE(counts_as_failure(Outcome::kUnsupported));
}

TEST(RunLogTest, EchoedLinesArriveWholeAndOnlyAboveQuiet) {
  std::ostringstream out, quiet_out;
  RunLog log(out), quiet(quiet_out, Verbosity::kQuiet);
  log.echo() << "+ mmdebstrap " << "--variant=extract";
  log.info("between");
  log.echo() << " bookworm\n";
  quiet.echo() << "+ hidden\n";
  quiet.stream() << "warning: shown\n";
  EXPECT_EQ(out.str(), "between\n+ mmdebstrap --variant=extract bookworm\n");
  EXPECT_EQ(quiet_out.str(), "warning: shown\n");
}

TEST(RunLogTest, StatusLineIsRedrawnBelowLogLinesOnATerminalOnly) {
  std::ostringstream tty, plain;
  RunLog on(tty, Verbosity::kNormal, true), off(plain);
  on.status("[#...] 1/2");
  on.info("line");
  off.status("[#...] 1/2");
  off.info("line");
  EXPECT_EQ(tty.str(), "\r\033[K[#...] 1/2\r\033[Kline\n[#...] 1/2");
  EXPECT_EQ(plain.str(), "line\n");
}

// ---- reuse keys ----

CodeVersions code() { return {"0.1 w", "d", {{"joblib", "a1"}, {"skops", "a2"}}}; }

TEST(ReuseKeyTest, EqualPartsGiveEqualKeysAndEachPartMatters) {
  nlohmann::json fp = {{"python", "3.12.1"}, {"machine", "x86_64"}};
  std::string k = artifact_key({fp, "r1", "joblib"}, code());
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k, artifact_key({fp, "r1", "joblib"}, code()));
  EXPECT_NE(k, artifact_key({fp, "r2", "joblib"}, code()));
  EXPECT_NE(k, artifact_key({fp, "r1", "skops"}, code()));
  EXPECT_NE(k, artifact_key({{{"python", "3.11.2"}, {"machine", "x86_64"}}, "r1", "joblib"}, code()));
  CodeVersions changed = code();
  changed.adapters["joblib"] = "a3";
  EXPECT_NE(k, artifact_key({fp, "r1", "joblib"}, changed));
  changed = code();
  changed.harness = "0.2 w";
  EXPECT_NE(k, artifact_key({fp, "r1", "joblib"}, changed));
}

TEST(ReuseKeyTest, ListsInAFingerprintAreSetsTheirOrderDoesNotMatter) {
  nlohmann::json a = {{"blas", {{{"prefix", "libgomp"}}, {{"prefix", "libopenblas"}}}}};
  nlohmann::json b = {{"blas", {{{"prefix", "libopenblas"}}, {{"prefix", "libgomp"}}}}};
  EXPECT_EQ(artifact_key({a, "r1", "joblib"}, code()), artifact_key({b, "r1", "joblib"}, code()));
  EXPECT_EQ(cell_key("k", a, {}), cell_key("k", b, {}));
}

TEST(ReuseKeyTest, UnknownPartsMeanNoKey) {
  EXPECT_EQ(artifact_key({nullptr, "r1", "joblib"}, code()), "");
  EXPECT_EQ(artifact_key({{{"python", "3"}}, "", "joblib"}, code()), "");
  EXPECT_EQ(artifact_key({{{"python", "3"}}, "r1", "onnx"}, code()), "");  // no adapter version
  EXPECT_EQ(cell_key("", {{"python", "3"}}, {}), "");
  EXPECT_EQ(cell_key("abc", nullptr, {}), "");
}

TEST(ReuseKeyTest, CellKeyDependsOnConsumerAndLoadPolicy) {
  nlohmann::json fp = {{"python", "3.12.1"}};
  std::string k = cell_key("abc", fp, {{"sandbox", true}});
  EXPECT_EQ(k, cell_key("abc", fp, {{"sandbox", true}}));
  EXPECT_NE(k, cell_key("abc", fp, {{"sandbox", false}}));
  EXPECT_NE(k, cell_key("abd", fp, {{"sandbox", true}}));
  EXPECT_NE(k, cell_key("abc", {{"python", "3.13.0"}}, {{"sandbox", true}}));
}

TEST(ReuseKeyTest, AReusedCellGetsItsObservedOutcomeBackForTodaysExpectations) {
  CellRecord c;
  c.outcome = Outcome::kXfail;
  c.detail = {{"message", "No module named 'numpy._core'"},
              {"expected", {{"observed", "LOAD_ERROR"}, {"reason", "numpy 2 pickle"}}}};
  CellRecord copy = reused_copy(c);
  EXPECT_EQ(copy.outcome, Outcome::kLoadError);
  EXPECT_FALSE(copy.detail.contains("expected"));
  EXPECT_EQ(copy.detail["message"], "No module named 'numpy._core'");
  EXPECT_FALSE(reusable(CellRecord{"", "", "", "", "", Outcome::kEnvUnavailable, {}, {}, {}, "", 0}));
  EXPECT_TRUE(reusable(copy));
}

TEST(ReuseKeyTest, TheKeyFromDumpsIsTheKeyOfTheParts) {
  nlohmann::json fp = {{"python", "3.11.2"}, {"packages", {{"numpy", "1.24.2"}}}};
  nlohmann::json policy = {{"sandbox", true}, {"wall_seconds", 300}};
  std::string key = cell_key("abc", fp, policy);
  EXPECT_EQ(key, sha256_text(nlohmann::json{{"artifact", "abc"}, {"consumer", fp}, {"policy", policy}}.dump()));
  EXPECT_EQ(cell_key_of_dumps("abc", consumer_dump(fp), policy.dump()), key);
  EXPECT_EQ(cell_key_of_dumps("", consumer_dump(fp), policy.dump()), "");
}

TEST(ReuseKeyTest, Sha256OfText) {
  EXPECT_EQ(sha256_text("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace crossload
