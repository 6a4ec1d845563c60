#include "harness/core/expectations.h"

#include <fmt/format.h>

#include <regex>
#include <sstream>

#include "harness/core/matrix.h"
#include "harness/util/text.h"

namespace crossload {

namespace {

const std::vector<std::string> kExpectKeys{
    "fixtures", "formats", "producers", "consumers", "producer_sklearn", "consumer_sklearn",
    "producer_numpy", "consumer_numpy", "producer_machine", "consumer_machine", "outcomes", "reason"};

std::vector<int> version_parts(const std::string& v) {
  std::vector<int> parts;
  std::stringstream in(v);
  std::string piece;
  while (std::getline(in, piece, '.')) {
    try {
      parts.push_back(std::stoi(piece));
    } catch (...) {
      break;  // "rc1", "*", "post0": compare the numeric prefix only
    }
  }
  return parts;
}

int compare_versions(const std::string& a, const std::string& b) {
  auto x = version_parts(a), y = version_parts(b);
  std::size_t n = std::max(x.size(), y.size());
  x.resize(n), y.resize(n);
  return x < y ? -1 : x > y ? 1 : 0;
}

bool clause_matches(const std::string& version, std::string clause) {
  clause.erase(0, clause.find_first_not_of(' '));
  for (const char* op : {">=", "<=", "==", "!=", ">", "<"}) {
    if (clause.rfind(op, 0) != 0) continue;
    std::string rhs = clause.substr(std::string(op).size());
    if (std::string(op) == "==" && !rhs.empty() && rhs.back() == '*')
      return version.rfind(rhs.substr(0, rhs.size() - 1), 0) == 0;
    int c = compare_versions(version, rhs);
    std::string o(op);
    return o == ">=" ? c >= 0 : o == "<=" ? c <= 0 : o == "==" ? c == 0 : o == "!=" ? c != 0 : o == ">" ? c > 0 : c < 0;
  }
  return compare_versions(version, clause) == 0;
}

std::string fact(const Fingerprints& fps, const std::string& env, const std::string& what) {
  auto it = fps.find(env);
  if (it == fps.end() || !it->second.is_object()) return "";
  const auto& fp = it->second;
  if (what == "machine") return fp.value("machine", "");
  if (!fp.contains("packages") || !fp["packages"].contains(what) || !fp["packages"][what].is_string()) return "";
  return fp["packages"][what].get<std::string>();
}

bool fact_matches(const Fingerprints& fps, const std::string& env, const std::string& what,
                  const std::string& spec) {
  if (spec.empty()) return true;
  std::string value = fact(fps, env, what);
  if (value.empty()) return false;
  return what == "machine" ? glob_match(spec, value) : version_matches(value, spec);
}

bool selects(const Expectation& e, const Fingerprints& fps, const CellRecord& c) {
  return filter_selects(e.fixtures, c.fixture) && filter_selects(e.formats, c.format) &&
         filter_selects(e.producers, c.producer) && filter_selects(e.consumers, c.consumer) &&
         fact_matches(fps, c.producer, "scikit-learn", e.producer_sklearn) &&
         fact_matches(fps, c.consumer, "scikit-learn", e.consumer_sklearn) &&
         fact_matches(fps, c.producer, "numpy", e.producer_numpy) &&
         fact_matches(fps, c.consumer, "numpy", e.consumer_numpy) &&
         fact_matches(fps, c.producer, "machine", e.producer_machine) &&
         fact_matches(fps, c.consumer, "machine", e.consumer_machine);
}

Error expect_error(const std::string& origin, const std::string& key, const std::string& problem) {
  return make_error(fmt::format("{}: [[expect]] {}: {}", origin, key, problem));
}

// A clause version_matches understands: ">=1.3", "<1.3.2", "!=1.4.0rc1", "==1.5.*", "1.2". Anything
// else would silently match nothing (">>=banana"), so it is refused where it is written.
bool valid_clause(const std::string& clause) {
  static const std::regex kClause(
      R"(\s*(==\s*[0-9]+(\.[0-9]+)*\.\*|(>=|<=|==|!=|>|<)?\s*[0-9]+(\.[0-9]+)*(\.?(a|b|rc|post|dev)[0-9]*)?)\s*)");
  return std::regex_match(clause, kClause);
}

Status check_version_spec(const std::string& origin, const std::string& key, const std::string& spec) {
  std::stringstream in(spec);
  std::string clause;
  while (std::getline(in, clause, ','))
    if (!valid_clause(clause))
      return expect_error(origin, key, fmt::format("'{}' is not a version specifier: write comma-joined clauses "
                                                   "such as \">=1.3,<1.5\" or \"==1.5.*\"", spec));
  if (!spec.empty() && spec.back() == ',') return expect_error(origin, key, fmt::format("'{}' ends with a comma", spec));
  return ok_status();
}

Status read_list(const toml::table& t, const std::string& key, const std::string& origin,
                 std::vector<std::string>& out) {
  const toml::node* n = t.get(key);
  if (!n) return ok_status();
  const toml::array* arr = n->as_array();
  if (!arr) return expect_error(origin, key, "must be a list of strings");
  out.clear();
  for (const auto& item : *arr) {
    auto s = item.value<std::string>();
    if (!s) return expect_error(origin, key, "must be a list of strings");
    out.push_back(*s);
  }
  return ok_status();
}

Result<Expectation> parse_one(const toml::table& t, const std::string& origin) {
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (std::find(kExpectKeys.begin(), kExpectKeys.end(), key) == kExpectKeys.end())
      return expect_error(origin, key, "unknown key" + did_you_mean(key, kExpectKeys));
  }
  Expectation e;
  e.origin = origin;
  for (auto [key, field] : {std::pair{"fixtures", &e.fixtures}, std::pair{"formats", &e.formats},
                            std::pair{"producers", &e.producers}, std::pair{"consumers", &e.consumers}})
    if (auto st = read_list(t, key, origin, *field); !st) return st.error();
  for (auto [key, field] : {std::pair{"producer_sklearn", &e.producer_sklearn},
                            std::pair{"consumer_sklearn", &e.consumer_sklearn},
                            std::pair{"producer_numpy", &e.producer_numpy}, std::pair{"consumer_numpy", &e.consumer_numpy},
                            std::pair{"producer_machine", &e.producer_machine},
                            std::pair{"consumer_machine", &e.consumer_machine}, std::pair{"reason", &e.reason}}) {
    if (const toml::node* n = t.get(key)) {
      auto s = n->value<std::string>();
      if (!s) return expect_error(origin, key, "must be a string");
      *field = *s;
      bool version = std::string(key).ends_with("_sklearn") || std::string(key).ends_with("_numpy");
      if (version)
        if (auto st = check_version_spec(origin, key, *s); !st) return st.error();
    }
  }
  std::vector<std::string> outcomes;
  if (auto st = read_list(t, "outcomes", origin, outcomes); !st) return st.error();
  if (outcomes.empty()) return expect_error(origin, "outcomes", "missing: list the outcomes expected, e.g. [\"LOAD_ERROR\"]");
  for (const auto& o : outcomes) {
    auto parsed = outcome_from_string(o);
    if (!parsed) return expect_error(origin, "outcomes", fmt::format("unknown outcome '{}'", o));
    e.outcomes.push_back(*parsed);
  }
  if (e.reason.empty()) return expect_error(origin, "reason", "missing: say why this outcome is expected");
  return e;
}

}  // namespace

