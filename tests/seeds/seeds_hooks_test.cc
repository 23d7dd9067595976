// Seed 000 (the s3db.js README), "Hooks": hooks given at createResource and added later
// (addHook), every supported hook, and the execution order rules, on every backend of the run.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "s3db/database.h"
#include "s3db/plugin.h"
#include "seeds/seeds_examples_support.h"

namespace s3db::seeds {
namespace {

class SeedsHooksTest : public SeedsExampleTest {};

// Seed 000, "Registering hooks": a preInsert that refuses an email without "@" and an
// afterInsert that logs the id, given at creation; then a preInsert added dynamically.
TEST_P(SeedsHooksTest, RegisteringHooks) {
  auto db = Connect();
  std::vector<std::string> log;
  HookSet hooks;
  hooks.pre_insert.push_back([](Json& data) {
    if (data.value("email", "").find('@') == std::string::npos) throw std::invalid_argument("Invalid email");
  });
  hooks.after_insert.push_back([&](const Record& r) { log.push_back("User inserted: " + r.id); });
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}, {"email", "email"}}), hooks);

  users.Insert({{"id", "ada"}, {"name", "Ada"}, {"email", "ada@example.com"}});
  EXPECT_EQ(log, std::vector<std::string>{"User inserted: ada"});
  try {
    users.Insert({{"id", "bad"}, {"name", "Bad"}, {"email", "nope"}});
    ADD_FAILURE() << "the hook did not abort";
  } catch (const HookAborted& e) {
    EXPECT_EQ(e.hook(), HookType::kPreInsert);
    EXPECT_NE(std::string(e.what()).find("Invalid email"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(users.Exists("bad")) << "an aborted insert writes nothing";

  // users.addHook('preInsert', ...): runs after the hooks given at creation, may change data.
  users.hooks().AddPreInsert([](Json& data) { data["name"] = data["name"].get<std::string>() + " (checked)"; });
  EXPECT_EQ(users.Insert({{"id", "bob"}, {"name", "Bob"}, {"email", "bob@example.com"}}).data["name"], "Bob (checked)");
  EXPECT_EQ(users.Get("bob").data["name"], "Bob (checked)");
  EXPECT_EQ(log.size(), 2u);
}

// Seed 000, "Supported hooks" and "Hook execution order": pre and after hooks of insert,
// update and delete, run in the order added; pre-hooks may change the data; a throwing hook
// aborts the operation.
TEST_P(SeedsHooksTest, HookExecutionOrder) {
  auto db = Connect();
  Resource& users = db->CreateResource(Def("users", {{"name", "string"}, {"email", "email|optional"}}));
  std::vector<std::string> log;
  HookRegistry& hooks = users.hooks();
  hooks.AddPreInsert([&](Json&) { log.push_back("preInsert 1"); });
  hooks.AddPreInsert([&](Json& data) {
    log.push_back("preInsert 2");
    data["email"] = "set@example.com";
  });
  hooks.AddAfterInsert([&](const Record& r) { log.push_back("afterInsert " + r.data["email"].get<std::string>()); });
  hooks.AddPreUpdate([&](const std::string& id, Json& patch) {
    log.push_back("preUpdate " + id);
    patch["name"] = patch["name"].get<std::string>() + "!";
  });
  hooks.AddAfterUpdate([&](const Record& r) { log.push_back("afterUpdate " + r.data["name"].get<std::string>()); });
  hooks.AddPreDelete([&](const std::string& id) {
    log.push_back("preDelete " + id);
    if (id == "keep") throw std::runtime_error("protected");
  });
  hooks.AddAfterDelete([&](const std::string& id) { log.push_back("afterDelete " + id); });

  users.Insert({{"id", "ada"}, {"name", "Ada"}});
  users.Update("ada", {{"name", "Ada L"}});
  users.Delete("ada");
  EXPECT_EQ(log, (std::vector<std::string>{"preInsert 1", "preInsert 2", "afterInsert set@example.com", "preUpdate ada",
                                           "afterUpdate Ada L!", "preDelete ada", "afterDelete ada"}));
  users.Insert({{"id", "keep"}, {"name", "Keep"}});
  EXPECT_THROW(users.Delete("keep"), HookAborted);
  EXPECT_TRUE(users.Exists("keep")) << "If a hook throws, the operation is aborted";
}

S3DB_SEEDS_EXAMPLES_ON_EVERY_BACKEND(SeedsHooksTest);

}  // namespace
}  // namespace s3db::seeds
