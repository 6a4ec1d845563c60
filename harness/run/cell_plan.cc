#include "harness/run/cell_plan.h"

#include <fmt/format.h>

#include <filesystem>

#include "harness/util/sha256.h"

namespace crossload {

namespace {

// A previous artifact stands in for training only while its file is the one it describes. Only
// listed (every cell reused, nothing loads it): its size is enough, which spares hashing every
// artifact of a no-op rerun.
bool still_on_disk(const ArtifactRecord& a, bool will_load) {
  if (a.status == "unsupported") return true;  // nothing on disk to check: the format cannot hold it
  if (a.status != "ok") return false;          // an error may not happen again
  std::error_code ec;
  auto size = std::filesystem::file_size(a.path, ec);
  if (ec || static_cast<int64_t>(size) != a.size_bytes) return false;
  if (!will_load) return true;
  auto sha = sha256_file(a.path);
  return sha && *sha == a.sha256;
}

}  // namespace

std::string CellPlan::artifact_key_of(const std::string& producer, const std::string& fixture,
                                      const std::string& format) const {
  auto fp = in_.fingerprints.find(producer);
  auto recipe = in_.recipes.find(fixture);
  if (fp == in_.fingerprints.end() || recipe == in_.recipes.end()) return "";
  return artifact_key({fp->second, recipe->second, format}, in_.code);
}

std::string CellPlan::cell_key_of(const std::string& akey, const std::string& consumer) {
  auto fp = in_.fingerprints.find(consumer);
  if (fp == in_.fingerprints.end()) return "";
  if (policy_dump_.empty()) policy_dump_ = in_.load_policy.dump();
  auto dumped = consumer_dumps_.find(consumer);
  if (dumped == consumer_dumps_.end()) dumped = consumer_dumps_.emplace(consumer, consumer_dump(fp->second)).first;
  return cell_key_of_dumps(akey, dumped->second, policy_dump_);
}

bool CellPlan::reuse_cell(const std::string& key) {
  if (in_.rerun || key.empty()) return false;
  auto found = in_.store.reusable_cell(key);
  if (!found) {
    log_.error("{}", found.error().message);
    return false;
  }
  if (!*found) return false;
  record(reused_copy(std::move(**found)), true);
  return true;
}

std::shared_ptr<const ArtifactRecord> CellPlan::reuse_artifact(const std::string& key, bool will_load) {
  if (key.empty()) return nullptr;
  auto found = in_.store.reusable_artifact(key);
  if (!found || !*found || !still_on_disk(**found, will_load)) return nullptr;
  if (auto s = in_.store.put_artifact(in_.run_id, **found); !s) log_.error("{}", s.error().message);
  return std::make_shared<const ArtifactRecord>(std::move(**found));
}

void CellPlan::plan_artifact(const std::string& producer, const std::string& fixture, const std::string& format,
                             std::vector<std::string>& to_produce, std::vector<LoadJob>& loads) {
  std::string akey = artifact_key_of(producer, fixture, format);
  std::vector<std::string> consumers;
  std::size_t resumed = 0;
  for (const auto& consumer : in_.matrix.consumers) {
    if (in_.finished.count(cell_id(fixture, format, producer, consumer))) ++resumed;
    else if (!reuse_cell(cell_key_of(akey, consumer))) consumers.push_back(consumer);
  }
  summary_.skipped += resumed;
  progress_->add_done(resumed);
  // Everything known already: the run still lists the artifact, if an earlier run has it.
  auto previous = in_.rerun ? nullptr : reuse_artifact(akey, !consumers.empty());
  if (consumers.empty()) return;
  if (previous) {
    for (auto& consumer : consumers) loads.push_back({previous, consumer});
    return;
  }
  to_produce.push_back(format);
  waiting_[{producer, fixture, format}] = std::move(consumers);
}

void CellPlan::plan(const Selection& sel, const Shard& shard, std::vector<ProduceJob>& produce,
                    std::vector<LoadJob>& loads) {
  std::size_t pairs = sel.fixtures.size() * in_.matrix.producers.size(), pair = 0;
  std::size_t held = pairs / shard.count + (pairs % shard.count >= static_cast<std::size_t>(shard.index));
  progress_ = std::make_unique<Progress>(log_, held * sel.formats.size() * in_.matrix.consumers.size());
  for (const auto& producer : in_.matrix.producers) {
    for (const auto& fixture : sel.fixtures) {
      if (!shard.holds(pair++)) continue;
      std::vector<std::string> formats;
      for (const auto& format : sel.formats) plan_artifact(producer, fixture.name, format, formats, loads);
      if (!formats.empty()) produce.push_back({producer, fixture, std::move(formats)});
    }
  }
  if (summary_.reused)
    log_.info("reused {} cells from earlier runs of {} (unchanged producer, recipe, format, consumer and limits)",
              summary_.reused, in_.store.path());
}

std::vector<std::string> CellPlan::produced(const ArtifactRecord& produced) {
  ArtifactRecord a = produced;
  a.reuse_key = artifact_key_of(a.producer, a.fixture, a.format);
  if (auto s = in_.store.put_artifact(in_.run_id, a); !s) log_.error("{}", s.error().message);
  auto waiting = waiting_.find({a.producer, a.fixture, a.format});
  if (waiting == waiting_.end()) return {};
  std::vector<std::string> consumers = std::move(waiting->second);
  waiting_.erase(waiting);
  return consumers;
}

void CellPlan::loaded(const LoadJob& job, Result<CellRecord> cell) {
  if (!cell) {
    log_.error("{}", cell.error().message);
    summary_.bad_inputs.push_back(cell.error().message);
    return;
  }
  // Keyed by the artifact as produced: a record an earlier run stored carries its own key.
  std::string akey = job.artifact->reuse_key.empty()
                         ? artifact_key_of(job.artifact->producer, job.artifact->fixture, job.artifact->format)
                         : job.artifact->reuse_key;
  if (reusable(*cell)) cell->reuse_key = cell_key_of(akey, job.consumer);
  record(std::move(*cell), false);
}

void CellPlan::record(CellRecord c, bool reused) {
  apply_expectations(in_.matrix.expectations, in_.fingerprints, c);
  if (auto s = in_.store.put_cell(in_.run_id, c); !s) {
    log_.error("{}", s.error().message);
    return;
  }
  summary_.counts[c.outcome]++;
  summary_.cells++;
  if (reused) summary_.reused++;
  progress_->cell(c, reused);
}

void CellPlan::working_on(const std::string& what) { progress_->working_on(what); }
void CellPlan::tick() { progress_->redraw(); }

}  // namespace crossload
