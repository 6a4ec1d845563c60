#include "harness/causes/catalogue.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <toml++/toml.h>

#include "harness/util/text.h"

namespace crossload {

namespace {

const std::vector<std::string> kCauseKeys{"id", "title", "boundary", "what", "fix", "references", "signature",
                                            "forecast"};  // forecast: harness/forecast/rules.*
const std::vector<std::string> kSignatureKeys{"outcomes", "stage", "exception", "pattern", "formats", "fixtures"};
const std::vector<std::string> kBoundaryKeys{"component", "producer", "consumer", "format"};

struct Reader {
  const std::string& source;

  Error at(const toml::node& n, const std::string& what) const {
    return make_error(fmt::format("{}:{}: {}", source, n.source().begin.line, what));
  }

  Status keys(const toml::table& t, const std::vector<std::string>& allowed, const std::string& table) const {
    for (const auto& [k, v] : t) {
      std::string key(k.str());
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        return at(v, fmt::format("[{}] {}: unknown key{}", table, key, did_you_mean(key, allowed)));
    }
    return ok_status();
  }

  Status string(const toml::table& t, const char* key, std::string& out, bool required) const {
    const toml::node* n = t.get(key);
    if (!n) return required ? Status(at(t, fmt::format("{}: missing (required)", key))) : ok_status();
    auto s = n->value<std::string>();
    if (!s) return at(*n, fmt::format("{}: must be a string", key));
    out = *s;
    return ok_status();
  }

  Status strings(const toml::table& t, const char* key, std::vector<std::string>& out) const {
    const toml::node* n = t.get(key);
    if (!n) return ok_status();
    const toml::array* arr = n->as_array();
    if (!arr) return at(*n, fmt::format("{}: must be a list of strings", key));
    for (const auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s) return at(item, fmt::format("{}: must be a list of strings", key));
      out.push_back(*s);
    }
    return ok_status();
  }

  Result<Signature> signature(const toml::table& t, const std::string& id) const {
    if (auto st = keys(t, kSignatureKeys, id + " signature"); !st) return st.error();
    Signature s;
    std::vector<std::string> outcomes;
    if (auto st = strings(t, "outcomes", outcomes); !st) return st.error();
    for (const auto& name : outcomes) {
      auto o = outcome_from_string(name);
      if (!o) return at(t, fmt::format("{}: outcomes: unknown outcome '{}'", id, name));
      s.outcomes.push_back(*o);
    }
    for (auto [key, field] : {std::pair{"stage", &s.stage}, {"exception", &s.exception}, {"pattern", &s.pattern}})
      if (auto st = string(t, key, *field, false); !st) return st.error();
    if (auto st = strings(t, "formats", s.formats); !st) return st.error();
    if (auto st = strings(t, "fixtures", s.fixtures); !st) return st.error();
    if (!s.pattern.empty()) {
      try {
        s.compiled.emplace(s.pattern, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        return at(t, fmt::format("{}: pattern: not a regular expression ({})", id, e.what()));
      }
    }
    if (s.outcomes.empty() && s.stage.empty() && s.exception.empty() && s.pattern.empty() && s.formats.empty() &&
        s.fixtures.empty())
      return at(t, fmt::format("{}: a signature must set at least one of {}", id, join(kSignatureKeys, ", ")));
    return s;
  }

  Status boundary(const toml::table& t, Cause& c) const {
    const toml::node* n = t.get("boundary");
    if (!n) return at(t, c.id + ": boundary: missing (required)");
    const toml::table* b = n->as_table();
    if (!b) return at(*n, c.id + ": boundary: must be a table");
    if (auto st = keys(*b, kBoundaryKeys, c.id + " boundary"); !st) return st;
    for (auto [key, field] : {std::pair{"component", &c.boundary.component}, {"producer", &c.boundary.producer},
                              {"consumer", &c.boundary.consumer}, {"format", &c.boundary.format}})
      if (auto st = string(*b, key, *field, std::string_view(key) == "component"); !st) return st;
    return ok_status();
  }

  Result<Cause> cause(const toml::table& t) const {
    Cause c;
    if (auto st = string(t, "id", c.id, true); !st) return st.error();
    if (auto st = keys(t, kCauseKeys, c.id); !st) return st.error();
    for (auto [key, field] : {std::pair{"title", &c.title}, {"what", &c.what}, {"fix", &c.fix}})
      if (auto st = string(t, key, *field, true); !st) return st.error();
    if (auto st = boundary(t, c); !st) return st.error();
    if (auto st = strings(t, "references", c.references); !st) return st.error();
    const toml::array* sigs = t.get("signature") ? t.get("signature")->as_array() : nullptr;
    if (!sigs || sigs->empty()) return at(t, c.id + ": needs at least one [[cause.signature]]");
    for (const auto& item : *sigs) {
      if (!item.as_table()) return at(item, c.id + ": signature must be a table");
      auto s = signature(*item.as_table(), c.id);
      if (!s) return s.error();
      c.signatures.push_back(std::move(*s));
    }
    return c;
  }
};

}  // namespace

const Cause* Catalogue::find(std::string_view id) const {
  for (const auto& c : causes)
    if (c.id == id) return &c;
  return nullptr;
}

Result<Catalogue> parse_catalogue(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return make_error(fmt::format("{}:{}: {}", source, e.source().begin.line, e.description()));
  }
  Reader r{source};
  if (auto st = r.keys(root, {"schema_version", "cause"}, "catalogue"); !st) return st.error();
  const toml::array* list = root.get("cause") ? root.get("cause")->as_array() : nullptr;
  if (!list) return make_error(source + ": no [[cause]] entries");
  Catalogue cat;
  std::set<std::string> ids;
  for (const auto& item : *list) {
    if (!item.as_table()) return r.at(item, "[[cause]] must be a table");
    auto c = r.cause(*item.as_table());
    if (!c) return c.error();
    if (c->id == kUnclassified) return r.at(item, "id 'unclassified' is reserved");
    if (!ids.insert(c->id).second) return r.at(item, fmt::format("id '{}' appears twice", c->id));
    cat.causes.push_back(std::move(*c));
  }
  return cat;
}

const Catalogue& builtin_catalogue() {
  // Parsed once; immutable afterwards. The unit tests parse the same text and fail on any error.
  static const Catalogue kCatalogue = [] {
    auto parsed = parse_catalogue(builtin_catalogue_text(), "harness/causes/catalogue.toml");
    return parsed ? std::move(*parsed) : Catalogue{};
  }();
  return kCatalogue;
}

}  // namespace crossload
