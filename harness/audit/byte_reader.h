#pragma once
// A cursor over bytes that never reads past the end: every read either succeeds or reports
// how many bytes were wanted and where, so parsers of hostile input stay bounded.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "harness/util/result.h"

namespace crossload::audit {

class ByteReader {
 public:
  // `base` is added to every offset reported, for data that sits inside a larger file.
  explicit ByteReader(std::string_view data, std::uint64_t base = 0) : data_(data), base_(base) {}

  std::size_t pos() const { return pos_; }
  std::uint64_t offset() const { return base_ + pos_; }
  std::uint64_t base() const { return base_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ >= data_.size(); }
  std::string_view data() const { return data_; }
  void seek(std::size_t pos) { pos_ = pos < data_.size() ? pos : data_.size(); }

  std::optional<std::uint8_t> peek() const {
    if (at_end()) return std::nullopt;
    return static_cast<std::uint8_t>(data_[pos_]);
  }

  // Takes `n` bytes, or nothing if fewer remain.
  std::optional<std::string_view> take(std::uint64_t n) {
    if (n > remaining()) return std::nullopt;
    std::string_view out = data_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }

  std::optional<std::uint64_t> take_le(unsigned width) {
    auto bytes = take(width);
    if (!bytes) return std::nullopt;
    std::uint64_t v = 0;
    for (unsigned i = 0; i < width; ++i)
      v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>((*bytes)[i])) << (8 * i);
    return v;
  }

  std::optional<std::uint64_t> take_be(unsigned width) {
    auto bytes = take(width);
    if (!bytes) return std::nullopt;
    std::uint64_t v = 0;
    for (unsigned i = 0; i < width; ++i) v = (v << 8) | static_cast<std::uint8_t>((*bytes)[i]);
    return v;
  }

  // Takes bytes up to (not including) '\n' and consumes the newline; nothing if none is left.
  std::optional<std::string_view> take_line() {
    std::size_t nl = data_.find('\n', pos_);
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view out = data_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return out;
  }

 private:
  std::string_view data_;
  std::uint64_t base_ = 0;
  std::size_t pos_ = 0;
};

// Multiplies non-negative sizes, reporting overflow past `cap` as nullopt.
inline std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b,
                                                std::uint64_t cap = UINT64_MAX) {
  if (a != 0 && b > cap / a) return std::nullopt;
  return a * b;
}

}  // namespace crossload::audit
