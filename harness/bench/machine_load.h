#pragma once
// How busy the machine was while a bench measured: the load average (/proc/loadavg) and the CPU
// time stolen by the hypervisor or spent at all (/proc/stat), read before and after each round
// of each case. A round is "busy" when other work could have moved its timings: the rule is
// `busy_reason` below, and docs/bench.md states it. Parsing is separate from reading, so the
// rule is tested on fixed texts.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace crossload::bench {

// A round is busy when the 1-minute load average, at its start or its end, exceeds the number of
// online CPUs (the bench itself keeps about one of them runnable), or when more than this share
// of all CPU time during the round was stolen by the hypervisor.
inline constexpr double kBusyStealPercent = 5.0;

struct CpuTimes {  // the aggregate "cpu" line of /proc/stat, in clock ticks
  double total = 0, idle = 0, steal = 0;
};

struct LoadSnapshot {
  double load1 = 0, load5 = 0, load15 = 0;
  CpuTimes cpu;
  bool known = false;  // both files could be read and parsed
};

// The machine around one round: the larger 1-minute load average of its two ends, the 5- and
// 15-minute ones at its end, and over the round the stolen and the non-idle share of CPU time.
struct MachineLoad {
  double load1 = 0, load5 = 0, load15 = 0;
  double steal_percent = 0, busy_percent = 0;
  int cpus = 0;
  bool known = false;  // false when /proc could not be read: never judged busy, but said so
};

std::optional<LoadSnapshot> parse_load(const std::string& loadavg_text, const std::string& stat_text);
MachineLoad load_between(const LoadSnapshot& before, const LoadSnapshot& after, int cpus);

// Why the round counts as busy ("load average 7.70 > 2 CPUs", "steal 12.0% > 5%"), or empty.
std::string busy_reason(const MachineLoad& load);

// The live machine: /proc/loadavg and /proc/stat now; the number of online CPUs.
LoadSnapshot read_load();
int online_cpus();

nlohmann::json to_json(const MachineLoad& load);

}  // namespace crossload::bench
