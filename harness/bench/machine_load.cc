#include "harness/bench/machine_load.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace crossload::bench {

namespace {

std::string slurp(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "cpu  user nice system idle iowait irq softirq steal guest guest_nice": guest time is already
// counted in user, so the total is the first eight fields.
std::optional<CpuTimes> parse_cpu_line(const std::string& stat_text) {
  std::istringstream lines(stat_text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name;
    fields >> name;
    if (name != "cpu") continue;
    std::vector<double> v;
    for (double x; v.size() < 8 && fields >> x;) v.push_back(x);
    if (v.size() < 4) return std::nullopt;
    v.resize(8, 0.0);
    CpuTimes t;
    for (double x : v) t.total += x;
    t.idle = v[3] + v[4];  // idle and iowait: nothing ran
    t.steal = v[7];
    return t;
  }
  return std::nullopt;
}

}  // namespace

std::optional<LoadSnapshot> parse_load(const std::string& loadavg_text, const std::string& stat_text) {
  LoadSnapshot s;
  std::istringstream in(loadavg_text);
  if (!(in >> s.load1 >> s.load5 >> s.load15)) return std::nullopt;
  auto cpu = parse_cpu_line(stat_text);
  if (!cpu) return std::nullopt;
  s.cpu = *cpu;
  s.known = true;
  return s;
}

MachineLoad load_between(const LoadSnapshot& before, const LoadSnapshot& after, int cpus) {
  MachineLoad m;
  m.cpus = cpus;
  m.known = before.known && after.known;
  if (!m.known) return m;
  m.load1 = std::max(before.load1, after.load1);
  m.load5 = after.load5;
  m.load15 = after.load15;
  double total = after.cpu.total - before.cpu.total;
  if (total > 0) {
    m.steal_percent = 100 * (after.cpu.steal - before.cpu.steal) / total;
    m.busy_percent = 100 * (total - (after.cpu.idle - before.cpu.idle)) / total;
  }
  return m;
}

std::string busy_reason(const MachineLoad& load) {
  if (!load.known) return "";
  if (load.cpus > 0 && load.load1 > load.cpus)
    return fmt::format("load average {:.2f} > {} CPUs", load.load1, load.cpus);
  if (load.steal_percent > kBusyStealPercent)
    return fmt::format("CPU steal {:.1f}% > {:.0f}%", load.steal_percent, kBusyStealPercent);
  return "";
}

LoadSnapshot read_load() {
  return parse_load(slurp("/proc/loadavg"), slurp("/proc/stat")).value_or(LoadSnapshot{});
}

int online_cpus() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

nlohmann::json to_json(const MachineLoad& load) {
  return {{"load_avg_1m", load.load1}, {"load_avg_5m", load.load5}, {"load_avg_15m", load.load15},
          {"steal_percent", load.steal_percent}, {"cpu_busy_percent", load.busy_percent}, {"cpus", load.cpus},
          {"known", load.known}, {"busy", busy_reason(load)}};
}

}  // namespace crossload::bench
