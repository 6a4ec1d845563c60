#include "harness/run/artifact_index.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "harness/run/produce.h"
#include "harness/util/sha256.h"

namespace crossload {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kKind = "crossload-artifacts";

json env_to_json(const EnvRecord& e) {
  return {{"name", e.name}, {"provider", e.provider}, {"where", e.where}, {"status", e.status},
          {"reason", e.reason}, {"fingerprint", e.fingerprint}, {"provision_seconds", e.provision_seconds}};
}

EnvRecord env_from_json(const json& j) {
  EnvRecord e;
  e.name = j.value("name", "");
  e.provider = j.value("provider", "");
  e.where = j.value("where", "");
  e.status = j.value("status", "");
  e.reason = j.value("reason", "");
  e.fingerprint = j.value("fingerprint", json::object());
  e.provision_seconds = j.value("provision_seconds", 0.0);
  return e;
}

json artifact_to_json(const IndexedArtifact& a) {
  const ArtifactRecord& r = a.record;
  return {{"producer", r.producer}, {"fixture", r.fixture}, {"format", r.format}, {"path", r.path},
          {"sha256", r.sha256}, {"size_bytes", r.size_bytes}, {"status", r.status}, {"reason", r.reason},
          {"manifest", r.manifest}, {"files", a.files}};
}

// A path from the index that names a file inside DIR: relative and never through "..".
bool stays_inside(const std::string& path) {
  fs::path p(path);
  if (p.empty() || p.is_absolute()) return false;
  for (const auto& part : p.lexically_normal())
    if (part == "..") return false;
  return true;
}

Result<IndexedArtifact> artifact_from_json(const json& j, const std::string& index_path, std::size_t i) {
  auto bad = [&](const std::string& what) {
    return make_error(fmt::format("{}: artifacts[{}]: {}", index_path, i, what));
  };
  if (!j.is_object()) return bad("not an object");
  IndexedArtifact a;
  ArtifactRecord& r = a.record;
  r.producer = j.value("producer", "");
  r.fixture = j.value("fixture", "");
  r.format = j.value("format", "");
  r.path = j.value("path", "");
  r.sha256 = j.value("sha256", "");
  r.size_bytes = j.value("size_bytes", int64_t{0});
  r.status = j.value("status", "");
  r.reason = j.value("reason", "");
  r.manifest = j.value("manifest", json::object());
  if (r.producer.empty() || r.fixture.empty() || r.format.empty() || r.status.empty())
    return bad("lacks one of producer, fixture, format, status");
  if (r.status == "ok" && !stays_inside(r.path)) return bad(fmt::format("path '{}' is not inside the directory", r.path));
  json files = j.value("files", json::object());  // items() of a temporary would dangle
  for (const auto& [path, sha] : files.items()) {
    if (!stays_inside(path)) return bad(fmt::format("file '{}' is not inside the directory", path));
    if (!sha.is_string()) return bad(fmt::format("file '{}': sha256 is not a string", path));
    a.files[path] = sha.get<std::string>();
  }
  if (r.status == "ok" && !a.files.count(r.path)) return bad(fmt::format("'{}' is not among its files", r.path));
  return a;
}

Result<json> parse_index_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return make_error(fmt::format("{}: missing: not a directory made by `crossload produce` (or not fully "
                                  "downloaded)", path));
  json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return make_error(fmt::format("{}: not a JSON object", path));
  if (doc.value("kind", "") != kKind)
    return make_error(fmt::format("{}: not a crossload artifact index (its \"kind\" is not \"{}\")", path, kKind));
  int version = doc.value("schema_version", 0);
  if (version != kArtifactIndexSchemaVersion)
    return make_error(fmt::format("{}: made by crossload {} with artifact index schema version {}; this crossload ({}) "
                                  "reads version {}: produce it again with this version",
                                  path, doc.value("crossload_version", "?"), version, CROSSLOAD_VERSION,
                                  kArtifactIndexSchemaVersion));
  return doc;
}

// The files a consumer reads besides the artifact: its manifest, reference predictions, inputs.
std::vector<fs::path> companion_files(const ArtifactRecord& r) {
  fs::path folder = fs::path(r.path).parent_path();
  std::vector<fs::path> out{manifest_path(r.path)};
  json references = r.manifest.value("references", json::object());  // items() of a temporary would dangle
  for (const auto& [output, name] : references.items()) out.push_back(folder / name.get<std::string>());
  out.push_back(folder / r.manifest.value("inputs", "inputs.npy"));
  return out;
}

}  // namespace

Result<IndexedArtifact> index_artifact(const std::string& dir, ArtifactRecord record) {
  IndexedArtifact a;
  if (record.status == "ok") {
    std::vector<fs::path> files = companion_files(record);
    files.insert(files.begin(), record.path);
    for (const auto& f : files) {
      auto sha = sha256_file(f.string());
      if (!sha) return sha.error();
      a.files[fs::relative(f, dir).generic_string()] = *sha;
    }
  }
  if (!record.path.empty()) record.path = fs::relative(record.path, dir).generic_string();
  a.record = std::move(record);
  return a;
}

Status write_index(const std::string& dir, const ArtifactIndex& index) {
  json artifacts = json::array();
  for (const auto& a : index.artifacts) artifacts.push_back(artifact_to_json(a));
  json doc = {{"kind", kKind},
              {"schema_version", kArtifactIndexSchemaVersion},
              {"crossload_version", index.crossload_version},
              {"matrix", {{"path", index.matrix_path}, {"sha256", index.matrix_sha256}}},
              {"producer", env_to_json(index.producer)},
              {"artifacts", artifacts}};
  std::string path = (fs::path(dir) / kArtifactIndexFile).string();
  std::string tmp = path + ".tmp";  // renamed into place: a half-written index never exists
  {
    std::ofstream out(tmp);
    out << doc.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
    if (!out) return make_error(fmt::format("{}: cannot write", tmp));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return make_error(fmt::format("{}: cannot rename to {}: {}", tmp, path, ec.message()));
  return ok_status();
}

namespace {

Result<ArtifactIndex> index_from_json(const json& doc, const std::string& path) {
  ArtifactIndex index;
  index.crossload_version = doc.value("crossload_version", "");
  json matrix = doc.value("matrix", json::object());
  index.matrix_path = matrix.value("path", "");
  index.matrix_sha256 = matrix.value("sha256", "");
  index.producer = env_from_json(doc.value("producer", json::object()));
  if (index.producer.name.empty()) return make_error(fmt::format("{}: no producer environment named", path));
  json list = doc.value("artifacts", json());
  if (!list.is_array()) return make_error(fmt::format("{}: \"artifacts\" is not a list", path));
  for (std::size_t i = 0; i < list.size(); ++i) {
    auto a = artifact_from_json(list[i], path, i);
    if (!a) return a.error();
    index.artifacts.push_back(std::move(*a));
  }
  return index;
}

}  // namespace

Result<ArtifactIndex> read_index(const std::string& dir) {
  std::string path = (fs::path(dir) / kArtifactIndexFile).string();
  try {  // a field of the wrong type throws inside nlohmann::json: an error about the file, not a crash
    auto doc = parse_index_file(path);
    if (!doc) return doc.error();
    return index_from_json(*doc, path);
  } catch (const json::exception& e) {
    return make_error(fmt::format("{}: malformed: {}", path, e.what()));
  }
}

}  // namespace crossload
