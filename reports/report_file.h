#pragma once
// A report file written through one large buffer. The sinks write a cell at a time (1-2 KB each),
// and std::ofstream hands every write of 1 KiB or more straight to the kernel (its buffer only
// gathers smaller ones): a million cells cost a million writev calls per report. Here a write
// goes to the kernel only when a megabyte has gathered.
#include <cstddef>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "harness/util/result.h"

namespace crossload {

// A streambuf over a file descriptor it owns, flushed when its buffer is full, on sync and on
// close. A failed write makes the stream bad (and close() says so); nothing is retried.
class FileBuffer : public std::streambuf {
 public:
  FileBuffer(int fd, std::size_t size);
  ~FileBuffer() override;
  FileBuffer(const FileBuffer&) = delete;
  FileBuffer& operator=(const FileBuffer&) = delete;
  // Writes what is buffered and closes the descriptor; false when a write or the close failed.
  bool close();

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  bool drain();
  bool write_all(const char* s, std::size_t n);

  int fd_;
  std::vector<char> buffer_;
  bool failed_ = false;
};

// A report file opened for writing (created or truncated) with a 1 MiB buffer.
class ReportFile {
 public:
  static Result<std::unique_ptr<ReportFile>> open(const std::string& path);
  std::ostream& stream() { return stream_; }
  // Flushes and closes; an error names the file.
  Status close();

 private:
  ReportFile(std::string path, int fd);
  std::string path_;
  FileBuffer buffer_;
  std::ostream stream_;
};

}  // namespace crossload
