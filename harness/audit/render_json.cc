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

std::string render_json(const std::vector<InspectionRecord>& records) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : records) out.push_back(record_to_json(r));
  // Replacement keeps hostile, non-UTF-8 names printable instead of throwing.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace crossload::audit
