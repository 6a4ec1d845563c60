#pragma once
// Random JSON documents for tests that compare a fast reader or writer with nlohmann's: strings
// built from pieces that need escaping (quotes, control characters, multi-byte UTF-8), numbers
// of every kind, nesting up to five levels.
#include <functional>
#include <iterator>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

namespace crossload::testing {

class RandomJson {
 public:
  explicit RandomJson(unsigned seed) : rng_(seed) {}

  nlohmann::json document() { return value(0); }

 private:
  std::string text() {
    static const std::string pieces[] = {"a", "é", "\n", "\"", "\\", "\x01", "\x1F", "→", "\xF0\x9F\x98\x80", "/", "\x7F", " "};
    std::string s;
    for (int n = rng_() % 12; n > 0; --n) s += pieces[rng_() % std::size(pieces)];
    return s;
  }

  nlohmann::json value(int depth) {
    switch (depth > 3 ? rng_() % 4 : rng_() % 6) {
      case 0: return text();
      case 1: return static_cast<double>(rng_()) / 977.0 - 1e6;
      case 2: return static_cast<int64_t>(rng_()) - (int64_t{1} << 31);
      case 3: return rng_() % 2 == 0;
      case 4: {
        nlohmann::json a = nlohmann::json::array();
        for (int n = rng_() % 4; n > 0; --n) a.push_back(value(depth + 1));
        return a;
      }
      default: {
        nlohmann::json o = nlohmann::json::object();
        for (int n = rng_() % 4; n > 0; --n) o[text()] = value(depth + 1);
        return o;
      }
    }
  }

  std::mt19937 rng_;
};

}  // namespace crossload::testing
