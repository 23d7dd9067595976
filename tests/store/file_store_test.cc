// FileStore beyond the shared contract: persistence, containment of hostile keys, the
// on-disk layout, crash leftovers, corruption, and conditional writes across processes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "s3db/stores.h"
#include "store/file_key_codec.h"
#include "support/raw_objects.h"
#include "util/crypto_hash.h"

namespace s3db {
namespace {

using testing::PutBody;

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("s3db-file-" + util::RandomAlnum(12))) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::unique_ptr<ObjectStore> MustOpen(const fs::path& root, bool fsync = false) {
  Result<std::unique_ptr<ObjectStore>> store = NewFileStore({root.string(), fsync});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::vector<std::string> ListAll(ObjectStore& store, ListRequest request) {
  std::vector<std::string> keys;
  while (true) {
    Result<ListPage> page = store.List(request);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return keys;
    for (const ObjectInfo& info : page->objects) keys.push_back(info.key);
    if (!page->truncated) return keys;
    request.continuation_token = page->next_continuation_token;
  }
}

std::set<std::string> NamesIn(const fs::path& dir) {
  std::set<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

void WriteFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

TEST(FileStore, SurvivesReopening) {
  TempDir dir;
  {
    std::unique_ptr<ObjectStore> store = MustOpen(dir.path() / "db", /*fsync=*/true);
    PutRequest request;
    request.key = "resource=users/data/id=42";
    request.body = "{\"a\":1}";
    request.content_type = "application/json";
    request.metadata = {{"_V", "1"}};
    ASSERT_TRUE(store->Put(request).ok());
  }
  std::unique_ptr<ObjectStore> reopened = MustOpen(dir.path() / "db");
  Result<GetResult> got = reopened->Get("resource=users/data/id=42");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->body, "{\"a\":1}");
  EXPECT_EQ(got->info.content_type, "application/json");
  EXPECT_EQ(got->info.metadata, (Metadata{{"_v", "1"}}));
  EXPECT_EQ(ListAll(*reopened, {}), std::vector<std::string>{"resource=users/data/id=42"});
}

TEST(FileStore, AMissingRootIsMadeByTheFirstWriteNotByReads) {
  TempDir dir;
  const fs::path root = dir.path() / "typo" / "db";
  std::unique_ptr<ObjectStore> store = MustOpen(root);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("a").code(), ErrorCode::kNotFound);
  EXPECT_EQ(store->Head("a").code(), ErrorCode::kNotFound);
  EXPECT_TRUE(ListAll(*store, {}).empty());
  EXPECT_TRUE(store->Delete("a").ok());  // nothing to delete
  EXPECT_FALSE(fs::exists(dir.path() / "typo")) << "a read or a no-op delete created the root";
  ASSERT_TRUE(PutBody(*store, "a", "x").ok());
  EXPECT_TRUE(fs::is_directory(root / ".locks"));
  EXPECT_EQ(ListAll(*store, {}), std::vector<std::string>{"a"});
  EXPECT_TRUE(store->Delete("a").ok());
  EXPECT_TRUE(ListAll(*store, {}).empty());
}

TEST(FileStore, DescribesItsRootAsAUri) {
  TempDir dir;
  std::string root = (dir.path() / "db").string();
  EXPECT_EQ(MustOpen(root)->Describe(), "file://" + root);
  EXPECT_EQ(MustOpen(dir.path() / "my db")->Describe(), "file://" + dir.path().string() + "/my%20db");
}

TEST(FileStore, OnDiskLayoutIsOneFileWithAHeaderLine) {
  TempDir dir;
  std::unique_ptr<ObjectStore> store = MustOpen(dir.path());
  PutRequest request;
  request.key = "a/b c";
  request.body = "line1\nline2";
  request.metadata = {{"k", "v"}};
  ASSERT_TRUE(store->Put(request).ok());
  ASSERT_TRUE(PutBody(*store, "a", "top").ok());  // a key and a "directory" coexist

  fs::path file = dir.path() / "a" / "b^20c^o";
  ASSERT_TRUE(fs::is_regular_file(file));
  EXPECT_TRUE(fs::is_regular_file(dir.path() / "a^o"));
  std::ifstream in(file, std::ios::binary);
  std::string header_line;
  std::getline(in, header_line);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(body, "line1\nline2");
  nlohmann::json header = nlohmann::json::parse(header_line);
  EXPECT_EQ(header["v"], 1);
  EXPECT_EQ(header["etag"], "\"" + util::HexEncode(util::Md5("line1\nline2")) + "\"");
  EXPECT_EQ(header["size"], 11);
  EXPECT_EQ(header["content_type"], "application/octet-stream");
  EXPECT_EQ(header["metadata"], nlohmann::json({{"k", "v"}}));
  EXPECT_TRUE(header["last_modified_ms"].is_number_integer());
  // Only the object, the lock stripes and the directory: no temp file stays behind.
  EXPECT_EQ(NamesIn(dir.path()), (std::set<std::string>{".locks", "a", "a^o"}));
  EXPECT_EQ(NamesIn(dir.path() / "a"), (std::set<std::string>{"b^20c^o"}));
}

std::vector<std::string> HostileKeys() {
  std::string wide_segment;  // 800 bytes of UTF-8, 2400 escaped bytes
  for (int i = 0; i < 400; ++i) wide_segment += "é";
  std::string encoded_id;  // a 256-byte id, percent-encoded as the record layer writes it
  for (int i = 0; i < 85; ++i) encoded_id += "%E6%97%A5";
  std::string longest_escaped;
  for (int i = 0; i < 256; ++i) longest_escaped += "😀";
  std::string dot_at_chunk_start = std::string(store::kMaxEscapedChunkBytes, 'x') + ".." + "y";
  // clang-format off
  return {
      "../x", "a/../../etc/passwd", "/abs", "/", "//", ".hidden", ".", "..", "./x", "a//b", "a/",
      "a/./b", "x/..", "ünïcødé/日本語/😀", "with space", "  ", "caret^5E^", "^", "^o", "x^o",
      "a^+", "^_", "percent%2F%", "%", "~tilde", std::string("nul\0byte", 8), "\x01\x1f",
      "a\\b", "C:\\windows", "*?<>|\"", std::string(800, 's'), wide_segment,
      "p/" + std::string(800, 's') + "/q", "resource=users/data/id=" + encoded_id,
      dot_at_chunk_start, ".tmp-not-a-temp-file", ".locks", ".locks/00",
      // The longest paths a key can make: 1024 bytes that all escape, and 1024 segments.
      longest_escaped, std::string(1023, '/') + "x",
  };
  // clang-format on
}

TEST(FileStore, HostileKeysRoundTripAndStayInsideTheRoot) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  fs::create_directories(root);  // the root exists, so what is beside it is what the keys must not touch
  std::unique_ptr<ObjectStore> store = MustOpen(root);
  const std::set<std::string> parent_before = NamesIn(dir.path());
  ASSERT_EQ(parent_before, std::set<std::string>{"root"});

