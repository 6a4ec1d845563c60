#include "harness/run/merge.h"

#include <fmt/format.h>

#include <filesystem>
#include <vector>

#include "harness/store/store.h"

namespace crossload {

namespace {

constexpr const char* kMergedPrefix = "merged:";

// The merged run of this matrix in the target: found again on a second merge (idempotence).
Result<RunRecord> merged_run(Store& target, const RunRecord& source) {
  auto runs = target.runs();
  if (!runs) return runs.error();
  std::string path = kMergedPrefix + source.matrix_path;
  for (auto it = runs->rbegin(); it != runs->rend(); ++it)
    if (it->matrix_sha256 == source.matrix_sha256 && it->matrix_path == path) return *it;
  return target.begin_run(path, source.matrix_sha256, CROSSLOAD_VERSION);
}

Status copy_run(const Store& from, int64_t from_id, Store& to, int64_t to_id, MergeSummary& s) {
  auto envs = from.environments(from_id);
  if (!envs) return envs.error();
  auto artifacts = from.artifacts(from_id);
  if (!artifacts) return artifacts.error();
  // One transaction for them all: a commit per artifact cost seconds for a few thousand.
  auto txn = to.batch(fmt::format("save the environments and artifacts of {}", from.path()));
  if (!txn) return txn.error();
  for (const auto& e : *envs)
    if (auto st = to.put_environment(to_id, e); !st) return st;
  for (const auto& a : *artifacts)
    if (auto st = to.put_artifact(to_id, a); !st) return st;
  if (auto st = txn->commit(); !st) return st;
  s.environments += envs->size(), s.artifacts += artifacts->size();
  auto cells = to.copy_cells(from, from_id, to_id);
  if (!cells) return cells.error();
  s.cells += *cells;
  return ok_status();
}

Result<RunRecord> latest_of(const Store& store, const std::string& path) {
  auto latest = store.latest_run();
  if (!latest) return latest.error();
  if (!*latest) return make_error(fmt::format("{}: no run recorded in this store", path));
  return **latest;
}

}  // namespace

Result<MergeSummary> merge_stores(const std::vector<std::string>& inputs, const std::string& out_dir) {
  std::filesystem::create_directories(out_dir);
  auto target = Store::open(out_dir + "/results.db");
  if (!target) return target.error();
  if (auto st = target->lock_for_writing(); !st) return st.error();
  MergeSummary s;
  for (const auto& path : inputs) {
    auto source = Store::open(path);
    if (!source) return source.error();
    auto run = latest_of(*source, path);
    if (!run) return run.error();
    auto into = merged_run(*target, *run);
    if (!into) return into.error();
    if (s.run_id && s.run_id != into->id)
      return make_error(fmt::format("{}: its run is of another matrix ({}) than the stores before it", path,
                                    run->matrix_path));
    s.run_id = into->id;
    if (auto st = copy_run(*source, run->id, *target, into->id, s); !st) return st.error();
    s.inputs++;
  }
  if (s.run_id)
    if (auto st = target->mark_run(s.run_id, "finished"); !st) return st.error();
  return s;
}

}  // namespace crossload
