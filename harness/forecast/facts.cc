#include "harness/forecast/facts.h"

#include <algorithm>

namespace crossload::forecast {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// numpy 2 pickles name numpy._core, numpy 1 pickles numpy.core: the major that wrote the file.
void numpy_major(const audit::InspectionRecord& rec, Facts& f) {
  for (const auto& g : rec.globals) {
    if (starts_with(g, "numpy._core")) f.add("artifact.numpy", "2");
    else if (starts_with(g, "numpy.core")) f.add("artifact.numpy", "1");
  }
  if (!f.find("artifact.numpy")) f.set("artifact.numpy", "none");
}

void arrays(const audit::InspectionRecord& rec, Facts& f) {
  for (const auto& a : rec.arrays) {
    if (a.byte_order == "big" || a.byte_order == "little") f.add("artifact.byteorder", a.byte_order);
    // Structured records (tree nodes, KD-tree node data) keep their width: it changes with the
    // release that wrote them and with the producer's word size.
    if (!a.dtype.empty() && a.dtype[0] == 'V') f.add("artifact.record_dtype", a.dtype);
  }
  if (!f.find("artifact.byteorder")) f.set("artifact.byteorder", "none");
}

void code(const audit::InspectionRecord& rec, Facts& f) {
  bool by_value = std::any_of(rec.findings.begin(), rec.findings.end(),
                              [](const audit::Finding& x) { return x.rule == audit::Rule::kCodeObject; });
  f.set("artifact.code", by_value ? "by-value" : "none");
  for (const auto& p : rec.code_pythons) f.add("artifact.code_python", p);
  if (!f.find("artifact.code_python")) f.set("artifact.code_python", "none");
}

}  // namespace

const std::vector<std::string>* Facts::find(std::string_view name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

void Facts::add(const std::string& name, std::string value) {
  auto& v = values[name];
  if (std::find(v.begin(), v.end(), value) == v.end()) v.push_back(std::move(value));
}

std::string variant_of(const audit::InspectionRecord& rec) {
  if (rec.format == "pickle") {
    bool cloud = std::any_of(rec.globals.begin(), rec.globals.end(),
                             [](const std::string& g) { return starts_with(g, "cloudpickle"); });
    if (cloud) return "cloudpickle";
    return rec.protocol && *rec.protocol >= 5 ? "pickle-p5" : "pickle-p4";
  }
  if (rec.format == "joblib") return rec.compression.empty() ? "joblib" : "joblib-" + rec.compression;
  return rec.format;
}

Facts artifact_facts(const audit::InspectionRecord& rec, std::string_view variant) {
  Facts f;
  f.set("format", variant.empty() ? variant_of(rec) : std::string(variant));
  f.set("artifact.container", rec.format);
  if (rec.protocol) f.set("artifact.protocol", std::to_string(*rec.protocol));
  for (const auto& v : rec.versions) f.add("artifact.sklearn", v);
  for (const auto& g : rec.globals) f.add("artifact.global", g);
  if (rec.globals.empty()) f.set("artifact.global", "none");
  numpy_major(rec, f);
  arrays(rec, f);
  code(rec, f);
  return f;
}

Facts env_facts(const nlohmann::json& fp) {
  Facts f;
  if (!fp.is_object()) return f;
  auto text = [&](const char* key, const char* fact) {
    auto it = fp.find(key);
    if (it != fp.end() && it->is_string()) f.set(fact, it->get<std::string>());
  };
  text("python", "env.python");
  text("byteorder", "env.byteorder");
  text("machine", "env.machine");
  if (auto it = fp.find("pointer_bits"); it != fp.end() && it->is_number_integer())
    f.set("env.pointer_bits", std::to_string(it->get<int>()));
  auto packages = fp.find("packages");
  if (packages == fp.end() || !packages->is_object()) return f;
  for (const auto& [name, version] : packages->items()) {
    std::string fact = "env." + std::string(name == "scikit-learn" ? "sklearn" : name);
    if (version.is_string()) f.set(fact, version.get<std::string>());
    else if (version.is_null()) f.set(fact, "absent");
  }
  return f;
}

}  // namespace crossload::forecast
