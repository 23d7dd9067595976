// The configuration file end to end (docs/CLI.md, "Configuration file"): flags > environment
// > file > defaults, profiles, and a clear error for every mistake in the file.
#include "cli_fixture.h"

namespace s3db::clitest {
namespace {

class CliConfigTest : public CliTest {
 protected:
  // A config file at the default place ($XDG_CONFIG_HOME/s3db/config.toml) of a child whose
  // XDG_CONFIG_HOME is `xdg_`.
  void WriteDefaultConfig(const std::string& text) {
    fs::create_directories(xdg_ + "/s3db");
    WriteFile(xdg_ + "/s3db/config.toml", text);
  }
  RunOptions Env(std::map<std::string, std::optional<std::string>> env = {}) {
    RunOptions options;
    options.env = std::move(env);
    options.env.emplace("XDG_CONFIG_HOME", xdg_);
    return options;
  }
  Json Config(const std::vector<std::string>& args, const RunOptions& options) {
    std::vector<std::string> all = args;
    all.push_back("config");
    const RunResult run = RunRaw(all, options);
    EXPECT_TRUE(Succeeded(run));
    return run.exit_code == kOk ? Json::parse(run.out) : Json();
  }
  void SetUp() override {
    CliTest::SetUp();
    xdg_ = dir_ + "/xdg";
  }
  std::string xdg_;
};

TEST_F(CliConfigTest, WithoutAFileEverySettingIsItsDefault) {
  const Json config = Config({}, Env());
  EXPECT_EQ(config["file"], nullptr);
  EXPECT_EQ(config["profile"], nullptr);
  EXPECT_EQ(config["uri"], (Json{{"value", "file://./s3db-data"}, {"from", "default"}}));
  EXPECT_EQ(config["concurrency"], (Json{{"value", 8}, {"from", "default"}}));
  EXPECT_EQ(config["passphrase"], nullptr);
  EXPECT_EQ(config["cache"], nullptr);
}

TEST_F(CliConfigTest, FlagsBeatTheEnvironmentWhichBeatsTheFile) {
  WriteDefaultConfig("uri = \"memory://from-file\"\nconcurrency = 3\ncache = \"memory\"\ncache_ttl = \"5m\"\n");
  const std::string file = xdg_ + "/s3db/config.toml";
  Json config = Config({}, Env());
  EXPECT_EQ(config["file"], file);
  EXPECT_EQ(config["uri"]["value"], "memory://from-file");
  EXPECT_EQ(config["uri"]["from"], "config file " + file + " top level");
  EXPECT_EQ(config["concurrency"]["value"], 3);
  EXPECT_EQ(config["cache_ttl"]["value"], "5m");

  config = Config({}, Env({{"S3DB_URI", "memory://from-env"},
                           {"S3DB_CONCURRENCY", "5"},
                           {"S3DB_CACHE_TTL", "10s"},
                           {"S3DB_CACHE", "memory"}}));
  EXPECT_EQ(config["uri"], (Json{{"value", "memory://from-env"}, {"from", "$S3DB_URI"}}));
  EXPECT_EQ(config["concurrency"], (Json{{"value", 5}, {"from", "$S3DB_CONCURRENCY"}}));
  EXPECT_EQ(config["cache_ttl"], (Json{{"value", "10s"}, {"from", "$S3DB_CACHE_TTL"}}));
  EXPECT_EQ(config["cache"]["from"], "$S3DB_CACHE");

  config = Config({"--uri", "memory://from-flag", "--concurrency", "7", "--cache-ttl", "1s"},
                  Env({{"S3DB_URI", "memory://from-env"}, {"S3DB_CONCURRENCY", "5"}}));
  EXPECT_EQ(config["uri"], (Json{{"value", "memory://from-flag"}, {"from", "--uri"}}));
  EXPECT_EQ(config["concurrency"], (Json{{"value", 7}, {"from", "--concurrency"}}));
  EXPECT_EQ(config["cache_ttl"], (Json{{"value", "1s"}, {"from", "--cache-ttl"}}));
}

TEST_F(CliConfigTest, TheFilesStoreAndPassphraseAreTheOnesUsed) {
  // A profile names this test's store and a passphrase file relative to the config file, so
  // the commands below reach the same data from any directory with only --profile.
  const std::string config_dir = dir_ + "/conf";
  fs::create_directories(config_dir + "/keys");
  WriteFile(config_dir + "/keys/app.key", "correct horse battery staple\n");
  WriteFile(config_dir + "/s3db.toml",
            "[profile.app]\nuri = \"" + StoreUri() + "\"\npassphrase_file = \"keys/app.key\"\n");
  const std::string schema = WriteTemp("acct.json", R"({"attributes": {"name": "string", "apiKey": "secret"}})");
  RunOptions options = Env({{"S3DB_CONFIG_FILE", config_dir + "/s3db.toml"}});
  options.cwd = "/";
  ASSERT_TRUE(Succeeded(RunRaw({"--profile", "app", "resource", "create", "acct", "--schema", schema}, options)));
  ASSERT_TRUE(
      Succeeded(RunRaw({"--profile", "app", "insert", "acct", R"({"id":"a","name":"x","apiKey":"sk-1"})"}, options)));
  // The same store and key reached the usual way: the record is there and decrypts.
  const std::string flag_pass = WriteTemp("pass", "correct horse battery staple\n");
  const RunResult got = Run({"--passphrase-file", flag_pass, "get", "acct", "a"});
  ASSERT_TRUE(Succeeded(got));
  EXPECT_EQ(Json::parse(got.out)["apiKey"], "sk-1");
  // $S3DB_PASSPHRASE beats the file's passphrase_file: a wrong one cannot decrypt.
  options.env["S3DB_PASSPHRASE"] = "not the passphrase";
  EXPECT_EQ(RunRaw({"--profile", "app", "get", "acct", "a"}, options).exit_code, kStorage);
}

TEST_F(CliConfigTest, TheProfileFlagBeatsTheProfileVariable) {
  WriteDefaultConfig(
      "uri = \"memory://top\"\n"
      "[profile.a]\nuri = \"memory://a\"\n"
      "[profile.b]\nuri = \"memory://b\"\nconcurrency = 2\n");
  EXPECT_EQ(Config({}, Env())["uri"]["value"], "memory://top");
  EXPECT_EQ(Config({}, Env({{"S3DB_PROFILE", "a"}}))["uri"]["value"], "memory://a");
  const Json config = Config({"--profile", "b"}, Env({{"S3DB_PROFILE", "a"}}));
  EXPECT_EQ(config["profile"], "b");
  EXPECT_EQ(config["uri"]["value"], "memory://b");
  // A profile stands alone: what it leaves out is not taken from the top level.
  EXPECT_EQ(Config({"--profile", "a"}, Env())["concurrency"]["from"], "default");
}

TEST_F(CliConfigTest, EveryMistakeInTheFileIsAUsageErrorNamingFileLineAndKey) {
  const std::string file = xdg_ + "/s3db/config.toml";
  WriteDefaultConfig("uri = \"memory://x\"\n[profile.p]\nurl = \"memory://y\"\n");
  EXPECT_TRUE(FailedWith(RunRaw({"resource", "list"}, Env()), kUsage,
                         "config file " + file + ": [profile.p] line 3: unknown key 'url'"));
  WriteDefaultConfig("concurrency = \"many\"\n");
  EXPECT_TRUE(FailedWith(RunRaw({"resource", "list"}, Env()), kUsage, "line 1: 'concurrency' must be a whole number"));
  WriteDefaultConfig("concurrency = 0\n");
  EXPECT_TRUE(FailedWith(RunRaw({"resource", "list"}, Env()), kUsage, "'concurrency' must be a whole number"));
  WriteDefaultConfig("uri = 5\n");
  EXPECT_TRUE(FailedWith(RunRaw({"resource", "list"}, Env()), kUsage, "top level line 1: 'uri' must be a string"));
  WriteDefaultConfig("uri = \"memory://x\"\nuri = \"memory://y\"\n");
  EXPECT_TRUE(FailedWith(RunRaw({"resource", "list"}, Env()), kUsage, file + ": line 2:"));
  WriteDefaultConfig("profile = \"p\"\n");
  EXPECT_TRUE(FailedWith(RunRaw({"resource", "list"}, Env()), kUsage, "'profile' must hold tables"));
  WriteDefaultConfig("[profile.p]\nuri = \"memory://p\"\n");
  EXPECT_TRUE(
      FailedWith(RunRaw({"--profile", "q", "resource", "list"}, Env()), kUsage, "no profile 'q' (profiles: p)"));
  // A file named but absent; a profile asked for with no file at all.
  EXPECT_TRUE(FailedWith(RunRaw({"--config", dir_ + "/absent.toml", "resource", "list"}, Env()), kUsage,
                         dir_ + "/absent.toml: no such file"));
  EXPECT_TRUE(FailedWith(RunRaw({"--profile", "p", "resource", "list"}, Env({{"XDG_CONFIG_HOME", dir_ + "/empty"}})),
                         kUsage, "profile 'p' needs a config file"));
  EXPECT_TRUE(FailedWith(RunRaw({"resource", "list"}, Env({{"S3DB_CONCURRENCY", "lots"}})), kUsage,
                         "concurrency from $S3DB_CONCURRENCY: expected a whole number from 1 to 1024"));
}

TEST_F(CliConfigTest, SecretsInTheFileAreNeverPrinted) {
  WriteDefaultConfig(
      "uri = \"http://AKIDEXAMPLE:wJalrXUtnFEMIsecret@127.0.0.1:1/bucket\"\n"
      "cache = \"redis://app:r3dis-Passw0rd@127.0.0.1:notaport/0\"\n");
  const RunResult config = RunRaw({"config"}, Env());
  ASSERT_TRUE(Succeeded(config));
  EXPECT_EQ(config.out.find("wJalrXUtnFEMIsecret"), std::string::npos) << config.out;
  EXPECT_EQ(config.out.find("r3dis-Passw0rd"), std::string::npos) << config.out;
  // A bad cache URI from the file: the error says where it came from, not the password.
  const RunResult bad = RunRaw({"resource", "list"}, Env());
  EXPECT_EQ(bad.exit_code, kInvalid) << Describe(bad);
  EXPECT_NE(bad.err.find("config file"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.err.find("r3dis-Passw0rd"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.err.find("wJalrXUtnFEMIsecret"), std::string::npos) << bad.err;
}

TEST_F(CliConfigTest, ACacheTtlWithoutACacheIsAnErrorOnlyOnTheCommandLine) {
  WriteDefaultConfig("uri = \"" + StoreUri() + "\"\ncache_ttl = \"30s\"\n");
  EXPECT_TRUE(Succeeded(RunRaw({"resource", "list"}, Env())));
  EXPECT_TRUE(
      FailedWith(RunRaw({"--cache-ttl", "30s", "resource", "list"}, Env()), kUsage, "--cache-ttl needs --cache"));
}

}  // namespace
}  // namespace s3db::clitest
