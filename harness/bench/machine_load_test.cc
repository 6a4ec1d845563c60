#include "harness/bench/machine_load.h"

#include <gtest/gtest.h>

namespace crossload::bench {
namespace {

const char* kStatBefore = "cpu  1000 0 500 8000 500 0 0 0 0 0\ncpu0 500 0 250 4000 250 0 0 0 0 0\n";
// 1000 ticks later: 300 user, 100 system, 400 idle, 0 iowait, 200 steal.
const char* kStatAfter = "cpu  1300 0 600 8400 500 0 0 200 0 0\ncpu0 650 0 300 4200 250 0 0 100 0 0\n";

LoadSnapshot snapshot(const char* loadavg, const char* stat) {
  auto s = parse_load(loadavg, stat);
  EXPECT_TRUE(s);
  return s.value_or(LoadSnapshot{});
}

TEST(BenchMachineLoad, ParsesLoadAverageAndCpuTimes) {
  LoadSnapshot s = snapshot("0.52 0.58 0.59 1/467 12345\n", kStatBefore);
  EXPECT_DOUBLE_EQ(s.load1, 0.52);
  EXPECT_DOUBLE_EQ(s.load15, 0.59);
  EXPECT_DOUBLE_EQ(s.cpu.total, 10000);
  EXPECT_DOUBLE_EQ(s.cpu.idle, 8500);
  EXPECT_FALSE(parse_load("garbage", kStatBefore));
  EXPECT_FALSE(parse_load("0.1 0.2 0.3", "intr 1 2 3\n"));
}

TEST(BenchMachineLoad, StealAndBusyShareOverTheRound) {
  MachineLoad m = load_between(snapshot("0.50 0.4 0.3", kStatBefore), snapshot("0.90 0.5 0.3", kStatAfter), 2);
  EXPECT_DOUBLE_EQ(m.load1, 0.90);  // the larger end
  EXPECT_DOUBLE_EQ(m.steal_percent, 20);
  EXPECT_DOUBLE_EQ(m.busy_percent, 60);
}

TEST(BenchMachineLoad, BusyWhenTheLoadAverageExceedsTheCpus) {
  MachineLoad quiet = load_between(snapshot("1.10 1 1", kStatBefore), snapshot("1.30 1 1", kStatBefore), 2);
  EXPECT_EQ(busy_reason(quiet), "");
  MachineLoad busy = load_between(snapshot("7.70 3 1", kStatBefore), snapshot("1.00 1 1", kStatBefore), 2);
  EXPECT_EQ(busy_reason(busy), "load average 7.70 > 2 CPUs");
}

TEST(BenchMachineLoad, BusyWhenTheHypervisorStealsMoreThanTheLimit) {
  MachineLoad m = load_between(snapshot("0.5 0.5 0.5", kStatBefore), snapshot("0.5 0.5 0.5", kStatAfter), 4);
  EXPECT_EQ(busy_reason(m), "CPU steal 20.0% > 5%");
}

TEST(BenchMachineLoad, UnknownLoadIsNeverBusy) {
  MachineLoad m = load_between(LoadSnapshot{}, snapshot("9 9 9", kStatAfter), 1);
  EXPECT_FALSE(m.known);
  EXPECT_EQ(busy_reason(m), "");
}

TEST(BenchMachineLoad, ReadsThisMachine) {
  LoadSnapshot s = read_load();
  EXPECT_TRUE(s.known);  // Linux: both files exist
  EXPECT_GT(s.cpu.total, 0);
  EXPECT_GE(online_cpus(), 1);
}

}  // namespace
}  // namespace crossload::bench
