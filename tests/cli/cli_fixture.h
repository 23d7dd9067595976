// The fixture of the CLI tests: runs the built `s3db` binary as a child process (temp dir as
// cwd, stdin from a file, stdout/stderr captured, exit code checked) against a fresh file://
// store, or the real S3 server when S3DB_CLI_TEST_BACKEND=s3.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "s3db/object_store.h"
#include "s3db/stores.h"

namespace s3db::clitest {

namespace fs = std::filesystem;
using Json = nlohmann::json;

inline const std::string kUsersSchema = std::string(S3DB_SOURCE_DIR) + "/examples/users.schema.json";
inline const std::string kUsersJsonl = std::string(S3DB_SOURCE_DIR) + "/examples/users.jsonl";

// The exit codes of docs/CLI.md.
constexpr int kOk = 0;
constexpr int kUsage = 2;
constexpr int kNotFound = 3;
constexpr int kInvalid = 4;
constexpr int kConflict = 5;
constexpr int kStorage = 6;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct RunOptions {
  std::string stdin_text;
  std::string cwd;  // empty: the test's directory
  // Environment changes for the child: a value sets the variable, nullopt unsets it.
  // S3DB_URI is always unset unless given here, so the developer's own setting never leaks in.
  std::map<std::string, std::optional<std::string>> env;
};

inline RunOptions WithStdin(std::string text) {
  RunOptions options;
  options.stdin_text = std::move(text);
  return options;
}

inline RunOptions InDirectory(std::string cwd) {
  RunOptions options;
  options.cwd = std::move(cwd);
  return options;
}

inline RunOptions WithEnv(const std::string& name, std::string value) {
  RunOptions options;
  options.env[name] = std::move(value);
  return options;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
}

inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> values;
  for (const std::string& line : Lines(text)) values.push_back(Json::parse(line));
  return values;
}

// A child running the CLI. Its output goes to files, so a large output can never block it.
struct Child {
  pid_t pid = -1;
  std::string out_path;
  std::string err_path;
};

// A pipe whose closing releases children waiting on it, all at the same instant.
struct Gate {
  int read_fd = -1;
  int write_fd = -1;
};

