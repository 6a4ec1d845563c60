#pragma once
// The facts a forecast reasons over, as plain named values: what the static audit read from an
// artifact (harness/audit's record, never a load) and what an environment's fingerprint says.
// A fact that is absent is unknown; a rule that needs it forecasts UNKNOWN and names it
// (docs/forecast.md lists every fact).
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "harness/inspection/record.h"

namespace crossload::forecast {

// name -> values ("artifact.global" has many, "env.numpy" one). A package that the fingerprint
// reports as not installed has the value "absent".
struct Facts {
  std::map<std::string, std::vector<std::string>, std::less<>> values;

  const std::vector<std::string>* find(std::string_view name) const;
  void set(const std::string& name, std::string value) { values[name] = {std::move(value)}; }
  void add(const std::string& name, std::string value);
};

// The artifact's facts from its inspection record. `variant` is how it is loaded when the
// caller knows it (a run's format: "pickle-p5", "joblib-mmap"); otherwise it is derived from
// the record (format, protocol, compression).
Facts artifact_facts(const audit::InspectionRecord& rec, std::string_view variant = {});

// The format variant a record looks like when nobody says how it is loaded.
std::string variant_of(const audit::InspectionRecord& rec);

// An environment's facts from its fingerprint (harness/worker/envinfo.py's JSON).
Facts env_facts(const nlohmann::json& fingerprint);

}  // namespace crossload::forecast
