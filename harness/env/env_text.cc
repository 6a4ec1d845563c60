#include "harness/env/env_text.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <utility>

#include "harness/env/debian_provider.h"
#include "harness/util/text.h"

namespace crossload {

namespace fs = std::filesystem;

namespace {

constexpr std::array<std::string_view, 4> kKinds{"debian:", "pip:", "python:", "requirements:"};

constexpr const char* kForms =
    "debian:SUITE/ARCH, pip:PKG==V,PKG==V[@3.11][/ARCH], python:/path/to/python, requirements:FILE[@3.11][/ARCH]";

// Which Debian suite's python3 is which version (measured on the archive this project uses).
const std::vector<std::pair<std::string, std::string>> kSuitePythons{
    {"3.9", "bullseye"}, {"3.11", "bookworm"}, {"3.13", "trixie"}, {"3.14", "sid"}};

Error bad(const std::string& text, const std::string& problem) {
  return make_error(fmt::format("--env {}: {} (forms: {})", text, problem, kForms));
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// The optional `@X.Y` and `/ARCH` at the end of a pip or requirements spec, taken off `body`.
struct Suffixes {
  std::string python, arch;
};

// A file path may end in a word that is no CPU ("requirements:ci/requirements"): with
// `path_body` only a known architecture counts as one.
Result<Suffixes> take_suffixes(const std::string& text, std::string& body, bool path_body) {
  Suffixes s;
  static const std::regex arch_re(R"(/([a-z0-9]+)$)");
  static const std::regex python_re(R"(@(\d+\.\d+)$)");
  std::smatch m;
  if (std::regex_search(body, m, arch_re)) {
    auto arch = find_debian_arch(m[1]);
    if (!arch && !path_body) return bad(text, arch.error().message);
    if (arch) {
      s.arch = m[1];
      body.erase(static_cast<std::size_t>(m.position(0)));
    }
  }
  if (std::regex_search(body, m, python_re)) {
    s.python = m[1];
    body.erase(static_cast<std::size_t>(m.position(0)));
  }
  return s;
}

// "numpy>=1.24,<2,scipy==1.11.4" -> {"numpy>=1.24,<2", "scipy==1.11.4"}: a comma starts a new
// requirement only where a package name follows.
std::vector<std::string> split_requirements(const std::string& body) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= body.size(); ++i) {
    bool end = i == body.size();
    if (!end && !(body[i] == ',' && i + 1 < body.size() && std::isalpha(static_cast<unsigned char>(body[i + 1]))))
      continue;
    if (auto r = trim(body.substr(start, i - start)); !r.empty()) out.push_back(r);
    start = i + 1;
  }
  return out;
}

// Python X.Y for a pip environment: on the host, the interpreter named python3.X.Y (found on PATH
// or pyenv, else from the Debian suite with that python3); with an arch, the suite whose python3
// it is.
Status apply_pip_suffixes(const std::string& text, const Suffixes& s, EnvSpec& e) {
  if (!s.arch.empty()) {
    e.arch = s.arch;
    e.suite = "bookworm";  // as a matrix table's default
    if (!s.python.empty()) {
      auto suite = suite_for_python(s.python);
      if (!suite) return bad(text, suite.error().message);
      e.suite = *suite;
    }
    return ok_status();
  }
  e.python = s.python.empty() ? "python3" : "python" + s.python;
  return ok_status();
}

Result<EnvSpec> parse_debian(const std::string& text, const std::string& body) {
  auto slash = body.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == body.size())
    return bad(text, "a Debian environment is SUITE/ARCH, e.g. debian:bookworm/s390x");
  EnvSpec e;
  e.provider = "debian";
  e.suite = body.substr(0, slash);
  e.arch = body.substr(slash + 1);
  if (auto arch = find_debian_arch(e.arch); !arch) return bad(text, arch.error().message);
  e.pip = suite_pure_wheels(e.suite);
  return e;
}

Result<EnvSpec> parse_pip(const std::string& text, std::string body) {
  auto suffixes = take_suffixes(text, body, false);
  if (!suffixes) return suffixes.error();
  EnvSpec e;
  e.provider = "pip";
  e.pip = split_requirements(body);
  if (e.pip.empty()) return bad(text, "no requirement given, e.g. pip:scikit-learn==1.5.2");
  if (auto st = apply_pip_suffixes(text, *suffixes, e); !st) return st.error();
  return e;
}

