// The configuration file: see config_file.h.
#include "config_file.h"

#include <toml++/toml.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "output.h"

namespace s3db_cli {
namespace {

namespace fs = std::filesystem;

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

std::string LineOf(const toml::node& node) {
  const toml::source_position begin = node.source().begin;
  return begin ? " line " + std::to_string(begin.line) : std::string();
}

std::string TableName(const std::string& profile) {
  return profile.empty() ? "top level" : "[profile." + profile + "]";
}

std::string KnownKeys() {
  std::string known;
  for (const std::string& key : ConfigKeys()) known += (known.empty() ? "" : ", ") + key;
  return known;
}

// '~/x' is under $HOME; a relative path is relative to the file's folder, as in ssh_config,
// so a profile means the same file whatever the current directory.
std::string ResolvePath(const std::string& value, const std::string& config_path) {
  if (value == "~" || value.rfind("~/", 0) == 0) {
    const std::string home = Environment("HOME");
    if (!home.empty()) return home + value.substr(1);
  }
  const fs::path path(value);
  if (path.is_absolute()) return value;
  return (fs::path(config_path).parent_path() / path).lexically_normal().string();
}

class ConfigReader {
 public:
  explicit ConfigReader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void Fail(const std::string& what) const { throw UsageError("config file " + path_ + ": " + what); }

  // The settings of one table: the top level (profile "") or a profile.
  ConfigSettings Read(const toml::table& table, const std::string& profile) const {
    ConfigSettings settings;
    const std::string where = TableName(profile);
    const std::string source = "config file " + path_ + " " + where;
    for (const auto& entry : table) {
      const toml::node& value = entry.second;  // not a structured binding: clang 14 cannot capture one
      const std::string key(entry.first.str());
      if (profile.empty() && key == "profile") continue;  // the profiles, read one by one
      auto text = [&](std::optional<Setting>& setting) {
        const std::optional<std::string> string = value.value_exact<std::string>();
        if (!string) Fail(where + LineOf(value) + ": '" + key + "' must be a string");
        if (string->empty()) Fail(where + LineOf(value) + ": '" + key + "' is empty");
        setting = Setting{*string, source};
      };
      if (key == "uri") {
        text(settings.uri);
      } else if (key == "passphrase_file") {
        text(settings.passphrase_file);
        settings.passphrase_file->value = ResolvePath(settings.passphrase_file->value, path_);
      } else if (key == "cache") {
        text(settings.cache);
      } else if (key == "cache_ttl") {
        text(settings.cache_ttl);
      } else if (key == "concurrency") {
        const std::optional<int64_t> n = value.value_exact<int64_t>();
        if (!n || *n < 1 || *n > 1024) {
          Fail(where + LineOf(value) + ": 'concurrency' must be a whole number from 1 to 1024");
        }
        settings.concurrency = Setting{std::to_string(*n), source};
      } else {
        Fail(where + LineOf(value) + ": unknown key '" + key + "' (known: " + KnownKeys() + ")");
      }
    }
    return settings;
  }

  // Every table is read, so a mistake in a profile not used today is found today.
  LoadedConfig ReadAll(const toml::table& root, const std::string& selected) const {
    LoadedConfig loaded;
    loaded.path = path_;
    loaded.profile = selected;
    loaded.settings = Read(root, "");
    const toml::node* profiles = root.get("profile");
    if (profiles != nullptr && !profiles->is_table()) {
      Fail("top level" + LineOf(*profiles) + ": 'profile' must hold tables such as [profile.NAME]");
    }
    std::string names;
    bool found = selected.empty();
    if (profiles != nullptr) {
      for (const auto& [name_node, table] : *profiles->as_table()) {
        const std::string name(name_node.str());
        if (!table.is_table())
          Fail("[profile]" + LineOf(table) + ": '" + name + "' must be a table [profile." + name + "]");
        names += (names.empty() ? "" : ", ") + name;
        ConfigSettings settings = Read(*table.as_table(), name);
        if (name == selected) {
          loaded.settings = std::move(settings);
          found = true;
        }
      }
    }
    if (!found) Fail("no profile '" + selected + "' (profiles: " + (names.empty() ? "none" : names) + ")");
    return loaded;
  }

 private:
  std::string path_;
};

}  // namespace

const std::vector<std::string>& ConfigKeys() {
  static const std::vector<std::string> keys = {"uri", "passphrase_file", "cache", "cache_ttl", "concurrency"};
  return keys;
}

ConfigLocation LocateConfigFile(const std::string& flag) {
  if (!flag.empty()) return {flag, true};
  if (std::string path = Environment("S3DB_CONFIG_FILE"); !path.empty()) return {path, true};
  if (std::string xdg = Environment("XDG_CONFIG_HOME"); !xdg.empty()) return {xdg + "/s3db/config.toml", false};
  if (std::string home = Environment("HOME"); !home.empty()) return {home + "/.config/s3db/config.toml", false};
  return {"", false};
}

LoadedConfig LoadConfig(const ConfigLocation& location, const std::string& profile) {
  std::error_code error;
  const bool exists = !location.path.empty() && fs::exists(location.path, error);
  if (!exists) {
    if (location.explicit_path) throw UsageError("config file " + location.path + ": no such file");
    if (!profile.empty()) {
      throw UsageError("profile '" + profile + "' needs a config file; none at " +
                       (location.path.empty() ? std::string("$HOME/.config/s3db/config.toml") : location.path));
    }
    return LoadedConfig{};
  }
  std::ifstream file(location.path, std::ios::binary);
  if (!file) throw UsageError("config file " + location.path + ": cannot be read");
  std::ostringstream text;
  text << file.rdbuf();
  ConfigReader reader(location.path);
  toml::table root;
  try {
    root = toml::parse(text.str(), location.path);
  } catch (const toml::parse_error& parse_error) {
    reader.Fail("line " + std::to_string(parse_error.source().begin.line) + ": " +
                std::string(parse_error.description()));
  }
  return reader.ReadAll(root, profile);
}

}  // namespace s3db_cli
