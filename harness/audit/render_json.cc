#include <fmt/format.h>

#include "harness/audit/render.h"

namespace crossload::audit {

nlohmann::json record_to_json(const InspectionRecord& r) {
  using nlohmann::json;
  json findings = json::array();
  for (const auto& f : r.findings)
    findings.push_back({{"severity", severity_name(f.severity)},
                        {"rule", rule_info(f.rule).id},
                        {"reason", f.reason},
                        {"offset", f.offset}});
  json arrays = json::array();
  for (const auto& a : r.arrays)
    arrays.push_back({{"dtype", a.dtype},
                      {"byte_order", a.byte_order},
                      {"shape", a.shape},
                      {"bytes", a.bytes},
                      {"offset", a.offset},
                      {"where", a.where}});
  json opsets = json::array();
  for (const auto& o : r.opsets) opsets.push_back({{"domain", o.domain}, {"version", o.version}});
  json operators = json::array();
  for (const auto& o : r.operators)
    operators.push_back({{"domain", o.domain}, {"op_type", o.op_type}, {"count", o.count}});
  return json{{"path", r.path},
              {"format", r.format},
              {"protocol", r.protocol ? json(*r.protocol) : json(nullptr)},
              {"compression", r.compression.empty() ? json(nullptr) : json(r.compression)},
              {"verdict", verdict_name(r.verdict)},
              {"findings", findings},
              {"globals", r.globals},
              {"arrays", arrays},
              {"versions", r.versions},
              {"opsets", opsets},
              {"operators", operators},
              {"external_data", r.external_data}};
}

namespace {

// `inspect --format json` writes the records directly: building the nlohmann tree of a forest
// with thousands of arrays cost more than scanning the file. The text is the same as
// record_to_json(...).dump(2) (keys in nlohmann's sorted order, its indentation and escaping),
// which render_test checks.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void string(std::string_view s) {
    if (plain(s)) {
      out_ += '"';
      out_ += s;
      out_ += '"';
    } else {  // escapes and non-UTF-8 bytes exactly as nlohmann does (replacement character)
      out_ += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  void number(std::uint64_t v) { fmt::format_to(std::back_inserter(out_), "{}", v); }
  void number(std::int64_t v) { fmt::format_to(std::back_inserter(out_), "{}", v); }
  void null() { out_ += "null"; }

  // A list of `n` items, item(i) writing each one.
  template <class Item>
  void list(std::size_t n, Item item) {
    if (n == 0) {
      out_ += "[]";
      return;
    }
    out_ += '[';
    ++depth_;
    for (std::size_t i = 0; i < n; ++i) {
      if (i) out_ += ',';
      newline();
      item(i);
    }
    --depth_;
    newline();
    out_ += ']';
  }

  void open() {
    out_ += '{';
    ++depth_;
    first_ = true;
  }
  void key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    newline();
    string(k);
    out_ += ": ";
  }
  void close() {
    --depth_;
    newline();
    out_ += '}';
    first_ = false;
  }

  void strings(const std::vector<std::string>& v) {
    list(v.size(), [&](std::size_t i) { string(v[i]); });
  }

 private:
  static bool plain(std::string_view s) {
    for (char c : s) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x80 || c == '"' || c == '\\') return false;
    }
    return true;
  }
  void newline() {
    out_ += '\n';
    out_.append(static_cast<std::size_t>(depth_) * 2, ' ');
  }

  std::string& out_;
  int depth_ = 0;
  bool first_ = true;
};

void write_finding(Writer& w, const Finding& f) {
  w.open();
  w.key("offset"), w.number(f.offset);
  w.key("reason"), w.string(f.reason);
  w.key("rule"), w.string(rule_info(f.rule).id);
  w.key("severity"), w.string(severity_name(f.severity));
  w.close();
}

void write_array(Writer& w, const ArrayInfo& a) {
  w.open();
  w.key("byte_order"), w.string(a.byte_order);
  w.key("bytes"), w.number(a.bytes);
  w.key("dtype"), w.string(a.dtype);
  w.key("offset"), w.number(a.offset);
  w.key("shape"), w.list(a.shape.size(), [&](std::size_t i) { w.number(a.shape[i]); });
  w.key("where"), w.string(a.where);
  w.close();
}

void write_record(Writer& w, const InspectionRecord& r) {
  w.open();  // keys in the order nlohmann's std::map gives them
  w.key("arrays"), w.list(r.arrays.size(), [&](std::size_t i) { write_array(w, r.arrays[i]); });
  w.key("compression");
  r.compression.empty() ? w.null() : w.string(r.compression);
  w.key("external_data"), w.strings(r.external_data);
  w.key("findings"), w.list(r.findings.size(), [&](std::size_t i) { write_finding(w, r.findings[i]); });
  w.key("format"), w.string(r.format);
  w.key("globals"), w.strings(r.globals);
  w.key("operators"), w.list(r.operators.size(), [&](std::size_t i) {
    const auto& o = r.operators[i];
    w.open();
    w.key("count"), w.number(o.count);
    w.key("domain"), w.string(o.domain);
    w.key("op_type"), w.string(o.op_type);
    w.close();
  });
  w.key("opsets"), w.list(r.opsets.size(), [&](std::size_t i) {
    w.open();
    w.key("domain"), w.string(r.opsets[i].domain);
    w.key("version"), w.number(r.opsets[i].version);
    w.close();
  });
  w.key("path"), w.string(r.path);
  w.key("protocol");
  r.protocol ? w.number(*r.protocol) : w.null();
  w.key("verdict"), w.string(verdict_name(r.verdict));
  w.key("versions"), w.strings(r.versions);
  w.close();
}

}  // namespace

std::string render_json(const std::vector<InspectionRecord>& records) {
  std::string out;
  Writer w(out);
  w.list(records.size(), [&](std::size_t i) { write_record(w, records[i]); });
  return out + "\n";
}

}  // namespace crossload::audit
