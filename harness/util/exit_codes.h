#pragma once
// Exit codes of the crossload binary, one name each, so CI scripts can branch on them. An error
// becomes its exit code here and nowhere else (exit_code::of); the README's "Exit codes" table
// is checked against the binary by harness/cli/test_exit_codes.py.
#include "harness/util/result.h"

namespace crossload::exit_code {
inline constexpr int kOk = 0;
inline constexpr int kCellsFailed = 1;      // run/check: some cell is not OK (and not expected)
inline constexpr int kUsage = 2;            // bad command line
inline constexpr int kBadInput = 3;         // malformed matrix, missing/corrupt artifact or .npy
inline constexpr int kEnvironment = 4;      // an environment could not be started at all
inline constexpr int kStore = 5;            // results store unusable (locked, corrupt)
inline constexpr int kInternal = 70;        // a bug in crossload
inline constexpr int kInterrupted = 130;    // SIGINT or SIGTERM stopped a run (128 + SIGINT, as shells say)

constexpr int of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kBadInput: return kBadInput;
    case ErrorKind::kUsage: return kUsage;
    case ErrorKind::kEnvironment: return kEnvironment;
    case ErrorKind::kStore: return kStore;
    case ErrorKind::kInternal: return kInternal;
    case ErrorKind::kInterrupted: return kInterrupted;
  }
  return kInternal;
}
}  // namespace crossload::exit_code
