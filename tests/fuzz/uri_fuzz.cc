// Connection strings (src/store/uri.cc): ParseStoreUri, StoreUri::ToString, SecretMasker.
//
// Invariants:
//  - a parsed URI printed by ToString() parses again to the same store (the secret key and
//    session token come back as "***", the mask ToString() prints);
//  - the secret never shows: the input is also planted with a known secret, as the password
//    of "scheme://KEY:SECRET@..." and as "?sessionToken=SECRET", and neither the parse error,
//    nor ToString(), nor MaskedUri() may contain it. The planted secret is 16 characters, so
//    the masker masks it wherever it stands (shorter ones only where they stand alone).
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "s3db/stores.h"

namespace {

using s3db_fuzz::Check;

constexpr std::string_view kSecret = "Fz9SecretMarker7";

void CheckRoundTrip(const std::string& text, const s3db::StoreUri& uri) {
  const std::string printed = uri.ToString();
  s3db::Result<s3db::StoreUri> again = s3db::ParseStoreUri(printed);
  Check(again.ok(), "ToString() of a parsed URI does not parse: " + printed + ": " + again.status().message());
  const s3db::StoreUri& b = *again;
  auto masked = [](const std::string& secret) { return secret.empty() ? std::string() : std::string("***"); };
  Check(b.scheme == uri.scheme && b.bucket == uri.bucket && b.path == uri.path && b.prefix == uri.prefix &&
            b.access_key == uri.access_key && b.secret_key == masked(uri.secret_key) &&
            b.session_token == masked(uri.session_token) && b.region == uri.region && b.endpoint == uri.endpoint &&
            b.force_path_style == uri.force_path_style && b.options == uri.options,
        "ToString() names another store: " + text + " printed as " + printed);
}

void CheckSecretHidden(const std::string& uri) {
  auto hidden = [&](const std::string& shown, const char* where) {
    Check(shown.find(kSecret) == std::string::npos, std::string(where) + " shows the secret of " + uri + ": " + shown);
  };
  s3db::Result<s3db::StoreUri> parsed = s3db::ParseStoreUri(uri);
  if (parsed.ok()) {
    hidden(parsed->ToString(), "ToString()");
  } else {
    hidden(parsed.status().message(), "the parse error");
  }
  hidden(s3db::MaskedUri(uri), "MaskedUri()");
}

std::string Without(std::string_view text, std::string_view characters) {
  std::string kept;
  for (char c : text) {
    if (characters.find(c) == std::string_view::npos) kept.push_back(c);
  }
  return kept;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = s3db_fuzz::Text(data, size);
  s3db::Result<s3db::StoreUri> parsed = s3db::ParseStoreUri(text);
  Check(parsed.ok() || parsed.code() == s3db::ErrorCode::kInvalidArgument,
        "a parse error that is not invalid_argument: " + parsed.status().ToString());
  if (parsed.ok()) CheckRoundTrip(text, *parsed);

  // The secret planted as the password: "SCHEME://KEY:SECRET@REST", where the input gives
  // KEY (its first line, without the characters that would end it) and REST (the rest).
  auto [first_line, rest] = s3db_fuzz::SplitAt(text, "\n");
  std::string key = rest.empty() ? std::string("AKIDFUZZ") : Without(first_line, ":@/?");
  std::string tail(rest.empty() ? first_line : rest);
  // The secret is what is planted; the same text elsewhere (a bucket, a prefix) is no secret.
  if (key.find(kSecret) != std::string::npos || tail.find(kSecret) != std::string::npos) return 0;
  // Not file://: everything after it is a directory, so "KEY:SECRET@" there is a path.
  static constexpr const char* kSchemes[] = {"s3", "http", "https", "memory"};
  const std::string scheme = kSchemes[size % 4];
  CheckSecretHidden(scheme + "://" + key + ":" + std::string(kSecret) + "@" + tail);
  // ... and as the session token, the last parameter.
  CheckSecretHidden(scheme + "://" + tail + (tail.find('?') == std::string::npos ? "?" : "&") +
                    "sessionToken=" + std::string(kSecret));
  return 0;
}
