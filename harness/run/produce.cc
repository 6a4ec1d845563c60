#include "harness/run/produce.h"

#include <filesystem>
#include <fstream>

#include "formats/registry.h"
#include "harness/audit/gate.h"

namespace crossload {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::chrono::seconds kTrainTimeout{900};
constexpr std::chrono::seconds kDumpTimeout{900};

std::string reply_error(const WorkerReply& r) {
  if (!r.ok()) return r.failure.message;
  const json& e = r.answer["error"];
  return e.value("type", std::string("Error")) + ": " + e.value("message", std::string());
}

// A dump whose own load-back fails is a format that cannot hold the model usably; say where.
std::string dump_error(const WorkerReply& r) {
  if (!r.ok()) return r.failure.message;
  std::string stage = r.answer["error"].value("stage", std::string("dump"));
  if (stage == "dump") return "dumping failed: " + reply_error(r);
  return "the producer's own round trip failed at " + stage + ": " + reply_error(r);
}

ArtifactRecord base_record(const EnvSession& producer, const FixtureInfo& fixture,
                           const std::string& format, const std::string& path) {
  ArtifactRecord a;
  a.producer = producer.spec.name;
  a.fixture = fixture.name;
  a.format = format;
  a.path = path;
  a.status = "error";
  return a;
}

json make_manifest(const EnvSession& producer, const FixtureInfo& fixture, const ArtifactRecord& a,
                   const json& train, const json& dump) {
  json refs = json::object();
  std::string file = fs::path(a.path).filename().string();
  for (const auto& out : dump.value("outputs", json::array()))
    refs[out.get<std::string>()] = file + ".ref." + out.get<std::string>() + ".npy";
  return {{"schema_version", kManifestSchemaVersion},
          {"crossload_version", CROSSLOAD_VERSION},
          {"fixture", fixture.name},
          {"format", a.format},
          {"producer", producer.spec.name},
          {"artifact", file},
          {"sha256", a.sha256},
          {"size_bytes", a.size_bytes},
          {"dump_seconds", dump.value("dump_seconds", 0.0)},
          {"format_details", dump.value("format_details", json::object())},
          {"outputs", dump.value("outputs", json::array())},
          {"references", refs},
          {"inputs", "inputs.npy"},
          {"tolerance", {{"rtol", fixture.rtol}, {"atol", fixture.atol}}},
          {"training", train},
          {"warnings", dump.value("warnings", json::array())},
          {"producer_fingerprint", producer.record.fingerprint}};
}

// Read statically here, in the harness, before any consumer sees it: the consumers'
// gate (consume.cc) goes by this record.
json audit_artifact(const std::string& path, RunLog& log) {
  json audit = audit::audit_for_manifest(path, audit::Policy());
  std::string verdict = audit.value("verdict", std::string("?"));
  if (audit.contains("error"))
    log.info("audit of {}: cannot parse it ({}): treated as UNSAFE", path, audit["error"].get<std::string>());
  else if (verdict == "UNSAFE")
    log.info("audit of {}: UNSAFE: consumers load it only with --allow-unsafe", path);
  else
    log.detail("  audit of {}: {}", path, verdict);
  return audit;
}

void dump_one(EnvSession& producer, const FixtureInfo& fixture, const json& train,
              ArtifactRecord& a, RunLog& log) {
  std::string inputs = fs::path(a.path).parent_path() / "inputs.npy";
  auto r = call(*producer.worker, DumpRequest{fixture.name, a.format, a.path, inputs}, kDumpTimeout).reply;
  if (r.ok() && r.answer.value("ok", false)) {
    const json& res = r.answer["result"];
    a.status = "ok";
    a.sha256 = res.value("sha256", std::string());
    a.size_bytes = res.value("size_bytes", int64_t{0});
    a.manifest = make_manifest(producer, fixture, a, train, res);
    a.manifest["audit"] = audit_artifact(a.path, log);
    std::ofstream(manifest_path(a.path)) << a.manifest.dump(2) << '\n';
    log.detail("  dumped {} as {} ({} bytes)", fixture.name, a.format, a.size_bytes);
    return;
  }
  bool unsupported = r.ok() && r.answer["error"].value("stage", std::string()) == "unsupported";
  a.status = unsupported ? "unsupported" : "error";
  a.reason = unsupported ? r.answer["error"].value("message", std::string()) : dump_error(r);
  if (r.ok()) a.manifest = {{"error", r.answer["error"]}};  // the stage decides the cells' outcome
  if (!r.ok()) producer.revive(log);
  log.detail("  {} {} as {}: {}", a.status, fixture.name, a.format, a.reason);
}

}  // namespace

std::string manifest_path(const std::string& artifact_path) { return artifact_path + ".manifest.json"; }

std::vector<ArtifactRecord> produce_fixture(EnvSession& producer, const FixtureInfo& fixture,
                                            const std::vector<std::string>& formats,
                                            const std::string& artifacts_dir, RunLog& log) {
  fs::path dir = fs::path(artifacts_dir) / producer.spec.name / fixture.name;
  fs::create_directories(dir);
  std::vector<ArtifactRecord> out;
  for (const auto& f : formats)
    out.push_back(base_record(producer, fixture, f, (dir / ("model" + std::string(find_format(f)->extension))).string()));
  if (!producer.available()) {
    for (auto& a : out) a.reason = "producer environment unavailable: " + producer.record.reason;
    return out;
  }
  Stopwatch clock;
  auto train = call(*producer.worker, TrainRequest{fixture.name, dir.string(), !producer.emulated}, kTrainTimeout).reply;
  if (!train.ok() || !train.answer.value("ok", false)) {
    std::string why = "training failed: " + reply_error(train);
    if (!train.ok()) producer.revive(log);
    for (auto& a : out) a.reason = why;
    log.error("{} in {}: {}", fixture.name, producer.spec.name, why);
    return out;
  }
  for (auto& a : out) dump_one(producer, fixture, train.answer["result"], a, log);
  log.info("produced {} in {} ({} formats, {:.1f} s)", fixture.name, producer.spec.name, formats.size(),
           clock.seconds());
  return out;
}

}  // namespace crossload
