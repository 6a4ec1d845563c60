#include "reports/json_reporter.h"

#include <algorithm>
#include <map>

#include "harness/causes/classify.h"
#include "reports/json_text.h"

namespace crossload {

using json = nlohmann::json;

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

// `value` as doc.dump(2) writes it nested at `indent` spaces: written once at that indent, never
// dumped and then re-indented.
void write_nested(std::ostream& out, const json& value, unsigned indent) {
  std::string text;
  JsonText(text).value(value, indent);
  out << text;
}

// The elements of an array member, each dumped on its own: the bytes doc.dump(2) would write.
template <class Items, class ToJson>
void write_array(std::ostream& out, const Items& items, ToJson to_json) {
  std::size_t n = 0;
  for (const auto& item : items) {
    out << (n++ ? ",\n    " : "[\n    ");
    write_nested(out, to_json(item), 4);
  }
  out << (n ? "\n  ]" : "[]");
}

void write_member(std::ostream& out, const char* key, const json& value, bool last = false) {
  out << "  \"" << key << "\": ";
  write_nested(out, value, 2);
  out << (last ? "\n" : ",\n");
}

// One cell as nlohmann's dump(2) writes it at `indent` spaces, written straight from the record:
// the cell's json (a deep copy of its detail) is never built, nor re-indented. The members are in
// nlohmann's order (sorted keys); a measurement name recorded twice keeps its last value, as the
// object's operator[] did.
class CellWriter {
 public:
  explicit CellWriter(std::string& out) : out_(out), json_(out) {}

  void write(const CellRecord& c, const std::string& cause, unsigned indent) {
    Members m(*this, indent);
    if (!cause.empty()) m.key("cause"), text(cause);
    m.key("consumer"), text(c.consumer);
    m.key("detail"), json_.value(c.detail, indent + 2);
    m.key("fixture"), text(c.fixture);
    m.key("format"), text(c.format);
    m.key("id"), text(c.id);
    m.key("measurements"), measurements(c.measurements, indent + 2);
    m.key("outcome"), text(std::string(to_string(c.outcome)));
    m.key("producer"), text(c.producer);
    if (c.reused_from) m.key("reused_from_run"), json_.value(json(c.reused_from), 0);  // README "Incremental runs"
    m.key("warnings"), warnings(c.warnings, indent + 2);
    m.close();
  }

 private:
  // An object's members as dump(2) lays them out: `key` starts the next one.
  class Members {
   public:
    Members(CellWriter& w, unsigned indent) : w_(w), indent_(indent) {}
    void next() {
      w_.out_ += n_++ ? ",\n" : "{\n";
      w_.out_.append(indent_ + 2, ' ');
    }
    void key(std::string_view name) { next(), w_.out_.append("\"").append(name).append("\": "); }
    void close() {
      if (!n_) w_.out_ += "{";
      else w_.out_.append("\n").append(indent_, ' ');
      w_.out_ += "}";
    }

   private:
    CellWriter& w_;
    unsigned indent_;
    std::size_t n_ = 0;
  };

  void text(const std::string& s) { json_.string(s); }

  void measurements(const std::vector<Measurement>& all, unsigned indent) {
    std::vector<const Measurement*> sorted;
    for (const auto& m : all) sorted.push_back(&m);
    std::stable_sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
    Members object(*this, indent);
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      if (i + 1 < sorted.size() && sorted[i + 1]->name == sorted[i]->name) continue;  // the last one wins
      const Measurement& m = *sorted[i];
      object.next(), text(m.name), out_ += ": ";
      Members value(*this, indent + 2);
      value.key("unit"), text(m.unit);
      value.key("value"), json_.value(json(m.value), 0);
      value.close();
    }
    object.close();
  }

  void warnings(const std::vector<CellWarning>& all, unsigned indent) {
    if (all.empty()) {
      out_ += "[]";
      return;
    }
    for (std::size_t i = 0; i < all.size(); ++i) {
      out_ += i ? ",\n" : "[\n";
      out_.append(indent + 2, ' ');
      Members w(*this, indent + 2);
      w.key("category"), text(all[i].category);
      w.key("message"), text(all[i].message);
      if (all[i].original_sklearn_version) w.key("original_sklearn_version"), text(*all[i].original_sklearn_version);
      w.close();
    }
    out_.append("\n").append(indent, ' ') += "]";
  }

  std::string& out_;
  JsonText json_;
};

// The keys in nlohmann's order (sorted), which is the order this file has always had: the cells
// come second, so everything after them is written once they have passed.
class JsonSink : public ReportSink {
 public:
  JsonSink(const RunData& head, std::ostream& out) : head_(head), out_(out), cell_(text_) {
    out_ << "{\n  \"artifacts\": ";
    write_array(out_, head_.artifacts, artifact_to_json);
    out_ << ",\n  \"cells\": ";
  }
  Status add(const CellRecord& c, const std::string& cause) override {
    n_++, counts_[c.outcome]++;
    if (!cause.empty()) causes_[cause]++;
    text_.clear();
    text_ += n_ > 1 ? ",\n    " : "[\n    ";
    cell_.write(c, cause, 4);
    out_.write(text_.data(), static_cast<std::streamsize>(text_.size()));
    return ok_status();
  }
  Status finish() override {
    out_ << (n_ ? "\n  ]" : "[]");
    out_ << ",\n";
    const RunRecord& r = head_.run;
    write_member(out_, "crossload_version", r.crossload_version);
    out_ << "  \"environments\": ";
    write_array(out_, head_.envs, env_to_json);
    out_ << ",\n";
    write_member(out_, "run", {{"id", r.id}, {"started_at", r.started_at}, {"finished_at", r.finished_at},
                               {"matrix", r.matrix_path}, {"matrix_sha256", r.matrix_sha256}, {"status", r.status}});
    write_member(out_, "schema_version", kResultsSchemaVersion);
    std::map<std::string, std::size_t> outcomes;  // by name, as results.json has always had them
    for (const auto& [outcome, n] : counts_) outcomes[std::string(to_string(outcome))] = n;
    write_member(out_, "summary", {{"cells", n_}, {"outcomes", outcomes}, {"causes", causes_}}, true);
    out_ << "}\n";
    return ok_status();
  }

 private:
  const RunData& head_;
  std::ostream& out_;
  std::string text_;  // the cell being written
  CellWriter cell_;
  std::map<Outcome, std::size_t> counts_;
  std::map<std::string, std::size_t> causes_;
  std::size_t n_ = 0;
};

}  // namespace

std::unique_ptr<ReportSink> JsonReporter::sink(const RunData& head, std::ostream& out) const {
  return std::make_unique<JsonSink>(head, out);
}

}  // namespace crossload
