// The AWS shared config and credentials files, as the AWS SDKs and CLI read them:
//  - the config file: AWS_CONFIG_FILE, else $HOME/.aws/config; sections "[default]" and
//    "[profile NAME]" ("[NAME]" alone is not a profile there; "[sso-session NAME]" is kept
//    apart for SSO profiles);
//  - the credentials file: AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials;
//    sections "[NAME]".
// A profile is the union of its two sections; a key in the credentials file wins over the
// same key in the config file. Keys are case-insensitive, '#' and ';' start comment lines,
// and an indented line continues a sub-section (the "s3 =" blocks), which is skipped.
//
// Pure functions over text, plus LoadProfiles, which reads through a FileReader.
//
// May call: exec/ (the retry policy), store/, util/, libcurl, pugixml, OpenSSL.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace s3db::s3 {

// Environment variable name -> value, for the variables that matter here.
using Environment = std::map<std::string, std::string>;

// Reads a whole file; nullopt when it cannot be read (absent, unreadable).
using FileReader = std::function<std::optional<std::string>(const std::string& path)>;

// key (lower-case) -> value.
using ProfileSettings = std::map<std::string, std::string>;

// Section name exactly as written between the brackets -> its settings.
std::map<std::string, ProfileSettings> ParseIniSections(std::string_view contents);

struct AwsProfiles {
  std::string config_path;       // empty: no HOME and no AWS_CONFIG_FILE
  std::string credentials_path;  // likewise
  bool config_read = false;      // the file existed and was read
  bool credentials_read = false;
  std::map<std::string, ProfileSettings> profiles;      // merged, by profile name
  std::map<std::string, ProfileSettings> sso_sessions;  // "[sso-session NAME]" of the config file
  std::map<std::string, std::string> files;             // profile name -> the file(s) defining it

  // "profile [dev] of /home/u/.aws/config", for messages and sources.
  std::string Describe(const std::string& name) const;

  // The profile's settings, or nullptr.
  const ProfileSettings* Find(const std::string& name) const;
  // "/home/u/.aws/config and /home/u/.aws/credentials", for messages.
  std::string Where() const;
};

// An environment value, trimmed; empty when unset or blank.
std::string EnvValue(const Environment& env, const std::string& name);

// AWS_PROFILE, else "default".
std::string SelectedProfile(const Environment& env);

AwsProfiles LoadProfiles(const Environment& env, const FileReader& read_file);

// A profile's value for `key`, or empty.
std::string Setting(const ProfileSettings& profile, const std::string& key);

}  // namespace s3db::s3
