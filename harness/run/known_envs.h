#pragma once
// What a rerun needs before it can tell whether any cell must be computed, kept so that a rerun
// whose every cell is reusable starts no worker (README "Incremental runs"):
//   - each environment's fingerprint, in the environment cache (<cache>/fingerprints/), keyed by
//     the environment's declaration, its launch (which names its cache entry: a venv or rootfs is
//     built per cache key) and the worker's code, and valid only while the interpreter's identity
//     is unchanged: path, inode, size and mtime of the interpreter (for a rootfs, the one inside
//     it), of what it links to and of any host program the launch runs (QEMU), the inode and
//     stamp.json of the cache entry, and the site-packages/dist-packages folders (an install or
//     removal changes their mtime). The identity is taken before the worker starts, so a change
//     while it starts is a change next time;
//   - the fixture list the `list` op gives, keyed by the worker's code and fixtures/.
// Best effort both ways: a missing, stale or unreadable entry means "ask the workers"; a failure
// to write one is not an error (the next run asks the workers again).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "harness/env/env_spec.h"
#include "harness/env/provider.h"
#include "harness/util/result.h"

namespace crossload {

class KnownEnvs {
 public:
  // `worker_code`: the hash of harness/worker/*.py (CodeVersions::harness), whose envinfo.py
  // says what a fingerprint holds.
  KnownEnvs(std::string cache_dir, std::string worker_code, bool sandbox)
      : cache_dir_(std::move(cache_dir)), worker_code_(std::move(worker_code)), sandbox_(sandbox) {}

  // The kept fingerprint, or an Error saying why there is none usable (for --verbose).
  Result<nlohmann::json> fingerprint(const EnvSpec& spec, const Launch& launch) const;
  // `identity_before`: identity(launch) taken before the worker that answered `fingerprint` started.
  void keep_fingerprint(const EnvSpec& spec, const Launch& launch, const nlohmann::json& fingerprint,
                        const nlohmann::json& identity_before) const;

  // `fixtures_code`: the hash of fixtures/*.py. Only for runs without user recipes or extra
  // fixtures (their lists depend on files outside the tree).
  std::optional<nlohmann::json> listing(const std::string& fixtures_code) const;
  void keep_listing(const std::string& fixtures_code, const nlohmann::json& listing) const;

  // The identity a cached fingerprint stays valid for (exposed for the tests).
  nlohmann::json identity(const Launch& launch) const;

 private:
  std::string entry_path(const std::string& kind, const nlohmann::json& key) const;
  nlohmann::json env_key(const EnvSpec& spec, const Launch& launch) const;
  std::string cache_dir_, worker_code_;
  bool sandbox_;
};

}  // namespace crossload
