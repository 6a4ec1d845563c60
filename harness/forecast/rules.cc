#include "harness/forecast/rules.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <toml++/toml.h>

#include "harness/causes/catalogue.h"

namespace crossload::forecast {

namespace {

constexpr std::array kOutcomeNames{"OK", "LOAD_ERROR", "PREDICT_ERROR", "CRASH", "UNKNOWN"};
const std::array<std::string, 6> kOps{"<=", ">=", "==", "!=", "<", ">"};

Error at(const std::string& source, const toml::node& n, const std::string& what) {
  return make_error(fmt::format("{}:{}: {}", source, n.source().begin.line, what));
}

Result<std::vector<Bound>> parse_bounds(const std::string& text) {
  std::vector<Bound> bounds;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    part.erase(0, part.find_first_not_of(' '));
    Bound b;
    for (const auto& op : kOps)
      if (part.rfind(op, 0) == 0) {
        b.op = op;
        break;
      }
    if (b.op.empty()) return make_error(fmt::format("'{}': a version bound starts with <, <=, >, >=, == or !=", part));
    b.version = version_parts(part.substr(b.op.size() + part.substr(b.op.size()).find_first_not_of(' ')));
    if (b.version.empty()) return make_error(fmt::format("'{}': no version number after {}", part, b.op));
    bounds.push_back(std::move(b));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return bounds;
}

Result<Alternative> parse_test(const std::string& text) {
  Alternative t;
  t.text = text;
  if (text == "absent") t.kind = Alternative::Kind::kAbsent;
  else if (text == "present") t.kind = Alternative::Kind::kPresent;
  else if (!text.empty() && text[0] == '~') {
    t.kind = Alternative::Kind::kRegex;
    try {
      t.regex.emplace(text.substr(1), std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return make_error(fmt::format("'{}': not a regular expression ({})", text, e.what()));
    }
  } else if (!text.empty() && (text[0] == '<' || text[0] == '>' || text[0] == '=' || text[0] == '!')) {
    t.kind = Alternative::Kind::kVersion;
    auto b = parse_bounds(text);
    if (!b) return b.error();
    t.bounds = std::move(*b);
  }
  return t;
}

// `when` tables may nest (artifact.numpy = "2" is artifact = { numpy = "2" } in TOML).
Status conditions(const std::string& source, const toml::table& t, const std::string& prefix,
                  std::vector<Condition>& out) {
  for (const auto& [k, v] : t) {
    std::string fact = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const toml::table* sub = v.as_table()) {
      if (auto st = conditions(source, *sub, fact, out); !st) return st;
      continue;
    }
    std::vector<std::string> texts;
    if (auto s = v.value<std::string>()) texts.push_back(*s);
    else if (const toml::array* arr = v.as_array())
      for (const auto& item : *arr) {
        auto s2 = item.value<std::string>();
        if (!s2) return at(source, item, fact + ": must be a string or a list of strings");
        texts.push_back(*s2);
      }
    else return at(source, v, fact + ": must be a string or a list of strings");
    // "artifact.global#2": a second condition on the same fact (a TOML table has one key each).
    Condition c{fact.substr(0, fact.find('#')), {}};
    for (const auto& text : texts) {
      auto test = parse_test(text);
      if (!test) return at(source, v, fact + ": " + test.error().message);
      c.any_of.push_back(std::move(*test));
    }
    out.push_back(std::move(c));
  }
  return ok_status();
}

Result<Rule> parse_rule(const std::string& source, const toml::table& t, const std::string& cause) {
  for (const auto& [k, v] : t)
    if (k.str() != "outcome" && k.str() != "when")
      return at(source, v, fmt::format("{} forecast: unknown key {} (outcome, when)", cause, k.str()));
  Rule r;
  r.cause = cause;
  auto name = t["outcome"].value<std::string>();
  auto outcome = name ? outcome_from_name(*name) : std::nullopt;
  if (!outcome || *outcome == Outcome::kOk || *outcome == Outcome::kUnknown)
    return at(source, t, cause + " forecast: outcome must be LOAD_ERROR, PREDICT_ERROR or CRASH");
  r.outcome = *outcome;
  const toml::table* when = t["when"].as_table();
  if (!when || when->empty()) return at(source, t, cause + " forecast: needs a non-empty when table");
  if (auto st = conditions(source, *when, "", r.when); !st) return st.error();
  return r;
}

}  // namespace

std::string_view outcome_name(Outcome o) { return kOutcomeNames[static_cast<std::size_t>(o)]; }

std::optional<Outcome> outcome_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kOutcomeNames.size(); ++i)
    if (name == kOutcomeNames[i]) return static_cast<Outcome>(i);
  return std::nullopt;
}

std::vector<long> version_parts(std::string_view text) {
  std::vector<long> parts;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    long n = 0;
    auto [next, ec] = std::from_chars(p, end, n);
    if (ec != std::errc()) break;
    parts.push_back(n);
    if (next == end || *next != '.') break;
    p = next + 1;
  }
  return parts;
}

int compare_versions(const std::vector<long>& a, const std::vector<long>& b) {
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    long x = i < a.size() ? a[i] : 0, y = i < b.size() ? b[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

bool Alternative::holds(const std::string& value) const {
  switch (kind) {
    case Kind::kAbsent: return value == "absent";
    case Kind::kPresent: return value != "absent" && value != "none";
    case Kind::kExact: return value == text;
    case Kind::kRegex: return std::regex_search(value, *regex);
    case Kind::kVersion: {
      auto v = version_parts(value);
      if (v.empty()) return false;
      for (const auto& b : bounds) {
        int c = compare_versions(v, b.version);
        bool ok = b.op == "<" ? c < 0 : b.op == "<=" ? c <= 0 : b.op == ">" ? c > 0 : b.op == ">=" ? c >= 0
                  : b.op == "==" ? c == 0 : c != 0;
        if (!ok) return false;
      }
      return true;
    }
  }
  return false;
}

Result<std::vector<Rule>> parse_rules(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return make_error(fmt::format("{}:{}: {}", source, e.source().begin.line, e.description()));
  }
  std::vector<Rule> rules;
  const toml::array* causes = root["cause"].as_array();
  if (!causes) return rules;
  for (const auto& item : *causes) {
    const toml::table* c = item.as_table();
    if (!c) continue;
    std::string id = (*c)["id"].value_or(std::string());
    const toml::node* f = c->get("forecast");
    if (!f) continue;
    const toml::array* list = f->as_array();
    if (!list) return at(source, *f, id + ": forecast must be [[cause.forecast]] tables");
    for (const auto& r : *list) {
      if (!r.as_table()) return at(source, r, id + ": forecast must be a table");
      auto rule = parse_rule(source, *r.as_table(), id);
      if (!rule) return rule.error();
      rules.push_back(std::move(*rule));
    }
  }
  return rules;
}

const std::vector<Rule>& builtin_rules() {
  // Parsed once, immutable afterwards; forecast's unit tests parse the same text and fail on
  // any error.
  static const std::vector<Rule> kRules = [] {
    auto r = parse_rules(builtin_catalogue_text(), "harness/causes/catalogue.toml");
    return r ? std::move(*r) : std::vector<Rule>{};
  }();
  return kRules;
}

}  // namespace crossload::forecast
