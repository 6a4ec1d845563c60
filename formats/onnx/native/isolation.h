#pragma once
// Each load runs in a fresh child forked from the long-lived native consumer, the way the Python
// worker isolates its loads (harness/worker/isolation.py, docs/isolation.md): its own process
// group, no core dumps, a private temporary directory, RLIMIT_AS/RLIMIT_CPU/RLIMIT_NPROC, and,
// when the consumer runs as root, an unprivileged uid of its own that keeps only
// CAP_DAC_READ_SEARCH (it can read the artifact wherever it lies, write only its directory).
// The parent enforces the wall limit and reports a death or a timeout as an answer.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace crossload_native {

struct Limits {
  std::optional<double> wall_seconds, cpu_seconds;
  std::optional<long long> address_space_bytes;  // on top of what the consumer had mapped at fork
  std::optional<long long> processes;
};

// Parses the request's "limits" object; false and `err` for an unknown field or a bad value.
bool parse_limits(const nlohmann::json& j, Limits* limits, std::string* err);

// Runs `work(tmpdir)` in a confined child; `work` returns the whole answer object
// ({"ok": true, "result": {...}} or {"ok": false, "error": {...}}). The answer gets the
// measurements the protocol promises (rss_at_fork_kb, rss_peak_kb, isolated_seconds, isolation),
// or becomes a crash/timeout error when the child did not answer. `publish(tmpdir)` runs in the
// parent after a child that answered, before the directory is removed (it moves the outputs).
nlohmann::json run_isolated(const std::function<nlohmann::json(const std::string&)>& work, const Limits& limits,
                            const std::string& tmp_root, const std::function<void(const std::string&)>& publish);

// The process's own VmRSS/VmSize in kB from /proc/self/status (0 when unreadable).
long status_kb(const char* field);

}  // namespace crossload_native
