// Seed 000 (the s3db.js README), "Examples": the e-commerce application and the user
// authentication system, ported to our API on every backend of the run.
#include <gtest/gtest.h>

#include <string>

#include "s3db/database.h"
#include "seeds/seeds_examples_support.h"

namespace s3db::seeds {
namespace {

class SeedsExamplesTest : public SeedsExampleTest {};

const char* const kHeadphones =
    "High-quality wireless headphones with noise cancellation, 30-hour battery life, premium comfort design, and "
    "crystal-clear audio quality. Perfect for music lovers, professionals, and gamers alike. Features include "
    "Bluetooth 5.0, active noise cancellation, touch controls, and a premium carrying case.";

// Seed 000, "E-commerce Application": products (body-overflow, timestamps) and orders
// (enforce-limits, timestamps, a nested shipping address, a declared createdAt date).
TEST_P(SeedsExamplesTest, ECommerceApplication) {
  auto db = Connect();
  ResourceDefinition products_def = Def("products", {{"name", "string|min:2|max:200"},
                                                     {"description", "string|optional"},
                                                     {"price", "number|positive"},
                                                     {"category", "string"},
                                                     {"tags", "array|items:string"},
                                                     {"inStock", "boolean"},
                                                     {"images", "array|items:url"},
                                                     {"metadata", "object|optional"}});
  products_def.behavior = "body-overflow";
  products_def.timestamps = true;
  Resource& products = db->CreateResource(products_def);

  ResourceDefinition orders_def = Def(
      "orders",
      {{"customerId", "string"},
       {"products", "array|items:string"},
       {"total", "number|positive"},
       {"status", "string|enum:pending,paid,shipped,delivered"},
       {"shippingAddress", {{"street", "string"}, {"city", "string"}, {"country", "string"}, {"zipCode", "string"}}},
       {"createdAt", "date"}});
  orders_def.behavior = "enforce-limits";
  orders_def.timestamps = true;
  Resource& orders = db->CreateResource(orders_def);

  Record product = products.Insert({{"name", "Wireless Headphones"},
                                    {"description", kHeadphones},
                                    {"price", 99.99},
                                    {"category", "electronics"},
                                    {"tags", {"wireless", "bluetooth", "audio", "noise-cancellation"}},
                                    {"inStock", true},
                                    {"images", {"https://example.com/headphones.jpg"}}});
  EXPECT_EQ(product.id.size(), 22u) << "a generated id";
  EXPECT_TRUE(product.data.contains("createdAt"));
  EXPECT_TRUE(product.data.contains("updatedAt"));
  Record stored = products.Get(product.id);
  EXPECT_EQ(stored.data["description"], kHeadphones) << "the long description is kept whole";
  EXPECT_EQ(stored.data["tags"].size(), 4u);
  EXPECT_EQ(stored.data["price"], 99.99);

  // new Date() in JavaScript is an ISO 8601 time here.
  Record order = orders.Insert(
      {{"customerId", "customer-123"},
       {"products", {product.id}},
       {"total", 99.99},
       {"status", "pending"},
       {"shippingAddress", {{"street", "123 Main St"}, {"city", "New York"}, {"country", "USA"}, {"zipCode", "10001"}}},
       {"createdAt", "2024-06-27T12:00:00Z"}});
  Record got = orders.Get(order.id);
  EXPECT_EQ(got.data["products"], Json::array({product.id}));
  EXPECT_EQ(got.data["shippingAddress"]["city"], "New York");
  EXPECT_EQ(got.data["status"], "pending");
  // timestamps: true sets createdAt to the time of the insert, over the value given (as
  // s3db.js does; the seed gives new Date(), that same moment), in the declared date form.
  EXPECT_EQ(got.data["createdAt"], order.data["createdAt"]);
  EXPECT_EQ(got.data["createdAt"], got.data["updatedAt"]);
  EXPECT_NE(got.data["createdAt"], "2024-06-27T12:00:00.000Z");

  // "enforce-limits ensures data integrity": a status outside the enum and an order over the
  // metadata budget are refused, and nothing is written.
  EXPECT_THROW(orders.Insert({{"customerId", "c"},
                              {"products", Json::array()},
                              {"total", 1},
                              {"status", "lost"},
                              {"shippingAddress", {{"street", "s"}, {"city", "c"}, {"country", "c"}, {"zipCode", "z"}}},
                              {"createdAt", "2024-06-27"}}),
               ValidationError);
  Json big_order = {{"id", "big"},
                    {"customerId", "c"},
                    {"products", Json::array()},
                    {"total", 1},
                    {"status", "paid"},
                    {"shippingAddress", {{"street", "s"}, {"city", "c"}, {"country", "c"}, {"zipCode", "z"}}},
                    {"createdAt", "2024-06-27"}};
  for (int i = 0; i < 200; ++i) big_order["products"].push_back("product-" + std::to_string(i));
  EXPECT_THROW(orders.Insert(big_order), MetadataTooLarge);
  EXPECT_FALSE(orders.Exists("big"));
  EXPECT_EQ(orders.Count(), 1u);
}

// Seed 000, "User Authentication System": users with a secret password and unique username
// and email (enforce-limits), sessions with a secret token and free-form session data
// (body-overflow).
TEST_P(SeedsExamplesTest, UserAuthenticationSystem) {
  auto db = Connect({.uri = "", .passphrase = "seed auth passphrase"});
  ResourceDefinition users_def = Def(
      "users",
      {{"username", "string|min:3|max:50|unique"},
       {"email", "email|unique"},
       {"password", "secret"},
       {"role", "string|enum:user,admin,moderator"},
       {"isActive", "boolean"},
       {"lastLogin", "date|optional"},
       {"profile",
        {{"firstName", "string"}, {"lastName", "string"}, {"avatar", "url|optional"}, {"bio", "string|optional"}}}});
  users_def.behavior = "enforce-limits";
  users_def.timestamps = true;
  Resource& users = db->CreateResource(users_def);
  ResourceDefinition sessions_def = Def("sessions", {{"userId", "string"},
                                                     {"token", "secret"},
                                                     {"expiresAt", "date"},
                                                     {"userAgent", "string|optional"},
                                                     {"ipAddress", "string|optional"},
                                                     {"sessionData", "object|optional"}});
  sessions_def.behavior = "body-overflow";
  sessions_def.timestamps = true;
  Resource& sessions = db->CreateResource(sessions_def);

  Record user = users.Insert({{"username", "john_doe"},
                              {"email", "john@example.com"},
                              {"password", "secure_password_123"},
                              {"role", "user"},
                              {"isActive", true},
                              {"profile", {{"firstName", "John"}, {"lastName", "Doe"}}}});
  EXPECT_EQ(users.Get(user.id).data["password"], "secure_password_123") << "decrypted on read";
  EXPECT_FALSE(StoredAnywhere(*RawStore(), "db/", "secure_password_123")) << "encrypted at rest";
  // The unique username and email: a second account cannot take them.
  EXPECT_THROW(users.Insert({{"username", "john_doe"},
                             {"email", "other@example.com"},
                             {"password", "p"},
                             {"role", "user"},
                             {"isActive", true},
                             {"profile", {{"firstName", "J"}, {"lastName", "D"}}}}),
               AlreadyExists);
  EXPECT_THROW(users.Insert({{"username", "johnny"},
                             {"email", "john@example.com"},
                             {"password", "p"},
                             {"role", "user"},
                             {"isActive", true},
                             {"profile", {{"firstName", "J"}, {"lastName", "D"}}}}),
               AlreadyExists);
  EXPECT_THROW(users.Insert({{"username", "jane"},
                             {"email", "jane@example.com"},
                             {"password", "p"},
                             {"role", "superuser"},
                             {"isActive", true},
                             {"profile", {{"firstName", "J"}, {"lastName", "D"}}}}),
               ValidationError)
      << "role outside its enum";
  EXPECT_EQ(users.Count(), 1u);

  Record session = sessions.Insert({{"userId", user.id},
                                    {"token", "jwt_token_here"},
                                    {"expiresAt", "2024-06-28T12:00:00Z"},
                                    {"userAgent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"},
                                    {"ipAddress", "192.168.1.1"},
                                    {"sessionData",
                                     {{"preferences", {{"theme", "dark"}, {"language", "en"}}},
                                      {"lastActivity", "2024-06-27T12:00:00.000Z"},
                                      {"deviceInfo", {{"type", "desktop"}, {"os", "Windows"}}}}}});
  Record got = sessions.Get(session.id);
  EXPECT_EQ(got.data["userId"], user.id);
  EXPECT_EQ(got.data["token"], "jwt_token_here");
  EXPECT_EQ(got.data["sessionData"]["preferences"]["theme"], "dark") << "body-overflow preserves session data";
  EXPECT_EQ(got.data["sessionData"]["deviceInfo"]["os"], "Windows");
  EXPECT_EQ(got.data["expiresAt"], "2024-06-28T12:00:00.000Z");
  EXPECT_FALSE(StoredAnywhere(*RawStore(), "db/", "jwt_token_here"));
}

S3DB_SEEDS_EXAMPLES_ON_EVERY_BACKEND(SeedsExamplesTest);

}  // namespace
}  // namespace s3db::seeds
