// What the real s3db.js 21.6.2 writes, for the s3dbjs tests: runs
// tests/s3dbjs/write_s3dbjs_fixture.mjs with node against bench/peer's s3db.js (installed by
// bench/peer/install.sh, which scripts/test.sh runs). The expected records are what
// s3db.js's own get() returned; the dump is every object it stored, metadata as stored.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "s3db/object_store.h"
#include "s3db/record.h"
#include "s3db/stores.h"
#include "util/crypto_hash.h"

namespace s3db::s3dbjs_testing {

struct S3dbJsExpectedRecord {
  std::string resource;
  std::string id;
  Json data;
};

struct S3dbJsFixtureRun {
  bool ok = false;
  std::string error;  // why it did not run
  std::vector<S3dbJsExpectedRecord> expected;
  std::vector<Json> dump;  // {"key", "metadata", "body_base64", "content_type"}
};

inline std::string S3dbJsPeerDir() { return std::string(S3DB_SOURCE_DIR) + "/bench/peer"; }

inline std::vector<Json> ReadS3dbJsLines(const std::filesystem::path& path) {
  std::vector<Json> lines;
  std::ifstream in(path);
  std::string text;
  while (std::getline(in, text)) {
    if (!text.empty()) lines.push_back(Json::parse(text));
  }
  return lines;
}

// Runs the Node script: writes the fixture through s3db.js to `uri` (an s3db.js connection
// string). `dump` only for memory://.
inline S3dbJsFixtureRun RunS3dbJsFixture(const std::string& uri, int bulk, bool dump) {
  S3dbJsFixtureRun run;
  const std::string peer = S3dbJsPeerDir();
  if (!std::filesystem::exists(peer + "/node_modules/s3db.js/package.json")) {
    run.error = "s3db.js is not installed under " + peer + "/node_modules: run `bash bench/peer/install.sh`";
    return run;
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("s3dbjs-fixture-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  std::filesystem::create_directories(dir);
  const std::string expected = (dir / "expected.jsonl").string();
  const std::string dumped = (dir / "dump.jsonl").string();
  const std::string log = (dir / "node.log").string();
  std::string command = "node '" + std::string(S3DB_SOURCE_DIR) + "/tests/s3dbjs/write_s3dbjs_fixture.mjs' --peer '" +
                        peer + "' --uri '" + uri + "' --expected '" + expected + "' --bulk " + std::to_string(bulk);
  if (dump) command += " --dump '" + dumped + "'";
  command += " > /dev/null 2> '" + log + "'";
  const int status = std::system(command.c_str());
  if (status != 0) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    run.error = "node write_s3dbjs_fixture.mjs failed (status " + std::to_string(status) +
                "; is node installed?): " + text.substr(0, 4000);
    std::filesystem::remove_all(dir);
    return run;
  }
  for (const Json& line : ReadS3dbJsLines(expected)) {
    run.expected.push_back({line["resource"], line["id"], line["data"]});
  }
  if (dump) run.dump = ReadS3dbJsLines(dumped);
  std::filesystem::remove_all(dir);
  run.ok = true;
  return run;
}

inline constexpr int kBulkRecords = 300;
inline constexpr const char* kFixturePassphrase = "fixture-passphrase";  // the script's default

inline std::string S3dbJsReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The memory:// run of s3db.js the file store cases use. ctest runs each case in a process of
// its own, so the run is kept in the temp directory under a name made of the script's and
// s3db.js's text (a changed script or s3db.js makes a new one) and made once, not per case;
// it is written to a directory of its own and renamed into place, so a process never reads
// half of one.
inline const S3dbJsFixtureRun& MemoryS3dbJsFixture() {
  static const S3dbJsFixtureRun run = [] {
    const std::string source = S3DB_SOURCE_DIR;
    const size_t key = std::hash<std::string>{}(
        S3dbJsReadWhole(source + "/tests/s3dbjs/write_s3dbjs_fixture.mjs") +
        S3dbJsReadWhole(S3dbJsPeerDir() + "/node_modules/s3db.js/package.json") + std::to_string(kBulkRecords));
    const auto cached = std::filesystem::temp_directory_path() / ("s3dbjs-fixture-cache-" + std::to_string(key));
    S3dbJsFixtureRun out;
    if (std::filesystem::exists(cached / "complete")) {
      for (const Json& line : ReadS3dbJsLines(cached / "expected.jsonl")) {
        out.expected.push_back({line["resource"], line["id"], line["data"]});
      }
      out.dump = ReadS3dbJsLines(cached / "dump.jsonl");
      out.ok = !out.expected.empty() && !out.dump.empty();
      if (out.ok) return out;
    }
    out = RunS3dbJsFixture("memory://fixture/pre", kBulkRecords, /*dump=*/true);
    if (!out.ok) return out;
    const auto partial = cached.string() + ".partial-" + std::to_string(::getpid());
    std::filesystem::create_directories(partial);
    {
      std::ofstream expected(partial + "/expected.jsonl");
      for (const S3dbJsExpectedRecord& r : out.expected) {
        expected << Json{{"resource", r.resource}, {"id", r.id}, {"data", r.data}}.dump() << "\n";
      }
      std::ofstream dump(partial + "/dump.jsonl");
      for (const Json& object : out.dump) dump << object.dump() << "\n";
      std::ofstream(partial + "/complete") << "ok\n";
    }
    std::error_code ec;
    std::filesystem::rename(partial, cached, ec);  // another process may have been first
    if (ec) std::filesystem::remove_all(partial, ec);
    return out;
  }();
  return run;
}

// Puts the dumped objects into `store`, with `strip` taken off the front of each key.
inline void LoadS3dbJsDump(const std::vector<Json>& dump, ObjectStore& store, const std::string& strip) {
  for (const Json& object : dump) {
    std::string key = object["key"];
    ASSERT_TRUE(key.rfind(strip, 0) == 0) << key;
    PutRequest put;
    put.key = key.substr(strip.size());
    for (const auto& [k, v] : object["metadata"].items()) put.metadata[k] = v.get<std::string>();
    std::string body;
    ASSERT_TRUE(util::Base64Decode(object["body_base64"].get<std::string>(), &body)) << key;
    put.body = body;
    put.content_type = object.value("content_type", "");
    Result<ObjectInfo> written = store.Put(put);
    ASSERT_TRUE(written.ok()) << key << ": " << written.status().ToString();
  }
}

// A file store at `root` holding what s3db.js wrote on memory:// (MemoryS3dbJsFixture), its
// keys without the "pre/" prefix (file:// URIs have none); in `*store`.
inline void OpenFileStoreWithS3dbJsFixture(const std::string& root, std::unique_ptr<ObjectStore>* store) {
  const S3dbJsFixtureRun& run = MemoryS3dbJsFixture();
  ASSERT_TRUE(run.ok) << run.error;
  FileStoreOptions options;
  options.root = root;
  options.fsync = false;
  auto opened = NewFileStore(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  *store = std::move(opened).value();
  LoadS3dbJsDump(run.dump, **store, "pre/");
}

}  // namespace s3db::s3dbjs_testing
