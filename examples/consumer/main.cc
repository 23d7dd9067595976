// A program of its own that uses an installed s3db: it stores two users in a file:// database
// at the directory given (default ./consumer-data), reads one back and queries them, writes
// them as CSV and reads that back, and checks a redis cache URI. It exits non-zero if
// anything comes back different.
#include <s3db/cache.h>
#include <s3db/csv.h>
#include <s3db/database.h>
#include <s3db/version.h>

#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "./consumer-data";
  std::cout << "s3db headers " << S3DB_VERSION << ", library " << s3db::LibraryVersion() << "\n";

  auto db = s3db::Database::Connect({.uri = "file://" + dir});
  s3db::Resource& users =
      *db->CreateResourceIfNotExists({
                                         .name = "users",
                                         .attributes = {{"name", "string|min:2"}, {"email", "email"}},
                                     })
           .resource;
  users.Insert({{"id", "ada"}, {"name", "Ada"}, {"email", "ada@example.com"}});
  users.Insert({{"id", "alan"}, {"name", "Alan"}, {"email", "alan@example.com"}});

  const s3db::Record ada = users.Get("ada", {.priority = 100});
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

  // CSV out and back in, with the resource's own columns.
  std::stringstream csv;
  s3db::CsvWriter writer(csv, s3db::CsvColumnsFor(users.definition()));
  for (const s3db::Record& r : users.GetAll()) writer.Write(r.ToJson());
  s3db::CsvReader reader(csv, s3db::CsvColumnsFor(users.definition()), "users.csv");
  size_t rows = 0;
  while (std::optional<s3db::CsvRecord> row = reader.NextRecord()) {
    if (row->value.value("email", "").empty()) {
      std::cerr << "CSV line " << row->line_number << " lost its email\n";
      return 1;
    }
    ++rows;
  }
  std::cout << "CSV: " << writer.rows_written() << " rows written, " << rows << " read back\n";

  // The redis cache driver is in the library too (hiredis); this only parses the URI.
  if (!s3db::ValidateRedisUri("redis://127.0.0.1:6379/0").ok() || s3db::ValidateRedisUri("rediss://x").ok()) {
    std::cerr << "redis URIs not checked as documented\n";
    return 1;
  }

  if (ada.data.value("email", "") != "ada@example.com" || found != 1 || rows != 2) {
    std::cerr << "unexpected records\n";
    return 1;
  }
  return 0;
}
