#include "harness/run/known_envs.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "harness/env/kept_facts.h"

namespace crossload {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Where an interpreter under `prefix` (a venv, or a rootfs) keeps its packages: pip and Debian
// both add or remove folders there, which changes the folder's mtime.
std::vector<fs::path> package_dirs(const fs::path& prefix) {
  std::vector<fs::path> found;
  for (const fs::path& lib : {prefix / "lib", prefix / "usr" / "lib", prefix / "usr" / "local" / "lib"}) {
    std::error_code ec;
    for (fs::directory_iterator it(lib, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().filename().string().rfind("python", 0) != 0) continue;
      for (const char* sub : {"site-packages", "dist-packages"})
        if (fs::is_directory(it->path() / sub, ec)) found.push_back(it->path() / sub);
    }
  }
  return found;
}

bool under(const std::string& path, const std::string& dir) {
  return !dir.empty() && path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

// A folder of the cache (a rootfs, a venv) is the same environment while it is the same folder
// and its packages are unchanged. Its own mtime is no sign: bwrap creates mount points in a
// rootfs bound at "/" (a top-level folder for a new output path) without changing what runs.
// A rebuild writes a new stamp.json beside it (harness/env/cache.h).
void add_cache_dir(json& ids, const fs::path& dir) {
  json id = file_identity(dir);
  if (id.size() > 3) id = {id[0], id[1], id[2]};  // path, device, inode
  ids.push_back(id);
  ids.push_back(file_identity(dir.parent_path() / "stamp.json"));
  for (const auto& d : package_dirs(dir)) ids.push_back(file_identity(d));
}

// An interpreter, QEMU or other program: the file, what it links to and, for a Python, its packages.
void add_program(json& ids, const fs::path& p) {
  std::error_code ec;
  ids.push_back(file_identity(p));
  fs::path real = fs::canonical(p, ec);
  if (!ec && real != p) ids.push_back(file_identity(real));
  if (p.filename().string().rfind("python", 0) == 0)
    for (const auto& d : package_dirs(p.parent_path().parent_path())) ids.push_back(file_identity(d));
}

bool is_bind_option(const std::string& arg) { return arg == "--bind" || arg == "--ro-bind" || arg == "--dev-bind"; }

// The folder a bwrap launch binds at "/" (a Debian rootfs), or empty: paths in its command line
// that are not bound from the host name files inside it.
std::string sandbox_root(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i + 2 < args.size(); ++i)
    if (is_bind_option(args[i]) && args[i + 2] == "/") return args[i + 1];
  return {};
}

json spec_key(const EnvSpec& s) {
  return {{"name", s.name}, {"provider", s.provider}, {"python", s.python}, {"suite", s.suite}, {"arch", s.arch},
          {"packages", s.packages}, {"pip", s.pip}, {"native_onnx", s.native_onnx}};
}

// The path of the first file whose identity differs, "" when none does.
std::string first_change(const json& was, const json& now) {
  if (was == now) return "";
  for (std::size_t i = 0; i < std::max(was.size(), now.size()); ++i) {
    if (i < was.size() && i < now.size() && was[i] == now[i]) continue;
    const json& item = i < now.size() ? now[i] : was[i];
    return item.is_array() && !item.empty() && item[0].is_string() ? item[0].get<std::string>() : "a file of its launch";
  }
  return "a file of its launch";
}

}  // namespace

json KnownEnvs::identity(const Launch& launch) const {
  json ids = json::array();
  std::vector<std::string> args = launch.python;
  if (!launch.loader_program.empty()) args.push_back(launch.loader_program);
  std::string root = sandbox_root(args);
  std::error_code ec;
  for (std::size_t i = 0; i < args.size(); ++i) {
    fs::path p(args[i]);
    if (!p.is_absolute()) continue;
    bool from_host = root.empty() || (i > 0 && is_bind_option(args[i - 1]));
    // Inside the rootfs: a symlink there (python3 -> python3.11) resolves within it, as long as it is relative.
    if (!from_host) p = fs::path(root) / p.relative_path();
    if (from_host && under(p.string(), cache_dir_) && fs::is_directory(p, ec)) add_cache_dir(ids, p);
    else if (fs::is_regular_file(p, ec)) add_program(ids, p);  // not a folder inside the rootfs: mount points
  }
  return ids;
}

std::string KnownEnvs::entry_path(const std::string& kind, const json& key) const {
  return kept_path(cache_dir_, "fingerprints", kind, key);
}

json KnownEnvs::env_key(const EnvSpec& spec, const Launch& launch) const {
  return {{"spec", spec_key(spec)}, {"launch", launch.python}, {"env", launch.env},
          {"loader", launch.loader_program}, {"sandbox", sandbox_}, {"worker", worker_code_}};
}

Result<json> KnownEnvs::fingerprint(const EnvSpec& spec, const Launch& launch) const {
  json key = env_key(spec, launch);
  auto entry = read_kept(entry_path("env", key), key);
  json fp = entry ? entry->value("fingerprint", json()) : json();
  if (!fp.is_object() || fp.empty()) return make_error("no fingerprint kept by an earlier run of this declaration and worker code");
  if (auto changed = first_change(entry->value("identity", json()), identity(launch)); !changed.empty())
    return make_error(changed + " changed since its fingerprint was taken");
  return fp;
}

void KnownEnvs::keep_fingerprint(const EnvSpec& spec, const Launch& launch, const json& fingerprint,
                                 const json& identity_before) const {
  if (!fingerprint.is_object() || fingerprint.empty()) return;
  json key = env_key(spec, launch);
  keep(entry_path("env", key), key, {{"identity", identity_before}, {"fingerprint", fingerprint}});
}

std::optional<json> KnownEnvs::listing(const std::string& fixtures_code) const {
  json key = {{"worker", worker_code_}, {"fixtures", fixtures_code}};
  auto entry = read_kept(entry_path("list", key), key);
  if (!entry || !entry->value("listing", json()).is_object()) return std::nullopt;
  return (*entry)["listing"];
}

void KnownEnvs::keep_listing(const std::string& fixtures_code, const json& listing) const {
  json key = {{"worker", worker_code_}, {"fixtures", fixtures_code}};
  keep(entry_path("list", key), key, {{"listing", listing}});
}

}  // namespace crossload
