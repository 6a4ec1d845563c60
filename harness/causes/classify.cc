#include "harness/causes/classify.h"

#include <algorithm>
#include <cctype>

#include "harness/util/text.h"

namespace crossload {

namespace {

using json = nlohmann::json;

std::string text_of(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) return "";
  return obj[key].get<std::string>();
}

bool path_start(const std::string& out, std::string_view in, std::size_t i) {
  if (in[i] != '/' || i + 1 >= in.size()) return false;
  char next = in[i + 1];
  if (std::isspace(static_cast<unsigned char>(next)) || next == '\'' || next == '"') return false;
  if (out.empty()) return true;
  char before = out.back();
  return before == ' ' || before == '\'' || before == '"' || before == '(' || before == '<' || before == '=';
}

bool path_char(char c) {
  return !std::isspace(static_cast<unsigned char>(c)) && c != '\'' && c != '"' && c != '<' && c != '>' && c != ')';
}

bool hex_start(std::string_view in, std::size_t i) {
  return in[i] == '0' && i + 2 < in.size() && (in[i + 1] == 'x' || in[i + 1] == 'X') &&
         std::isxdigit(static_cast<unsigned char>(in[i + 2])) &&
         (i == 0 || !std::isalnum(static_cast<unsigned char>(in[i - 1])));
}

// The invariant a MISMATCH broke, as "name: message", or "" when none was recorded.
std::string invariant_text(const json& detail) {
  if (!detail.is_object() || !detail.contains("invariants") || !detail["invariants"].is_array() ||
      detail["invariants"].empty())
    return "";
  const json& first = detail["invariants"][0];
  return text_of(first, "name") + ": " + text_of(first, "message");
}

}  // namespace

std::string normalise_message(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    char c = in[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      while (i < in.size() && std::isspace(static_cast<unsigned char>(in[i]))) ++i;
    } else if (path_start(out, in, i)) {
      out += "<path>";
      while (i < in.size() && path_char(in[i])) ++i;
    } else if (hex_start(in, i)) {
      out += "<addr>";
      i += 2;
      while (i < in.size() && std::isxdigit(static_cast<unsigned char>(in[i]))) ++i;
    } else {
      out += c;
      ++i;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool needs_cause(Outcome o) {
  return o != Outcome::kOkExact && o != Outcome::kOkTolerance && o != Outcome::kXpass;
}

CellFacts cell_facts(const CellRecord& cell) {
  CellFacts f;
  const json& d = cell.detail;
  f.outcome = cell.outcome;
  if (cell.outcome == Outcome::kXfail && d.is_object() && d.contains("expected")) {
    if (auto o = outcome_from_string(text_of(d["expected"], "observed"))) f.outcome = *o;
  }
  f.format = cell.format;
  f.fixture = cell.fixture;
  if (f.outcome == Outcome::kMismatch) {
    std::string invariant = invariant_text(d);
    f.stage = "compare";
    f.exception = invariant.empty() ? "Mismatch" : "InvariantViolation";
    f.message = normalise_message(invariant.empty() ? text_of(d, "summary") : invariant);
    return f;
  }
  f.stage = text_of(d, "stage");
  f.exception = text_of(d, "error_type");
  f.message = normalise_message(text_of(d, "message"));
  return f;
}

namespace {

// Every part of a signature but its pattern.
bool matches_but_pattern(const Signature& s, const CellFacts& f) {
  if (!s.outcomes.empty() && std::find(s.outcomes.begin(), s.outcomes.end(), f.outcome) == s.outcomes.end())
    return false;
  if (!s.stage.empty() && s.stage != f.stage) return false;
  if (!s.exception.empty() && s.exception != f.exception) return false;
  if (!s.formats.empty() && std::find(s.formats.begin(), s.formats.end(), f.format) == s.formats.end()) return false;
  if (!s.fixtures.empty() && std::none_of(s.fixtures.begin(), s.fixtures.end(),
                                          [&](const std::string& g) { return glob_match(g, f.fixture); }))
    return false;
  return true;
}

}  // namespace

bool matches(const Signature& s, const CellFacts& f) {
  return matches_but_pattern(s, f) && (!s.compiled || std::regex_search(f.message, *s.compiled));
}

const Cause* classify(const Catalogue& catalogue, const CellFacts& facts) {
  for (const auto& cause : catalogue.causes)
    for (const auto& s : cause.signatures)
      if (matches(s, facts)) return &cause;
  return nullptr;
}

std::string cause_id(const CellRecord& cell, const Catalogue& catalogue) {
  if (!needs_cause(cell.outcome)) return "";
  const Cause* c = classify(catalogue, cell_facts(cell));
  return c ? c->id : std::string(kUnclassified);
}

namespace {
constexpr std::size_t kRememberedMessages = 50000;
}  // namespace

Classifier::Classifier(const Catalogue& catalogue) : catalogue_(catalogue) {
  for (const auto& cause : catalogue_.causes) signatures_ += cause.signatures.size();
}

bool Classifier::pattern_matches(std::size_t signature, const Signature& s, std::vector<signed char>& known,
                                 const std::string& message) {
  if (!s.compiled) return true;
  if (known[signature] < 0) known[signature] = std::regex_search(message, *s.compiled);
  return known[signature];
}

std::string Classifier::cause_id(const CellRecord& cell) {
  if (!needs_cause(cell.outcome)) return "";
  CellFacts facts = cell_facts(cell);
  if (by_message_.size() >= kRememberedMessages && !by_message_.count(facts.message)) by_message_.clear();
  auto& known = by_message_.try_emplace(facts.message, signatures_, -1).first->second;
  std::size_t signature = 0;
  for (const auto& cause : catalogue_.causes)
    for (const auto& s : cause.signatures) {
      std::size_t k = signature++;
      if (matches_but_pattern(s, facts) && pattern_matches(k, s, known, facts.message)) return cause.id;
    }
  return std::string(kUnclassified);
}

}  // namespace crossload
