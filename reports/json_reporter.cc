#include "reports/json_reporter.h"

#include <map>

#include "harness/causes/classify.h"

namespace crossload {

using json = nlohmann::json;

json cell_to_json(const CellRecord& c) {
  json warnings = json::array();
  for (const auto& w : c.warnings) {
    json jw = {{"category", w.category}, {"message", w.message}};
    if (w.original_sklearn_version) jw["original_sklearn_version"] = *w.original_sklearn_version;
    warnings.push_back(jw);
  }
  json measurements = json::object();
  for (const auto& m : c.measurements) measurements[m.name] = {{"value", m.value}, {"unit", m.unit}};
  json cell = {{"id", c.id},           {"fixture", c.fixture},   {"format", c.format},
               {"producer", c.producer}, {"consumer", c.consumer}, {"outcome", to_string(c.outcome)},
               {"detail", c.detail},   {"warnings", warnings},   {"measurements", measurements}};
  // The catalogue's cause (docs/causes.md) of every cell that is not OK; recomputed when read back.
  if (std::string cause = cause_id(c); !cause.empty()) cell["cause"] = cause;
  if (c.reused_from) cell["reused_from_run"] = c.reused_from;  // copied from an earlier run (README "Incremental runs")
  return cell;
}

namespace {

json env_to_json(const EnvRecord& e) {
  return {{"name", e.name}, {"provider", e.provider}, {"where", e.where}, {"status", e.status},
          {"reason", e.reason}, {"fingerprint", e.fingerprint}, {"provision_seconds", e.provision_seconds}};
}

json artifact_to_json(const ArtifactRecord& a) {
  return {{"producer", a.producer}, {"fixture", a.fixture}, {"format", a.format}, {"path", a.path},
          {"sha256", a.sha256}, {"size_bytes", a.size_bytes}, {"status", a.status}, {"reason", a.reason},
          {"manifest", a.manifest}};
}

}  // namespace

namespace {

// `text` (a value dumped with indent 2) written as if nested `depth` levels deep in a dump(2).
void write_nested(std::ostream& out, const std::string& text, int depth) {
  std::string pad(2 * depth, ' ');
  std::size_t from = 0;
  for (std::size_t nl; (nl = text.find('\n', from)) != std::string::npos; from = nl + 1)
    out.write(text.data() + from, static_cast<std::streamsize>(nl + 1 - from)) << pad;
  out.write(text.data() + from, static_cast<std::streamsize>(text.size() - from));
}

// An array member written element by element, each dumped on its own: the document of a
// million cells is never built, and the bytes are those doc.dump(2) would write.
class ArrayWriter {
 public:
  explicit ArrayWriter(std::ostream& out) : out_(out) {}
  void add(const json& item) {
    out_ << (n_++ ? ",\n    " : "[\n    ");
    write_nested(out_, item.dump(2), 2);
  }
  void close() { out_ << (n_ ? "\n  ]" : "[]"); }

 private:
  std::ostream& out_;
  std::size_t n_ = 0;
};

template <class Items, class ToJson>
void write_array(std::ostream& out, const Items& items, ToJson to_json) {
  ArrayWriter array(out);
  for (const auto& item : items) array.add(to_json(item));
  array.close();
}

void write_member(std::ostream& out, const char* key, const json& value, bool last = false) {
  out << "  \"" << key << "\": ";
  write_nested(out, value.dump(2), 1);
  out << (last ? "\n" : ",\n");
}

// The keys in nlohmann's order (sorted), which is the order this file has always had: the cells
// come second, so everything after them is written once they have passed.
class JsonSink : public ReportSink {
 public:
  JsonSink(const RunData& head, std::ostream& out) : head_(head), out_(out), array_(out) {
    out_ << "{\n  \"artifacts\": ";
    write_array(out_, head_.artifacts, artifact_to_json);
    out_ << ",\n  \"cells\": ";
  }
  Status add(const CellRecord& c) override {
    json cell = cell_to_json(c);
    n_++, counts_[std::string(to_string(c.outcome))]++;
    if (cell.contains("cause")) causes_[cell["cause"].get<std::string>()]++;
    array_.add(cell);
    return ok_status();
  }
  Status finish() override {
    array_.close();
    out_ << ",\n";
    const RunRecord& r = head_.run;
    write_member(out_, "crossload_version", r.crossload_version);
    out_ << "  \"environments\": ";
    write_array(out_, head_.envs, env_to_json);
    out_ << ",\n";
    write_member(out_, "run", {{"id", r.id}, {"started_at", r.started_at}, {"finished_at", r.finished_at},
                               {"matrix", r.matrix_path}, {"matrix_sha256", r.matrix_sha256}, {"status", r.status}});
    write_member(out_, "schema_version", kResultsSchemaVersion);
    write_member(out_, "summary", {{"cells", n_}, {"outcomes", counts_}, {"causes", causes_}}, true);
    out_ << "}\n";
    return ok_status();
  }

 private:
  const RunData& head_;
  std::ostream& out_;
  ArrayWriter array_;
  std::map<std::string, std::size_t> counts_, causes_;
  std::size_t n_ = 0;
};

}  // namespace

std::unique_ptr<ReportSink> JsonReporter::sink(const RunData& head, std::ostream& out) const {
  return std::make_unique<JsonSink>(head, out);
}

}  // namespace crossload
