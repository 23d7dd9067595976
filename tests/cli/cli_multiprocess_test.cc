// Many `s3db` processes writing one store at once (issue 18): conditional writes must hold
// across processes, not only across threads of one process. On file:// that is the file
// store's stripe locks (src/store/file_store.cc); on S3 (the cases named .../on_s3) the server's
// If-Match / If-None-Match.
#include <sys/wait.h>

#include <chrono>
#include <iostream>
#include <set>

#include "cli_fixture.h"
#include "support/test_scale.h"

namespace s3db::clitest {
namespace {

// The issue's 8 x 25 = 200 in the default build; under a sanitizer every CLI start costs
// several times more and the retries grow with the square of the writers (support/test_scale.h).
constexpr int kWorkers = testing::ScaledForSanitizers(8, 4);
constexpr int kIncrementsEach = testing::ScaledForSanitizers(25, 4);

class CliMultiprocessTest : public CliTest {
 protected:
  void CreateCounters() {
    const std::string schema = WriteTemp("counters.json", R"({"attributes":{"n":"number","by":"string|optional"}})");
    ASSERT_TRUE(Succeeded(Run({"resource", "create", "counters", "--schema", schema})));
  }
  std::vector<std::string> WithUri(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--uri", StoreUri()});
    return args;
  }
};

// A pipe whose write end, closed by the parent, releases every gated child at once.
Gate OpenGate() {
  int fds[2];
  if (pipe(fds) != 0) return {};
  return {fds[0], fds[1]};
}

void ReleaseGate(Gate gate) {
  close(gate.read_fd);
  close(gate.write_fd);
}

// Blocks until one of our children has exited, without reaping it (Wait reaps it and reads
// its output); returns its pid.
pid_t NextExited() {
  siginfo_t info{};
  while (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) return -1;
  }
  return info.si_pid;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One worker's read-modify-write loop: `get --meta` reads the value and its ETag, then
// `update --if-match ETAG` writes value + 1; a conflict (exit 5) starts over with a new read.
struct Worker {
  enum class Step { kGet, kUpdate, kDone } step = Step::kGet;
  Child child;
  int successes = 0;
  int conflicts = 0;
  std::string etag;
  int64_t read_value = 0;
  std::vector<int64_t> written;  // the value each successful update wrote
};

TEST_F(CliMultiprocessTest, EightProcessesIncrementingWithIfMatchLoseNoUpdate) {
  CreateCounters();
  ASSERT_TRUE(Succeeded(Run({"insert", "counters", R"({"id":"c","n":0})"})));

  std::vector<Worker> workers(kWorkers);
  std::map<pid_t, int> worker_of;
  const auto get_args = WithUri({"get", "counters", "c", "--meta"});
  auto spawn = [&](int index, const std::vector<std::string>& args, Gate gate = {}) {
    workers[index].child = Spawn(dir_, args, {}, gate);
    worker_of[workers[index].child.pid] = index;
  };

  const auto start = std::chrono::steady_clock::now();
  const Gate gate = OpenGate();
  ASSERT_GE(gate.read_fd, 0);
  for (int i = 0; i < kWorkers; ++i) spawn(i, get_args, gate);
  ReleaseGate(gate);  // all eight first reads start together

  int running = kWorkers;
  int invocations = kWorkers;
  std::vector<std::string> failures;
  while (running > 0) {
    const pid_t pid = NextExited();
    ASSERT_GT(pid, 0) << std::strerror(errno);
    ASSERT_EQ(worker_of.count(pid), 1u) << "an exited child that is not ours: " << pid;
    const int index = worker_of[pid];
    worker_of.erase(pid);
    Worker& worker = workers[index];
    const RunResult run = Wait(worker.child);

    if (worker.step == Worker::Step::kGet) {
      if (run.exit_code != kOk) {
        failures.push_back("worker " + std::to_string(index) + " get: " + Describe(run));
        worker.step = Worker::Step::kDone;
        --running;
        continue;
      }
      const Json record = Json::parse(run.out);
      worker.etag = record["_etag"].get<std::string>();
      worker.read_value = record["n"].get<int64_t>();
      worker.step = Worker::Step::kUpdate;
      const std::string change = Json({{"n", worker.read_value + 1}, {"by", "worker" + std::to_string(index)}}).dump();
      spawn(index, WithUri({"update", "counters", "c", change, "--if-match", worker.etag}));
      ++invocations;
      continue;
    }

    if (run.exit_code == kOk) {
      ++worker.successes;
      worker.written.push_back(worker.read_value + 1);
      EXPECT_EQ(Json::parse(run.out)["n"], worker.read_value + 1);
    } else if (run.exit_code == kConflict) {
      ++worker.conflicts;
    } else {
      failures.push_back("worker " + std::to_string(index) + " update: " + Describe(run));
      worker.step = Worker::Step::kDone;
      --running;
      continue;
    }
    if (worker.successes == kIncrementsEach) {
      worker.step = Worker::Step::kDone;
      --running;
      continue;
    }
    worker.step = Worker::Step::kGet;
    spawn(index, get_args);
    ++invocations;
  }
  const double seconds = SecondsSince(start);
  ASSERT_TRUE(failures.empty()) << failures.front();

  int total_successes = 0;
  int total_conflicts = 0;
  std::multiset<int64_t> written;
  for (const Worker& worker : workers) {
    EXPECT_EQ(worker.successes, kIncrementsEach);
    total_successes += worker.successes;
    total_conflicts += worker.conflicts;
    written.insert(worker.written.begin(), worker.written.end());
  }
  EXPECT_EQ(total_successes, kWorkers * kIncrementsEach);
  // No two successful updates wrote the same value: each one replaced the version it had read.
  std::multiset<int64_t> expected;
  for (int64_t n = 1; n <= kWorkers * kIncrementsEach; ++n) expected.insert(n);
  EXPECT_EQ(written, expected);
  const RunResult final_read = Run({"get", "counters", "c"});
  ASSERT_TRUE(Succeeded(final_read));
  EXPECT_EQ(Json::parse(final_read.out)["n"], kWorkers * kIncrementsEach);

  std::cout << "[ figures  ] " << (OnS3() ? "s3" : "file") << ": " << kWorkers << " processes x " << kIncrementsEach
            << " increments: " << total_successes << " updates landed, " << total_conflicts
            << " refused with exit 5 and retried, " << invocations << " CLI runs in " << seconds << " s\n";
}

TEST_F(CliMultiprocessTest, EightProcessesInsertingOneIdGiveExactlyOneWinner) {
  CreateCounters();
  constexpr int kRounds = testing::ScaledForSanitizers(10, 3);
  const auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < kRounds; ++round) {
    const std::string id = "race" + std::to_string(round);
    std::vector<Child> children;
    const Gate gate = OpenGate();
    ASSERT_GE(gate.read_fd, 0);
    for (int i = 0; i < kWorkers; ++i) {
      // Each process a different record under the same id, so the stored one names its writer.
      const std::string record = Json({{"id", id}, {"n", i}, {"by", "worker" + std::to_string(i)}}).dump();
      children.push_back(Spawn(dir_, WithUri({"insert", "counters", record}), {}, gate));
    }
    ReleaseGate(gate);

    std::vector<int> winners;
    for (int i = 0; i < kWorkers; ++i) {
      const RunResult run = Wait(children[i]);
      if (run.exit_code == kOk) {
        winners.push_back(i);
        EXPECT_EQ(Json::parse(run.out)["n"], i);
      } else {
        EXPECT_TRUE(FailedWith(run, kConflict, "record '" + id + "' of resource 'counters' already exists"))
            << "round " << round;
      }
    }
    ASSERT_EQ(winners.size(), 1u) << "round " << round << ": " << winners.size() << " processes inserted " << id;
    const RunResult stored = Run({"get", "counters", id});
    ASSERT_TRUE(Succeeded(stored));
    EXPECT_EQ(Json::parse(stored.out)["n"], winners.front());
    EXPECT_EQ(Json::parse(stored.out)["by"], "worker" + std::to_string(winners.front()));
  }
  EXPECT_EQ(Count("counters"), static_cast<size_t>(kRounds));
  std::cout << "[ figures  ] " << (OnS3() ? "s3" : "file") << ": " << kRounds << " rounds of " << kWorkers
            << " processes inserting one id: one winner each, in " << SecondsSince(start) << " s\n";
}

}  // namespace
}  // namespace s3db::clitest
