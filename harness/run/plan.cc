#include "harness/run/plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "formats/registry.h"
#include "harness/util/text.h"

namespace crossload {

namespace {

bool is_glob(const std::string& p) { return p.find_first_of("*?") != std::string::npos; }

Status check_plain_names(const Matrix& m, const std::vector<std::string>& patterns,
                         const std::vector<std::string>& known, const char* what) {
  for (const auto& raw : patterns) {
    std::string p = (!raw.empty() && raw[0] == '-') ? raw.substr(1) : raw;
    if (is_glob(p) || std::find(known.begin(), known.end(), p) != known.end()) continue;
    return make_error(fmt::format("{}: [matrix] {}: unknown {} '{}'{} (known: {})", m.path,
                                  std::string(what) + "s", what, p, did_you_mean(p, known),
                                  join(known, ", ")));
  }
  return ok_status();
}

// A generated family's fixtures (`estimators:<Name>`, hundreds of them) are selected only by a
// pattern naming a family (one with ':'): "*" keeps meaning the zoo and the user's recipes.
bool fixture_selected(const std::vector<std::string>& patterns, const std::string& name) {
  if (name.find(':') == std::string::npos) return filter_selects(patterns, name);
  std::vector<std::string> family;
  for (const auto& p : patterns)
    if (p.find(':') != std::string::npos) family.push_back(p);
  bool any_include = std::any_of(family.begin(), family.end(), [](const std::string& p) { return p[0] != '-'; });
  return any_include && filter_selects(family, name);
}

}  // namespace

Result<Selection> select(const Matrix& m, const std::vector<FixtureInfo>& known_fixtures) {
  std::vector<std::string> fixture_names, format_names;
  for (const auto& f : known_fixtures) fixture_names.push_back(f.name);
  for (const auto& f : all_formats()) format_names.emplace_back(f.name);
  if (auto st = check_plain_names(m, m.fixtures, fixture_names, "fixture"); !st) return st.error();
  if (auto st = check_plain_names(m, m.formats, format_names, "format"); !st) return st.error();
  Selection s;
  for (const auto& f : known_fixtures)
    if (fixture_selected(m.fixtures, f.name)) s.fixtures.push_back(f);
  for (const auto& f : format_names)
    if (filter_selects(m.formats, f)) s.formats.push_back(f);
  return s;
}

}  // namespace crossload
