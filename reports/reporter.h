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
};

Result<RunData> load_run_data(const Store& store, int64_t run_id);

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual std::string_view name() const = 0;          // as given to --report
  virtual std::string_view default_file() const = 0;  // file name in the output directory
  virtual void write(const RunData& data, std::ostream& out) const = 0;
};

std::vector<std::string> reporter_names();
std::unique_ptr<Reporter> find_reporter(std::string_view name);
// Writes to path.tmp and renames, so a reader never sees half a report.
Status write_report(const Reporter& reporter, const RunData& data, const std::string& path);
// Each named report into out_dir under its default file name; the paths written, in order.
Result<std::vector<std::string>> write_reports(const RunData& data, const std::vector<std::string>& names,
                                               const std::string& out_dir);

}  // namespace crossload
