// `s3db serve` as a process: it prints where it listens, serves, and on SIGTERM finishes what is
// in flight, writes the asynchronous partition references it queued, and exits 0; it refuses
// to serve an open database off loopback.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "serve_fixture.h"

namespace s3db::serve_testing {
namespace {

struct ServeProcess {
  pid_t pid = -1;
  FILE* out = nullptr;
  std::string first_line;
};

ServeProcess StartServe(const std::vector<std::string>& args) {
  int pipe_fds[2];
  EXPECT_EQ(::pipe(pipe_fds), 0);
  ServeProcess process;
  process.pid = ::fork();
  if (process.pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(S3DB_CLI_PATH));
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(S3DB_CLI_PATH, argv.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  process.out = ::fdopen(pipe_fds[0], "r");
  char line[4096];
  if (std::fgets(line, sizeof line, process.out) != nullptr) process.first_line = line;
  return process;
}

int WaitExit(ServeProcess& process) {
  int status = 0;
  ::waitpid(process.pid, &status, 0);
  std::fclose(process.out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(ServeCliTest, SigtermFinishesAsynchronousPartitionWritesAndExitsZero) {
  testing::TempDir dir;
  const std::string uri = "file://" + (dir.path() / "db").string();
  ServeProcess serve = StartServe({"--uri", uri, "serve", "--listen", "127.0.0.1:0"});
  const Json announced = Json::parse(serve.first_line, nullptr, false);
  ASSERT_TRUE(announced.is_object()) << serve.first_line;
  EXPECT_EQ(announced["auth"], false);
  const std::string base = announced["listening"].get<std::string>();
  EXPECT_EQ(base.rfind("http://127.0.0.1:", 0), 0u);
  HttpClient client(base);
  ASSERT_EQ(client
                .Call("POST", "/v1/resources",
                      R"({"name":"events","asyncPartitions":true,"attributes":{"kind":"string"},
                          "partitions":{"byKind":{"fields":{"kind":"string"}}}})")
                .status,
            201);
  const int records = 30;
  for (int i = 0; i < records; ++i) {
    ASSERT_EQ(client.Call("POST", "/v1/events", Json{{"kind", i % 2 ? "a" : "b"}}.dump()).status, 201);
  }
  ASSERT_EQ(::kill(serve.pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(serve), 0);
  // Every reference the server queued was written before it exited.
  DatabaseOptions options;
  options.uri = uri;
  std::unique_ptr<Database> database = Database::Connect(options);
  ListOptions by_kind;
  by_kind.partition = "byKind";
  by_kind.partition_values = {{"kind", "a"}};
  by_kind.verify = false;  // count the references themselves
  EXPECT_EQ(database->resource("events").Count(by_kind), static_cast<size_t>(records / 2));
}

TEST(ServeCliTest, RefusesAnOpenDatabaseOffLoopbackAndBadArguments) {
  testing::TempDir dir;
  const std::string uri = "file://" + (dir.path() / "db").string();
  ServeProcess open = StartServe({"--uri", uri, "serve", "--listen", "0.0.0.0:0"});
  EXPECT_EQ(open.first_line, "");
  EXPECT_EQ(WaitExit(open), 4);
  ServeProcess bad = StartServe({"--uri", uri, "serve", "--listen", "nowhere"});
  EXPECT_EQ(WaitExit(bad), 2);
  ServeProcess missing_auth = StartServe({"--uri", uri, "serve", "--auth-file", (dir.path() / "none").string()});
  EXPECT_EQ(WaitExit(missing_auth), 4);
}

}  // namespace
}  // namespace s3db::serve_testing
