// `crossload produce`: the producer half of `run`, into a directory a CI system can carry.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "harness/run/artifact_index.h"
#include "harness/run/produce.h"
#include "harness/run/shard.h"
#include "harness/run/split.h"
#include "harness/run/split_common.h"
#include "harness/util/interrupt.h"

namespace crossload {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Paths of this machine inside the directory (the worker's inputs, the audit's artifact path) become
// relative to the manifest's folder: in a directory that moves, only relative paths stay true.
void relativize(json& j, const std::string& folder) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.rfind(folder + "/", 0) == 0) j = s.substr(folder.size() + 1);
  } else if (j.is_structured()) {
    for (auto& child : j) relativize(child, folder);
  }
}

void relocate_manifest(ArtifactRecord& a) {
  if (a.status != "ok") return;
  relativize(a.manifest, fs::path(a.path).parent_path().string());
  std::ofstream(manifest_path(a.path)) << a.manifest.dump(2) << '\n';
}

void count(ProduceSummary& s, const ArtifactRecord& a) {
  if (a.status == "ok") s.ok++;
  else if (a.status == "unsupported") s.unsupported++;
  else s.failed++;
}

struct Producing {
  const ProduceOptions& options;
  const RoleMatrix& role;
  EnvSession& env;
  ArtifactIndex index;
  ProduceSummary summary;
  RunLog& log;
};

// The index is rewritten after every fixture: a job killed half-way leaves a usable directory.
Status produce_one(Producing& p, const FixtureInfo& fixture, const std::vector<std::string>& formats) {
  auto artifacts = produce_fixture(p.env, fixture, formats, p.options.out_dir + "/artifacts", p.log);
  for (auto& a : artifacts) {
    relocate_manifest(a);
    auto indexed = index_artifact(p.options.out_dir, a);
    if (!indexed) return indexed.error();
    count(p.summary, a);
    p.index.artifacts.push_back(std::move(*indexed));
  }
  return write_index(p.options.out_dir, p.index);
}

// SIGINT or SIGTERM stopped the production (harness/util/interrupt.h): the index, written again,
// lists the artifacts written completely and nothing else (produce_fixture removed the one cut short).
Error interrupted_production(const Producing& p) {
  std::string index = (fs::path(p.options.out_dir) / kArtifactIndexFile).string();
  if (auto st = write_index(p.options.out_dir, p.index); !st) return st.error();
  return make_error(ErrorKind::kInterrupted,
                    fmt::format("interrupted by {}: {} complete artifacts kept, listed in {}; rerun the same command "
                                "to produce them all", interrupt_signal_name(), p.index.artifacts.size(), index));
}

Status produce_selection(Producing& p, const Selection& sel, const Shard& shard) {
  std::size_t first_pair = p.role.position * sel.fixtures.size();
  for (std::size_t i = 0; i < sel.fixtures.size() && !interrupted(); ++i) {
    if (!shard.holds(first_pair + i)) continue;  // the pairs `run --shard` gives the same shard
    if (auto st = produce_one(p, sel.fixtures[i], sel.formats); !st) return st;
  }
  if (interrupted()) return interrupted_production(p);
  return write_index(p.options.out_dir, p.index);  // an empty shard still leaves an index
}

}  // namespace

Result<ProduceSummary> produce_to_dir(const ProduceOptions& given, RunLog& log) {
  ProduceOptions o = given;  // the producer may run in another mount namespace: absolute paths
  o.out_dir = fs::absolute(given.out_dir).lexically_normal().string();
  auto role = load_role_matrix(o.matrix_path, o.env, SplitRole::kProducer);
  if (!role) return role.error();
  auto shard = o.shard.empty() ? Result<Shard>(Shard{}) : parse_shard(o.shard);
  if (!shard) return shard.error();
  fs::create_directories(o.out_dir);
  ProvisionContext ctx{o.source_root, o.out_dir, o.cache_dir, &log.stream()};
  EnvSessions envs = start_environments(role->matrix, ctx, /*sandbox=*/false, log);
  EnvSession& env = envs.at(o.env);
  if (interrupted()) return interrupted_before_starting("produce", o.out_dir);
  if (!env.available()) return ProduceSummary{0, 0, 0, "", env.record.reason};
  auto fixtures = list_fixtures(env);
  if (interrupted()) return interrupted_before_starting("produce", o.out_dir);
  if (!fixtures) return fixtures.error();
  auto sel = select(role->matrix, *fixtures);
  if (!sel) return sel.error();
  Producing p{o, *role, env, {}, {}, log};
  p.index.matrix_path = o.matrix_path;
  p.index.matrix_sha256 = role->sha256;
  p.index.producer = env.record;
  if (auto st = produce_selection(p, *sel, *shard); !st) return st.error();
  p.summary.index_path = (fs::path(o.out_dir) / kArtifactIndexFile).string();
  return p.summary;
}

}  // namespace crossload