  std::vector<std::string> keys = HostileKeys();
  for (const std::string& key : keys) {
    ASSERT_TRUE(PutBody(*store, key, "body of " + key).ok()) << key;
  }
  for (const std::string& key : keys) {
    Result<GetResult> got = store->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status().ToString();
    EXPECT_EQ(got->body, "body of " + key);
    EXPECT_TRUE(store->Head(key).ok()) << key;
  }
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(ListAll(*store, {}), keys);

  // Nothing appeared beside the root, and nothing under it is a link or a name the key
  // codec reserves for itself.
  EXPECT_EQ(NamesIn(dir.path()), parent_before);
  const std::string canonical_root = fs::canonical(root).string() + "/";
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root)) {
    EXPECT_FALSE(entry.is_symlink()) << entry.path();
    EXPECT_EQ(fs::canonical(entry.path()).string().rfind(canonical_root, 0), 0u) << entry.path();
    const std::string name = entry.path().filename().string();
    EXPECT_LE(name.size(), 255u);
    bool lock_file = name == ".locks" || entry.path().parent_path().filename() == ".locks";
    if (!lock_file) {
      EXPECT_NE(name.front(), '.') << entry.path();
    }
  }

  for (const std::string& key : keys) ASSERT_TRUE(store->Delete(key).ok()) << key;
  EXPECT_TRUE(ListAll(*store, {}).empty());
  EXPECT_EQ(NamesIn(dir.path()), parent_before);
}

