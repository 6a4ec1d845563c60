#include "reports/junit_reporter.h"

#include <fmt/format.h>

#include <algorithm>

#include "harness/causes/classify.h"
#include "reports/explain.h"
#include "reports/markup.h"
#include "reports/summaries.h"

namespace crossload {

namespace {

using json = nlohmann::json;

struct Tally {
  std::size_t tests = 0, failures = 0, skipped = 0;
  double seconds = 0;
};

// The work a cell did, as a CI system's "time": loading plus predicting.
double cell_seconds(const CellRecord& c) {
  double s = 0;
  for (const char* name : {"load", "predict"})
    for (double v : measurement_samples(c, name)) s += v;
  return s;
}

Tally tally(const std::vector<const CellRecord*>& cells) {
  Tally t;
  for (const auto* c : cells) {
    t.tests++;
    t.failures += is_failure(c->outcome);
    t.skipped += is_skip(c->outcome);
    t.seconds += cell_seconds(*c);
  }
  return t;
}

std::string counts_attributes(const Tally& t) {
  return fmt::format("tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.6f}\"", t.tests, t.failures,
                     t.skipped, t.seconds);
}

// The failure body: everything a person needs without opening the HTML report.
std::string failure_body(const CellRecord& c) {
  std::vector<std::string> parts{cell_error_text(c, 4000), explain(c)};
  const json& d = c.detail.is_object() ? c.detail : json::object();
  std::string summaries;
  if (d.contains("outputs") && d["outputs"].is_object())
    for (const auto& [output, o] : d["outputs"].items())
      if (o.is_object() && o.contains("summary") && o["summary"].is_string())
        summaries += (summaries.empty() ? "" : "\n") + output + ": " + o["summary"].get<std::string>();
  parts.push_back(summaries);
  if (d.contains("traceback") && d["traceback"].is_string()) parts.push_back(d["traceback"].get<std::string>());
  std::string body;
  for (const auto& p : parts)
    if (!p.empty()) body += (body.empty() ? "" : "\n\n") + p;
  return body;
}

std::string system_out(const CellRecord& c) {
  std::string text;
  for (const auto& w : c.warnings) {
    text += w.category + ": " + w.message;
    if (w.original_sklearn_version) text += " (original_sklearn_version " + *w.original_sklearn_version + ")";
    text += "\n";
  }
  if (c.outcome == Outcome::kXpass) text += "XPASS: expected to fail, but passed; the matrix's expectation is stale\n";
  return text.empty() ? "" : "<system-out>" + xml_escape(text) + "</system-out>";
}

void write_case(const CellRecord& c, std::ostream& out) {
  out << fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{:.6f}\">", xml_escape(c.fixture + "/" + c.format),
                     xml_escape(c.producer + " → " + c.consumer), cell_seconds(c));
  std::string message = std::string(to_string(c.outcome));
  std::string cause = cause_id(c);
  // The cause id rides in the message (what CI views show) and as a property (what scripts read).
  if (!cause.empty()) {
    message += " [" + cause + "]";
    out << fmt::format("<properties><property name=\"cause\" value=\"{}\"/></properties>", xml_escape(cause));
  }
  if (std::string text = cell_error_text(c); !text.empty()) message += ": " + text;
  if (is_failure(c.outcome))
    out << fmt::format("<failure message=\"{}\" type=\"{}\">{}</failure>", xml_escape(message), to_string(c.outcome),
                       xml_escape(failure_body(c)));
  else if (is_skip(c.outcome))
    out << fmt::format("<skipped message=\"{}\"/>", xml_escape(message));
  out << system_out(c) << "</testcase>\n";
}

// The JUnit schema's timestamp has no zone designator; ours are UTC.
std::string junit_timestamp(std::string t) {
  if (!t.empty() && t.back() == 'Z') t.pop_back();
  return t;
}

}  // namespace

void JunitReporter::write(const RunData& d, std::ostream& out) const {
  std::vector<const CellRecord*> all;
  for (const auto& c : d.cells) all.push_back(&c);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<testsuites name=\"crossload {}\" {}>\n", xml_escape(d.run.matrix_path), counts_attributes(tally(all)));
  for (const auto& [pair, by_format] : group_by_pair(d.cells)) {
    std::vector<const CellRecord*> cells;
    for (const auto& [format, members] : by_format) cells.insert(cells.end(), members.begin(), members.end());
    std::sort(cells.begin(), cells.end(), [](const auto* a, const auto* b) { return a->id < b->id; });
    out << fmt::format("  <testsuite name=\"{}\" {} timestamp=\"{}\">\n", xml_escape(pair.first + " → " + pair.second),
                       counts_attributes(tally(cells)), xml_escape(junit_timestamp(d.run.started_at)));
    out << fmt::format("    <properties><property name=\"producer\" value=\"{}\"/><property name=\"consumer\" "
                       "value=\"{}\"/></properties>\n",
                       xml_escape(pair.first), xml_escape(pair.second));
    for (const auto* c : cells) write_case(*c, out);
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

}  // namespace crossload
