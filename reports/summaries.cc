#include "reports/summaries.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace crossload {

std::map<Outcome, std::size_t> outcome_counts(const std::vector<CellRecord>& cells) {
  std::map<Outcome, std::size_t> counts;
  for (const auto& c : cells) counts[c.outcome]++;
  return counts;
}

void add_distinct(std::vector<std::string>& seen, const std::string& value) {
  if (std::find(seen.begin(), seen.end(), value) == seen.end()) seen.push_back(value);
}

std::vector<std::string> distinct(const std::vector<CellRecord>& cells, std::string CellRecord::*field) {
  std::vector<std::string> out;
  for (const auto& c : cells) add_distinct(out, c.*field);
  return out;
}

const CellRecord* find_cell(const std::vector<CellRecord>& cells, const std::string& id) {
  for (const auto& c : cells)
    if (c.id == id) return &c;
  return nullptr;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

namespace {
double measurement(const CellRecord& c, const std::string& name) {
  for (const auto& m : c.measurements)
    if (m.name == name) return m.value;
  return 0;
}
}  // namespace

void FormatCostTally::add(const CellRecord& c) {
  if (c.measurements.empty()) return;
  auto& g = groups_[{c.consumer, c.format}];
  const char* names[] = {"size", "load", "predict", "rss_peak"};
  for (std::size_t i = 0; i < 4; ++i) g[i].push_back(measurement(c, names[i]));
}

std::vector<FormatCost> FormatCostTally::rows() const {
  std::vector<FormatCost> out;
  for (const auto& [key, g] : groups_)
    out.push_back({key.first, key.second, g[0].size(), median(g[0]), median(g[1]), median(g[2]), median(g[3])});
  return out;
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB"};
  int i = 0;
  while (b >= 1024 && i < 3) b /= 1024, ++i;
  return i == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.1f} {}", b, units[i]);
}

std::string human_seconds(double s) {
  if (s < 1e-3) return fmt::format("{:.0f} µs", s * 1e6);
  if (s < 1) return fmt::format("{:.1f} ms", s * 1e3);
  return fmt::format("{:.2f} s", s);
}

std::string package_version(const nlohmann::json& fp, const std::string& name) {
  if (!fp.contains("packages") || !fp["packages"].contains(name) || !fp["packages"][name].is_string()) return "–";
  return fp["packages"][name].get<std::string>();
}

Outcome worst_outcome(const std::vector<const CellRecord*>& cells) {
  Outcome worst = Outcome::kOkExact;
  for (const auto* c : cells)
    if (severity(c->outcome) > severity(worst)) worst = c->outcome;
  return worst;
}

std::vector<double> measurement_samples(const CellRecord& c, const std::string& name) {
  std::vector<double> out;
  for (const auto& m : c.measurements)
    if (m.name == name && std::isfinite(m.value) && m.value >= 0) out.push_back(m.value);
  return out;
}

std::optional<Measurement> first_measurement(const CellRecord& c, const std::string& name) {
  for (const auto& m : c.measurements)
    if (m.name == name) return m;
  return std::nullopt;
}

std::vector<std::string> measurement_names(const std::vector<CellRecord>& cells) {
  std::vector<std::string> out;
  for (const auto& c : cells)
    for (const auto& m : c.measurements)
      if (std::find(out.begin(), out.end(), m.name) == out.end()) out.push_back(m.name);
  return out;
}

std::vector<MeasurementMedian> measurement_medians(const std::vector<CellRecord>& cells, const std::string& name) {
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::vector<double>>> groups;
  for (const auto& c : cells) {
    auto samples = measurement_samples(c, name);
    if (samples.empty()) continue;
    auto& [unit, values] = groups[{c.consumer, c.format}];
    unit = first_measurement(c, name)->unit;
    values.push_back(median(samples));  // one value per cell, so repetitions do not outweigh
  }
  std::vector<MeasurementMedian> out;
  for (const auto& [key, group] : groups)
    out.push_back({key.first, key.second, group.first, group.second.size(), median(group.second)});
  return out;
}

std::string human_value(double value, const std::string& unit) {
  if (unit == "s") return human_seconds(value);
  if (unit == "bytes" || unit == "B") return human_bytes(value);
  return unit.empty() ? fmt::format("{:.3g}", value) : fmt::format("{:.3g} {}", value, unit);
}

std::string second_opinion_mark(const CellRecord& c) {
  if (!c.detail.is_object() || !c.detail.contains("second_opinion") || !c.detail["second_opinion"].is_object()) return "";
  const auto& o = c.detail["second_opinion"];
  const auto& reproduced = o.contains("reproduced") ? o["reproduced"] : nlohmann::json();
  if (!reproduced.is_boolean()) return "2nd QEMU: none (" + o.value("reason", std::string("?")) + ")";
  const auto& q = o.value("qemu", nlohmann::json::object());
  std::string version = q.value("version", std::string());
  auto at = version.find("version ");
  version = at == std::string::npos ? "" : " " + version.substr(at + 8, version.find(' ', at + 8) - at - 8);
  std::string head = "2nd QEMU (" + q.value("build", std::string("?")) + version + "): ";
  if (reproduced.get<bool>()) return head + "reproduced";
  return head + "not reproduced: " + o.value("outcome", std::string("?"));
}

std::string cell_error_text(const CellRecord& c, std::size_t limit) {
  std::string text;
  if (c.detail.is_object()) {
    if (c.detail.contains("error_type") && c.detail["error_type"].is_string())
      text += c.detail["error_type"].get<std::string>() + ": ";
    const char* key = c.detail.contains("summary") ? "summary" : "message";
    if (c.detail.contains(key) && c.detail[key].is_string()) text += c.detail[key].get<std::string>();
  }
  return utf8_prefix(text, limit);
}

std::string utf8_prefix(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t cut = limit > 3 ? limit - 3 : 0;
  // Never split a multi-byte character: reports must stay valid UTF-8 (XML parsers refuse less).
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

}  // namespace crossload