// Listing must agree with MemoryStore (a std::map) for any keys, prefixes and bounds,
// including prefixes that end inside an escaped or chunked segment.
TEST(FileStore, ListingAgreesWithMemoryStoreOnRandomKeys) {
  TempDir dir;
  std::unique_ptr<ObjectStore> file_store = MustOpen(dir.path());
  const std::string bucket = "file-vs-memory-" + util::RandomAlnum(8);
  std::unique_ptr<ObjectStore> memory_store = NewMemoryStore(bucket);

  std::mt19937 random(20240601);
  const std::vector<std::string> pieces = {
      "a", "b", "/", "/", ".", "é", "^", " ", "%", "-", "~", "0", std::string(90, 'L'), std::string(99, '.'), "\x7f"};
  auto random_text = [&](int max_pieces) {
    std::string text;
    int count = 1 + static_cast<int>(random() % static_cast<unsigned>(max_pieces));
    for (int i = 0; i < count; ++i) text += pieces[random() % pieces.size()];
    return text;
  };
  std::vector<std::string> keys;
  for (int i = 0; i < 400; ++i) {
    std::string key = random_text(6);
    if (key.size() > 1024) continue;
    keys.push_back(key);
    ASSERT_TRUE(PutBody(*file_store, key, key).ok()) << key;
    ASSERT_TRUE(PutBody(*memory_store, key, key).ok()) << key;
  }

  for (int query = 0; query < 150; ++query) {
    ListRequest request;
    const std::string& some_key = keys[random() % keys.size()];
    switch (random() % 3) {
      case 0:  // a prefix of a stored key, cut anywhere (even inside a UTF-8 character)
        request.prefix = some_key.substr(0, random() % (some_key.size() + 1));
        break;
      case 1:
        request.prefix = random_text(2);
        break;
      default:
        break;
    }
    if (random() % 2) request.start_after = keys[random() % keys.size()];
    request.max_keys = 1 + static_cast<int>(random() % 60);

    Result<ListPage> file_page = file_store->List(request);
    Result<ListPage> memory_page = memory_store->List(request);
    ASSERT_TRUE(file_page.ok()) << file_page.status().ToString();
    ASSERT_TRUE(memory_page.ok());
    ASSERT_EQ(file_page->objects.size(), memory_page->objects.size());
    for (size_t i = 0; i < file_page->objects.size(); ++i) {
      EXPECT_EQ(file_page->objects[i].key, memory_page->objects[i].key);
      EXPECT_EQ(file_page->objects[i].etag, memory_page->objects[i].etag);
    }
    EXPECT_EQ(file_page->truncated, memory_page->truncated);
    EXPECT_EQ(ListAll(*file_store, request), ListAll(*memory_store, request))
        << "prefix '" << request.prefix << "' after '" << request.start_after << "'";
  }
  ClearMemoryBucket(bucket);
}

TEST(FileStore, LeftoverTempFilesAreIgnored) {
  TempDir dir;
  std::unique_ptr<ObjectStore> store = MustOpen(dir.path());
  ASSERT_TRUE(PutBody(*store, "a/real", "yes").ok());
  // What a crash between write and rename leaves behind.
  WriteFile(dir.path() / ".tmp-xyz", "{\"v\":1}\nhalf");
  WriteFile(dir.path() / "a" / ".tmp-abcdef", "garbage");
  EXPECT_EQ(ListAll(*store, {}), std::vector<std::string>{"a/real"});
  EXPECT_EQ(store->Get(".tmp-xyz").code(), ErrorCode::kNotFound);
  EXPECT_EQ(store->Get("a/.tmp-abcdef").code(), ErrorCode::kNotFound);
  // Writing those very keys works and does not touch the leftovers.
  ASSERT_TRUE(PutBody(*store, ".tmp-xyz", "key").ok());
  EXPECT_EQ(store->Get(".tmp-xyz")->body, "key");
  EXPECT_TRUE(fs::exists(dir.path() / ".tmp-xyz"));
}

