#include "reports/guide.h"

#include <algorithm>
#include <set>

#include "formats/registry.h"
#include "reports/summaries.h"

namespace crossload {

using json = nlohmann::json;

namespace {

// The guide's methods in its order: the formats it names (formats/*/descriptor.cc, guide_rank).
std::vector<const FormatDescriptor*> guide_methods() {
  std::vector<const FormatDescriptor*> out;
  for (const auto* d : all_descriptors())
    if (d->guide_rank > 0) out.push_back(d);
  std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->guide_rank < b->guide_rank; });
  return out;
}

GuideRow row_of(const FormatDescriptor& m) {
  return {std::string(m.title), std::string(m.pros), std::string(m.cons), {}};
}

std::vector<std::string> sorted_union(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

void tally_cells(const RunData& d, FormatEvidence& e) {
  std::map<std::string, std::vector<double>> loads;  // consumer → load seconds
  for (const auto& c : d.cells) {
    if (c.format != e.format) continue;
    e.cells++;
    std::string pair = c.producer + " → " + c.consumer;
    auto it = std::find_if(e.pairs.begin(), e.pairs.end(), [&](const auto& p) { return p.first == pair; });
    if (it == e.pairs.end()) it = e.pairs.insert(e.pairs.end(), {pair, {0, 0}});
    it->second.first++;
    if (loaded_ok(c.outcome)) {
      e.loaded++, it->second.second++;
      for (double v : measurement_samples(c, "load")) loads[c.consumer].push_back(v);
    } else if (c.outcome == Outcome::kUnsupported) {
      e.unsupported_fixtures.push_back(c.fixture);
    } else if (is_failure(c.outcome) || c.outcome == Outcome::kBlocked) {
      auto& [n, text] = e.failures[c.outcome];
      if (n++ == 0) text = cell_error_text(c, 160);
    }
  }
  for (auto& [consumer, values] : loads) e.median_load.emplace_back(consumer, median(values));
  e.unsupported_fixtures = sorted_union(e.unsupported_fixtures);
}

void worst_fidelity(const json& fidelity, FormatEvidence& e) {
  if (!fidelity.is_object()) return;
  for (const auto& [output, f] : fidelity.items()) {
    if (!f.is_object()) continue;
    if (f.contains("label_agreement") && f["label_agreement"].is_number())
      e.min_label_agreement = std::min(e.min_label_agreement.value_or(1.0), f["label_agreement"].get<double>());
    if (f.contains("max_abs_diff") && f["max_abs_diff"].is_number())
      e.max_abs_diff = std::max(e.max_abs_diff.value_or(0.0), f["max_abs_diff"].get<double>());
  }
}

void tally_artifacts(const RunData& d, FormatEvidence& e) {
  std::vector<double> sizes;
  for (const auto& a : d.artifacts) {
    if (a.format != e.format || a.status != "ok") continue;
    e.artifacts++;
    sizes.push_back(static_cast<double>(a.size_bytes));
    const json details = a.manifest.is_object() ? a.manifest.value("format_details", json::object()) : json::object();
    if (details.contains("untrusted_types") && details["untrusted_types"].is_array() &&
        !details["untrusted_types"].empty()) {
      e.artifacts_with_untrusted++;
      for (const auto& t : details["untrusted_types"])
        if (t.is_string()) e.untrusted_types.push_back(t.get<std::string>());
    }
    if (details.contains("fidelity")) worst_fidelity(details["fidelity"], e);
    if (a.manifest.is_object() && a.manifest.contains("audit") && a.manifest["audit"].is_object())
      e.audit_verdicts[a.manifest["audit"].value("verdict", std::string("?"))]++;
  }
  if (!sizes.empty()) e.median_size = median(sizes);
  e.untrusted_types = sorted_union(e.untrusted_types);
}

}  // namespace

bool run_holds_family(const RunData& d, std::string_view family) {
  auto of = [&](const std::string& format) { return format_family(format) == family; };
  return std::any_of(d.cells.begin(), d.cells.end(), [&](const CellRecord& c) { return of(c.format); }) ||
         std::any_of(d.artifacts.begin(), d.artifacts.end(), [&](const ArtifactRecord& a) { return of(a.format); });
}

std::string format_family(const std::string& format) {
  auto f = find_format(format);
  return f ? std::string(f->folder) : format;
}

FormatEvidence format_evidence(const RunData& d, const std::string& format) {
  FormatEvidence e;
  e.format = format;
  tally_cells(d, e);
  tally_artifacts(d, e);
  return e;
}

std::vector<GuideRow> guide_rows(const RunData& d) {
  std::vector<std::string> formats = distinct(d.cells, &CellRecord::format);
  for (const auto& a : d.artifacts)
    if (std::find(formats.begin(), formats.end(), a.format) == formats.end()) formats.push_back(a.format);
  std::vector<GuideRow> rows;
  std::vector<std::string> families;  // rows[i]'s format family
  for (const auto* m : guide_methods()) {
    rows.push_back(row_of(*m));
    families.emplace_back(m->name);
  }
  for (const auto& f : formats) {
    std::string family = format_family(f);
    auto it = std::find(families.begin(), families.end(), family);
    if (it == families.end()) {  // a format outside the guide: its own row, when the run holds it
      const FormatDescriptor* known = find_descriptor(family);
      rows.push_back(known ? row_of(*known) : GuideRow{family, "", "", {}});
      families.push_back(family);
      it = families.end() - 1;
    }
    rows[static_cast<std::size_t>(it - families.begin())].formats.push_back(format_evidence(d, f));
  }
  // Variants in the registry's order, so a row reads pickle-p4 before pickle-p5 in every run.
  auto order = [](const FormatEvidence& e) {
    auto all = all_formats();
    auto it = std::find_if(all.begin(), all.end(), [&](const FormatInfo& f) { return f.name == e.format; });
    return static_cast<std::size_t>(it - all.begin());
  };
  for (auto& r : rows)
    std::stable_sort(r.formats.begin(), r.formats.end(), [&](const auto& x, const auto& y) { return order(x) < order(y); });
  return rows;
}

}  // namespace crossload
