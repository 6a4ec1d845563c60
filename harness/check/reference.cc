#include "harness/check/reference.h"

#include <fmt/format.h>

#include <algorithm>

namespace crossload::check {

namespace {

std::string sklearn_of(const nlohmann::json& fingerprint) {
  if (!fingerprint.is_object()) return "";  // an environment that could not start has none
  const auto& packages = fingerprint.value("packages", nlohmann::json::object());
  auto it = packages.find("scikit-learn");
  return it != packages.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

ReferenceOrder reference_order(const std::vector<std::pair<std::string, nlohmann::json>>& envs,
                               const std::vector<std::string>& recorded) {
  ReferenceOrder order;
  if (!recorded.empty()) order.version = recorded.front();
  std::vector<std::string> rest;
  for (const auto& [name, fp] : envs) {
    std::string have = sklearn_of(fp);
    bool match = !have.empty() && std::find(recorded.begin(), recorded.end(), have) != recorded.end();
    if (match && order.matched.empty()) order.matched = name, order.version = have;
    (match ? order.envs : rest).push_back(name);
  }
  order.envs.insert(order.envs.end(), rest.begin(), rest.end());
  return order;
}

std::string reference_sentence(const ReferenceOrder& order, const std::string& used) {
  if (used.empty()) return "no environment could load the artifact, so there is no reference to compare with";
  if (!order.matched.empty() && used == order.matched)
    return fmt::format("reference computed in {}: its scikit-learn {} is the version the artifact records", used,
                       order.version);
  if (!order.matched.empty())
    return fmt::format("reference computed in {}: {} has the recorded scikit-learn {} but could not load it",
                       used, order.matched, order.version);
  if (order.version.empty())
    return fmt::format("reference computed in {}: the artifact records no scikit-learn version, so the first "
                       "environment that loads it was used", used);
  return fmt::format("reference computed in {}: no environment has the recorded scikit-learn {}, so the first "
                     "that loads it was used", used, order.version);
}

}  // namespace crossload::check