TEST(FileStore, ForeignAndNonCanonicalFilesAreIgnored) {
  TempDir dir;
  std::unique_ptr<ObjectStore> store = MustOpen(dir.path());
  ASSERT_TRUE(PutBody(*store, "A", "real").ok());
  const std::string valid_header_file = [&] {
    std::ifstream in(dir.path() / "A^o", std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }();
  WriteFile(dir.path() / "README", "not an object");
  WriteFile(dir.path() / "^41^o", valid_header_file);  // would decode to "A" a second time
  fs::create_directories(dir.path() / "x^o");          // an object name used as a directory
  fs::create_symlink("/etc", dir.path() / "etc");      // never followed
  EXPECT_EQ(ListAll(*store, {}), std::vector<std::string>{"A"});
}

TEST(FileStore, CorruptObjectFilesAreReported) {
  TempDir dir;
  std::unique_ptr<ObjectStore> store = MustOpen(dir.path());
  WriteFile(dir.path() / "bad^o", "not json\nbody");
  EXPECT_EQ(store->Get("bad").code(), ErrorCode::kCorruption);
  EXPECT_EQ(store->Head("bad").code(), ErrorCode::kCorruption);

  ASSERT_TRUE(PutBody(*store, "cut", "hello").ok());
  fs::resize_file(dir.path() / "cut^o", fs::file_size(dir.path() / "cut^o") - 1);
  Result<GetResult> got = store->Get("cut");
  EXPECT_EQ(got.code(), ErrorCode::kCorruption);
  EXPECT_NE(got.status().message().find("cut^o"), std::string::npos) << got.status().message();
  EXPECT_EQ(store->Head("cut").code(), ErrorCode::kCorruption);
}

TEST(FileStore, EmptyDirectoriesLeftByDeletesAreHarmless) {
  TempDir dir;
  std::unique_ptr<ObjectStore> store = MustOpen(dir.path());
  ASSERT_TRUE(PutBody(*store, "deep/er/key", "x").ok());
  ASSERT_TRUE(store->Delete("deep/er/key").ok());
  EXPECT_TRUE(fs::is_directory(dir.path() / "deep" / "er"));  // documented: never removed
  EXPECT_TRUE(ListAll(*store, {}).empty());
  ASSERT_TRUE(PutBody(*store, "deep/er/key", "again").ok());
  EXPECT_EQ(store->Get("deep/er/key")->body, "again");
}

TEST(FileStore, OpenErrorsNameThePath) {
  TempDir dir;
  Result<std::unique_ptr<ObjectStore>> empty = NewFileStore({"", true});
  EXPECT_EQ(empty.code(), ErrorCode::kInvalidArgument);

  const fs::path file = dir.path() / "plain-file";
  WriteFile(file, "x");
  Result<std::unique_ptr<ObjectStore>> on_file = NewFileStore({file.string(), true});
  EXPECT_EQ(on_file.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(on_file.status().message().find(file.string()), std::string::npos) << on_file.status().message();

  const fs::path below_file = file / "sub";
  Result<std::unique_ptr<ObjectStore>> under_file = NewFileStore({below_file.string(), true});
  EXPECT_EQ(under_file.code(), ErrorCode::kIOError);
  EXPECT_NE(under_file.status().message().find(below_file.string()), std::string::npos)
      << under_file.status().message();

  // Parents are created, by the first write.
  Result<std::unique_ptr<ObjectStore>> deep = NewFileStore({(dir.path() / "x" / "y" / "z").string(), true});
  ASSERT_TRUE(deep.ok());
  EXPECT_FALSE(fs::exists(dir.path() / "x"));
  ASSERT_TRUE(PutBody(**deep, "k", "v").ok());
  EXPECT_TRUE(fs::is_directory(dir.path() / "x" / "y" / "z" / ".locks"));
}

// Runs `child` in `count` forked processes that start together; returns their exit codes.
template <typename Child>
std::vector<int> RunInChildren(int count, Child child) {
  int gate[2];
  if (::pipe(gate) != 0) return {};
  std::vector<pid_t> pids;
  for (int i = 0; i < count; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(gate[1]);
      char byte;
      while (::read(gate[0], &byte, 1) > 0) {
      }                   // EOF: the parent opened the gate
      ::_exit(child(i));  // _exit: no gtest or sanitizer teardown in the child
    }
    pids.push_back(pid);
  }
  ::close(gate[0]);
  ::close(gate[1]);
  std::vector<int> codes;
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status));
  }
  return codes;
}

