#include "harness/run/known_envs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "harness/run/reuse.h"

namespace crossload {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// What changes when a file is replaced or a package is installed into a folder.
json stat_of(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return {p.string(), nullptr};
  return {p.string(), st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

// Where an interpreter under `prefix` (a venv, or a rootfs) keeps its packages: pip and Debian
// both add or remove folders there, which changes the folder's mtime.
std::vector<fs::path> package_dirs(const fs::path& prefix) {
  std::vector<fs::path> found;
  for (const fs::path lib : {prefix / "lib", prefix / "usr" / "lib", prefix / "usr" / "local" / "lib"}) {
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

std::optional<json> read_entry(const std::string& path, const json& key) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  json entry = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!entry.is_object() || entry.value("key", json()) != key) return std::nullopt;
  return entry;
}

// Written to a temporary name and renamed: a concurrent run reads the old entry or the new one.
void write_entry(const std::string& path, const json& entry) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp);
    if (!out || !(out << entry.dump(1) << '\n')) return;
  }
  fs::rename(tmp, path, ec);
  if (ec) fs::remove(tmp, ec);
}

json spec_key(const EnvSpec& s) {
  return {{"name", s.name}, {"provider", s.provider}, {"python", s.python}, {"suite", s.suite}, {"arch", s.arch},
          {"packages", s.packages}, {"pip", s.pip}, {"native_onnx", s.native_onnx}};
}

}  // namespace

json KnownEnvs::identity(const Launch& launch) const {
  json ids = json::array();
  std::vector<std::string> args = launch.python;
  if (!launch.loader_program.empty()) args.push_back(launch.loader_program);
  std::error_code ec;
  for (const auto& arg : args) {
    fs::path p(arg);
    if (!p.is_absolute()) continue;
    if (fs::is_regular_file(p, ec)) {  // an interpreter, bwrap, QEMU: the file and what it links to
      ids.push_back(stat_of(p));
      fs::path real = fs::canonical(p, ec);
      if (!ec && real != p) ids.push_back(stat_of(real));
      if (p.filename().string().rfind("python", 0) == 0)
        for (const auto& d : package_dirs(p.parent_path().parent_path())) ids.push_back(stat_of(d));
    } else if (under(arg, cache_dir_) && fs::is_directory(p, ec)) {  // a rootfs or venv of the cache
      ids.push_back(stat_of(p));
      for (const auto& d : package_dirs(p)) ids.push_back(stat_of(d));
    }
  }
  return ids;
}

std::string KnownEnvs::entry_path(const std::string& kind, const json& key) const {
  return (fs::path(cache_dir_) / "fingerprints" / (kind + "-" + sha256_text(key.dump()) + ".json")).string();
}

std::optional<json> KnownEnvs::fingerprint(const EnvSpec& spec, const Launch& launch) const {
  json key = {{"spec", spec_key(spec)}, {"launch", launch.python}, {"env", launch.env},
              {"loader", launch.loader_program}, {"sandbox", sandbox_}, {"worker", worker_code_}};
  auto entry = read_entry(entry_path("env", key), key);
  if (!entry || entry->value("identity", json()) != identity(launch)) return std::nullopt;
  json fp = entry->value("fingerprint", json());
  if (!fp.is_object() || fp.empty()) return std::nullopt;
  return fp;
}

void KnownEnvs::keep_fingerprint(const EnvSpec& spec, const Launch& launch, const json& fingerprint) const {
  if (!fingerprint.is_object() || fingerprint.empty()) return;
  json key = {{"spec", spec_key(spec)}, {"launch", launch.python}, {"env", launch.env},
              {"loader", launch.loader_program}, {"sandbox", sandbox_}, {"worker", worker_code_}};
  write_entry(entry_path("env", key), {{"key", key}, {"identity", identity(launch)}, {"fingerprint", fingerprint}});
}

std::optional<json> KnownEnvs::listing(const std::string& fixtures_code) const {
  json key = {{"worker", worker_code_}, {"fixtures", fixtures_code}};
  auto entry = read_entry(entry_path("list", key), key);
  if (!entry || !entry->value("listing", json()).is_object()) return std::nullopt;
  return (*entry)["listing"];
}

void KnownEnvs::keep_listing(const std::string& fixtures_code, const json& listing) const {
  json key = {{"worker", worker_code_}, {"fixtures", fixtures_code}};
  write_entry(entry_path("list", key), {{"key", key}, {"listing", listing}});
}

}  // namespace crossload
