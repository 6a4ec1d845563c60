#include "harness/run/narrow.h"

#include <fmt/format.h>

#include <algorithm>

#include "harness/env/env_text.h"
#include "harness/util/text.h"

namespace crossload {

namespace {

Status check_envs(const Matrix& m, const std::string& flag, const std::vector<std::string>& names) {
  std::vector<std::string> defined;
  for (const auto& e : m.envs) defined.push_back(e.name);
  for (auto it = names.begin(); it != names.end(); ++it) {
    if (!m.find_env(*it))
      return make_error(ErrorKind::kUsage, fmt::format("{}: '{}' is not an environment of {}{}", flag, *it, m.path,
                                    did_you_mean(*it, defined)));
    if (std::find(names.begin(), it, *it) != it)
      return make_error(ErrorKind::kUsage, fmt::format("{}: '{}' is named twice; name each environment once", flag, *it));
  }
  return ok_status();
}

// `--consumers host,pip:numpy==1.26.4,scikit-learn==1.5.2` arrives split at every comma: a piece
// that is no environment of the matrix and follows a pip: spec is one more of its pins.
std::vector<std::string> rejoin_pip_specs(const Matrix& m, const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& name : names) {
    bool pin = !out.empty() && out.back().rfind("pip:", 0) == 0 && !m.find_env(name) && !is_env_text(name);
    if (pin) out.back() += "," + name;
    else out.push_back(name);
  }
  return out;
}

// The flag's list replaces the file's, and errors about the list name the flag.
void replace_if_given(Matrix& m, std::vector<std::string> Matrix::*list, const char* key,
                      const std::vector<std::string>& given) {
  if (given.empty()) return;
  m.*list = given;
  m.list_origin[key] = std::string("--") + key;
}

}  // namespace

std::string Narrowing::describe() const {
  if (empty()) return "";
  return fmt::format("producers={};consumers={};fixtures={};formats={}", join(producers, ","),
                     join(consumers, ","), join(fixtures, ","), join(formats, ","));
}

Status narrow_matrix(Matrix& m, const Narrowing& n) {
  auto producers = rejoin_pip_specs(m, n.producers), consumers = rejoin_pip_specs(m, n.consumers);
  for (const auto* names : {&producers, &consumers})
    if (auto s = add_spec_envs(m, *names); !s) return s;
  if (auto s = check_envs(m, "--producers", producers); !s) return s;
  if (auto s = check_envs(m, "--consumers", consumers); !s) return s;
  replace_if_given(m, &Matrix::producers, "producers", producers);
  replace_if_given(m, &Matrix::consumers, "consumers", consumers);
  replace_if_given(m, &Matrix::fixtures, "fixtures", n.fixtures);
  replace_if_given(m, &Matrix::formats, "formats", n.formats);
  return ok_status();
}

}  // namespace crossload
