#include "reports/report_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace crossload {

FileBuffer::FileBuffer(int fd, std::size_t size) : fd_(fd), buffer_(size) {
  setp(buffer_.data(), buffer_.data() + buffer_.size());
}

FileBuffer::~FileBuffer() { close(); }

bool FileBuffer::close() {
  if (fd_ < 0) return !failed_;
  drain();
  if (::close(fd_) != 0) failed_ = true;
  fd_ = -1;
  return !failed_;
}

FileBuffer::int_type FileBuffer::overflow(int_type c) {
  if (!drain()) return traits_type::eof();
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  *pptr() = traits_type::to_char_type(c);
  pbump(1);
  return c;
}

std::streamsize FileBuffer::xsputn(const char* s, std::streamsize n) {
  auto size = static_cast<std::size_t>(n);
  if (size > static_cast<std::size_t>(epptr() - pptr())) {
    if (!drain()) return 0;
    // Larger than the whole buffer: copying it in first would only split it in two writes.
    if (size >= buffer_.size()) return write_all(s, size) ? n : 0;
  }
  std::memcpy(pptr(), s, size);
  pbump(static_cast<int>(size));
  return n;
}

int FileBuffer::sync() { return drain() ? 0 : -1; }

bool FileBuffer::drain() {
  bool written = write_all(pbase(), static_cast<std::size_t>(pptr() - pbase()));
  setp(buffer_.data(), buffer_.data() + buffer_.size());
  return written;
}

bool FileBuffer::write_all(const char* s, std::size_t n) {
  while (n > 0 && !failed_ && fd_ >= 0) {
    ssize_t w = ::write(fd_, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      failed_ = true;
      break;
    }
    s += w, n -= static_cast<std::size_t>(w);
  }
  return !failed_ && n == 0;
}

ReportFile::ReportFile(std::string path, int fd) : path_(std::move(path)), buffer_(fd, std::size_t{1} << 20), stream_(&buffer_) {}

Result<std::unique_ptr<ReportFile>> ReportFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return make_error(fmt::format("{}: cannot write report: {}", path, std::strerror(errno)));
  return std::unique_ptr<ReportFile>(new ReportFile(path, fd));
}

Status ReportFile::close() {
  bool streamed = static_cast<bool>(stream_);
  if (!buffer_.close() || !streamed) return make_error(fmt::format("{}: write failed", path_));
  return ok_status();
}

}  // namespace crossload
