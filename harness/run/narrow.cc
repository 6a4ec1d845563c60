#include "harness/run/narrow.h"

#include <fmt/format.h>

#include <algorithm>

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
  if (auto s = check_envs(m, "--producers", n.producers); !s) return s;
  if (auto s = check_envs(m, "--consumers", n.consumers); !s) return s;
  replace_if_given(m, &Matrix::producers, "producers", n.producers);
  replace_if_given(m, &Matrix::consumers, "consumers", n.consumers);
  replace_if_given(m, &Matrix::fixtures, "fixtures", n.fixtures);
  replace_if_given(m, &Matrix::formats, "formats", n.formats);
  return ok_status();
}

}  // namespace crossload
