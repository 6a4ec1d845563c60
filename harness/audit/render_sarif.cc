#include "harness/audit/render.h"

namespace crossload::audit {

namespace {

using nlohmann::json;

std::string_view level_of(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kNote: return "note";
  }
  return "error";
}

Severity default_severity(Rule r) {
  switch (r) {
    case Rule::kUntrustedGlobal: case Rule::kAttributeTraversal: case Rule::kUntrustedCall:
    case Rule::kCodeObject: case Rule::kDynamicClass: case Rule::kLoaderDefined:
    case Rule::kCustomOperator: case Rule::kAnomaly:
      return Severity::kWarning;
    case Rule::kNestedPickle:
      return Severity::kNote;
    default:
      return Severity::kError;
  }
}

json rules_json() {
  json rules = json::array();
  for (const auto& r : all_rules())
    rules.push_back({{"id", r.id},
                     {"name", r.name},
                     {"shortDescription", {{"text", r.help}}},
                     {"defaultConfiguration", {{"level", level_of(default_severity(r.rule))}}}});
  return rules;
}

json location(const std::string& path, std::uint64_t offset) {
  return {{"physicalLocation",
           {{"artifactLocation", {{"uri", path}}},
            {"region", {{"byteOffset", offset}, {"byteLength", 1}}}}}};
}

json result_json(const InspectionRecord& r, const Finding& f) {
  const RuleInfo& rule = rule_info(f.rule);
  return {{"ruleId", rule.id},
          {"ruleIndex", static_cast<int>(f.rule)},
          {"level", level_of(f.severity)},
          {"message", {{"text", f.reason}}},
          {"locations", json::array({location(r.path, f.offset)})},
          {"properties", {{"verdict", verdict_name(r.verdict)}, {"format", r.format}}}};
}

}  // namespace

std::string render_sarif(const std::vector<InspectionRecord>& records,
                         const std::vector<InspectError>& errors) {
  json artifacts = json::array();
  json results = json::array();
  for (const auto& r : records) {
    artifacts.push_back({{"location", {{"uri", r.path}}},
                         {"properties", {{"format", r.format},
                                         {"verdict", verdict_name(r.verdict)}}}});
    for (const auto& f : r.findings) results.push_back(result_json(r, f));
  }
  json notifications = json::array();
  for (const auto& e : errors)
    notifications.push_back({{"level", "error"},
                             {"message", {{"text", e.message}}},
                             {"locations", json::array({location(e.path, 0)})}});
  json run = {
      {"tool",
       {{"driver",
         {{"name", "crossload"},
          {"version", CROSSLOAD_VERSION},
          {"rules", rules_json()}}}}},
      {"artifacts", artifacts},
      {"results", results},
      {"invocations",
       json::array({{{"executionSuccessful", errors.empty()},
                     {"toolExecutionNotifications", notifications}}})}};
  json sarif = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                {"version", "2.1.0"},
                {"runs", json::array({run})}};
  return sarif.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace crossload::audit
