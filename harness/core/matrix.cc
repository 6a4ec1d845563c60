#include "harness/core/matrix.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>
#include <toml++/toml.h>

#include "harness/env/env_text.h"
#include "harness/env/provider.h"
#include "harness/util/text.h"

namespace crossload {

namespace fs = std::filesystem;

namespace {

// Every key a table may hold: an unknown key is an error with a suggestion, not silence.
const std::vector<std::string> kMatrixKeys{"name",      "description",  "fixtures",        "formats",
                                           "producers", "consumers",    "cell_timeout",    "memory_limit_mb",
                                           "cpu_limit"};
const std::vector<std::string> kEnvKeys{"provider", "python", "suite", "arch", "packages", "pip", "native_onnx", "qemu"};

std::string where(const std::string& path, const toml::node& node) {
  return fmt::format("{}:{}", path, node.source().begin.line);
}

Error key_error(const std::string& path, const toml::node& node, const std::string& table,
                const std::string& key, const std::string& problem) {
  return make_error(fmt::format("{}: [{}] {}: {}", where(path, node), table, key, problem));
}

Status check_keys(const std::string& path, const toml::table& table, const std::string& name,
                  const std::vector<std::string>& allowed) {
  for (const auto& [k, v] : table) {
    std::string key(k.str());
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string hint = did_you_mean(key, allowed);
    return key_error(path, v, name, key, "unknown key" + hint);
  }
  return ok_status();
}

Result<std::string> get_string(const std::string& path, const toml::table& t, const std::string& table,
                               const std::string& key, bool required) {
  const toml::node* n = t.get(key);
  if (!n) {
    if (!required) return std::string{};
    return make_error(fmt::format("{}:{}: [{}] {}: missing (required)", path,
                                  t.source().begin.line, table, key));
  }
  if (auto s = n->value<std::string>()) return *s;
  return key_error(path, *n, table, key, "must be a string");
}

Result<std::vector<std::string>> get_strings(const std::string& path, const toml::table& t,
                                             const std::string& table, const std::string& key) {
  std::vector<std::string> out;
  const toml::node* n = t.get(key);
  if (!n) return out;
  const toml::array* arr = n->as_array();
  if (!arr) return key_error(path, *n, table, key, "must be a list of strings");
  for (const auto& item : *arr) {
    auto s = item.value<std::string>();
    if (!s) return key_error(path, item, table, key, "must be a list of strings");
    out.push_back(*s);
  }
  return out;
}

// A positive, finite number up to `max` under [matrix]; `out` keeps its default when the key is absent.
Status get_positive(const std::string& path, const toml::table& t, const std::string& key, const std::string& unit,
                    double max, double& out) {
  const toml::node* n = t.get(key);
  if (!n) return ok_status();
  auto v = n->value<double>();
  if (!v || !(*v > 0) || !std::isfinite(*v) || *v > max)
    return key_error(path, *n, "matrix", key, fmt::format("must be a positive number of {}, at most {}", unit, max));
  out = *v;
  return ok_status();
}

// Remembers where each list came from, so "matches nothing" can name the line (plan.cc).
void note_list_origins(const std::string& path, const toml::table& t, Matrix& m) {
  for (const char* key : {"fixtures", "formats", "producers", "consumers"}) {
    const toml::node* n = t.get(key);
    m.list_origin[key] = fmt::format("{}: [matrix] {}", n ? where(path, *n) : where(path, t), key);
  }
}

Status fill_matrix_table(const std::string& path, const toml::table& t, Matrix& m) {
  if (auto st = check_keys(path, t, "matrix", kMatrixKeys); !st) return st.error();
  auto name = get_string(path, t, "matrix", "name", false);
  auto desc = get_string(path, t, "matrix", "description", false);
  auto fixtures = get_strings(path, t, "matrix", "fixtures");
  auto formats = get_strings(path, t, "matrix", "formats");
  auto producers = get_strings(path, t, "matrix", "producers");
  auto consumers = get_strings(path, t, "matrix", "consumers");
  for (const Error* e : {name ? nullptr : &name.error(), desc ? nullptr : &desc.error(),
                         fixtures ? nullptr : &fixtures.error(), formats ? nullptr : &formats.error(),
                         producers ? nullptr : &producers.error(),
                         consumers ? nullptr : &consumers.error()})
    if (e) return *e;
  m.name = *name;
  m.description = *desc;
  m.fixtures = fixtures->empty() ? std::vector<std::string>{"*"} : *fixtures;
  m.formats = formats->empty() ? std::vector<std::string>{"*"} : *formats;
  m.producers = *producers;
  m.consumers = *consumers;
  note_list_origins(path, t, m);
  for (auto [key, field, unit, max] :
       {std::tuple{"cell_timeout", &m.cell_timeout_seconds, "seconds", kMaxLimitSeconds},
        std::tuple{"memory_limit_mb", &m.memory_limit_mb, "MiB", kMaxMemoryLimitMb}})
    if (auto st = get_positive(path, t, key, unit, max, *field); !st) return st.error();
  // CPU time can only exceed wall time with threads; by default it is bounded like the wall.
  m.cpu_limit_seconds = m.cell_timeout_seconds;
  return get_positive(path, t, "cpu_limit", "seconds", kMaxLimitSeconds, m.cpu_limit_seconds);
}

// Relative interpreter paths are relative to the matrix file, as in most build tools.
std::string resolve_python(const std::string& matrix_path, const std::string& python) {
  if (python.empty() || python.find('/') == std::string::npos || fs::path(python).is_absolute())
    return python;
  return (fs::absolute(matrix_path).parent_path() / python).lexically_normal().string();
}

Result<EnvSpec> parse_env(const std::string& path, const std::string& name, const toml::node& node) {
  std::string table = "env." + name;
  const toml::table* t = node.as_table();
  if (!t) return key_error(path, node, "env", name, "must be a table");
  if (auto st = check_keys(path, *t, table, kEnvKeys); !st) return st.error();
  EnvSpec e;
  e.name = name;
  e.origin = where(path, node);
  auto provider = get_string(path, *t, table, "provider", true);
  if (!provider) return provider.error();
  e.provider = *provider;
  if (!make_provider(e.provider)) {
    return key_error(path, *t->get("provider"), table, "provider",
                     fmt::format("unknown provider '{}' (known: {})", e.provider,
                                 join(provider_names(), ", ")));
  }
  for (auto [key, field] : {std::pair{"python", &e.python}, std::pair{"suite", &e.suite},
                            std::pair{"arch", &e.arch}, std::pair{"qemu", &e.qemu}}) {
    auto v = get_string(path, *t, table, key, false);
    if (!v) return v.error();
    *field = *v;
  }
  e.python = resolve_python(path, e.python);
  if (!e.qemu.empty())
    if (auto st = check_qemu_build_name(e.qemu); !st) return key_error(path, *t->get("qemu"), table, "qemu", st.error().message);
  if (e.provider == "pip" && !e.arch.empty() && e.suite.empty()) e.suite = "bookworm";
  auto packages = get_strings(path, *t, table, "packages");
  if (!packages) return packages.error();
  auto pip = get_strings(path, *t, table, "pip");
  if (!pip) return pip.error();
  e.packages = *packages;
  e.pip = *pip;
  if (const toml::node* native = t->get("native_onnx")) {
    auto b = native->value<bool>();
    if (!b) return key_error(path, *native, table, "native_onnx", "must be true or false");
    e.native_onnx = *b;
  }
  return e;
}

Status check_provider_fields(const std::string& path, const EnvSpec& e) {
  auto need = [&](bool ok, const char* key) -> Status {
    if (ok) return ok_status();
    return make_error(fmt::format("{}: [env.{}] {}: required by provider '{}'", e.origin, e.name,
                                  key, e.provider));
  };
  (void)path;
  if (e.native_onnx && e.provider != "debian")
    return make_error(fmt::format("{}: [env.{}] native_onnx: only the debian provider builds the native ONNX consumer "
                                  "(it needs the suite's libonnxruntime-dev), not provider '{}'",
                                  e.origin, e.name, e.provider));
  if (e.provider == "host") return need(!e.python.empty(), "python");
  if (e.provider == "pip" && !e.suite.empty() && e.arch.empty())
    return make_error(fmt::format("{}: [env.{}] suite: a pip environment takes a suite only with an arch "
                                  "(wheels for that CPU in a Debian rootfs of that suite)", e.origin, e.name));
  if (e.provider == "pip") return need(!e.pip.empty(), "pip");
  if (e.provider == "debian") {
    if (auto st = need(!e.suite.empty(), "suite"); !st) return st;
    return need(!e.arch.empty(), "arch");
  }
  return ok_status();
}

Status check_references(const std::string& path, const toml::table& root, const Matrix& m) {
  const toml::node* mt = root.get("matrix");
  for (auto [key, list] : {std::pair{"producers", &m.producers}, std::pair{"consumers", &m.consumers}}) {
    if (list->empty())
      return make_error(fmt::format("{}: [matrix] {}: at least one environment is needed", path, key));
    for (auto it = list->begin(); it != list->end(); ++it) {
      const std::string& name = *it;
      if (std::find(list->begin(), it, name) != it)  // plan would count its cells twice, run once
        return key_error(path, *mt->as_table()->get(key), "matrix", key,
                         fmt::format("'{}' is listed twice; list each environment once", name));
      if (m.find_env(name)) continue;
      std::vector<std::string> names;
      for (const auto& e : m.envs) names.push_back(e.name);
      return key_error(path, *mt->as_table()->get(key), "matrix", key,
                       fmt::format("no [env.{}] table in this file{}", name, did_you_mean(name, names)));
    }
  }
  return ok_status();
}

}  // namespace

Status add_spec_envs(Matrix& m, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    if (m.find_env(name) || !is_env_text(name)) continue;
    auto e = parse_env_text(name);
    if (!e) return e.error();
    m.envs.push_back(std::move(*e));
  }
  return ok_status();
}

