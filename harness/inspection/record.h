#pragma once
// The inspection record: what a static audit learned about one artifact without loading it.
// It is the contract of `crossload inspect --format json` (see ARCHITECTURE.md, "Records").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crossload::audit {

// Ordered from best to worst, so the verdict of a file is the max over its findings.
enum class Verdict { kSafe, kUntrusted, kUnsafe };

// kNote informs, kWarning makes a file UNTRUSTED, kError makes it UNSAFE.
enum class Severity { kNote, kWarning, kError };

// Stable identifiers of what a finding is about; SARIF publishes them as rules.
enum class Rule {
  kDangerousGlobal,    // a known-dangerous import (code execution, process, file, network...)
  kUntrustedGlobal,    // an import outside the trusted set
  kUnresolvedGlobal,   // a global whose name is computed at load time
  kAttributeTraversal, // a dotted global name walking attributes (proto >= 4 getattr chains)
  kUntrustedCall,      // a trusted-only-with-constant-arguments callable used otherwise
  kCodeObject,         // by-value Python code (cloudpickle functions, code objects)
  kLoadTimeCode,       // by-value code that runs during the load itself
  kDynamicClass,       // a class defined by value in the file
  kBuildOnCallable,    // BUILD setting attributes of an imported class/function/module
  kLoaderDefined,      // persistent ids, extension registry, out-of-band buffers
  kResource,           // memory/decompression exhaustion
  kPathEscape,         // a referenced file outside the artifact's directory
  kCustomOperator,     // an ONNX operator outside the standard domains
  kDangerousOperator,  // an ONNX operator that calls back into Python
  kNestedPickle,       // a pickle inside the artifact (scanned too)
  kAnomaly,            // a structural oddity that a loader may reject or mis-handle
  kTruncatedAfterUnsafe,  // parsing stopped, but what came before is already unsafe
};

struct RuleInfo {
  Rule rule;
  std::string_view id;    // e.g. "CL100"
  std::string_view name;  // e.g. "dangerous-global"
  std::string_view help;
};
const RuleInfo& rule_info(Rule rule);
const std::vector<RuleInfo>& all_rules();

struct Finding {
  Severity severity = Severity::kNote;
  Rule rule = Rule::kAnomaly;
  std::string reason;
  std::uint64_t offset = 0;  // byte offset in the file (or in the decompressed stream/member)
};

struct ArrayInfo {
  std::string dtype;       // numpy type code without byte order: "f8", "i8", "V64", "O8", "U10"
  std::string byte_order;  // "little", "big", "not-applicable", "native", "mixed", "unknown"
  std::vector<std::uint64_t> shape;
  std::uint64_t bytes = 0;   // payload bytes stored in the file
  std::uint64_t offset = 0;  // where the payload starts
  std::string where;         // how it is stored: "pickle", "joblib", "npy:<member>", "onnx:<name>"
};

struct OpsetImport {
  std::string domain;
  std::int64_t version = 0;
};

struct OperatorUse {
  std::string domain;
  std::string op_type;
  std::uint64_t count = 0;
};

struct InspectionRecord {
  std::string path;
  std::string format;  // pickle | joblib | cloudpickle | skops | onnx | npy | npz
  // The format's own version number: pickle protocol, skops protocol, ONNX ir_version,
  // .npy major version. Absent when the file does not say.
  std::optional<std::int64_t> protocol;
  std::string compression;  // joblib: zlib | gzip | bz2 | lzma | xz | lz4; empty if none
  Verdict verdict = Verdict::kSafe;
  std::vector<Finding> findings;
  std::vector<std::string> globals;  // what it would import, first appearance order, unique
  std::vector<ArrayInfo> arrays;
  std::vector<std::string> versions;  // _sklearn_version values, unique
  std::vector<OpsetImport> opsets;    // ONNX only
  std::vector<OperatorUse> operators;  // ONNX only
  std::vector<std::string> external_data;  // ONNX only: referenced files
  // By-value code (cloudpickle): the Python versions whose types.CodeType takes the argument
  // list the file passes ("3.8-3.10": 16 arguments; "3.11+": 18). Bytecode is only valid in the
  // Python minor that compiled it, so this is a fact the forecast reasons over.
  std::vector<std::string> code_pythons;

  void add_finding(Severity severity, Rule rule, std::string reason, std::uint64_t offset);
  void add_global(std::string_view name);
  void add_version(std::string_view version);
  // Sets `verdict` from the findings: any error is UNSAFE, any warning UNTRUSTED.
  void settle_verdict();
};

std::string_view verdict_name(Verdict v);
std::string_view severity_name(Severity s);
Severity worst_severity(const std::vector<Finding>& findings);

}  // namespace crossload::audit
