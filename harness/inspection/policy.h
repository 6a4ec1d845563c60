#pragma once
// The trust policy: which imports a model file may make. Two explicit tables (policy.cc):
// the dangerous set (code execution, processes, files, network, import machinery, code
// objects...) always wins; the trusted set covers what scikit-learn, numpy and scipy models
// need. Everything else is untrusted: unknown is never safe. A user trust file extends the
// trusted set but can never trust a dangerous name.
#include <string>
#include <string_view>
#include <vector>

#include "harness/inspection/record.h"
#include "harness/util/result.h"

namespace crossload::audit {

enum class Trust { kTrusted, kUntrusted, kDangerous };

struct Classification {
  Trust trust = Trust::kUntrusted;
  std::string category;  // for dangerous names: "process", "code execution", ...
};

// Python 2 names as Python 3's unpickler maps them (pickle protocols < 3, fix_imports).
struct QualifiedName {
  std::string module;
  std::string name;
  std::string joined() const { return module.empty() ? name : module + "." + name; }
};
QualifiedName map_python2_name(std::string_view module, std::string_view name);

class Policy {
 public:
  // The built-in tables only.
  Policy() = default;

  // Reads a trust file: one entry per line, `module.name` for one name or `module.*` for every
  // name of a module (not its submodules); `#` starts a comment. Errors name the file and line.
  Status add_trust_file(const std::string& path);
  // Adds one entry of the same form; returns an error for a malformed entry.
  Status trust(std::string_view entry);

  // Classifies the import of `name` from `module`, after Python 2 name mapping. Dotted names
  // (attribute paths) are trusted only when listed whole.
  Classification classify(std::string_view module, std::string_view name) const;
  // True when `name` is a dangerous module itself (for import-by-name helpers).
  Classification classify_module(std::string_view module) const;

  // A name that by-value code (a code object's co_names, or a string constant) uses: dangerous
  // when it reaches process, file, network, import or eval machinery (os, system, eval, open,
  // __import__, socket, importlib, __globals__...). co_names mixes globals and attribute names,
  // so a method called `open` counts as much as the builtin: by-value code is never trusted.
  Classification classify_code_name(std::string_view name) const;

  // ONNX: standard domains are trusted; anything else needs a native library.
  bool onnx_domain_trusted(std::string_view domain) const;
  // ONNX operators that call back into Python or touch files: (domain, op_type).
  bool onnx_operator_dangerous(std::string_view domain, std::string_view op_type) const;

 private:
  bool user_trusted(std::string_view module, std::string_view name) const;
  std::vector<std::string> user_exact_;
  std::vector<std::string> user_modules_;  // from `module.*`
};

// The tables themselves, exposed for documentation and tests.
struct DangerEntry {
  std::string_view module;
  std::string_view name;  // "*" means the module and all its submodules
  std::string_view category;
};
const std::vector<DangerEntry>& dangerous_table();

}  // namespace crossload::audit
