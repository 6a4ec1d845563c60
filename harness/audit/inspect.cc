#include "harness/audit/inspect.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "formats/registry.h"

namespace crossload::audit {

namespace {

// A read-only view of a whole file; mapped, so large models are not copied.
class MappedFile {
 public:
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    struct stat st{};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return make_error(fmt::format("{}: not a regular file", path));
    }
    auto file = std::unique_ptr<MappedFile>(new MappedFile);
    file->size_ = static_cast<std::size_t>(st.st_size);
    if (file->size_ > 0) {
      void* p = ::mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        return make_error(fmt::format("{}: cannot map: {}", path, std::strerror(errno)));
      }
      file->data_ = static_cast<const char*>(p);
    }
    ::close(fd);
    return file;
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<char*>(data_), size_);
  }
  std::string_view bytes() const { return {data_ ? data_ : "", size_}; }

 private:
  MappedFile() = default;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

// The formats that can be told by their bytes, by ascending rank: exact magic bytes first.
std::vector<const FormatDescriptor*> sniffers() {
  std::vector<const FormatDescriptor*> out;
  for (const auto* d : all_descriptors())
    if (d->sniff && d->inspect) out.push_back(d);
  std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->sniff_rank < b->sniff_rank; });
  return out;
}

}  // namespace

Status inspect_member(std::string_view data, const InspectContext& ctx, InspectionRecord& rec) {
  if (data.empty()) return make_error("offset 0: empty file");
  static const std::vector<const FormatDescriptor*> by_rank = sniffers();  // built once, never changed
  for (const auto* d : by_rank)
    if (d->sniff(data, ctx.path)) return d->inspect(data, ctx, rec);
  return make_error(fmt::format(
      "offset 0: unrecognised format (first byte 0x{:02x}): not a pickle, joblib, "
      "cloudpickle, skops, ONNX, .npy or .npz file",
      static_cast<unsigned char>(data[0])));
}

Result<InspectionRecord> inspect_bytes(std::string_view data, const std::string& path,
                                       const Policy& policy, const InspectOptions& options) {
  InspectContext ctx{policy, options, path};
  InspectionRecord rec;
  rec.path = path;
  Status st = inspect_member(data, ctx, rec);
  if (!st) {
    // A loader runs the prefix before it fails: an unsafe prefix stays a verdict.
    if (worst_severity(rec.findings) != Severity::kError)
      return make_error(fmt::format("{}: {}", path, st.error().message));
    rec.add_finding(Severity::kError, Rule::kTruncatedAfterUnsafe,
                    fmt::format("parsing stopped: {}", st.error().message), data.size());
  }
  rec.path = path;
  rec.settle_verdict();
  return rec;
}

Result<InspectionRecord> inspect_file(const std::string& path, const Policy& policy,
                                      const InspectOptions& options) {
  auto file = MappedFile::open(path);
  if (!file) return file.error();
  return inspect_bytes((*file)->bytes(), path, policy, options);
}

}  // namespace crossload::audit
