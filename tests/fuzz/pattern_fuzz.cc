// Schema `pattern` expressions (src/util/pattern_syntax.cc, src/util/pattern.cc): a pattern
// is part of a resource definition, which may come from anyone who can write a schema file or
// the catalog; the text matched is any field value a client sends.
//
// Input: line 1 the pattern, the rest the text it is matched against (at most 4 KiB of it,
// so a slow match shows as a timeout of scripts/fuzz.sh, not as a long input).
//
// Invariants: Compile fails only with kInvalidArgument; Search never throws, crashes or takes
// more than linear time (libFuzzer's -timeout catches a hang); a pattern compiles or not
// whatever the case flag.
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "util/pattern.h"

namespace {

using s3db::util::Pattern;
using s3db_fuzz::Check;

constexpr size_t kMaxText = 4096;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input = s3db_fuzz::Text(data, size);
  auto [source, text] = s3db_fuzz::SplitAt(input, "\n");
  if (text.size() > kMaxText) text = text.substr(0, kMaxText);
  bool compiled[2] = {false, false};
  for (bool ignore_case : {false, true}) {
    s3db::Result<Pattern> pattern = Pattern::Compile(source, Pattern::Options{ignore_case});
    if (!pattern.ok()) {
      Check(pattern.code() == s3db::ErrorCode::kInvalidArgument, "Compile: " + pattern.status().ToString());
      continue;
    }
    compiled[ignore_case] = true;
    Check(pattern->source() == source, "the pattern's source() is not what it was compiled from");
    (void)pattern->Search(text);
    (void)pattern->Search(source);
  }
  Check(compiled[0] == compiled[1], "a pattern that compiles only with one case flag: " + std::string(source));
  return 0;
}
