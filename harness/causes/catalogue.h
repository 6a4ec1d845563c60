#pragma once
// The catalogue of breakage causes (harness/causes/catalogue.toml, compiled into the binary):
// one entry per reason a persisted model does not load, predict or answer like its producer
// elsewhere, with the signature that recognises it in a cell, the boundary it belongs to and
// what to do. Parsing errors are values naming the file, line and key; the built-in catalogue
// is checked by the unit tests, so builtin_catalogue() never fails at run time.
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "harness/compare/outcome.h"
#include "harness/util/result.h"

namespace crossload {

// Every field that is set must match (see catalogue.toml's header for their meaning).
struct Signature {
  std::vector<Outcome> outcomes;
  std::string stage;
  std::string exception;
  std::string pattern;                 // as written; empty: any message
  std::optional<std::regex> compiled;  // of pattern
  std::vector<std::string> formats;
  std::vector<std::string> fixtures;  // globs over the cell's fixture ("estimators:AdaBoost*")
};

struct Boundary {
  std::string component, producer, consumer, format;
};

struct Cause {
  std::string id, title;
  Boundary boundary;
  std::string what, fix;
  std::vector<std::string> references;
  std::vector<Signature> signatures;
};

struct Catalogue {
  std::vector<Cause> causes;  // in file order: the first match wins
  const Cause* find(std::string_view id) const;
};

// The id of a non-OK cell no cause explains; reports list these first so the catalogue grows.
inline constexpr std::string_view kUnclassified = "unclassified";

Result<Catalogue> parse_catalogue(std::string_view text, const std::string& source);
// The catalogue compiled into this binary.
const Catalogue& builtin_catalogue();
std::string_view builtin_catalogue_text();

}  // namespace crossload