TEST(FileStore, CrossProcessCreatesHaveExactlyOneWinner) {
  TempDir dir;
  ASSERT_TRUE(MustOpen(dir.path()));
  constexpr int kProcesses = 8;
  for (int round = 0; round < 3; ++round) {
    const std::string key = "race/" + std::to_string(round);
    std::vector<int> codes = RunInChildren(kProcesses, [&](int child) {
      Result<std::unique_ptr<ObjectStore>> store = NewFileStore({dir.path().string(), false});
      if (!store.ok()) return 3;
      PutRequest request;
      request.key = key;
      request.body = "process " + std::to_string(child);
      request.if_none_match_star = true;
      Result<ObjectInfo> result = (*store)->Put(request);
      if (result.ok()) return 0;
      return result.code() == ErrorCode::kPreconditionFailed ? 1 : 2;
    });
    ASSERT_EQ(codes.size(), static_cast<size_t>(kProcesses));
    EXPECT_EQ(std::count(codes.begin(), codes.end(), 0), 1) << "round " << round;
    EXPECT_EQ(std::count(codes.begin(), codes.end(), 1), kProcesses - 1) << "round " << round;
  }
}

TEST(FileStore, CrossProcessIfMatchUpdatesLoseNothing) {
  TempDir dir;
  std::unique_ptr<ObjectStore> store = MustOpen(dir.path());
  ASSERT_TRUE(PutBody(*store, "counter", "0").ok());
  constexpr int kProcesses = 4;
  constexpr int kIncrements = 20;
  std::vector<int> codes = RunInChildren(kProcesses, [&](int) {
    Result<std::unique_ptr<ObjectStore>> own = NewFileStore({dir.path().string(), false});
    if (!own.ok()) return 3;
    for (int done = 0; done < kIncrements;) {
      Result<GetResult> current = (*own)->Get("counter");
      if (!current.ok()) return 2;
      PutRequest request;
      request.key = "counter";
      request.body = std::to_string(std::stoi(current->body) + 1);
      request.if_match = current->info.etag;
      Result<ObjectInfo> put = (*own)->Put(request);
      if (put.ok()) {
        ++done;
      } else if (put.code() != ErrorCode::kPreconditionFailed) {
        return 2;
      }
    }
    return 0;
  });
  EXPECT_EQ(codes, std::vector<int>(kProcesses, 0));
  Result<GetResult> final_value = store->Get("counter");
  ASSERT_TRUE(final_value.ok());
  EXPECT_EQ(final_value->body, std::to_string(kProcesses * kIncrements));
}

}  // namespace
}  // namespace s3db

namespace s3db {
namespace {

// Makes every directory under `root` look settled (modified an hour ago), so List caches its
// listing, as it would for data written long before.
void AgeDirectories(const fs::path& root) {
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
  fs::last_write_time(root, old);
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_directory()) fs::last_write_time(entry.path(), old);
  }
}

TEST(FileStore, CachedDirectoryListingsNeverHideChanges) {
  TempDir dir;
  auto store = MustOpen(dir.path());
  for (int i = 0; i < 2500; ++i) ASSERT_TRUE(PutBody(*store, "p/k" + std::to_string(10000 + i), "x").ok());
  AgeDirectories(dir.path());
  ListRequest all;
  all.prefix = "p/";
  ASSERT_EQ(ListAll(*store, all).size(), 2500u);  // lists (and caches) the settled directory
  // A key added, then one removed, after the listing was cached: both seen at once.
  ASSERT_TRUE(PutBody(*store, "p/k09999", "new").ok());
  std::vector<std::string> keys = ListAll(*store, all);
  ASSERT_EQ(keys.size(), 2501u);
  EXPECT_EQ(keys.front(), "p/k09999");
  AgeDirectories(dir.path());
  ASSERT_EQ(ListAll(*store, all).size(), 2501u);
  ASSERT_TRUE(store->Delete("p/k10000").ok());
  keys = ListAll(*store, all);
  EXPECT_EQ(keys.size(), 2500u);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "p/k10000"), 0);
  // Paging from the middle of a cached directory agrees with a fresh store's answer.
  AgeDirectories(dir.path());
  ListRequest from_middle = all;
  from_middle.start_after = "p/k11234";
  auto fresh = MustOpen(dir.path());
  EXPECT_EQ(ListAll(*store, from_middle), ListAll(*fresh, from_middle));
  EXPECT_EQ(ListAll(*store, from_middle).front(), "p/k11235");
}

}  // namespace
}  // namespace s3db
