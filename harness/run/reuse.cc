#include "harness/run/reuse.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "formats/registry.h"
#include "harness/util/sha256.h"

namespace crossload {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string key_of(const json& parts) { return sha256_text(parts.dump()); }

// A fingerprint's lists are sets (threadpoolctl lists the loaded BLAS/OpenMP libraries in load
// order, which varies from one start to the next): sorted, equal environments get equal keys.
json canonical(json j) {
  if (j.is_object())
    for (auto& [k, v] : j.items()) v = canonical(std::move(v));
  if (!j.is_array()) return j;
  for (auto& v : j) v = canonical(std::move(v));
  std::sort(j.begin(), j.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return j;
}

}  // namespace

Result<std::string> hash_python_files(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return make_error(fmt::format("{}: not a directory", dir.string()));
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().extension() == ".py") files.push_back(entry.path());
  if (ec) return make_error(fmt::format("{}: cannot list: {}", dir.string(), ec.message()));
  std::sort(files.begin(), files.end());
  std::string all;
  for (const auto& f : files) {
    auto sha = sha256_file(f.string());
    if (!sha) return sha.error();
    all += f.filename().string() + " " + *sha + "\n";
  }
  return sha256_text(all);
}

Result<CodeVersions> read_code_versions(const std::string& source_root, const std::vector<std::string>& formats) {
  fs::path root(source_root);
  CodeVersions v;
  auto worker = hash_python_files(root / "harness" / "worker");
  if (!worker) return worker.error();
  v.harness = std::string(CROSSLOAD_VERSION) + " " + *worker;
  auto datasets = sha256_file((root / "fixtures" / "datasets.py").string());
  if (!datasets) return datasets.error();
  v.datasets = *datasets;
  auto shared = hash_python_files(root / "formats");
  if (!shared) return shared.error();
  for (const auto& name : formats) {
    auto info = find_format(name);
    if (!info) return make_error(fmt::format("unknown format '{}'", name));
    auto own = hash_python_files(root / "formats" / std::string(info->folder));
    if (!own) return own.error();
    v.adapters[name] = *shared + " " + *own;
  }
  return v;
}

std::string artifact_key(const ArtifactKeyParts& p, const CodeVersions& code) {
  auto adapter = code.adapters.find(p.format);
  if (p.producer_fingerprint.is_null() || p.producer_fingerprint.empty() || p.recipe_sha256.empty() ||
      adapter == code.adapters.end())
    return "";
  return key_of({{"producer", canonical(p.producer_fingerprint)}, {"recipe", p.recipe_sha256}, {"format", p.format},
                 {"adapter", adapter->second}, {"datasets", code.datasets}, {"harness", code.harness}});
}

std::string cell_key(const std::string& artifact_key, const json& consumer_fingerprint, const json& load_policy) {
  if (consumer_fingerprint.is_null() || consumer_fingerprint.empty()) return "";
  return cell_key_of_dumps(artifact_key, canonical(consumer_fingerprint).dump(), load_policy.dump());
}

std::string cell_key_of_dumps(const std::string& artifact_key, const std::string& consumer_dump,
                              const std::string& policy_dump) {
  if (artifact_key.empty() || consumer_dump.empty()) return "";
  // Exactly json{{"artifact", ...}, {"consumer", ...}, {"policy", ...}}.dump(): keys in order, no spaces.
  return sha256_text(R"({"artifact":)" + json(artifact_key).dump() + R"(,"consumer":)" + consumer_dump +
                     R"(,"policy":)" + policy_dump + "}");
}

std::string consumer_dump(const json& consumer_fingerprint) {
  if (consumer_fingerprint.is_null() || consumer_fingerprint.empty()) return "";
  return canonical(consumer_fingerprint).dump();
}

bool reusable(const CellRecord& cell) { return cell.outcome != Outcome::kEnvUnavailable; }

CellRecord reused_copy(CellRecord c) {
  if (c.detail.is_object() && c.detail.contains("expected")) {
    auto observed = outcome_from_string(c.detail["expected"].value("observed", std::string()));
    if (observed) c.outcome = *observed;
    c.detail.erase("expected");
  }
  return c;
}

}  // namespace crossload
