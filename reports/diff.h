#pragma once
// `crossload diff`: what changed between a baseline run and the current one: compatibility
// regressions and fixes, new and vanished cells, expected failures, performance regressions.
// Rendered for people (text, Markdown), for scripts (JSON) and for CI (which categories fail).
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/reporter.h"
#include "reports/results_json.h"

namespace crossload {

inline constexpr int kDiffSchemaVersion = 1;

// One side of a diff: a run read from a results store or from a results.json.
struct ResultsSource {
  std::string label;  // "out/results.db#3", "old/results.json"
  RunData data;
};

// "x.db" or "x.db#3" names a store (run 3, or the latest); anything else is read as results.json.
struct StoreSpec {
  std::string path;
  int64_t run_id = 0;  // 0: the latest run
};
std::optional<StoreSpec> parse_store_spec(const std::string& spec);
// Opening the store is the caller's step (its failures mean "store unusable", exit 5); this
// reads one run of it (a missing run is bad input, exit 3).
Result<ResultsSource> read_store_run(const Store& store, const StoreSpec& spec);
// The run a spec names: its own, or the store's latest (an error when there is none).
Result<int64_t> resolve_run(const Store& store, const StoreSpec& spec);
// Errors name the file, and for a schema_version outside what this crossload reads, both versions.
Result<ResultsSource> read_results_json(const std::string& path);
// Either kind, by its name: what `crossload run --baseline FILE` needs. Every error names the
// file; the diff command, which exits differently for an unusable store, does these steps itself.
Result<ResultsSource> read_results(const std::string& spec);

struct DiffOptions {
  double threshold = 1.25;  // current / baseline past this ratio is a performance regression
  double alpha = 0.05;      // significance level, used when both sides have repetition samples
  std::vector<std::string> measurements{"load", "predict", "rss_peak", "size"};
};

struct OutcomeChange {
  std::string id;
  std::optional<Outcome> before, after;  // before absent: a new cell; after absent: vanished
  // The error text and explain() of the side that tells the story: the current cell for a
  // regression or a new cell, the baseline's for a fix or a vanished cell.
  std::string text;
  std::string explanation;
  std::string cause;  // the catalogue's cause id of that side ("" when it is OK)
};

struct PerfChange {
  std::string id, measurement, unit;
  double before = 0, after = 0, ratio = 0;  // medians of each side's samples
  std::size_t n_before = 0, n_after = 0;
  std::optional<double> p_value;  // one-sided Mann-Whitney U; only with repetitions on both sides
};

struct DiffResult {
  std::string baseline, current;  // labels
  DiffOptions options;
  std::size_t baseline_cells = 0, current_cells = 0, common_cells = 0;
  std::vector<OutcomeChange> regressions, fixes, new_cells, vanished;
  std::vector<OutcomeChange> xfail, xpass;  // current cells with those outcomes, passed through
  std::vector<PerfChange> perf_regressions, perf_improvements;
  std::size_t perf_compared = 0;  // measurement pairs compared
  std::size_t perf_tested = 0;    // of which had samples enough for the significance test
};

// One side of a diff read cell by cell: a store run (Store::for_each_cell), a results.json
// (stream_results_json) or cells in memory. The diff reads the baseline twice at most and keeps
// a few bytes per baseline cell, so neither side is ever held whole.
struct CellStream {
  std::string label;
  CellSource for_each;
  // Optional: the cells of these ids only, found by key (a store); without it, for_each again.
  std::function<Status(const std::vector<std::string>& ids, const CellVisitor&)> some = nullptr;
  // Optional: the cells without their detail (a store reads and parses none), for the baseline's
  // first pass, which keeps only outcomes and measurements; without it, for_each.
  CellSource summaries = nullptr;
};
CellStream stream_of(const ResultsSource& source);  // the source must outlive the stream
// A run of an open store (an error if the spec names no run); the stream keeps the store open.
Result<CellStream> store_stream(std::shared_ptr<const Store> store, const StoreSpec& spec);
// A results.json read afresh at each pass (its errors come out of for_each).
CellStream json_stream(const std::string& path);

// Errors are the streams' (a file that cannot be read, a cell that cannot be parsed).
Result<DiffResult> diff_streams(const CellStream& baseline, const CellStream& current, const DiffOptions& options);
// The same on two runs in memory.
DiffResult diff_runs(const ResultsSource& baseline, const ResultsSource& current, const DiffOptions& options);

// What --fail-on can name; kDefaultFailOn is what fails CI when it is not given.
enum class FailOn { kCompat, kPerf, kNewFailure, kVanished };
std::vector<std::string> fail_on_names();
std::vector<std::string> default_fail_on();
Result<std::vector<FailOn>> parse_fail_on(const std::vector<std::string>& names);
// New cells whose outcome is a failure (is_failure()).
std::vector<const OutcomeChange*> new_failures(const DiffResult& diff);
// Why this diff fails under fail_on, one phrase each ("2 compatibility regressions"); empty: it passes.
std::vector<std::string> failing(const DiffResult& diff, const std::vector<FailOn>& fail_on);

void write_diff_text(const DiffResult& diff, const std::vector<FailOn>& fail_on, std::ostream& out);
void write_diff_markdown(const DiffResult& diff, const std::vector<FailOn>& fail_on, std::ostream& out);
nlohmann::json diff_to_json(const DiffResult& diff, const std::vector<FailOn>& fail_on);

}  // namespace crossload
