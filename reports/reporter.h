#pragma once
// Reporters render one run (read back from the store) for people and for CI. One interface,
// one file per reporter, one explicit table (reports/reporters.cc).
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "harness/store/records.h"
#include "harness/util/result.h"

namespace crossload {

class Store;

inline constexpr int kResultsSchemaVersion = 1;

struct RunData {
  RunRecord run;
  std::vector<EnvRecord> envs;
  std::vector<ArtifactRecord> artifacts;
  std::vector<CellRecord> cells;
  // How many cells will pass a sink, when the source says so before they do (a store counts
  // them): the HTML sink then chooses its page at once. A hint; the cells that pass decide.
  std::optional<std::size_t> cell_count{};
};

Result<RunData> load_run_data(const Store& store, int64_t run_id);

// One report written from a run's cells handed over one at a time, in any order the source has
// (a store gives them by id): what the report needs of every cell is gathered as they pass, so
// a run of a million cells is never in memory at once. Several sinks share one pass over a store.
class ReportSink {
 public:
  virtual ~ReportSink() = default;
  // `cause` is cause_id(cell) (harness/causes/classify.h), "" for a cell that needs none: the
  // catalogue's regular expressions are matched once per cell for every sink of the pass.
  virtual Status add(const CellRecord& cell, const std::string& cause) = 0;
  // Writes the rest of the report; called once, after the last cell.
  virtual Status finish() = 0;
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual std::string_view name() const = 0;          // as given to --report
  virtual std::string_view default_file() const = 0;  // file name in the output directory
  // A sink writing this report of `head`'s run (its run, environments and artifacts; its cells
  // are ignored) to `out`; they and the reporter must outlive the sink.
  virtual std::unique_ptr<ReportSink> sink(const RunData& head, std::ostream& out) const = 0;
  // Every cell of `data` through a sink. The error of a sink (a spill file it could not write)
  // leaves the report unfinished; write_report returns it.
  Status write(const RunData& data, std::ostream& out) const;
};

std::vector<std::string> reporter_names();
std::unique_ptr<Reporter> find_reporter(std::string_view name);
// Writes to path.tmp and renames, so a reader never sees half a report.
Status write_report(const Reporter& reporter, const RunData& data, const std::string& path);
// Each named report into out_dir under its default file name; the paths written, in order.
Result<std::vector<std::string>> write_reports(const RunData& data, const std::vector<std::string>& names,
                                               const std::string& out_dir);

}  // namespace crossload
