// Partition definitions refused or accepted at CreateResource, before any record.
#include "partition_fixture.h"

namespace s3db::partition_testing {
namespace {

// ---- definitions (no store needed beyond memory) ---------------------------------------------

class PartitionDefinitionTest : public ::testing::Test {
 protected:
  std::string Refusal(const Json& partitions, Json attributes = Json()) {
    ResourceDefinition def = Users();
    def.partitions = partitions;
    if (!attributes.is_null()) def.attributes = attributes;
    try {
      db_->CreateResource(def);
    } catch (const InvalidSchema& e) {
      EXPECT_FALSE(db_->ResourceExists("users"));
      return e.what();
    }
    ADD_FAILURE() << "accepted " << partitions.dump();
    return "";
  }
  StoreFactory stores_{Backend::kMemory};
  std::unique_ptr<Database> db_ = stores_.Connect();
};

TEST_F(PartitionDefinitionTest, BadDefinitionsNameThePartitionAndTheField) {
  struct Case {
    const char* partitions;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {R"({"byX": {"fields": {"nope": "string"}}})", {"partition 'byX'", "field 'nope'", "not an attribute"}},
      {R"({"byX": {"fields": {"region": "strin"}}})", {"partition 'byX'", "region", "unknown type 'strin'"}},
      {R"({"byX": {"fields": {"region": "string|min:2"}}})", {"partition 'byX'", "region", "maxlength"}},
      {R"({"byX": {"fields": {"region": "string|maxlength:0"}}})", {"partition 'byX'", "maxlength"}},
      {R"({"byX": {"fields": {"token": "string"}}})", {"partition 'byX'", "field 'token'", "secret"}},
      {R"({"byX": {"fields": {"address": "string"}}})", {"partition 'byX'", "field 'address'", "not a scalar"}},
      {R"({"byX": {"fields": {"tags": "string"}}})", {"partition 'byX'", "field 'tags'", "not a scalar"}},
      {R"({"byX": {"fields": {"region": 1}}})", {"partition 'byX'", "field 'region'", "rule text"}},
      {R"({"byX": {"fields": {}}})", {"partition 'byX'", "names no field"}},
      {R"({"byX": {"field": {"region": "string"}}})", {"partition 'byX'", "unknown key 'field'"}},
      {R"({"byX": {}})", {"partition 'byX'", "no \"fields\""}},
      {R"({"by X": {"fields": {"region": "string"}}})", {"partition 'by X'", "partition name"}},
      {R"({"byX": {"fields": [{"region": "string"}, {"region": "string"}]}})", {"field 'region'", "twice"}},
      {R"({"byX": {"fields": [{"region": "string", "tier": "string"}]}})", {"partition 'byX'", "one member"}},
      {R"({"byX": "region"})", {"partition 'byX'", "must be an object"}},
  };
  Json attributes = Users().attributes;
  attributes["token"] = "secret|optional";
  attributes["tags"] = "array|items:string|optional";
  for (const auto& c : cases) {
    SCOPED_TRACE(c.partitions);
    const std::string message = Refusal(Json::parse(c.partitions), attributes);
    EXPECT_NE(message.find("resource 'users'"), std::string::npos) << message;
    for (const auto& part : c.says) EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

TEST_F(PartitionDefinitionTest, TheSeedsFormsAndAsyncPartitionsReadFromASchemaFile) {
  const Json file = Json::parse(R"({
    "attributes": {"name": "string", "region": "string", "createdAt": "date"},
    "options": {"partitions": {"byRegion": {"fields": {"region": "string"}},
                               "byDate": {"fields": {"createdAt": "date|maxlength:10"}}},
                "asyncPartitions": true}})");
  ResourceDefinition def = ResourceDefinition::FromJson("logs", file);
  EXPECT_TRUE(def.async_partitions);
  EXPECT_EQ(def.ToJson()["asyncPartitions"], true);
  EXPECT_FALSE(Users().ToJson().contains("asyncPartitions"));  // absent unless set
  ResourceDefinition sync = def;
  sync.async_partitions = false;
  EXPECT_NE(def.DefinitionHash(), sync.DefinitionHash());
  Resource& logs = db_->CreateResource(def);
  EXPECT_TRUE(logs.definition().async_partitions);
  EXPECT_EQ(logs.definition().partitions, def.partitions);
  EXPECT_EQ(ResourceDefinition::Import(logs.ExportSchema()).DefinitionHash(), def.DefinitionHash());
  EXPECT_THROW(ResourceDefinition::FromJson("x", Json::parse(R"({"attributes": {}, "asyncPartitions": "yes"})")),
               InvalidSchema);
}

}  // namespace
}  // namespace s3db::partition_testing
