#pragma once
// What a rerun needs before it can tell whether any cell must be computed, kept so that a rerun
// whose every cell is reusable starts no worker (README "Incremental runs"):
//   - each environment's fingerprint, in the environment cache (<cache>/fingerprints/), keyed by
//     the environment's declaration, its launch and the worker's code, and valid only while the
//     interpreter's identity is unchanged: path, inode, size and mtime of the interpreter (and of
//     any program the launch runs, QEMU and bwrap included) and of its site-packages folders;
//   - the fixture list the `list` op gives, keyed by the worker's code and fixtures/.
// Best effort both ways: a missing, stale or unreadable entry means "ask the workers"; a failure
// to write one is not an error (the next run asks the workers again).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "harness/env/env_spec.h"
#include "harness/env/provider.h"

namespace crossload {

class KnownEnvs {
 public:
  // `worker_code`: the hash of harness/worker/*.py (CodeVersions::harness), whose envinfo.py
  // says what a fingerprint holds.
  KnownEnvs(std::string cache_dir, std::string worker_code, bool sandbox)
      : cache_dir_(std::move(cache_dir)), worker_code_(std::move(worker_code)), sandbox_(sandbox) {}

  std::optional<nlohmann::json> fingerprint(const EnvSpec& spec, const Launch& launch) const;
  void keep_fingerprint(const EnvSpec& spec, const Launch& launch, const nlohmann::json& fingerprint) const;

  // `fixtures_code`: the hash of fixtures/*.py. Only for runs without user recipes or extra
  // fixtures (their lists depend on files outside the tree).
  std::optional<nlohmann::json> listing(const std::string& fixtures_code) const;
  void keep_listing(const std::string& fixtures_code, const nlohmann::json& listing) const;

  // The identity a cached fingerprint stays valid for (exposed for the tests).
  nlohmann::json identity(const Launch& launch) const;

 private:
  std::string entry_path(const std::string& kind, const nlohmann::json& key) const;
  std::string cache_dir_, worker_code_;
  bool sandbox_;
};

}  // namespace crossload
