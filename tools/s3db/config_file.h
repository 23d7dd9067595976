// The configuration file (docs/CLI.md, "Configuration file"): the settings a command takes
// when neither a flag nor an environment variable gives them, optionally in named profiles.
//
//   uri = "file:///srv/s3db"            # the top level: used when no profile is selected
//   [profile.prod]                      # `--profile prod` or $S3DB_PROFILE=prod
//   uri = "s3://bucket/app"
//   passphrase_file = "~/.s3db/prod.key"
//
// Parsed with toml++ (Debian's libtomlplusplus); only the command uses it, so the library
// carries no dependency on it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace s3db_cli {

// A setting's value and where it came from ("--uri", "$S3DB_URI", "config file F [profile.p]",
// "default"), so an error about a value can say where to fix it.
struct Setting {
  std::string value;
  std::string source;
};

// What the file says for the selected profile (or the top level). Unset: the file is silent.
struct ConfigSettings {
  std::optional<Setting> uri;
  std::optional<Setting> passphrase_file;  // made absolute: relative to the file's folder, '~/' expanded
  std::optional<Setting> cache;
  std::optional<Setting> cache_ttl;
  std::optional<Setting> concurrency;  // a whole number >= 1, as text
};

struct LoadedConfig {
  std::string path;     // empty: no file was read
  std::string profile;  // empty: the top level
  ConfigSettings settings;
};

// The file to read: `flag` (--config), else $S3DB_CONFIG_FILE, else
// $XDG_CONFIG_HOME/s3db/config.toml, else $HOME/.config/s3db/config.toml. `explicit_path` says
// whether the user named it (then it must exist).
struct ConfigLocation {
  std::string path;
  bool explicit_path = false;
};
ConfigLocation LocateConfigFile(const std::string& flag);

// Reads `location` and selects `profile` (--profile, else $S3DB_PROFILE; empty: the top level).
// Throws CliError (exit 2) for a file named but absent, a TOML syntax error, an unknown key, a
// value of the wrong type, or a profile the file does not have; each message names the file,
// the line and the key. A default location that does not exist is no error (no settings).
LoadedConfig LoadConfig(const ConfigLocation& location, const std::string& profile);

// The setting names the file accepts, in the order docs/CLI.md lists them.
const std::vector<std::string>& ConfigKeys();

}  // namespace s3db_cli
