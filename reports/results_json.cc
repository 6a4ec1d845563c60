#include "reports/results_json.h"

#include <fmt/format.h>

#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

namespace crossload {

using json = nlohmann::json;

namespace {

double number_or_nan(const json& v) {
  return v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

std::string str(const json& obj, const char* key) {
  return obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : std::string();
}

// A measurement is {"value": x, "unit": u}; repetition samples may come as "samples": [...].
std::vector<Measurement> measurements_from_json(const json& j) {
  std::vector<Measurement> out;
  if (!j.is_object()) return out;
  for (const auto& [name, m] : j.items()) {
    if (m.is_number()) { out.push_back({name, m.get<double>(), ""}); continue; }
    if (!m.is_object()) continue;
    std::string unit = str(m, "unit");
    if (m.contains("samples") && m["samples"].is_array()) {
      for (const auto& v : m["samples"]) out.push_back({name, number_or_nan(v), unit});
    } else if (m.contains("value")) {
      out.push_back({name, number_or_nan(m["value"]), unit});
    }
  }
  return out;
}

std::vector<CellWarning> warnings_from_json(const json& j) {
  std::vector<CellWarning> out;
  if (!j.is_array()) return out;
  for (const auto& w : j) {
    CellWarning cw{str(w, "category"), str(w, "message"), std::nullopt};
    if (w.contains("original_sklearn_version") && w["original_sklearn_version"].is_string())
      cw.original_sklearn_version = w["original_sklearn_version"].get<std::string>();
    out.push_back(std::move(cw));
  }
  return out;
}

// The member `key` of an object, null when it has none (read in place, not copied).
const json& member(const json& obj, const char* key) {
  static const json none;
  auto it = obj.find(key);
  return it == obj.end() ? none : *it;
}

// The string of `key`, moved out of `obj` (which is dropped after).
std::string take_str(json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? std::move(it->get_ref<std::string&>()) : std::string();
}

// `j` is taken apart: its strings and detail are moved into the record, not copied.
Result<CellRecord> cell_from_json(json j, const std::string& path, std::size_t index) {
  if (!j.is_object() || !j.contains("id") || !j.contains("outcome"))
    return make_error(fmt::format("{}: cells[{}] has no id or outcome", path, index));
  auto outcome = outcome_from_string(str(j, "outcome"));
  if (!outcome)
    return make_error(fmt::format("{}: cell {} has unknown outcome '{}'; was it written by a newer crossload?",
                                  path, str(j, "id"), str(j, "outcome")));
  auto detail = j.find("detail");
  CellRecord c{take_str(j, "id"), take_str(j, "fixture"), take_str(j, "format"), take_str(j, "producer"),
               take_str(j, "consumer"), *outcome, detail == j.end() ? json::object() : std::move(*detail),
               warnings_from_json(member(j, "warnings")), measurements_from_json(member(j, "measurements"))};
  return c;
}

EnvRecord env_from_json(const json& j) {
  return {str(j, "name"), str(j, "provider"), str(j, "where"), str(j, "status"), str(j, "reason"),
          j.value("fingerprint", json::object()), j.contains("provision_seconds") ? number_or_nan(j["provision_seconds"]) : 0};
}

ArtifactRecord artifact_from_json(const json& j) {
  return {str(j, "producer"), str(j, "fixture"), str(j, "format"), str(j, "path"), str(j, "sha256"),
          j.value("size_bytes", int64_t{0}), str(j, "status"), str(j, "reason"), j.value("manifest", json::object())};
}

Status check_schema(const json& doc, const std::string& path) {
  if (!doc.is_object() || !doc.contains("schema_version") || !doc["schema_version"].is_number_integer())
    return make_error(fmt::format("{}: not a crossload results.json (no integer \"schema_version\" at the top)", path));
  int v = doc["schema_version"].get<int>();
  if (v > kResultsSchemaVersion)
    return make_error(fmt::format("{}: results schema_version {} is newer than this crossload reads ({} to {}); "
                                  "use a newer crossload, or the one that wrote it",
                                  path, v, kOldestReadableResultsSchema, kResultsSchemaVersion));
  if (v < kOldestReadableResultsSchema)
    return make_error(fmt::format("{}: results schema_version {} is older than this crossload reads ({} to {}); "
                                  "re-render it with `crossload report --report json` from its results.db",
                                  path, v, kOldestReadableResultsSchema, kResultsSchemaVersion));
  return ok_status();
}

}  // namespace

namespace {

RunData head_from_json(const json& doc) {
  RunData d;
  const json run = doc.value("run", json::object());
  d.run = {run.value("id", int64_t{0}), str(run, "started_at"), str(run, "finished_at"), str(run, "matrix"),
           str(run, "matrix_sha256"), str(doc, "crossload_version"), str(run, "status")};
  for (const auto& e : doc.value("environments", json::array())) d.envs.push_back(env_from_json(e));
  for (const auto& a : doc.value("artifacts", json::array())) d.artifacts.push_back(artifact_from_json(a));
  return d;
}

// nlohmann's SAX events built into values, except that each element of the top-level "cells"
// array is handed to a callback once complete and dropped: the document minus its cells stays.
class CellsSax {
 public:
  using OnCell = std::function<bool(json&&, std::size_t index)>;
  explicit CellsSax(OnCell on_cell) : on_cell_(std::move(on_cell)) {}

