#include "s3/aws_profiles.h"

#include "util/text.h"

namespace s3db::s3 {

std::map<std::string, ProfileSettings> ParseIniSections(std::string_view contents) {
  std::map<std::string, ProfileSettings> sections;
  ProfileSettings* current = nullptr;
  size_t start = 0;
  while (start <= contents.size()) {
    size_t end = contents.find('\n', start);
    if (end == std::string_view::npos) end = contents.size();
    std::string_view raw = contents.substr(start, end - start);
    start = end + 1;
    std::string_view line = util::TrimAsciiWhitespace(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (raw.front() == ' ' || raw.front() == '\t') continue;  // a sub-section's line ("s3 =" blocks)
    if (line.front() == '[') {
      size_t close = line.find(']');
      std::string_view name = close == std::string_view::npos ? line.substr(1) : line.substr(1, close - 1);
      // Not trimmed: the aws CLI reads "[ x ]" as a profile named " x " (the differential
      // test checks it), so a profile written that way is not "x" here either.
      current = &sections[std::string(name)];
      continue;
    }
    if (current == nullptr) continue;
    size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    std::string value(util::TrimAsciiWhitespace(line.substr(equals + 1)));
    // "key = # not a comment" stays; an inline comment needs whitespace before it.
    for (std::string_view mark : {" #", " ;", "\t#", "\t;"}) {
      if (size_t at = value.find(mark); at != std::string::npos)
        value = std::string(util::TrimAsciiWhitespace(value.substr(0, at)));
    }
    (*current)[util::ToLower(util::TrimAsciiWhitespace(line.substr(0, equals)))] = value;
  }
  return sections;
}

const ProfileSettings* AwsProfiles::Find(const std::string& name) const {
  auto it = profiles.find(name);
  return it == profiles.end() ? nullptr : &it->second;
}

std::string AwsProfiles::Describe(const std::string& name) const {
  auto it = files.find(name);
  return "profile [" + name + "]" + (it == files.end() ? std::string() : " of " + it->second);
}

std::string AwsProfiles::Where() const {
  std::string config = config_path.empty() ? "no config file (HOME is not set)" : config_path;
  std::string credentials = credentials_path.empty() ? "no credentials file (HOME is not set)" : credentials_path;
  if (!config_read && !config_path.empty()) config += " (absent)";
  if (!credentials_read && !credentials_path.empty()) credentials += " (absent)";
  return config + " and " + credentials;
}

std::string EnvValue(const Environment& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : std::string(util::TrimAsciiWhitespace(it->second));
}

std::string SelectedProfile(const Environment& env) {
  std::string profile = EnvValue(env, "AWS_PROFILE");
  return profile.empty() ? "default" : profile;
}

std::string Setting(const ProfileSettings& profile, const std::string& key) {
  auto it = profile.find(key);
  return it == profile.end() ? std::string() : it->second;
}

AwsProfiles LoadProfiles(const Environment& env, const FileReader& read_file) {
  AwsProfiles loaded;
  const std::string home = EnvValue(env, "HOME");
  loaded.config_path = EnvValue(env, "AWS_CONFIG_FILE");
  if (loaded.config_path.empty() && !home.empty()) loaded.config_path = home + "/.aws/config";
  loaded.credentials_path = EnvValue(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (loaded.credentials_path.empty() && !home.empty()) loaded.credentials_path = home + "/.aws/credentials";
  std::optional<std::string> config;
  std::optional<std::string> credentials;
  if (read_file && !loaded.config_path.empty()) config = read_file(loaded.config_path);
  if (read_file && !loaded.credentials_path.empty()) credentials = read_file(loaded.credentials_path);
  loaded.config_read = config.has_value();
  loaded.credentials_read = credentials.has_value();
  if (config) {
    for (auto& [section, settings] : ParseIniSections(*config)) {
      std::string name;
      if (section == "default") {
        name = "default";
      } else if (util::StartsWith(section, "profile ") || util::StartsWith(section, "profile\t")) {
        name = std::string(util::TrimAsciiWhitespace(std::string_view(section).substr(8)));
      } else if (util::StartsWith(section, "sso-session ")) {
        loaded.sso_sessions[std::string(util::TrimAsciiWhitespace(std::string_view(section).substr(12)))] =
            std::move(settings);
      }
      if (name.empty()) continue;
      loaded.profiles[name] = std::move(settings);
      loaded.files[name] = loaded.config_path;
    }
  }
  if (credentials) {
    for (auto& [section, settings] : ParseIniSections(*credentials)) {
      ProfileSettings& merged = loaded.profiles[section];
      std::string& file = loaded.files[section];
      file = file.empty() ? loaded.credentials_path : file + " and " + loaded.credentials_path;
      for (auto& [key, value] : settings) merged[key] = std::move(value);
    }
  }
  return loaded;
}

}  // namespace s3db::s3
