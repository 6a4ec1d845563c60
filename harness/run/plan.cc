#include "harness/run/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "formats/registry.h"
#include "harness/core/protocol.h"
#include "harness/util/text.h"

namespace crossload {

namespace {

// "PATH:LINE: [matrix] fixtures" (a bad file: exit 3), or "--fixtures" (a bad command line: exit 2).
Error list_error(const Matrix& m, const std::string& key, const std::string& problem) {
  auto it = m.list_origin.find(key);
  std::string origin = it != m.list_origin.end() ? it->second : fmt::format("{}: [matrix] {}", m.path, key);
  bool flag = origin.rfind("--", 0) == 0;
  return make_error(flag ? ErrorKind::kUsage : ErrorKind::kBadInput, fmt::format("{}: {}", origin, problem));
}

bool is_glob(const std::string& p) { return p.find_first_of("*?") != std::string::npos; }

// What a "known: ..." hint lists: every plain name, and a generated family (hundreds of
// `estimators:<Name>`) as one "estimators:* (N)" entry, so the message stays one readable line.
std::string known_names(const std::vector<std::string>& known) {
  std::vector<std::string> plain;
  std::map<std::string, std::size_t> families;
  for (const auto& k : known) {
    auto colon = k.find(':');
    if (colon == std::string::npos) plain.push_back(k);
    else families[k.substr(0, colon)]++;
  }
  for (const auto& [family, n] : families) plain.push_back(fmt::format("{}:* ({})", family, n));
  return join(plain, ", ");
}

// Every pattern that includes must include something and every name excluded must exist: a typo
// must not silently shrink the matrix. (An exclusion glob may match nothing: "-large_*".)
Status check_patterns(const Matrix& m, const std::vector<std::string>& patterns, const std::vector<std::string>& known,
                      const std::string& key, const char* what) {
  for (const auto& raw : patterns) {
    bool negative = !raw.empty() && raw[0] == '-';
    std::string p = negative ? raw.substr(1) : raw;
    if (negative && is_glob(p)) continue;
    if (std::any_of(known.begin(), known.end(), [&](const std::string& k) { return glob_match(p, k); })) continue;
    return list_error(m, key, fmt::format("'{}' matches no {}{} (known: {})", p, what, did_you_mean(p, known),
                                          known_names(known)));
  }
  return ok_status();
}

// The list as a whole must select something, or CI gets a green job that tested nothing.
Status check_selects(const Matrix& m, const std::vector<std::string>& patterns, bool selected_any,
                     const std::vector<std::string>& known, const std::string& key, const char* what) {
  if (selected_any) return ok_status();
  return list_error(m, key, fmt::format("'{}' selects no {} (known: {})", join(patterns, ", "), what,
                                        known_names(known)));
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
  if (auto st = check_patterns(m, m.fixtures, fixture_names, "fixtures", "fixture"); !st) return st.error();
  if (auto st = check_patterns(m, m.formats, format_names, "formats", "format"); !st) return st.error();
  Selection s;
  for (const auto& f : known_fixtures)
    if (fixture_selected(m.fixtures, f.name)) s.fixtures.push_back(f);
  for (const auto& f : format_names)
    if (filter_selects(m.formats, f)) s.formats.push_back(f);
  if (auto st = check_selects(m, m.fixtures, !s.fixtures.empty(), fixture_names, "fixtures", "fixture"); !st)
    return st.error();
  if (auto st = check_selects(m, m.formats, !s.formats.empty(), format_names, "formats", "format"); !st)
    return st.error();
  return s;
}

Result<std::vector<FixtureInfo>> list_zoo(const std::string& source_root) {
  Launch launch{{"python3"}, {}, false, "host python3"};
  auto worker = WorkerClient::start("plan", launch, source_root, "/dev/null");
  if (!worker) return Error{worker.error().message, ErrorKind::kEnvironment};
  auto r = ask(**worker, list_request(), std::chrono::seconds(60));
  if (r.result) return r.result->fixtures;
  if (!r.answered() || r.error->is_malformed_answer()) return make_error(ErrorKind::kEnvironment, r.why());
  return make_error(ErrorKind::kEnvironment, "listing the zoo failed: " + r.why());
}

}  // namespace crossload
