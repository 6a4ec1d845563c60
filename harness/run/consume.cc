#include "harness/run/consume.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "harness/compare/compare.h"
#include "harness/compare/npy.h"
#include "harness/audit/gate.h"
#include "harness/core/invariants.h"
#include "harness/util/sha256.h"

namespace crossload {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

CellRecord base_cell(const ArtifactRecord& a, const std::string& consumer) {
  CellRecord c;
  c.id = cell_id(a.fixture, a.format, a.producer, consumer);
  c.fixture = a.fixture;
  c.format = a.format;
  c.producer = a.producer;
  c.consumer = consumer;
  return c;
}

Status verify_artifact(const ArtifactRecord& a) {
  if (!fs::exists(a.path)) return make_error(fmt::format("{}: artifact missing (was it moved or deleted?)", a.path));
  auto sha = sha256_file(a.path);
  if (!sha) return sha.error();
  if (*sha != a.sha256)
    return make_error(fmt::format("{}: artifact corrupt: sha256 {} does not match the manifest's {}", a.path,
                                  *sha, a.sha256));
  return ok_status();
}



// Compares every output; the cell's outcome is the worst of them.
Status compare_outputs(CellRecord& c, const ArtifactRecord& a, const std::string& out_prefix) {
  const json& m = a.manifest;
  Tolerance tol{m["tolerance"].value("rtol", 1e-7), m["tolerance"].value("atol", 0.0)};
  fs::path dir = fs::path(a.path).parent_path();
  std::map<std::string, std::string> references;
  for (const auto& [output, ref_name] : m["references"].items())
    references[output] = (dir / ref_name.get<std::string>()).string();
  return compare_to_references(c, references, out_prefix, tol);
}

void add_measurements(CellRecord& c, const LoadAnswer& res, const ArtifactRecord& a) {
  c.measurements = {{"load", res.load_seconds, "s"},
                    {"predict", res.predict_seconds, "s"},
                    {"rss_at_fork", res.rss_at_fork_kb * 1024.0, "bytes"},
                    {"rss_peak", res.rss_peak_kb * 1024.0, "bytes"},
                    {"size", static_cast<double>(a.size_bytes), "bytes"}};
}

}  // namespace

// The producer's own round trip failed: in the producer itself that is an observed
// LOAD_ERROR/PREDICT_ERROR; elsewhere there is no reference to judge against.
CellRecord settle_failed_round_trip(const ArtifactRecord& a, const std::string& consumer) {
  CellRecord c = base_cell(a, consumer);
  // A training failure leaves no manifest at all (null): value() on null would throw.
  const json error = a.manifest.is_object() ? a.manifest.value("error", json::object()) : json::object();
  std::string stage = error.value("stage", std::string("dump"));
  if (consumer == a.producer && (stage == "load" || stage == "predict")) {
    record_worker_error(c, error);
    c.detail["observed"] = "in the producer's own round trip, while dumping";
    return c;
  }
  c.outcome = Outcome::kUnsupported;
  c.detail = {{"stage", stage}, {"message", a.reason}};
  return c;
}

std::optional<CellRecord> blocked_by_audit(const ArtifactRecord& a, const std::string& consumer) {
  auto refusal = audit::refusal(a.manifest.value("audit", json()));
  if (!refusal) return std::nullopt;
  CellRecord c = base_cell(a, consumer);
  c.outcome = Outcome::kBlocked;
  std::string where = refusal->has_offset ? fmt::format(" at byte offset {}", refusal->offset) : "";
  std::string rule = refusal->rule.empty() ? "" : fmt::format(" [{}]", refusal->rule);
  c.detail = {{"stage", "audit"},
              {"message", fmt::format("not loaded: the static audit judged {} UNSAFE: {}{}{}. To load it anyway, "
                                      "inside the sandbox only, run again with --allow-unsafe "
                                      "(see crossload inspect {})",
                                      a.path, refusal->reason, where, rule, a.path)},
              {"audit_reason", refusal->reason}};
  if (!refusal->rule.empty()) c.detail["audit_rule"] = refusal->rule;
  if (refusal->has_offset) c.detail["audit_offset"] = refusal->offset;
  return c;
}

std::optional<CellRecord> settled_without_loading(const EnvSession& consumer, const ArtifactRecord& a,
                                                  const ConsumeContext& ctx) {
  CellRecord c = base_cell(a, consumer.spec.name);
  if (a.status == "unsupported") {
    c.outcome = Outcome::kUnsupported;
    c.detail = {{"stage", "unsupported"}, {"message", a.reason}};
    return c;
  }
  if (a.status == "error" && a.reason.rfind("producer environment", 0) != 0)
    return settle_failed_round_trip(a, consumer.spec.name);
  if (a.status != "ok") {
    c.outcome = Outcome::kEnvUnavailable;
    c.detail = {{"message", a.reason}};
    return c;
  }
  // Before the consumer's state: the artifact is refused in every consumer alike.
  if (!ctx.allow_unsafe) {
    if (auto blocked = blocked_by_audit(a, consumer.spec.name)) return blocked;
  }
  if (!consumer.can_load()) {
    c.outcome = Outcome::kEnvUnavailable;
    c.detail = {{"message", "consumer environment unavailable: " + consumer.record.reason}};
    return c;
  }
  return std::nullopt;
}

namespace {

// Loads and predicts in the consumer's (sandboxed) worker and compares: fills `c`. An Error is
// bad input (unreadable reference predictions).
Status load_and_compare(EnvSession& consumer, const ArtifactRecord& a, const ConsumeContext& ctx, CellRecord& c) {
  fs::path prefix = fs::path(ctx.cells_dir) / consumer.spec.name / a.producer / a.fixture / a.format;
  fs::create_directories(prefix.parent_path());
  LoadPredictRequest req{a.format, a.path,
                         (fs::path(a.path).parent_path() / a.manifest.value("inputs", "inputs.npy")).string(),
                         a.manifest["outputs"], prefix.string(),
                         a.manifest["format_details"].value("untrusted_types", json::array()), ctx.limits, ctx.isolation};
  auto r = ask(*consumer.loader, req, ctx.timeout);
  if (!r.answered()) {
    record_worker_failure(c, *r.failure);  // the caller revives the worker, from its main thread
    return ok_status();
  }
  if (r.error) {
    record_worker_error(c, *r.error);
    return ok_status();
  }
  const LoadAnswer& res = *r.result;
  c.warnings = res.warnings;
  if (auto st = compare_outputs(c, a, prefix.string()); !st) return st;
  record_invariants(c, res.invariants);
  add_measurements(c, res, a);
  return ok_status();
}

}  // namespace

Result<CellRecord> consume_cell(EnvSession& consumer, const ArtifactRecord& a, const ConsumeContext& ctx,
                                RunLog& /*log*/) {
  if (auto settled = settled_without_loading(consumer, a, ctx)) return *settled;
  if (auto st = verify_artifact(a); !st) return st.error();
  CellRecord c = base_cell(a, consumer.spec.name);
  if (auto st = load_and_compare(consumer, a, ctx, c); !st) return st.error();
  // Reached only with --allow-unsafe: the cell says what it was allowed to load.
  if (auto refused = audit::refusal(a.manifest.value("audit", json())))
    c.detail["audit"] = "loaded in the sandbox despite the audit (--allow-unsafe): " + refused->reason;
  return c;
}

}  // namespace crossload
