// Counts for the stress tests, smaller under a sanitizer.
//
// Under AddressSanitizer or ThreadSanitizer every operation and every process start costs
// several times more, while the property a stress test checks (no lost update, one winner, no
// stale read) is the same at a smaller count. The full counts, the ones the issues name, run in
// the default build; the sanitizer builds run enough rounds to find memory errors and races.
#pragma once

namespace s3db::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kUnderSanitizer = true;
#else
inline constexpr bool kUnderSanitizer = false;
#endif

// `full` in the default build, `under_sanitizer` in the asan and tsan builds.
constexpr int ScaledForSanitizers(int full, int under_sanitizer) { return kUnderSanitizer ? under_sanitizer : full; }

}  // namespace s3db::testing
