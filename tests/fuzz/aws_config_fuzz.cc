// The AWS shared config and credentials files (src/s3/aws_profiles.cc), as the credential
// chain and the region and endpoint resolution read them (src/s3/credentials.cc), through a
// FileReader that hands over the input instead of touching the disk. Credential resolution
// itself is left out: a profile's credential_process would run a fuzzed shell command.
//
// Input: the config file; a line "----" starts the credentials file. The first [section]'s
// name, whatever its form, is taken as AWS_PROFILE half of the time.
//
// Invariants: nothing throws; keys come out lower-case; every profile found is described;
// an endpoint that resolves is http(s)://host[:port].
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "s3/aws_profiles.h"
#include "s3/credentials.h"

namespace {

using s3db_fuzz::Check;
namespace s3 = s3db::s3;

bool HasUpperCase(const std::string& text) {
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = s3db_fuzz::Text(data, size);
  // Not structured bindings: the reader below captures them, which clang 14 cannot.
  const auto files = s3db_fuzz::SplitAt(text, "\n----\n");
  const std::string config_text(files.first), credentials_text(files.second);
  const bool has_credentials = !files.second.empty();

  for (const auto& [name, settings] : s3::ParseIniSections(text)) {
    for (const auto& [key, value] : settings) Check(!HasUpperCase(key), "a key kept its capitals: " + key);
  }

  s3::Environment env = {{"HOME", "/home/fuzz"},
                         {"AWS_CONFIG_FILE", "/fuzz/config"},
                         {"AWS_SHARED_CREDENTIALS_FILE", "/fuzz/credentials"}};
  if (size % 2 == 1) {
    const size_t open = config_text.find('['), close = config_text.find(']');
    if (open != std::string::npos && close != std::string::npos && close > open) {
      env["AWS_PROFILE"] = config_text.substr(open + 1, close - open - 1);
    }
  }
  const s3::FileReader read_file = [&](const std::string& path) -> std::optional<std::string> {
    if (path == "/fuzz/config") return config_text;
    if (path == "/fuzz/credentials" && has_credentials) return credentials_text;
    return std::nullopt;
  };

  const s3::AwsProfiles profiles = s3::LoadProfiles(env, read_file);
  Check(profiles.config_read, "the config file was not read");
  for (const auto& [name, settings] : profiles.profiles) {
    Check(profiles.Find(name) == &settings, "Find does not find profile [" + name + "]");
    Check(!profiles.Describe(name).empty(), "an empty description");
    (void)s3::Setting(settings, "region");
  }
  (void)profiles.Where();

  s3db::StoreUri uri;
  uri.scheme = s3db::StoreScheme::kS3;
  uri.bucket = "fuzz-bucket";
  const std::string region = s3::ResolveRegion(uri, env, read_file);
  Check(!region.empty(), "no region, not even the default");
  s3db::Result<std::string> endpoint = s3::ResolveEndpoint(uri, env, region, read_file);
  if (endpoint.ok()) {
    Check(endpoint->rfind("http://", 0) == 0 || endpoint->rfind("https://", 0) == 0,
          "an endpoint that is not http(s)://: " + *endpoint);
  }
  s3db::Result<std::string> sts = s3::ResolveStsEndpoint(env, profiles.Find(s3::SelectedProfile(env)), region);
  (void)sts;
  return 0;
}
