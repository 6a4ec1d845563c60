#pragma once
// A cursor over bytes that never reads past the end: every read either succeeds or reports
// how many bytes were wanted and where, so parsers of hostile input stay bounded. It reads
// either bytes held in memory or a stream (a decompressor), keeping only a window of it: a
// small file that inflates to gigabytes is parsed in bounded memory.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "harness/util/result.h"

namespace crossload::audit {

// A producer of bytes for a streaming ByteReader.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Writes up to `n` bytes to `buf`: how many, 0 at the end of the stream, or an Error.
  virtual Result<std::size_t> read(char* buf, std::size_t n) = 0;
};

class ByteReader {
 public:
  // `base` is added to every offset reported, for data that sits inside a larger file.
  explicit ByteReader(std::string_view data, std::uint64_t base = 0) : data_(data), base_(base) {}
  // Streams `source`. A view returned by take() or take_line() then stays valid only until the
  // next call of any method but pos(), offset(), base(), remaining() and data(): a caller that
  // keeps text copies it (see streaming()).
  explicit ByteReader(ByteSource& source) : source_(&source) {}
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  bool streaming() const { return source_ != nullptr; }
  // The source's error, once a read failed (the reader then behaves as if the stream ended).
  const std::optional<Error>& source_error() const { return error_; }

  // Of the bytes at hand: all of them in memory, the current window of a stream.
  std::size_t pos() const { return pos_; }
  std::uint64_t offset() const { return base_ + pos_; }
  std::uint64_t base() const { return base_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  std::string_view data() const { return data_; }
  void seek(std::size_t pos) { pos_ = pos < data_.size() ? pos : data_.size(); }

  bool at_end() { return pos_ >= data_.size() && !fill(1); }

  std::optional<std::uint8_t> peek() {
    if (at_end()) return std::nullopt;
    return static_cast<std::uint8_t>(data_[pos_]);
  }

  // True when `n` more bytes can be read. A stream is read ahead only up to kLookahead: when
  // that many are there the answer is true, and a shortfall past them shows when read.
  bool available(std::uint64_t n) {
    if (n <= remaining()) return true;
    if (!streaming()) return false;
    return fill(std::min<std::uint64_t>(n, kLookahead));
  }

  // Takes `n` bytes, or nothing if fewer remain (or, in a stream, if n > kMaxWindow).
  std::optional<std::string_view> take(std::uint64_t n) {
    if (n > remaining() && !fill(n)) return std::nullopt;
    std::string_view out = data_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }

  // Steps over `n` bytes without keeping them (a stream's never all sit in memory). False,
  // at the end of the data, if fewer remain.
  bool skip(std::uint64_t n);
  // Steps to the end; returns how many bytes that passed over.
  std::uint64_t skip_rest();

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

  // Takes bytes up to (not including) '\n' and consumes the newline; nothing if none is left
  // (in a stream, nor within kMaxWindow bytes).
  std::optional<std::string_view> take_line();

  static constexpr std::size_t kLookahead = std::size_t{4} << 20;
  // The most a stream's window holds: longer spans are skipped, not read (see take()).
  static constexpr std::size_t kMaxWindow = std::size_t{64} << 20;

 private:
  // Streams only: makes at least `n` bytes available from pos(), moving the unread bytes to
  // the front of the window first. False when the stream ends (or fails) before.
  bool fill(std::uint64_t n);

  std::string_view data_;
  std::uint64_t base_ = 0;
  std::size_t pos_ = 0;
  ByteSource* source_ = nullptr;
  std::string window_;  // a stream's bytes at hand: data_ views its first bytes
  bool ended_ = false;
  std::optional<Error> error_;
};

// Multiplies non-negative sizes, reporting overflow past `cap` as nullopt.
inline std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b,
                                                std::uint64_t cap = UINT64_MAX) {
  if (a != 0 && b > cap / a) return std::nullopt;
  return a * b;
}

}  // namespace crossload::audit