// Spawns the CLI. With a gate, the child waits until the gate's write end is closed by
// everyone (it closes its own copy) before it execs.
inline Child Spawn(const std::string& work_dir, const std::vector<std::string>& args, const RunOptions& options,
                   Gate gate = {}) {
  static int spawned = 0;
  const std::string tag = std::to_string(getpid()) + "-" + std::to_string(spawned++);
  const std::string in_path = work_dir + "/.stdin-" + tag;
  Child child{-1, work_dir + "/.stdout-" + tag, work_dir + "/.stderr-" + tag};
  WriteFile(in_path, options.stdin_text);

  std::vector<std::string> argv_storage = {S3DB_CLI_PATH};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  child.pid = fork();
  if (child.pid == 0) {
    if (gate.read_fd >= 0) {
      close(gate.write_fd);
      char byte;
      while (read(gate.read_fd, &byte, 1) < 0 && errno == EINTR) {
      }
      close(gate.read_fd);
    }
    const std::string cwd = options.cwd.empty() ? work_dir : options.cwd;
    if (chdir(cwd.c_str()) != 0) _exit(127);
    unsetenv("S3DB_URI");
    // No test may reach the real EC2 metadata service (an s3:// URI without credentials
    // would end the credential chain there); a test that wants IMDS sets it back.
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    for (const auto& [name, value] : options.env) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
    const int in = open(in_path.c_str(), O_RDONLY);
    const int out = open(child.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(child.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(127);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return child;
}

inline RunResult Wait(const Child& child) {
  RunResult result;
  int status = 0;
  while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFile(child.out_path);
  result.err = ReadFile(child.err_path);
  fs::remove(child.out_path);
  fs::remove(child.err_path);
  return result;
}

inline std::string Describe(const RunResult& run) {
  return "exit " + std::to_string(run.exit_code) + "\nstdout:\n" + run.out + "\nstderr:\n" + run.err;
}

// The run exited with `code`; a failure wrote exactly one line, "s3db: ..." mentioning
// `needle`, and nothing on stdout.
inline ::testing::AssertionResult FailedWith(const RunResult& run, int code, const std::string& needle) {
  if (run.exit_code != code) {
    return ::testing::AssertionFailure() << "expected exit " << code << ", got " << Describe(run);
  }
  const std::vector<std::string> lines = Lines(run.err);
  if (lines.size() != 1 || lines[0].rfind("s3db: ", 0) != 0) {
    return ::testing::AssertionFailure() << "expected one \"s3db: \" line on stderr, got " << Describe(run);
  }
  if (lines[0].find(needle) == std::string::npos) {
    return ::testing::AssertionFailure() << "stderr lacks \"" << needle << "\": " << Describe(run);
  }
  if (!run.out.empty()) {
    return ::testing::AssertionFailure() << "a failure printed on stdout: " << Describe(run);
  }
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult Succeeded(const RunResult& run) {
  if (run.exit_code == kOk && run.err.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << Describe(run);
}

// A record as printed, without the timestamps the store sets itself.
inline Json WithoutTimestamps(Json record) {
  record.erase("createdAt");
  record.erase("updatedAt");
  return record;
}

inline const char* kAdaJson = R"({"id":"ada","name":"Ada Lovelace","email":"ada@example.org","age":36,)"
                              R"("tags":["math"],"address":{"city":"London","country":"UK"}})";

// The suite runs once on file:// and, registered again with S3DB_CLI_TEST_BACKEND=s3
// (tests/CMakeLists.txt), on the real S3 server of $S3DB_TEST_S3_URI (docs/TESTING.md).
inline bool OnS3() {
  const char* backend = std::getenv("S3DB_CLI_TEST_BACKEND");
  return backend != nullptr && std::string(backend) == "s3";
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "s3db-cli-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
    if (OnS3()) {
      const char* base = std::getenv("S3DB_TEST_S3_URI");
      if (base == nullptr || *base == '\0') GTEST_SKIP() << "S3DB_TEST_S3_URI is not set: no S3 server to test on";
      // Each test its own prefix of the shared bucket: the temp dir's unique name.
      s3_uri_ = std::string(base) + "/cli-" + fs::path(dir_).filename().string() + "-" + std::to_string(getpid());
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string StoreUri() const { return OnS3() ? s3_uri_ : "file://" + dir_ + "/db"; }

  // The CLI with exactly these arguments.
  RunResult RunRaw(const std::vector<std::string>& args, const RunOptions& options = {}) {
    return Wait(Spawn(dir_, args, options));
  }
  // The CLI on this test's file:// store.
  RunResult Run(std::vector<std::string> args, const RunOptions& options = {}) {
    args.insert(args.begin(), {"--uri", StoreUri()});
    return RunRaw(args, options);
  }
  // A script through `s3db --uri memory://... shell`.
  RunResult Shell(const std::string& script, const std::string& bucket = "cli-test") {
    return RunRaw({"--uri", "memory://" + bucket, "shell"}, WithStdin(script));
  }

  void CreateUsers(const std::string& name = "users") {
    ASSERT_TRUE(Succeeded(Run({"resource", "create", name, "--schema", kUsersSchema})));
  }
  void ImportExamples(const std::string& name = "users") {
    const RunResult run = Run({"import", name, kUsersJsonl});
    ASSERT_EQ(run.exit_code, kOk) << Describe(run);
    ASSERT_EQ(run.err, "s3db: imported 8, failed 0\n");
  }
  std::string Export(const std::string& name = "users") {
    const RunResult run = Run({"export", name});
    EXPECT_TRUE(Succeeded(run));
    return run.out;
  }
  size_t Count(const std::string& name = "users") {
    const RunResult run = Run({"count", name});
    EXPECT_TRUE(Succeeded(run));
    return std::stoul(run.out);
  }
  std::string WriteTemp(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    WriteFile(path, text);
    return path;
  }

  std::string dir_;
  std::string s3_uri_;
};

}  // namespace s3db::clitest