  bool null() { return scalar(json(nullptr)); }
  bool boolean(bool v) { return scalar(json(v)); }
  bool number_integer(json::number_integer_t v) { return scalar(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return scalar(json(v)); }
  bool number_float(json::number_float_t v, const std::string&) { return scalar(json(v)); }
  bool string(std::string& v) { return scalar(json(std::move(v))); }
  bool binary(json::binary_t& v) { return scalar(json(std::move(v))); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool key(std::string& k) { key_ = std::move(k); return true; }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t position, const std::string&, const json::exception& e) {
    error_ = fmt::format("not valid JSON at byte {}: {}", position, e.what());
    return false;
  }

  json& document() { return doc_; }
  const std::string& error() const { return error_; }

 private:
  bool in_cells() const { return stack_.size() == 2 && stack_.back() == cells_; }

  // Where a new value goes: the root, a key of an object, the end of an array, or the cell slot.
  json* place(json value) {
    if (stack_.empty()) return &(doc_ = std::move(value));
    json& parent = *stack_.back();
    if (in_cells()) return &(cell_ = std::move(value));
    if (parent.is_object()) return &(parent[key_] = std::move(value));
    parent.push_back(std::move(value));
    return &parent.back();
  }
  bool scalar(json value) {
    bool cell = in_cells();
    place(std::move(value));
    return cell ? deliver() : true;
  }
  bool open(json value) {
    bool cells = stack_.size() == 1 && key_ == "cells" && doc_.is_object() && value.is_array();
    stack_.push_back(place(std::move(value)));
    if (cells) cells_ = stack_.back();
    return true;
  }
  bool close() {
    stack_.pop_back();
    return in_cells() ? deliver() : true;
  }
  bool deliver() {
    bool go_on = on_cell_(std::move(cell_), index_++);
    cell_ = json();
    return go_on;
  }

  OnCell on_cell_;
  json doc_, cell_;
  std::vector<json*> stack_;
  json* cells_ = nullptr;
  std::string key_, error_;
  std::size_t index_ = 0;
};

}  // namespace

Status stream_results_json(const std::string& path, const CellVisitor& visit, RunData* head) {
  std::vector<char> buffer(1 << 20);
  std::ifstream file;
  file.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  file.open(path, std::ios::binary);
  if (!file) return make_error(fmt::format("{}: cannot read (no such file?)", path));
  std::optional<Error> cell_error;  // the first; reported only if the schema is readable
  CellsSax sax([&](json&& j, std::size_t index) {
    if (cell_error) return true;  // read on to the schema_version, which outranks this error
    auto cell = cell_from_json(std::move(j), path, index);
    if (!cell) {
      cell_error = cell.error();
      return true;
    }
    if (auto st = visit(*cell); !st) {
      cell_error = st.error();
      return false;  // the visitor's error stops the reading
    }
    return true;
  });
  bool parsed = json::sax_parse(file, &sax);
  if (!parsed && sax.error().empty()) return *cell_error;  // the visitor stopped the reading
  if (!parsed) return make_error(fmt::format("{}: {}", path, sax.error()));
  if (auto st = check_schema(sax.document(), path); !st) return st;
  if (cell_error) return *cell_error;
  if (head) *head = head_from_json(sax.document());
  return ok_status();
}

Result<RunData> run_data_from_json(const json& doc, const std::string& path) {
  if (auto st = check_schema(doc, path); !st) return st.error();
  RunData d = head_from_json(doc);
  const json cells = doc.value("cells", json::array());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    auto c = cell_from_json(cells[i], path, i);
    if (!c) return c.error();
    d.cells.push_back(std::move(*c));
  }
  return d;
}

Result<RunData> read_results_json_data(const std::string& path) {
  RunData d;
  std::vector<CellRecord> cells;
  auto st = stream_results_json(path, [&](const CellRecord& c) { return cells.push_back(c), ok_status(); }, &d);
  if (!st) return st.error();
  d.cells = std::move(cells);
  return d;
}

}  // namespace crossload
