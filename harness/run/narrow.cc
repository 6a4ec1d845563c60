#include "harness/run/narrow.h"

#include <fmt/format.h>

#include "harness/util/text.h"

namespace crossload {

namespace {

Status check_envs(const Matrix& m, const std::string& flag, const std::vector<std::string>& names) {
  std::vector<std::string> defined;
  for (const auto& e : m.envs) defined.push_back(e.name);
  for (const auto& name : names)
    if (!m.find_env(name))
      return make_error(fmt::format("{}: '{}' is not an environment of {}{}", flag, name, m.path,
                                    did_you_mean(name, defined)));
  return ok_status();
}

void replace_if_given(std::vector<std::string>& target, const std::vector<std::string>& given) {
  if (!given.empty()) target = given;
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
  replace_if_given(m.producers, n.producers);
  replace_if_given(m.consumers, n.consumers);
  replace_if_given(m.fixtures, n.fixtures);
  replace_if_given(m.formats, n.formats);
  return ok_status();
}

}  // namespace crossload
