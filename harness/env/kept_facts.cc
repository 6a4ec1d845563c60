#include "harness/env/kept_facts.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <thread>
#include <system_error>

#include "harness/util/sha256.h"

namespace crossload {

namespace fs = std::filesystem;
using json = nlohmann::json;

json file_identity(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return {p.string(), nullptr};
  return {p.string(), st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

std::string kept_path(const std::string& cache_dir, const std::string& folder, const std::string& kind,
                      const json& key) {
  return (fs::path(cache_dir) / folder / (kind + "-" + sha256_text(key.dump()) + ".json")).string();
}

std::optional<json> read_kept(const std::string& path, const json& key) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  json entry = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!entry.is_object() || entry.value("key", json()) != key) return std::nullopt;
  return entry;
}

void keep(const std::string& path, const json& key, json entry) {
  entry["key"] = key;
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  // Environments are provisioned on threads side by side: the name is this thread's own.
  std::string tmp = fmt::format("{}.tmp.{}.{}", path, ::getpid(), std::hash<std::thread::id>()(std::this_thread::get_id()));
  {
    std::ofstream out(tmp);
    if (!out || !(out << entry.dump(1) << '\n')) return;
  }
  fs::rename(tmp, path, ec);
  if (ec) fs::remove(tmp, ec);
}

}  // namespace crossload
