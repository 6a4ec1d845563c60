#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>

#include "harness/store/store.h"
#include "reports/html_reporter.h"
#include "reports/json_reporter.h"
#include "reports/junit_reporter.h"
#include "reports/markdown_reporter.h"
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
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) return make_error(fmt::format("{}: cannot write report", tmp));
    if (auto st = write(out); !st) return st;
    if (!out) return make_error(fmt::format("{}: write failed", tmp));
  }
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
  d.run = *run;
  d.envs = std::move(*envs);
  d.artifacts = std::move(*artifacts);
  return d;
}

}  // namespace

Status write_report(const Reporter& reporter, const RunData& data, const std::string& path) {
  return write_atomically(path, [&](std::ostream& out) { return reporter.write(data, out), ok_status(); });
}

Result<std::vector<std::string>> write_stored_reports(const Store& store, int64_t run_id,
                                                      const std::vector<std::string>& names, const std::string& out_dir) {
  auto head = load_run_head(store, run_id);
  if (!head) return head.error();
  std::optional<RunData> whole;  // loaded for the first report that needs every cell at once
  std::vector<std::string> written;
  for (const auto& name : names) {
    auto reporter = find_reporter(name);
    if (!reporter) return make_error(ErrorKind::kUsage, fmt::format("unknown report '{}' (known: {})", name,
                                                                    fmt::join(reporter_names(), ", ")));
    std::string path = out_dir + "/" + std::string(reporter->default_file());
    Status st = ok_status();
    if (name == "json") {
      st = write_atomically(path, [&](std::ostream& out) {
        return write_results_json(*head, [&](const CellVisitor& visit) { return store.for_each_cell(run_id, visit); }, out);
      });
    } else {
      if (!whole) {
        auto cells = store.cells(run_id);
        if (!cells) return cells.error();
        whole = *head;
        whole->cells = std::move(*cells);
      }
      st = write_report(*reporter, *whole, path);
    }
    if (!st) return st.error();
    written.push_back(path);
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
