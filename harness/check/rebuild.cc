#include "harness/check/rebuild.h"

#include <fmt/format.h>

#include <algorithm>
#include <toml++/toml.h>

#include "harness/util/text.h"

namespace crossload::check {

namespace {

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// "1.3.2" -> "1.3"; "1.3rc1" -> "1.3rc1" (no such row: the error says so).
std::string minor_of(const std::string& version) {
  auto first = version.find('.');
  if (first == std::string::npos) return version;
  auto second = version.find('.', first + 1);
  return second == std::string::npos ? version : version.substr(0, second);
}

struct Reader {
  const std::string& source;

  Error at(const toml::node& n, const std::string& what) const {
    return make_error(ErrorKind::kInternal, fmt::format("{}:{}: {}", source, n.source().begin.line, what));
  }

  Status strings(const toml::node& n, std::vector<std::string>& out, const char* key) const {
    const toml::array* arr = n.as_array();
    if (!arr) return at(n, fmt::format("{}: must be a list of strings", key));
    for (const auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s) return at(item, fmt::format("{}: must be a list of strings", key));
      out.push_back(*s);
    }
    return ok_status();
  }

  Result<ProducerStack> stack(const toml::table& t) const {
    static const std::vector<std::string> keys{"sklearn", "numpy", "python", "pins", "why", "none"};
    for (const auto& [k, v] : t)
      if (std::find(keys.begin(), keys.end(), std::string(k.str())) == keys.end())
        return at(v, fmt::format("[[stack]] {}: unknown key{}", k.str(), did_you_mean(std::string(k.str()), keys)));
    ProducerStack s;
    s.sklearn = t["sklearn"].value_or(std::string());
    s.numpy = static_cast<int>(t["numpy"].value_or(std::int64_t{0}));
    s.python = t["python"].value_or(std::string());
    s.why = t["why"].value_or(std::string());
    s.none = t["none"].value_or(std::string());
    if (s.sklearn.empty() || (s.numpy != 1 && s.numpy != 2))
      return at(t, "[[stack]]: needs sklearn (\"1.3\") and numpy (1 or 2)");
    if (const toml::node* pins = t.get("pins"))
      if (auto st = strings(*pins, s.pins, "pins"); !st) return st.error();
    if (s.none.empty() && (s.python.empty() || s.why.empty()))
      return at(t, fmt::format("[[stack]] {} numpy {}: needs python and why (or none)", s.sklearn, s.numpy));
    return s;
  }
};

}  // namespace

RecordedStack recorded_stack(const audit::InspectionRecord& record) {
  RecordedStack r;
  r.sklearn = record.versions;
  r.compression = record.compression;
  for (const auto& g : record.globals) {
    if (starts_with(g, "numpy._core.") || g == "numpy._core") r.numpy_major = 2;
    else if (starts_with(g, "numpy.core.") || g == "numpy.core") r.numpy_major = 1;
    if (r.numpy_major) break;
  }
  return r;
}

std::string numpy_words(int major) { return major ? fmt::format("numpy {}.x", major) : ""; }

Result<ProducerStacks> parse_producer_stacks(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return make_error(ErrorKind::kInternal, fmt::format("{}:{}: {}", source, e.source().begin.line, e.description()));
  }
  Reader read{source};
  ProducerStacks out;
  if (const toml::array* list = root["stack"].as_array()) {
    for (const auto& node : *list) {
      const toml::table* t = node.as_table();
      if (!t) return read.at(node, "stack: must be [[stack]] tables");
      auto s = read.stack(*t);
      if (!s) return s.error();
      out.stacks.push_back(std::move(*s));
    }
  }
  if (const toml::table* codecs = root["compression"].as_table()) {
    for (const auto& [codec, packages] : *codecs) {
      std::vector<std::string> names;
      if (auto st = read.strings(packages, names, "compression"); !st) return st.error();
      out.compression.emplace_back(std::string(codec.str()), std::move(names));
    }
  }
  return out;
}

const ProducerStacks& builtin_producer_stacks() {
  static const ProducerStacks table = [] {
    auto parsed = parse_producer_stacks(builtin_producer_stacks_text(), "harness/check/producer_stacks.toml");
    return parsed ? *parsed : ProducerStacks{};  // rebuild_test.cc fails the build's tests on an error
  }();
  return table;
}

Result<EnvSession> start_producer_env(Matrix& m, const std::string& spec, const ProvisionContext& ctx, RunLog& log,
                                      const std::map<std::string, std::string>& worker_env) {
  if (auto s = add_spec_envs(m, {spec}); !s) return s.error();
  Matrix one = m;
  one.consumers = {spec};
  EnvSessions started = start_environments(one, ctx, true, log, worker_env);
  EnvSession& s = started.at(spec);
  if (!s.can_load()) return make_error(s.record.reason.empty() ? "its consumer worker did not start" : s.record.reason);
  m.consumers.insert(m.consumers.begin(), spec);
  return Result<EnvSession>(std::move(s));
}

Result<std::string> producer_spec(const RecordedStack& recorded, const ProducerStacks& table) {
  if (recorded.sklearn.empty()) return make_error("the artifact records no scikit-learn version");
  const std::string& version = recorded.sklearn.front();
  std::string minor = minor_of(version);
  const ProducerStack* row = nullptr;
  for (const auto& s : table.stacks)
    if (s.sklearn == minor && (recorded.numpy_major == 0 || s.numpy == recorded.numpy_major)) {
      row = &s;
      break;
    }
  std::string with_numpy = recorded.numpy_major ? " with " + numpy_words(recorded.numpy_major) : "";
  if (!row)
    return make_error(fmt::format("no stack for scikit-learn {}{} in crossload's table of releases "
                                  "(harness/check/producer_stacks.toml)", minor, with_numpy));
  if (!row->none.empty())
    return make_error(fmt::format("the artifact records scikit-learn {}{}, a stack that was never released: {}",
                                  version, with_numpy, row->none));
  std::vector<std::string> pins{"scikit-learn==" + version};
  pins.insert(pins.end(), row->pins.begin(), row->pins.end());
  for (const auto& [codec, packages] : table.compression)
    if (codec == recorded.compression) pins.insert(pins.end(), packages.begin(), packages.end());
  return fmt::format("pip:{}@{}", join(pins, ","), row->python);
}

}  // namespace crossload::check
