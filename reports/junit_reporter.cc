#include "reports/junit_reporter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <unistd.h>

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
  void add(Outcome o, double cell_seconds) {
    tests++, failures += is_failure(o), skipped += is_skip(o), seconds += cell_seconds;
  }
};

// The work a cell did, as a CI system's "time": loading plus predicting.
double cell_seconds(const CellRecord& c) {
  double s = 0;
  for (const char* name : {"load", "predict"})
    for (double v : measurement_samples(c, name)) s += v;
  return s;
}

std::string counts_attributes(const Tally& t) {
  return fmt::format("tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.6f}\"", t.tests, t.failures,
                     t.skipped, t.seconds);
}

// The failure body: everything a person needs without opening the HTML report.
std::string failure_body(const CellRecord& c, const std::string& cause) {
  std::vector<std::string> parts{cell_error_text(c, 4000), explain(c, cause)};
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

void write_case(const CellRecord& c, const std::string& cause, std::string& out) {
  out += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{:.6f}\">", xml_escape(c.fixture + "/" + c.format),
                     xml_escape(c.producer + " → " + c.consumer), cell_seconds(c));
  std::string message = std::string(to_string(c.outcome));
  // The cause id rides in the message (what CI views show) and as a property (what scripts read).
  if (!cause.empty()) {
    message += " [" + cause + "]";
    out += fmt::format("<properties><property name=\"cause\" value=\"{}\"/></properties>", xml_escape(cause));
  }
  if (std::string text = cell_error_text(c); !text.empty()) message += ": " + text;
  if (is_failure(c.outcome))
    out += fmt::format("<failure message=\"{}\" type=\"{}\">{}</failure>", xml_escape(message), to_string(c.outcome),
                       xml_escape(failure_body(c, cause)));
  else if (is_skip(c.outcome))
    out += fmt::format("<skipped message=\"{}\"/>", xml_escape(message));
  out += system_out(c) + "</testcase>\n";
}

// The JUnit schema's timestamp has no zone designator; ours are UTC.
std::string junit_timestamp(std::string t) {
  if (!t.empty() && t.back() == 'Z') t.pop_back();
  return t;
}

// The testcases as they were written, in a temporary file, read back by offset once the last
// one is in. The file is written through a 1 MiB buffer (glibc's own is 4 KiB) and each testcase
// read back with one pread, not a seek and a buffered read. Mapping the file instead counted the
// spill (a gigabyte at a million cells) in the resident memory, and giving the pages back as
// the suites were written cost more CPU than the preads (the kernel maps 16 pages per fault).
class Spill {
 public:
  Spill() : buffer_(std::size_t{1} << 20), file_(std::tmpfile(), &std::fclose) {
    // glibc sizes a buffer it allocates itself by the file's block size, whatever size is asked.
    if (file_) std::setvbuf(file_.get(), buffer_.data(), _IOFBF, buffer_.size());
  }

  bool opened() const { return file_ != nullptr; }
  std::size_t size() const { return size_; }
  bool append(const std::string& text) {
    if (std::fwrite(text.data(), 1, text.size(), file_.get()) != text.size()) return false;
    size_ += text.size();
    return true;
  }
  // Called once, after the last append: what was written becomes readable with `at`.
  bool seal() { return file_ && std::fflush(file_.get()) == 0; }
  // The bytes [offset, offset + n) written before, read into `scratch`.
  std::optional<std::string_view> at(std::size_t offset, std::size_t n, std::string& scratch) {
    scratch.resize(n);
    for (std::size_t done = 0; done < n;) {
      ssize_t got = ::pread(::fileno(file_.get()), scratch.data() + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return std::nullopt;
      done += static_cast<std::size_t>(got);
    }
    return std::string_view(scratch);
  }

 private:
  std::vector<char> buffer_;  // before file_: it must outlive the FILE that writes through it
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  std::size_t size_ = 0;
};

// The testsuites come by pair and each lists its cells by id, but the cells come in any order (a
// store gives them by id, which interleaves the pairs): each testcase is written as its cell
// passes to the spill, and copied into place under its pair's testsuite at the end. What stays
// in memory per cell is where its testcase is, its id and its time.
class JunitSink : public ReportSink {
 public:
  JunitSink(const RunData& head, std::ostream& out) : head_(head), out_(out) {}

  Status add(const CellRecord& c, const std::string& cause) override {
    if (!spill_.opened()) return make_error("junit.xml: cannot open a temporary file for the testcases");
    std::string text;
    write_case(c, cause, text);
    auto [it, added] = pairs_.try_emplace({c.producer, c.consumer}, pairs_.size());
    double seconds = cell_seconds(c);
    total_.add(c.outcome, seconds);
    cases_.push_back({it->second, c.outcome, seconds, spill_.size(), text.size(), c.id});
    if (!spill_.append(text)) return make_error("junit.xml: cannot write the temporary file of testcases");
    return ok_status();
  }

  Status finish() override {
    out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out_ << fmt::format("<testsuites name=\"crossload {}\" {}>\n", xml_escape(head_.run.matrix_path),
                        counts_attributes(total_));
    std::vector<std::vector<std::size_t>> members(pairs_.size());
    for (std::size_t i = 0; i < cases_.size(); ++i) members[cases_[i].pair].push_back(i);
    if (spill_.opened() && !spill_.seal()) return make_error("junit.xml: cannot write the temporary file");
    for (const auto& [pair, index] : pairs_)
      if (auto st = write_suite(pair, members[index]); !st) return st;
    out_ << "</testsuites>\n";
    return ok_status();
  }

 private:
  struct Case {
    std::size_t pair;
    Outcome outcome;
    double seconds;
    std::size_t offset;
    std::size_t size;
    std::string id;
  };

  Status write_suite(const PairKey& pair, std::vector<std::size_t>& cells) {
    std::sort(cells.begin(), cells.end(), [&](std::size_t a, std::size_t b) { return cases_[a].id < cases_[b].id; });
    Tally t;
    for (std::size_t i : cells) t.add(cases_[i].outcome, cases_[i].seconds);
    out_ << fmt::format("  <testsuite name=\"{}\" {} timestamp=\"{}\">\n", xml_escape(pair.first + " → " + pair.second),
                        counts_attributes(t), xml_escape(junit_timestamp(head_.run.started_at)));
    out_ << fmt::format("    <properties><property name=\"producer\" value=\"{}\"/><property name=\"consumer\" "
                        "value=\"{}\"/></properties>\n",
                        xml_escape(pair.first), xml_escape(pair.second));
    std::string scratch;
    for (std::size_t i : cells) {
      auto text = spill_.at(cases_[i].offset, cases_[i].size, scratch);
      if (!text) return make_error("junit.xml: cannot read back the temporary file of testcases");
      out_ << *text;
    }
    out_ << "  </testsuite>\n";
    return ok_status();
  }

  const RunData& head_;
  std::ostream& out_;
  Spill spill_;
  std::map<PairKey, std::size_t> pairs_;  // in the order of the testsuites; the index into members
  std::vector<Case> cases_;
  Tally total_;
};

}  // namespace

std::unique_ptr<ReportSink> JunitReporter::sink(const RunData& head, std::ostream& out) const {
  return std::make_unique<JunitSink>(head, out);
}

}  // namespace crossload