bool version_matches(const std::string& version, const std::string& spec) {
  if (spec.empty()) return true;
  std::stringstream in(spec);
  std::string clause;
  while (std::getline(in, clause, ','))
    if (!clause_matches(version, clause)) return false;
  return true;
}

Result<std::vector<Expectation>> parse_expectations(const toml::node* node, const std::string& path) {
  std::vector<Expectation> out;
  if (!node) return out;
  const toml::array* arr = node->as_array();
  if (!arr) return make_error(fmt::format("{}:{}: expect: write expectations as [[expect]] tables", path,
                                          node->source().begin.line));
  for (const auto& item : *arr) {
    std::string origin = fmt::format("{}:{}", path, item.source().begin.line);
    const toml::table* t = item.as_table();
    if (!t) return make_error(origin + ": [[expect]] must be a table");
    auto e = parse_one(*t, origin);
    if (!e) return e.error();
    out.push_back(std::move(*e));
  }
  return out;
}

void apply_expectations(const std::vector<Expectation>& expectations, const Fingerprints& fps, CellRecord& c) {
  for (const auto& e : expectations) {
    if (!selects(e, fps, c)) continue;
    bool failed_as_expected = std::find(e.outcomes.begin(), e.outcomes.end(), c.outcome) != e.outcomes.end();
    bool passed = c.outcome == Outcome::kOkExact || c.outcome == Outcome::kOkTolerance;
    if (!failed_as_expected && !passed) continue;  // a different failure is news: leave it visible
    if (c.detail.is_null()) c.detail = nlohmann::json::object();
    c.detail["expected"] = {{"observed", to_string(c.outcome)}, {"reason", e.reason}, {"declared_at", e.origin}};
    c.outcome = failed_as_expected ? Outcome::kXfail : Outcome::kXpass;
    return;
  }
}

}  // namespace crossload