Result<EnvSpec> parse_requirements(const std::string& text, std::string body) {
  auto suffixes = take_suffixes(text, body, true);
  if (!suffixes) return suffixes.error();
  auto reqs = read_requirements(body);
  if (!reqs) return bad(text, reqs.error().message);
  if (reqs->pins.empty()) return bad(text, body + ": no requirement in the file");
  if (suffixes->python.empty()) suffixes->python = reqs->python;
  EnvSpec e;
  e.provider = "pip";
  e.pip = reqs->pins;
  if (auto st = apply_pip_suffixes(text, *suffixes, e); !st) return st.error();
  return e;
}

Result<EnvSpec> parse_python(const std::string& text, const std::string& body) {
  if (body.empty()) return bad(text, "no interpreter given, e.g. python:/opt/venv/bin/python");
  EnvSpec e;
  e.provider = "host";
  // A relative path is relative to where the command runs, made absolute for the workers.
  e.python = body.find('/') == std::string::npos ? body : fs::absolute(body).lexically_normal().string();
  return e;
}

// `python_version == "3.11"` (or ===) in a marker: the version the file was frozen for.
std::string marker_python(const std::string& marker) {
  static const std::regex re(R"re(python_version\s*===?\s*["'](\d+\.\d+)["'])re");
  std::smatch m;
  return std::regex_search(marker, m, re) ? std::string(m[1]) : "";
}

// One logical line of a requirements file: its requirement (without hashes and comment) or "".
std::string requirement_of(std::string line) {
  if (auto hash = line.find(" #"); hash != std::string::npos) line.erase(hash);
  if (starts_with(trim(line), "#")) return "";
  static const std::regex hashes(R"(\s--hash[= ]\S+)");
  line = trim(std::regex_replace(line, hashes, ""));
  if (line.empty() || line[0] == '-') return "";  // options (-r, -c, --index-url ...) are not pins
  return line;
}

}  // namespace

bool is_env_text(const std::string& name) {
  for (auto kind : kKinds)
    if (starts_with(name, kind)) return true;
  return false;
}

Result<EnvSpec> parse_env_text(const std::string& text) {
  Result<EnvSpec> e = bad(text, "unknown kind of environment");
  if (starts_with(text, "debian:")) e = parse_debian(text, text.substr(7));
  else if (starts_with(text, "pip:")) e = parse_pip(text, text.substr(4));
  else if (starts_with(text, "python:")) e = parse_python(text, text.substr(7));
  else if (starts_with(text, "requirements:")) e = parse_requirements(text, text.substr(13));
  if (!e) return e;
  e->name = text;
  e->origin = "--env " + text;
  return e;
}

std::vector<std::string> suite_pure_wheels(const std::string& suite) {
  // skl2onnx 1.16 imports with bookworm's onnx 1.12; 1.19.1 with trixie's; sid takes the newest.
  if (suite == "bookworm") return {"skops", "skl2onnx==1.16.0", "onnxconverter-common==1.13.0"};
  if (suite == "trixie") return {"skops", "skl2onnx==1.19.1"};
  if (suite == "sid") return {"skops", "skl2onnx"};
  return {};
}

Result<std::string> suite_for_python(const std::string& major_minor) {
  std::vector<std::string> known;
  for (const auto& [version, suite] : kSuitePythons) {
    if (version == major_minor) return suite;
    known.push_back(fmt::format("{} ({})", version, suite));
  }
  return make_error(fmt::format("no Debian suite has Python {} (those with a python3: {})", major_minor,
                                join(known, ", ")));
}

Result<Requirements> read_requirements(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(fmt::format("{}: cannot read the requirements file", path));
  Requirements r;
  std::string logical;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\\') {  // a continued line (pip-compile's hashes)
      logical += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    std::string req = requirement_of(logical + line);
    logical.clear();
    if (req.empty()) continue;
    if (auto semi = req.find(';'); semi != std::string::npos) {
      std::string version = marker_python(req.substr(semi + 1));
      if (!version.empty() && !r.python.empty() && version != r.python)
        return make_error(fmt::format("{}: markers ask for Python {} and {}", path, r.python, version));
      if (!version.empty()) r.python = version;
    }
    r.pins.push_back(req);
  }
  return r;
}

}  // namespace crossload
