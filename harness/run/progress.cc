#include "harness/run/progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "harness/util/text.h"

namespace crossload {

namespace {

constexpr std::size_t kBarWidth = 20;

std::size_t terminal_width() {
  winsize w{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 20) return w.ws_col;
  return 100;
}

std::string cell_line(const ProgressCounts& c, const CellRecord& cell) {
  std::string extra;
  if (cell.detail.contains("summary")) extra = cell.detail["summary"].get<std::string>();
  else if (cell.detail.contains("message")) extra = cell.detail["message"].get<std::string>();
  extra = one_line(extra, 120);  // a traceback must not break the log's one line per cell
  return fmt::format("[{}/{}] {:<15} {}{}", c.done, c.total, to_string(cell.outcome), cell.id,
                     extra.empty() ? "" : "  " + extra);
}

}  // namespace

bool counts_as_failure(Outcome o) { return !is_ok(o) && o != Outcome::kUnsupported; }

double eta_seconds(const ProgressCounts& c, double elapsed) {
  if (c.computed == 0 || c.done >= c.total) return c.done >= c.total ? 0 : -1;
  return elapsed / static_cast<double>(c.computed) * static_cast<double>(c.total - c.done);
}

std::string format_clock(double seconds) {
  if (seconds < 0 || !std::isfinite(seconds)) return "--:--";
  long s = std::lround(seconds);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string progress_line(const ProgressCounts& c, double eta, const std::string& current, std::size_t width) {
  std::size_t filled = c.total ? std::min(kBarWidth, c.done * kBarWidth / c.total) : kBarWidth;
  std::string line = fmt::format("[{}{}] {}/{}", std::string(filled, '#'), std::string(kBarWidth - filled, '.'),
                                 c.done, c.total);
  if (c.failed) line += fmt::format("  {} failed", c.failed);
  if (c.reused) line += fmt::format("  {} reused", c.reused);
  line += "  ETA " + format_clock(eta);
  if (!current.empty()) line += "  " + current;
  if (line.size() > width) line.resize(width);
  return line;
}

void Progress::cell(const CellRecord& c, bool reused) {
  counts_.done++;
  if (reused) counts_.reused++;
  else counts_.computed++;
  if (counts_as_failure(c.outcome)) counts_.failed++;
  // A terminal shows the bar and only what needs a look; a log file gets every cell.
  bool noteworthy = counts_as_failure(c.outcome) && !reused;
  if (log_.verbosity() == Verbosity::kVerbose) log_.info("{}{}", cell_line(counts_, c), reused ? "  (reused)" : "");
  else if (!reused && (!log_.interactive() || noteworthy)) log_.info("{}", cell_line(counts_, c));
  redraw();
}

void Progress::working_on(const std::string& what) {
  current_ = what;
  redraw();
}

void Progress::redraw() {
  if (!log_.interactive()) return;
  log_.status(progress_line(counts_, eta_seconds(counts_, clock_.seconds()), current_, terminal_width() - 1));
}

}  // namespace crossload
