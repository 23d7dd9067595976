// SecretMasker, MaskSecrets and MaskedUri (include/s3db/stores.h): the one masker of
// secrets, the CLI's included. It learns the secrets of a connection string both by parsing
// it (src/store/uri.cc) and, for one that does not parse, from what looks like a secret.

#include "s3db/stores.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>

#include "store/uri_parsing.h"
#include "util/text.h"

namespace s3db {
namespace {

// Percent-decodes what it can and keeps the rest as written: this runs on text that may not
// parse at all.
std::string LenientPercentDecode(std::string_view text) {
  std::string decoded;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool escape =
        text[i] == '%' && i + 2 < text.size() && util::HexValue(text[i + 1]) >= 0 && util::HexValue(text[i + 2]) >= 0;
    if (escape) {
      decoded.push_back(static_cast<char>(util::HexValue(text[i + 1]) * 16 + util::HexValue(text[i + 2])));
      i += 2;
    } else {
      decoded.push_back(text[i]);
    }
  }
  return decoded;
}

}  // namespace

void SecretMasker::AddSecret(std::string secret) {
  if (secret.empty() || std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) {
    return;
  }
  secrets_.push_back(std::move(secret));
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void SecretMasker::AddSecretForms(const std::string& secret) {
  if (secret.empty()) return;
  AddSecret(secret);
  AddSecret(util::PercentEncode(secret));  // as it may appear inside a URI
}

void SecretMasker::AddSecretsOf(const StoreUri& uri) {
  AddSecretForms(uri.secret_key);
  AddSecretForms(uri.session_token);
}

void SecretMasker::AddApparentSecrets(const std::string& uri) {
  const size_t scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) return;
  const size_t begin = scheme_end + 3;
  const size_t query = uri.find('?', begin);
  // The credentials end at the last '@' before the query (see the header for why the last);
  // with none there but a ':' that could start a secret, the '?' may be a raw one in the
  // secret (the parser wants %3F), so at the last '@' of all.
  size_t at = uri.rfind('@', query);
  if ((at == std::string::npos || at < begin) && uri.substr(begin, query - begin).find(':') != std::string::npos) {
    at = uri.rfind('@');
  }
  if (at != std::string::npos && at > begin) {
    const std::string userinfo = uri.substr(begin, at - begin);
    // Without a ':' there is no telling key from secret (a secret pasted alone, a colon
    // forgotten): all of it is masked.
    const size_t colon = userinfo.find(':');
    const std::string secret = colon == std::string::npos ? userinfo : userinfo.substr(colon + 1);
    AddSecretForms(secret);
    AddSecretForms(LenientPercentDecode(secret));
  }
  if (query == std::string::npos) return;
  // A URL given as a query value (endpoint=http://KEY:SECRET@host) may carry credentials too.
  for (size_t nested = uri.find("://", query); nested != std::string::npos; nested = uri.find("://", nested + 3)) {
    const size_t value_begin = uri.rfind('=', nested);
    if (value_begin == std::string::npos || value_begin < query) continue;
    const size_t value_end = uri.find_first_of("&#", nested);
    AddApparentSecrets(
        uri.substr(value_begin + 1, value_end == std::string::npos ? std::string::npos : value_end - value_begin - 1));
  }
  // Every sessionToken= value: a URI that gives it twice does not parse, and both are secrets.
  static constexpr std::string_view kTokenParam = "sessionToken=";
  for (size_t token = uri.find(kTokenParam, query); token != std::string::npos;
       token = uri.find(kTokenParam, token + kTokenParam.size())) {
    const size_t value_begin = token + kTokenParam.size();
    const size_t value_end = uri.find_first_of("&#", value_begin);
    const std::string value =
        uri.substr(value_begin, value_end == std::string::npos ? std::string::npos : value_end - value_begin);
    AddSecretForms(value);
    AddSecretForms(LenientPercentDecode(value));
  }
}

void SecretMasker::AddUri(const std::string& uri) {
  AddApparentSecrets(uri);
  if (Result<StoreUri> parsed = store::ParseStoreUriUnmasked(uri); parsed.ok()) AddSecretsOf(*parsed);
}

std::string SecretMasker::Mask(const std::string& text) const {
  if (secrets_.empty()) return text;
  // A short secret is masked only where it stands alone (no letter or digit touching it), as
  // between ':' and '@': masking every "ab" inside other words would show, by the holes it
  // leaves, what the secret is.
  constexpr size_t kShortSecret = 8;
  auto alnum_at = [&](size_t at) { return at < text.size() && std::isalnum(static_cast<unsigned char>(text[at])); };
  auto masks_here = [&](size_t i, const std::string& secret) {
    if (text.compare(i, secret.size(), secret) != 0) return false;
    return secret.size() >= kShortSecret || ((i == 0 || !alnum_at(i - 1)) && !alnum_at(i + secret.size()));
  };
  // One left-to-right pass that masks the longest secret starting at each position, so
  // masking one secret can never expose or half-mask another.
  std::string masked;
  size_t i = 0;
  while (i < text.size()) {
    auto match = std::find_if(secrets_.begin(), secrets_.end(),
                              [&](const std::string& secret) { return masks_here(i, secret); });
    if (match != secrets_.end()) {
      masked += store::kSecretMask;
      i += match->size();
    } else {
      masked.push_back(text[i++]);
    }
  }
  return masked;
}

std::string MaskSecrets(const std::string& text, const StoreUri& uri) {
  SecretMasker masker;
  masker.AddSecretsOf(uri);
  return masker.Mask(text);
}

std::string MaskedUri(const std::string& uri) {
  if (Result<StoreUri> parsed = store::ParseStoreUriUnmasked(uri); parsed.ok()) return parsed->ToString();
  SecretMasker masker;
  masker.AddUri(uri);
  return masker.Mask(uri);
}

}  // namespace s3db