std::string locate_matrix(const std::string& path, const std::string& root) {
  std::error_code ec;
  if (fs::path(path).is_absolute() || fs::exists(path, ec) || root.empty()) return path;
  fs::path inside = fs::path(root) / path;
  return fs::exists(inside, ec) ? inside.string() : path;
}

const EnvSpec* Matrix::find_env(const std::string& env_name) const {
  for (const auto& e : envs)
    if (e.name == env_name) return &e;
  return nullptr;
}

Result<Matrix> parse_matrix(const std::string& text, const std::string& path) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return make_error(fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
  }
  for (const auto& [k, v] : root) {
    std::string key(k.str());
    if (key != "matrix" && key != "env" && key != "expect")
      return make_error(fmt::format("{}: unknown table [{}] (expected [matrix], [env.NAME] and [[expect]])",
                                    where(path, v), key));
  }
  Matrix m;
  m.path = path;
  const toml::table* mt = root.get_as<toml::table>("matrix");
  if (!mt) return make_error(fmt::format("{}: missing [matrix] table", path));
  if (auto st = fill_matrix_table(path, *mt, m); !st) return st.error();
  if (const toml::table* envs = root.get_as<toml::table>("env")) {
    for (const auto& [k, v] : *envs) {
      auto e = parse_env(path, std::string(k.str()), v);
      if (!e) return e.error();
      if (auto st = check_provider_fields(path, *e); !st) return st.error();
      m.envs.push_back(std::move(*e));
    }
  }
  if (auto st = check_references(path, root, m); !st) return st.error();
  auto expectations = parse_expectations(root.get("expect"), path);
  if (!expectations) return expectations.error();
  m.expectations = std::move(*expectations);
  return m;
}

Result<Matrix> load_matrix(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot open matrix file", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_matrix(buf.str(), path);
}

bool filter_selects(const std::vector<std::string>& patterns, const std::string& name) {
  bool only_negative = std::all_of(patterns.begin(), patterns.end(),
                                   [](const std::string& p) { return !p.empty() && p[0] == '-'; });
  bool selected = only_negative;
  for (const auto& p : patterns) {
    bool negative = !p.empty() && p[0] == '-';
    if (glob_match(negative ? p.substr(1) : p, name)) selected = !negative;
  }
  return selected;
}

}  // namespace crossload
