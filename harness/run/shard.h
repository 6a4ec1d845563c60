#pragma once
// Sharding a matrix across machines: a shard is a deterministic slice of the
// (producer, fixture) pairs, so each shard trains only what it consumes and every shard
// holds the same number of cells give or take one pair.
#include <string>

#include "harness/util/result.h"

namespace crossload {

struct Shard {
  int index = 1;  // 1-based, as people write it: --shard 2/4
  int count = 1;
  bool holds(std::size_t pair_index) const { return static_cast<int>(pair_index % count) == index - 1; }
};

// "K/N" with 1 <= K <= N.
Result<Shard> parse_shard(const std::string& spec);

}  // namespace crossload
