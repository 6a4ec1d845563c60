#include <fmt/format.h>

#include <cstdio>
#include <fstream>

#include "harness/store/store.h"
#include "reports/html_reporter.h"
#include "reports/json_reporter.h"
#include "reports/junit_reporter.h"
#include "reports/markdown_reporter.h"
#include "reports/reporter.h"

namespace crossload {

std::vector<std::string> reporter_names() { return {"md", "json", "html", "junit"}; }

std::unique_ptr<Reporter> find_reporter(std::string_view name) {
  if (name == "md") return std::make_unique<MarkdownReporter>();
  if (name == "json") return std::make_unique<JsonReporter>();
  if (name == "html") return std::make_unique<HtmlReporter>();
  if (name == "junit") return std::make_unique<JunitReporter>();
  return nullptr;
}

Status write_report(const Reporter& reporter, const RunData& data, const std::string& path) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) return make_error(fmt::format("{}: cannot write report", tmp));
    reporter.write(data, out);
    if (!out) return make_error(fmt::format("{}: write failed", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return make_error(fmt::format("{}: cannot rename into place", path));
  return ok_status();
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
  RunData d;
  auto run = store.run(run_id);
  if (!run) return run.error();
  auto envs = store.environments(run_id);
  if (!envs) return envs.error();
  auto artifacts = store.artifacts(run_id);
  if (!artifacts) return artifacts.error();
  auto cells = store.cells(run_id);
  if (!cells) return cells.error();
  d.run = *run;
  d.envs = std::move(*envs);
  d.artifacts = std::move(*artifacts);
  d.cells = std::move(*cells);
  return d;
}

}  // namespace crossload
