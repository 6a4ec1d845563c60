#pragma once
// Exit codes of the crossload binary, one name each, so CI scripts can branch on them.
namespace crossload::exit_code {
inline constexpr int kOk = 0;
inline constexpr int kCellsFailed = 1;      // run/check: some cell is not OK (and not expected)
inline constexpr int kUsage = 2;            // bad command line
inline constexpr int kBadInput = 3;         // malformed matrix, missing/corrupt artifact or .npy
inline constexpr int kEnvironment = 4;      // an environment could not be started at all
inline constexpr int kStore = 5;            // results store unusable (locked, corrupt)
inline constexpr int kInternal = 70;        // a bug in crossload
}  // namespace crossload::exit_code
