#include "harness/inspection/byte_reader.h"

#include <algorithm>
#include <cstring>

namespace crossload::audit {

namespace {
constexpr std::size_t kChunk = std::size_t{1} << 20;
}  // namespace

bool ByteReader::fill(std::uint64_t n) {
  // A window past kMaxWindow would be the whole stream again: callers skip such spans.
  if (!source_ || ended_ || n > kMaxWindow) return false;
  // The unread bytes move to the front: the window holds what is at hand, never the stream.
  std::size_t unread = remaining();
  if (pos_ > 0 && unread > 0) std::memmove(window_.data(), window_.data() + pos_, unread);
  base_ += pos_;
  pos_ = 0;
  std::size_t want = static_cast<std::size_t>(std::max<std::uint64_t>(n, kChunk));
  if (window_.size() < want) window_.resize(want);
  std::size_t have = unread;
  while (have < n) {
    auto got = source_->read(window_.data() + have, window_.size() - have);
    if (!got) error_ = got.error();
    if (!got || *got == 0) {
      ended_ = true;
      break;
    }
    have += *got;
  }
  data_ = std::string_view(window_.data(), have);
  return have >= n;
}

bool ByteReader::skip(std::uint64_t n) {
  while (n > remaining()) {
    n -= remaining();
    pos_ = data_.size();
    if (!fill(1)) return false;
  }
  pos_ += static_cast<std::size_t>(n);
  return true;
}

std::uint64_t ByteReader::skip_rest() {
  std::uint64_t passed = 0;
  do {
    passed += remaining();
    pos_ = data_.size();
  } while (fill(1));
  return passed;
}

std::optional<std::string_view> ByteReader::take_line() {
  std::size_t searched = 0;  // bytes after pos_ known to hold no newline
  while (true) {
    std::size_t nl = data_.find('\n', pos_ + searched);
    if (nl != std::string_view::npos) {
      std::string_view out = data_.substr(pos_, nl - pos_);
      pos_ = nl + 1;
      return out;
    }
    searched = remaining();
    if (searched >= kMaxWindow) return std::nullopt;
    // The stream may end before the window fills: what it gave is searched all the same.
    fill(std::min(searched + kChunk, kMaxWindow));
    if (remaining() == searched) return std::nullopt;
  }
}

}  // namespace crossload::audit
