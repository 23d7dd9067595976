// A program of its own that uses an installed s3db: it stores two users in a file:// database
// at the directory given (default ./consumer-data), reads one back and queries them. It
// exits non-zero if anything comes back different.
#include <s3db/database.h>
#include <s3db/version.h>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "./consumer-data";
  std::cout << "s3db headers " << S3DB_VERSION << ", library " << s3db::LibraryVersion() << "\n";

  auto db = s3db::Database::Connect({.uri = "file://" + dir});
  s3db::Resource& users = *db->CreateResourceIfNotExists({
                                  .name = "users",
                                  .attributes = {{"name", "string|min:2"}, {"email", "email"}},
                              }).resource;
  users.Insert({{"id", "ada"}, {"name", "Ada"}, {"email", "ada@example.com"}});
  users.Insert({{"id", "alan"}, {"name", "Alan"}, {"email", "alan@example.com"}});

  const s3db::Record ada = users.Get("ada");
  std::cout << ada.ToJson().dump() << "\n";
  size_t found = 0;
  for (const s3db::Record& r : users.Query({{"name", "Alan"}})) {
    std::cout << r.ToJson().dump() << "\n";
    ++found;
  }
  try {
    users.Insert({{"id", "ada"}, {"name", "Ada again"}, {"email", "ada@example.com"}});
    std::cerr << "a second insert of ada was not refused\n";
    return 1;
  } catch (const s3db::AlreadyExists& error) {  // thrown inside libs3db, caught here
    std::cout << "refused as expected: " << s3db::ErrorCodeName(error.code()) << "\n";
  }
  if (ada.data.value("email", "") != "ada@example.com" || found != 1) {
    std::cerr << "unexpected records\n";
    return 1;
  }
  return 0;
}
