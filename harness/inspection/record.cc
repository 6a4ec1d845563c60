#include "harness/inspection/record.h"

#include <algorithm>

namespace crossload::audit {

namespace {

// One line per rule; the order of the enum and of this table must agree.
const std::vector<RuleInfo>& rule_table() {
  static const std::vector<RuleInfo> kRules{
      {Rule::kDangerousGlobal, "CL100", "dangerous-global",
       "Imports a callable known to execute code, spawn processes, touch files or the network, "
       "or reach the import machinery."},
      {Rule::kUntrustedGlobal, "CL101", "untrusted-global",
       "Imports a type or function outside the trusted set; add it to a --trust file once "
       "reviewed."},
      {Rule::kUnresolvedGlobal, "CL102", "unresolved-global",
       "The module or name of an import is computed while loading, so it cannot be checked."},
      {Rule::kAttributeTraversal, "CL103", "attribute-traversal",
       "A dotted global name walks attributes from a module to reach another object."},
      {Rule::kUntrustedCall, "CL104", "untrusted-call",
       "A callable that is only trusted with constant, known arguments is called otherwise."},
      {Rule::kCodeObject, "CL110", "code-object",
       "Contains Python bytecode (a by-value function): it runs whenever it is called."},
      {Rule::kLoadTimeCode, "CL111", "load-time-code",
       "By-value code is called while the file is loaded."},
      {Rule::kDynamicClass, "CL112", "dynamic-class",
       "Defines a class by value; its methods are code from the file."},
      {Rule::kBuildOnCallable, "CL120", "build-on-callable",
       "BUILD sets attributes on an imported class, function or module."},
      {Rule::kLoaderDefined, "CL130", "loader-defined",
       "Depends on the loading program (persistent ids, copyreg extensions, out-of-band "
       "buffers)."},
      {Rule::kResource, "CL140", "resource-exhaustion",
       "Declares sizes that would exhaust memory or disk when loaded."},
      {Rule::kPathEscape, "CL150", "path-escape",
       "Refers to a file outside the artifact's own directory."},
      {Rule::kCustomOperator, "CL160", "custom-operator",
       "Uses an ONNX operator domain that needs a custom native library."},
      {Rule::kDangerousOperator, "CL161", "dangerous-operator",
       "Uses an ONNX operator that calls back into Python or the file system."},
      {Rule::kNestedPickle, "CL170", "nested-pickle",
       "Carries a pickle inside the artifact (it was scanned as well)."},
      {Rule::kAnomaly, "CL190", "anomaly",
       "A structural oddity (size mismatch, trailing data) that a loader may reject."},
      {Rule::kTruncatedAfterUnsafe, "CL191", "unsafe-before-error",
       "The file stops parsing, but what precedes the error is already unsafe to load."},
  };
  return kRules;
}

}  // namespace

const std::vector<RuleInfo>& all_rules() { return rule_table(); }

const RuleInfo& rule_info(Rule rule) { return rule_table()[static_cast<std::size_t>(rule)]; }

namespace {
// Hostile files can repeat a construct millions of times; the record stays small and the
// verdict stays right (a finding worse than all kept ones is always kept).
constexpr std::size_t kMaxFindings = 1000;
constexpr std::size_t kMaxGlobals = 10000;
constexpr std::size_t kMaxVersions = 100;
constexpr std::size_t kDedupWindow = 32;
}  // namespace

void InspectionRecord::add_finding(Severity severity, Rule rule, std::string reason,
                                   std::uint64_t offset) {
  // The same reason at the same place says nothing new (memoized objects are re-visited).
  std::size_t from = findings.size() > kDedupWindow ? findings.size() - kDedupWindow : 0;
  for (std::size_t i = from; i < findings.size(); ++i) {
    const auto& f = findings[i];
    if (f.rule == rule && f.offset == offset && f.reason == reason) return;
  }
  if (findings.size() >= kMaxFindings && severity <= worst_severity(findings)) return;
  findings.push_back(Finding{severity, rule, std::move(reason), offset});
}

void InspectionRecord::add_global(std::string_view name) {
  if (globals.size() >= kMaxGlobals) return;
  if (std::find(globals.begin(), globals.end(), name) == globals.end())
    globals.emplace_back(name);
}

void InspectionRecord::add_version(std::string_view version) {
  if (versions.size() >= kMaxVersions) return;
  if (std::find(versions.begin(), versions.end(), version) == versions.end())
    versions.emplace_back(version);
}

Severity worst_severity(const std::vector<Finding>& findings) {
  Severity worst = Severity::kNote;
  for (const auto& f : findings) worst = std::max(worst, f.severity);
  return worst;
}

void InspectionRecord::settle_verdict() {
  switch (worst_severity(findings)) {
    case Severity::kError: verdict = Verdict::kUnsafe; break;
    case Severity::kWarning: verdict = Verdict::kUntrusted; break;
    case Severity::kNote: verdict = Verdict::kSafe; break;
  }
}

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kSafe: return "SAFE";
    case Verdict::kUntrusted: return "UNTRUSTED";
    case Verdict::kUnsafe: return "UNSAFE";
  }
  return "UNSAFE";
}

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kNote: return "note";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "error";
}

}  // namespace crossload::audit
