// The pickle inspector's entry points (inspector.h): the abstract unpickler (machine.h) run over
// every pickle of a stream, and the format it makes of what it saw.
#include "formats/pickle/inspector.h"

#include <fmt/format.h>

#include <memory>

#include "formats/joblib/inspector.h"
#include "formats/pickle/machine.h"

namespace crossload::audit {

using unpickler::is_opcode;
using unpickler::Machine;

bool looks_like_pickle(std::string_view head) {
  if (head.empty()) return false;
  auto b = static_cast<std::uint8_t>(head[0]);
  if (b == 0x80) return head.size() < 2 || static_cast<std::uint8_t>(head[1]) <= 5;
  return is_opcode(b) && b < 0x80;
}

Result<PickleScanSummary> scan_pickle_stream(ByteReader& in, const Policy& policy,
                                             const PickleScanOptions& opts,
                                             InspectionRecord& rec) {
  PickleScanSummary summary;
  if (in.at_end()) return make_error(fmt::format("offset {}: no pickle data", in.offset()));
  while (!in.at_end()) {
    std::uint64_t start = in.offset();
    Machine machine(in, policy, opts, rec, summary);
    if (auto st = machine.run(); !st) {
      // Bytes after a complete pickle that are not a pickle at all: pickle.load ignores them.
      if (summary.pickles > 0 && machine.failed_on_first_opcode()) {
        std::uint64_t trailing = in.offset() - start;
        trailing += in.skip_rest();
        rec.add_finding(Severity::kWarning, Rule::kAnomaly,
                        fmt::format("{} trailing bytes after the last pickle are not a pickle",
                                    trailing),
                        start);
        break;
      }
      return st.error();
    }
    ++summary.pickles;
    if (opts.single) break;
  }
  return summary;
}

namespace {

// The whole audit of one pickle read from `in`; `plain_reader(fn)` calls fn on a fresh reader
// of the same bytes, for the plain reading of a joblib stream.
template <class PlainReader>
Status inspect_pickle_reader(ByteReader& in, PlainReader&& plain_reader,
                             const InspectContext& ctx, InspectionRecord& rec) {
  rec.format = "pickle";
  PickleScanOptions opts;
  opts.joblib_arrays = true;
  opts.depth = ctx.depth;
  auto summary = scan_pickle_stream(in, ctx.policy, opts, rec);
  if (!summary) return summary.error();
  rec.protocol = summary->protocol >= 0 ? summary->protocol
                                        : (summary->saw_binary_opcode ? 1 : 0);
  if (summary->array_wrappers > 0) {
    rec.format = "joblib";
    plain_reader([&](ByteReader& plain) { check_plain_pickle_reading(plain, ctx.policy, rec); });
  } else if (!summary->pickled_by.empty()) {
    rec.format = std::string(summary->pickled_by);
  }
  rec.settle_verdict();
  return ok_status();
}

}  // namespace

Status inspect_pickle_bytes(std::string_view data, const InspectContext& ctx,
                            InspectionRecord& rec) {
  ByteReader in(data);
  return inspect_pickle_reader(
      in,
      [&](const auto& fn) {
        ByteReader plain(data);
        fn(plain);
      },
      ctx, rec);
}

Status inspect_pickle_source(ByteSource& source, const ReopenSource& reopen,
                             const InspectContext& ctx, InspectionRecord& rec) {
  ByteReader in(source);
  return inspect_pickle_reader(
      in,
      [&](const auto& fn) {
        std::unique_ptr<ByteSource> again = reopen();
        if (!again) return;
        ByteReader plain(*again);
        fn(plain);
      },
      ctx, rec);
}

}  // namespace crossload::audit

