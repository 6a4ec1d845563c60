#include "harness/check/reference.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace crossload::check {

namespace {

std::string package_of(const nlohmann::json& fingerprint, const char* name) {
  if (!fingerprint.is_object()) return "";  // an environment that could not start has none
  const auto& packages = fingerprint.value("packages", nlohmann::json::object());
  auto it = packages.find(name);
  return it != packages.end() && it->is_string() ? it->get<std::string>() : "";
}

// "1.26.4" -> 1; 0 when unknown.
int major_of(const std::string& version) {
  return version.empty() || !std::isdigit(static_cast<unsigned char>(version[0])) ? 0 : std::stoi(version);
}

std::string with_numpy(const ReferenceOrder& order) {
  return order.numpy_major ? fmt::format(" with numpy {}.x", order.numpy_major) : "";
}

}  // namespace

ReferenceOrder reference_order(const std::vector<std::pair<std::string, nlohmann::json>>& envs,
                               const std::vector<std::string>& recorded, int numpy_major) {
  ReferenceOrder order;
  order.numpy_major = numpy_major;
  if (!recorded.empty()) order.version = recorded.front();
  std::vector<std::string> rest;
  for (const auto& [name, fp] : envs) {
    std::string have = package_of(fp, "scikit-learn");
    bool match = !have.empty() && std::find(recorded.begin(), recorded.end(), have) != recorded.end() &&
                 (numpy_major == 0 || major_of(package_of(fp, "numpy")) == numpy_major);
    if (match && order.matched.empty()) order.matched = name, order.version = have;
    (match ? order.envs : rest).push_back(name);
  }
  order.envs.insert(order.envs.end(), rest.begin(), rest.end());
  return order;
}

bool reference_trusted(const ReferenceOrder& order, const std::string& used) {
  return used.empty() || order.version.empty() || used == order.matched;
}

std::string reference_sentence(const ReferenceOrder& order, const std::string& used, const std::string& rebuilt) {
  if (used.empty()) return "no environment could load the artifact, so there is no reference to compare with";
  if (!rebuilt.empty() && used == rebuilt && used == order.matched)
    return fmt::format("reference: scikit-learn {} rebuilt from the artifact's recorded versions ({})", order.version,
                       rebuilt);
  if (!order.matched.empty() && used == order.matched)
    return fmt::format("reference computed in {}: its scikit-learn {}{} is the version the artifact records", used,
                       order.version, with_numpy(order));
  if (!order.matched.empty())
    return fmt::format("reference computed in {}: {} has the recorded scikit-learn {}{} but could not load it; "
                       "a different version: not trusted", used, order.matched, order.version, with_numpy(order));
  if (order.version.empty())
    return fmt::format("reference computed in {}: the artifact records no scikit-learn version, so the first "
                       "environment that loads it was used", used);
  return fmt::format("reference computed in {}: no environment has the recorded scikit-learn {}{}, so the first "
                     "that loads it was used; a different version: not trusted", used, order.version, with_numpy(order));
}

}  // namespace crossload::check
