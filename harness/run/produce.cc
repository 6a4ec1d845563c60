#include "harness/run/produce.h"

#include <filesystem>
#include <fstream>
#include <span>

#include "formats/registry.h"
#include "harness/audit/gate.h"
#include "harness/util/interrupt.h"

namespace crossload {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::chrono::seconds kTrainTimeout{900};
constexpr std::chrono::seconds kDumpTimeout{900};

template <class R>
std::string reply_error(const Decoded<R>& r) {
  if (!r.answered()) return r.failure->message;
  return (r.error->type.empty() && !r.error->raw.contains("type") ? "Error" : r.error->type) + ": " + r.error->message;
}

// A dump whose own load-back fails is a format that cannot hold the model usably; say where.
std::string dump_error(const Decoded<DumpAnswer>& r) {
  if (!r.answered()) return r.failure->message;
  std::string stage = r.error->raw.contains("stage") ? r.error->stage : "dump";
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
                   const TrainAnswer& train, const DumpAnswer& dump) {
  json refs = json::object();
  std::string file = fs::path(a.path).filename().string();
  for (const auto& out : dump.outputs) refs[out] = file + ".ref." + out + ".npy";
  return {{"schema_version", kManifestSchemaVersion},
          {"crossload_version", CROSSLOAD_VERSION},
          {"fixture", fixture.name},
          {"format", a.format},
          {"producer", producer.spec.name},
          {"artifact", file},
          {"sha256", a.sha256},
          {"size_bytes", a.size_bytes},
          {"dump_seconds", dump.dump_seconds},
          {"format_details", dump.format_details},
          {"outputs", dump.outputs},
          {"references", refs},
          {"inputs", "inputs.npy"},
          {"tolerance", {{"rtol", fixture.rtol}, {"atol", fixture.atol}}},
          {"training", train.facts},
          {"warnings", dump.warnings},
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

// What a dump cut short by SIGINT/SIGTERM left (the worker was killed mid-write): the artifact
// half-written under its final name, maybe some of its references. Removed, so that a file at an
// artifact's path is always a whole one.
void remove_cut_short(const ArtifactRecord& a) {
  std::error_code ec;
  fs::remove(a.path, ec);
  fs::remove(manifest_path(a.path), ec);
  std::string refs = fs::path(a.path).filename().string() + ".ref.";
  for (const auto& e : fs::directory_iterator(fs::path(a.path).parent_path(), ec))
    if (e.path().filename().string().rfind(refs, 0) == 0) fs::remove(e.path(), ec);
}

// How a dump ended, for the formats after it.
enum class DumpEnd {
  kNext,             // answered (an artifact, or why not): the next format goes to the same worker
  kWorkerRestarted,  // no answer (timeout, crash): the worker was restarted and knows no fixture
  kInterrupted,      // crossload was interrupted: the dump's files are gone and `a` says nothing
};

DumpEnd dump_one(EnvSession& producer, const FixtureInfo& fixture, const TrainAnswer& train,
                 ArtifactRecord& a, RunLog& log) {
  std::string inputs = fs::path(a.path).parent_path() / "inputs.npy";
  auto r = ask(*producer.worker, DumpRequest{fixture.name, a.format, a.path, inputs}, kDumpTimeout);
  if (r.failure && r.failure->kind == WorkerFailure::Kind::kInterrupted) {
    remove_cut_short(a);
    return DumpEnd::kInterrupted;
  }
  if (r.result) {
    a.status = "ok";
    a.sha256 = r.result->sha256;
    a.size_bytes = r.result->size_bytes;
    a.manifest = make_manifest(producer, fixture, a, train, *r.result);
    a.manifest["audit"] = audit_artifact(a.path, log);
    std::ofstream(manifest_path(a.path)) << a.manifest.dump(2) << '\n';
    log.detail("  dumped {} as {} ({} bytes)", fixture.name, a.format, a.size_bytes);
    return DumpEnd::kNext;
  }
  bool unsupported = r.error && r.error->stage == "unsupported";
  a.status = unsupported ? "unsupported" : "error";
  a.reason = unsupported ? r.error->message : dump_error(r);
  if (r.error) a.manifest = {{"error", r.error->raw}};  // the stage decides the cells' outcome
  log.detail("  {} {} as {}: {}", a.status, fixture.name, a.format, a.reason);
  if (r.answered()) return DumpEnd::kNext;
  producer.revive(log);
  return DumpEnd::kWorkerRestarted;
}

Decoded<TrainAnswer> train_fixture(EnvSession& producer, const FixtureInfo& fixture, const fs::path& dir) {
  return ask(*producer.worker, TrainRequest{fixture.name, dir.string(), !producer.emulated}, kTrainTimeout);
}

// Training failed (or crossload was interrupted during it): every format in `todo` says why.
void fail_untrained(const Decoded<TrainAnswer>& train, EnvSession& producer, const FixtureInfo& fixture,
                    std::span<ArtifactRecord> todo, const std::string& why_prefix, RunLog& log) {
  std::string why = why_prefix + reply_error(train);
  if (!train.answered() && !interrupted()) producer.revive(log);
  for (auto& a : todo) a.reason = why;
  log.error("{} in {}: {}", fixture.name, producer.spec.name, why);
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
  auto train = train_fixture(producer, fixture, dir);
  if (interrupted()) return {};  // nothing of this fixture was finished
  if (!train.result) {
    fail_untrained(train, producer, fixture, out, "training failed: ", log);
    return out;
  }
  std::size_t done = 0;
  while (done < out.size() && !interrupted()) {
    DumpEnd end = dump_one(producer, fixture, *train.result, out[done], log);
    if (end == DumpEnd::kInterrupted) break;
    ++done;
    if (end != DumpEnd::kWorkerRestarted || done == out.size()) continue;
    // The restarted worker never trained this fixture: the formats after the one that timed out
    // or crashed get their own try with the fixture trained again (training is seeded: the same model).
    log.info("{} in {}: training again for the {} format(s) left, the worker having been restarted", fixture.name,
             producer.spec.name, out.size() - done);
    train = train_fixture(producer, fixture, dir);
    if (interrupted()) break;
    if (!train.result) {
      fail_untrained(train, producer, fixture, std::span(out).subspan(done),
                     "training again after the worker was restarted failed: ", log);
      done = out.size();
    }
  }
  if (done < out.size()) {  // interrupted: the formats dumped so far, not the one cut short nor the rest
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(done), out.end());
    return out;
  }
  log.info("produced {} in {} ({} formats, {:.1f} s)", fixture.name, producer.spec.name, formats.size(),
           clock.seconds());
  return out;
}

}  // namespace crossload
