#pragma once
// Progress of a run: cells done out of the total, failures so far, an ETA and the cell in hand.
// On a terminal it is one status line redrawn in place (RunLog::status); elsewhere each cell is
// a plain log line. The arithmetic and formatting are pure, for tests.
#include <cstddef>
#include <string>

#include "harness/compare/outcome.h"
#include "harness/core/log.h"
#include "harness/store/records.h"

namespace crossload {

struct ProgressCounts {
  std::size_t total = 0;     // cells of this run (its shard)
  std::size_t done = 0;      // recorded: computed, reused or resumed
  std::size_t computed = 0;  // of them, loaded (or settled) in this run: what the ETA learns from
  std::size_t failed = 0;
  std::size_t reused = 0;
};

// A failure for the progress line: not OK, not an expected failure, not a format's known limit.
bool counts_as_failure(Outcome o);

// Seconds left, from the time the computed cells took so far; negative when unknown.
double eta_seconds(const ProgressCounts& c, double elapsed_seconds);
std::string format_clock(double seconds);  // "0:42", "1:02:03"; "--:--" when negative

// "[#######.............]  12/198  2 failed  ETA 0:42  iris_svc_proba/joblib/host/host",
// cut to `width` columns.
std::string progress_line(const ProgressCounts& c, double eta, const std::string& current, std::size_t width);

class Progress {
 public:
  Progress(RunLog& log, std::size_t total) : log_(log) { counts_.total = total; }
  void add_done(std::size_t resumed) { counts_.done += resumed; }
  // One cell recorded; `reused` when copied from an earlier run. Logs it and redraws the line.
  void cell(const CellRecord& c, bool reused);
  void working_on(const std::string& what);  // the cell (or fixture) in hand
  void redraw();
  const ProgressCounts& counts() const { return counts_; }

 private:
  RunLog& log_;
  ProgressCounts counts_;
  std::string current_;
  Stopwatch clock_;
};

}  // namespace crossload
