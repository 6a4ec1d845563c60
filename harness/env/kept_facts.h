#pragma once
// Small facts kept in the environment cache between runs (<cache>/<folder>/<kind>-<hash>.json):
// what a rerun would otherwise start a process to learn again (an interpreter's version, an
// environment's fingerprint). Each entry holds the key it was written for and is read back only
// for an equal key, and the identities of the files it depends on, so it is used only while
// they are unchanged. Best effort both ways: a missing or unreadable entry reads as none; a
// failure to write one is not an error (the next run learns the fact again).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace crossload {

// What changes when a file is replaced, rebuilt, touched or (for a folder) gains or loses an
// entry: [path, device, inode, size, mtime s, mtime ns]; [path, null] when it does not exist.
nlohmann::json file_identity(const std::filesystem::path& path);

// <cache_dir>/<folder>/<kind>-<sha256 of key>.json
std::string kept_path(const std::string& cache_dir, const std::string& folder, const std::string& kind,
                      const nlohmann::json& key);

// The entry at `path` if it was kept for `key` (its "key" member equals it).
std::optional<nlohmann::json> read_kept(const std::string& path, const nlohmann::json& key);

// Writes {"key": key, ...entry} to a temporary name and renames it: a concurrent run reads the
// old entry or the new one, never half of one.
void keep(const std::string& path, const nlohmann::json& key, nlohmann::json entry);

}  // namespace crossload
