#include "harness/run/second_opinion.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "harness/env/debian_provider.h"
#include "harness/env/qemu.h"

namespace crossload {

using json = nlohmann::json;

namespace {

// Enough to answer "the emulator or my model?" for a consumer; a matrix whose emulated consumer
// fails hundreds of loads has a cause the first few second opinions already show.
constexpr std::size_t kMaxPerConsumer = 40;

bool failing(Outcome o) {
  return o == Outcome::kCrash || o == Outcome::kTimeout || o == Outcome::kLoadError || o == Outcome::kPredictError;
}

std::string artifact_of(const CellRecord& c) { return c.producer + "\n" + c.fixture + "\n" + c.format; }

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string error_type(const CellRecord& c) {
  return c.detail.is_object() ? c.detail.value("error_type", std::string()) : std::string();
}

// The other QEMU build of the environment's CPU: the first installed one it does not run under.
Result<QemuBuild> other_build(const EnvSession& s, const std::string& cache_dir) {
  auto arch = find_debian_arch(s.spec.arch);
  if (!arch) return arch.error();
  for (const auto& b : installed_qemu_builds(arch->qemu, cache_dir))
    if (b.name != s.loading.qemu.name) return b;
  return make_error(fmt::format("no other QEMU build of qemu-{} on this machine than {} (ci/fetch-qemu unpacks one)",
                                arch->qemu, s.loading.qemu.name));
}

// A consumer worker of `s` under `other`, named so its outputs and log stay apart from the first's.
Result<EnvSession> loader_under(const EnvSession& s, const QemuBuild& other, const ProvisionContext& ctx) {
  auto launch = with_qemu_build(s.loading, other);
  if (!launch) return launch.error();
  EnvSession base;
  base.spec = s.spec;
  base.spec.name = s.spec.name + "~" + env_file_name(other.name);
  base.record = s.record;
  base.emulated = true;
  base.loading = *launch;
  base.load_formats = s.load_formats;
  return another_loader(base, 0, ctx);
}

json opinion_of(const QemuBuild& build, const CellRecord& first, const CellRecord& second) {
  json o = {{"qemu", {{"build", build.name}, {"version", build.version}}},
            {"outcome", std::string(to_string(second.outcome))},
            {"reproduced", reproduces(first, second)}};
  if (!error_type(second).empty()) o["error_type"] = error_type(second);
  if (second.detail.is_object() && second.detail.contains("message")) o["message"] = second.detail["message"];
  return o;
}

json unavailable(const std::string& reason) { return {{"reproduced", nullptr}, {"reason", reason}}; }

// Every candidate of one consumer, under its other build; the cells stored again.
Status opine(Store& store, int64_t run_id, EnvSession& s, std::vector<CellRecord> cells,
             const std::map<std::string, const ArtifactRecord*>& artifacts, const ConsumeContext& consume,
             const ProvisionContext& provision, RunLog& log) {
  auto build = other_build(s, provision.cache_dir);
  Result<EnvSession> other = build ? loader_under(s, *build, provision) : Result<EnvSession>(build.error());
  if (other) log.info("second opinion: {} cell(s) of {} again under {}", cells.size(), s.spec.name, other->record.where);
  for (auto& c : cells) {
    auto a = artifacts.find(artifact_of(c));
    if (!other) {
      c.detail["second_opinion"] = unavailable(other.error().message);
    } else if (a == artifacts.end()) {
      c.detail["second_opinion"] = unavailable("the artifact is not in this run's store");
    } else {
      auto second = consume_cell(*other, *a->second, consume, log);
      if (!second) c.detail["second_opinion"] = unavailable(second.error().message);
      else c.detail["second_opinion"] = opinion_of(*build, c, *second);
      if (!other->can_load()) other->revive_loader(log);
    }
    if (auto st = store.put_cell(run_id, c); !st) return st;
  }
  return ok_status();
}

}  // namespace

std::vector<const CellRecord*> second_opinion_candidates(const std::vector<CellRecord>& cells,
                                                         const std::vector<std::string>& emulated,
                                                         const std::vector<std::string>& native) {
  std::set<std::string> native_failures;  // artifact + outcome
  for (const auto& c : cells)
    if (contains(native, c.consumer) && failing(c.outcome))
      native_failures.insert(artifact_of(c) + "\n" + std::string(to_string(c.outcome)));
  std::vector<const CellRecord*> out;
  std::map<std::string, std::size_t> per_consumer;
  for (const auto& c : cells) {
    if (c.reused_from != 0 || !failing(c.outcome) || !contains(emulated, c.consumer)) continue;
    if (native_failures.count(artifact_of(c) + "\n" + std::string(to_string(c.outcome)))) continue;
    if (c.detail.is_object() && c.detail.contains("second_opinion")) continue;  // a resumed run's
    if (per_consumer[c.consumer]++ < kMaxPerConsumer) out.push_back(&c);
  }
  return out;
}

bool reproduces(const CellRecord& first, const CellRecord& second) {
  if (first.outcome != second.outcome) return false;
  if (first.outcome == Outcome::kLoadError || first.outcome == Outcome::kPredictError)
    return error_type(first) == error_type(second);
  return true;
}

Status give_second_opinions(Store& store, int64_t run_id, EnvSessions& sessions, const ConsumeContext& consume,
                            const ProvisionContext& provision, RunLog& log) {
  std::vector<std::string> emulated, native;
  for (const auto& [name, s] : sessions)
    if (s.consumes && s.record.status == "ok") (s.emulated ? emulated : native).push_back(name);
  if (emulated.empty()) return ok_status();
  auto cells = store.cells(run_id);
  if (!cells) return cells.error();
  auto candidates = second_opinion_candidates(*cells, emulated, native);
  if (candidates.empty()) return ok_status();
  auto artifacts = store.artifacts(run_id);
  if (!artifacts) return artifacts.error();
  std::map<std::string, const ArtifactRecord*> by_key;
  for (const auto& a : *artifacts) by_key[a.producer + "\n" + a.fixture + "\n" + a.format] = &a;
  std::map<std::string, std::vector<CellRecord>> by_consumer;
  for (const CellRecord* c : candidates) by_consumer[c->consumer].push_back(*c);
  for (auto& [name, list] : by_consumer) {
    EnvSession& s = sessions.at(name);
    // The scheduler took its consumer workers; what they were started from stays with the session.
    if (s.loading.python.empty()) continue;  // its cells were all reused: no load this run to question
    if (auto st = opine(store, run_id, s, std::move(list), by_key, consume, provision, log); !st) return st;
  }
  return ok_status();
}

}  // namespace crossload
