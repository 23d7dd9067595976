// The command's configuration file (tools/s3db/config_file.cc, read with toml++): any bytes
// as ~/.config/s3db/config.toml, loaded for the top level and for a profile.
//
// The file is written to a temporary directory for each input, because LoadConfig reads a
// path (as the command does).
//
// Invariants: LoadConfig fails only with the command's UsageError (exit 2), naming the file;
// concurrency, when set, is a whole number from 1 to 1024; a relative passphrase_file is
// made absolute.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "config_file.h"
#include "fuzz_support.h"
#include "output.h"

namespace {

using s3db_fuzz::Check;

// A directory of its own, removed at exit.
std::string directory;

void RemoveDirectory() {
  std::remove((directory + "/config.toml").c_str());
  rmdir(directory.c_str());
}

const std::string& ConfigPath() {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");
    directory = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/s3db-config-fuzz-XXXXXX";
    if (mkdtemp(directory.data()) == nullptr) s3db_fuzz::Broken("cannot create a temporary directory");
    std::atexit(RemoveDirectory);
    return directory + "/config.toml";
  }();
  return path;
}

void Load(const std::string& profile) {
  try {
    const s3db_cli::LoadedConfig loaded = s3db_cli::LoadConfig({ConfigPath(), true}, profile);
    Check(loaded.path == ConfigPath() && loaded.profile == profile, "LoadConfig names another file or profile");
    if (const auto& concurrency = loaded.settings.concurrency) {
      const long n = std::strtol(concurrency->value.c_str(), nullptr, 10);
      Check(n >= 1 && n <= 1024 && std::to_string(n) == concurrency->value, "concurrency " + concurrency->value);
    }
    if (const auto& file = loaded.settings.passphrase_file) {
      Check(!file->value.empty() && file->value.front() == '/', "a passphrase_file left relative: " + file->value);
    }
  } catch (const s3db_cli::UsageError& error) {
    Check(std::string(error.what()).find(ConfigPath()) != std::string::npos || !profile.empty(),
          std::string("an error that does not name the file: ") + error.what());
  } catch (const std::exception& error) {
    s3db_fuzz::Broken(std::string("LoadConfig threw something other than UsageError: ") + error.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream file(ConfigPath(), std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!file) s3db_fuzz::Broken("cannot write " + ConfigPath());
  }
  setenv("HOME", "/home/fuzz", 1);
  Load("");
  Load("prod");
  return 0;
}
