#include "harness/run/shard.h"

#include <fmt/format.h>

#include <charconv>

namespace crossload {

namespace {
bool parse_int(std::string_view s, int& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}
}  // namespace

Result<Shard> parse_shard(const std::string& spec) {
  auto slash = spec.find('/');
  Shard s;
  if (slash == std::string::npos || !parse_int(std::string_view(spec).substr(0, slash), s.index) ||
      !parse_int(std::string_view(spec).substr(slash + 1), s.count))
    return make_error(ErrorKind::kUsage, fmt::format("--shard {}: expected K/N, e.g. 2/4", spec));
  if (s.count < 1 || s.index < 1 || s.index > s.count)
    return make_error(ErrorKind::kUsage, fmt::format("--shard {}: K must be between 1 and N (N >= 1)", spec));
  return s;
}

}  // namespace crossload
