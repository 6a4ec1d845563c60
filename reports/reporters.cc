#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <functional>
#include <optional>

#include "harness/causes/classify.h"
#include "harness/store/store.h"
#include "reports/html_reporter.h"
#include "reports/json_reporter.h"
#include "reports/junit_reporter.h"
#include "reports/markdown_reporter.h"
#include "reports/report_file.h"
#include "reports/reporter.h"
#include "reports/stored_reports.h"

namespace crossload {

std::vector<std::string> reporter_names() { return {"md", "json", "html", "junit"}; }

std::unique_ptr<Reporter> find_reporter(std::string_view name) {
  if (name == "md") return std::make_unique<MarkdownReporter>();
  if (name == "json") return std::make_unique<JsonReporter>();
  if (name == "html") return std::make_unique<HtmlReporter>();
  if (name == "junit") return std::make_unique<JunitReporter>();
  return nullptr;
}

namespace {

// Writes to path.tmp and renames, so a reader never sees half a report.
Status write_atomically(const std::string& path, const std::function<Status(std::ostream&)>& write) {
  std::string tmp = path + ".tmp";
  auto file = ReportFile::open(tmp);
  if (!file) return file.error();
  if (auto st = write((*file)->stream()); !st) return st;
  if (auto st = (*file)->close(); !st) return st;
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return make_error(fmt::format("{}: cannot rename into place", path));
  return ok_status();
}

Result<RunData> load_run_head(const Store& store, int64_t run_id) {
  RunData d;
  auto run = store.run(run_id);
  if (!run) return run.error();
  auto envs = store.environments(run_id);
  if (!envs) return envs.error();
  auto artifacts = store.artifacts(run_id);
  if (!artifacts) return artifacts.error();
  auto count = store.cell_count(run_id);
  if (!count) return count.error();
  d.run = *run;
  d.envs = std::move(*envs);
  d.artifacts = std::move(*artifacts);
  d.cell_count = *count;
  return d;
}

}  // namespace

Status Reporter::write(const RunData& data, std::ostream& out) const {
  auto report = sink(data, out);
  Classifier classifier;
  for (const auto& c : data.cells)
    if (auto st = report->add(c, classifier.cause_id(c)); !st) return st;
  return report->finish();
}

Status write_report(const Reporter& reporter, const RunData& data, const std::string& path) {
  return write_atomically(path, [&](std::ostream& out) { return reporter.write(data, out); });
}

namespace {

// One report being written: its file (path.tmp until done) and its sink.
struct OpenReport {
  std::unique_ptr<Reporter> reporter;  // a sink may refer to its reporter
  std::string path, tmp;
  std::unique_ptr<ReportFile> file;
  std::unique_ptr<ReportSink> sink;
};

Status check_names(const std::vector<std::string>& names) {
  for (const auto& name : names)
    if (!find_reporter(name))
      return make_error(ErrorKind::kUsage, fmt::format("unknown report '{}' (known: {})", name, fmt::join(reporter_names(), ", ")));
  return ok_status();
}

Result<OpenReport> open_report(const RunData& head, const std::string& name, const std::string& out_dir) {
  OpenReport r;
  r.reporter = find_reporter(name);
  r.path = out_dir + "/" + std::string(r.reporter->default_file());
  r.tmp = r.path + ".tmp";
  auto file = ReportFile::open(r.tmp);
  if (!file) return file.error();
  r.file = std::move(*file);
  r.sink = r.reporter->sink(head, r.file->stream());
  return r;
}

Status close_report(OpenReport& r) {
  if (auto st = r.sink->finish(); !st) return st;
  if (auto st = r.file->close(); !st) return st;
  if (std::rename(r.tmp.c_str(), r.path.c_str()) != 0)
    return make_error(fmt::format("{}: cannot rename into place", r.path));
  return ok_status();
}

}  // namespace

// Every report from one pass over the store's cells: each sink takes what it needs of a cell as
// it passes, so no report holds the run and the store is read (and each detail parsed) once.
Result<std::vector<std::string>> write_stored_reports(const Store& store, int64_t run_id,
                                                      const std::vector<std::string>& names, const std::string& out_dir) {
  if (auto st = check_names(names); !st) return st.error();
  auto head = load_run_head(store, run_id);
  if (!head) return head.error();
  std::vector<OpenReport> reports;
  for (const auto& name : names) {
    auto report = open_report(*head, name, out_dir);
    if (!report) return report.error();
    reports.push_back(std::move(*report));
  }
  Classifier classifier;
  auto st = store.for_each_cell(run_id, [&](const CellRecord& c) {
    const std::string cause = classifier.cause_id(c);
    for (auto& r : reports)
      if (auto st = r.sink->add(c, cause); !st) return st;
    return ok_status();
  });
  if (!st) return st.error();
  std::vector<std::string> written;
  for (auto& r : reports) {
    if (auto st = close_report(r); !st) return st.error();
    written.push_back(r.path);
  }
  return written;
}

Result<std::vector<std::string>> write_reports(const RunData& data, const std::vector<std::string>& names,
                                               const std::string& out_dir) {
  std::vector<std::string> written;
  for (const auto& name : names) {
    auto reporter = find_reporter(name);
    if (!reporter) return make_error(fmt::format("unknown report format '{}'", name));
    std::string path = out_dir + "/" + std::string(reporter->default_file());
    if (auto s = write_report(*reporter, data, path); !s) return s.error();
    written.push_back(path);
  }
  return written;
}

Result<RunData> load_run_data(const Store& store, int64_t run_id) {
  auto d = load_run_head(store, run_id);
  if (!d) return d.error();
  auto cells = store.cells(run_id);
  if (!cells) return cells.error();
  d->cells = std::move(*cells);
  return d;
}

}  // namespace crossload
