#pragma once
// Comparing a consumer's predictions with the producer's reference predictions:
// the step that turns two .npy files into OK_EXACT, OK_TOLERANCE or MISMATCH.
//
// - OK_EXACT: every value bitwise identical after byte-order normalisation (labels:
//   equal after widening integers). +0 vs -0, or NaNs with different payloads, are not
//   bitwise identical, though they are within any tolerance.
// - OK_TOLERANCE: floats differ but |candidate - reference| <= atol + rtol * |reference|
//   everywhere (numpy.isclose with equal_nan=True, reference in the role of b).
//   Infinities only match the same-signed infinity; a NaN only matches a NaN.
// - MISMATCH: anything beyond tolerance, any label disagreement, different shapes, or
//   kinds that cannot be compared (unicode against numbers).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/compare/npy.h"
#include "harness/compare/outcome.h"

namespace crossload {

struct Tolerance {
  double rtol = 1e-7;
  double atol = 0;
};

struct Comparison {
  Outcome outcome = Outcome::kOkExact;  // kOkExact, kOkTolerance or kMismatch
  std::size_t n_values = 0, n_not_identical = 0, n_beyond_tolerance = 0;
  std::size_t n_nan_one_side = 0;  // positions with a NaN on one side only (all beyond tolerance)
  // Over numeric values that are not NaN; ULPs only when both sides are floats, counted
  // in the coarser of the two precisions (float32 pairs in float32 ULPs).
  double max_abs = 0;
  std::uint64_t max_ulp = 0;
  std::vector<std::size_t> first_differing{};  // up to 10 flat C-order indices: beyond tolerance
                                               // if any are, otherwise not bitwise identical
  std::string summary{};                     // one plain sentence
  bool dtype_differs = false;                // kind, width or byte order
  std::string dtype_note{};                  // "labels int64 vs int32 (same values)"
};

Comparison compare_arrays(const NpyArray& reference, const NpyArray& candidate, Tolerance tol);

// Units in the last place between a and b after rounding both to the float type that is
// item_size bytes wide (2, 4 or 8). +0 and -0 are 0 apart; the largest finite value is
// 1 from infinity. Either side NaN gives UINT64_MAX.
std::uint64_t ulp_distance(double a, double b, std::size_t item_size);

}  // namespace crossload
