#include "harness/audit/gate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "harness/audit/inspect.h"
#include "harness/audit/render.h"

namespace crossload::audit {

namespace {

using json = nlohmann::json;

std::string clip(const std::string& s, std::size_t limit) {
  if (s.size() <= limit) return s;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;  // whole UTF-8 characters
  return s.substr(0, end) + "...";
}

int severity_rank(const json& finding) {
  std::string s = finding.value("severity", std::string());
  return s == "error" ? 0 : s == "warning" ? 1 : 2;
}

// Keeps the first `limit` items of `list` (all of them when they fit); counts the rest.
void keep_first(json& record, const char* key, std::size_t limit, json& omitted) {
  json& list = record[key];
  if (!list.is_array() || list.size() <= limit) return;
  omitted[key] = list.size() - limit;
  list.erase(list.begin() + static_cast<std::ptrdiff_t>(limit), list.end());
}

void trim(json& record, const ManifestBounds& b) {
  json omitted = json::object();
  json& findings = record["findings"];
  if (findings.size() > b.findings)  // a refusal must keep its reason: errors first
    std::stable_sort(findings.begin(), findings.end(),
                     [](const json& x, const json& y) { return severity_rank(x) < severity_rank(y); });
  keep_first(record, "findings", b.findings, omitted);
  keep_first(record, "globals", b.globals, omitted);
  keep_first(record, "arrays", b.arrays, omitted);
  keep_first(record, "operators", b.operators, omitted);
  for (auto& f : findings) f["reason"] = clip(f.value("reason", std::string()), b.text);
  for (auto& g : record["globals"]) g = clip(g.get<std::string>(), b.text);
  if (!omitted.empty()) record["omitted"] = omitted;
}

// A hostile file can name things in bytes that are not UTF-8; the manifest must stay valid JSON.
json valid_utf8(const json& j) {
  return json::parse(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

// Parse errors read "<path>: offset N: ..." (inspect.h); the offset, when there is one.
std::optional<std::uint64_t> offset_in(const std::string& message) {
  std::size_t at = message.find("offset ");
  if (at == std::string::npos) return std::nullopt;
  at += 7;
  std::size_t end = at;
  while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
  if (end == at) return std::nullopt;
  return std::stoull(message.substr(at, end - at));
}

}  // namespace

json audit_for_manifest(const std::string& path, const Policy& policy, const ManifestBounds& bounds) {
  auto rec = inspect_file(path, policy);
  if (!rec) {
    json failed = {{"path", path}, {"verdict", verdict_name(Verdict::kUnsafe)},
                   {"error", clip(rec.error().message, bounds.text)},
                   {"findings", json::array({{{"severity", "error"},
                                             {"rule", ""},
                                             {"reason", "the audit could not parse the file, and unknown is never safe: " +
                                                            clip(rec.error().message, bounds.text)},
                                             {"offset", offset_in(rec.error().message).value_or(0)}}})}};
    return valid_utf8(failed);
  }
  json record = record_to_json(*rec);
  trim(record, bounds);
  return valid_utf8(record);
}

std::optional<Refusal> refusal(const json& audit) {
  if (!audit.is_object() || !audit.contains("verdict") || !audit["verdict"].is_string())
    return Refusal{"the artifact carries no audit record, and unknown is never safe", "", 0, false};
  if (audit.contains("error") && audit["error"].is_string()) {
    std::string message = audit["error"].get<std::string>();
    auto at = offset_in(message);
    return Refusal{"the audit could not parse it: " + message, "", at.value_or(0), at.has_value()};
  }
  std::string verdict = audit["verdict"].get<std::string>();
  if (verdict == verdict_name(Verdict::kSafe) || verdict == verdict_name(Verdict::kUntrusted)) return std::nullopt;
  for (const auto& f : audit.value("findings", json::array())) {
    if (!f.is_object() || f.value("severity", std::string()) != "error") continue;
    return Refusal{f.value("reason", std::string()), f.value("rule", std::string()),
                   f.value("offset", std::uint64_t{0}), f.contains("offset")};
  }
  return Refusal{fmt::format("the audit's verdict is {}", verdict), "", 0, false};
}

}  // namespace crossload::audit
