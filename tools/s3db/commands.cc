#include "commands.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench.h"
#include "json_input.h"
#include "s3db/cache.h"
#include "s3db/csv.h"
#include "s3db/errors.h"
#include "s3db/stores.h"

namespace s3db_cli {

Session::Session(s3db::DatabaseOptions options, std::ostream& out, Diagnostics& diagnostics, std::istream* record_input)
    : options_(std::move(options)), out_(out), diagnostics_(diagnostics), record_input_(record_input) {}

s3db::Database& Session::database() {
  if (!database_) {
    try {
      database_ = s3db::Database::Connect(options_);
    } catch (const s3db::Error& error) {
      // Name the store, unless the library's message already does.
      const std::string uri = MaskedUri(options_.uri);
      if (std::string_view(error.what()).find(uri) != std::string_view::npos) throw;
      s3db::ThrowError(error.code(), "cannot open " + uri + ": " + error.what());
    }
  }
  return *database_;
}

namespace {

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string joined;
  for (const std::string& item : items) {
    if (!joined.empty()) joined += separator;
    joined += item;
  }
  return joined;
}

s3db::Json ResourceJson(s3db::Resource& resource) {
  s3db::Json json = resource.definition().ToJson();
  json["version"] = resource.version();
  return json;
}

// update and upsert take the id as an argument; an "id" in the JSON must agree with it.
s3db::Json WithoutMatchingId(s3db::Json data, const std::string& id) {
  const auto found = data.find("id");
  if (found == data.end()) return data;
  if (!found->is_string() || found->get<std::string>() != id) {
    throw s3db::InvalidArgument("the JSON has \"id\": " + DumpJson(*found) + " but the ID argument is \"" + id + "\"");
  }
  data.erase(found);
  return data;
}

// An id from the input, for a message: escaped here, not only by Diagnostics, because a NUL
// would end the message where an exception's what() is read.
std::string ShownId(const std::string& id) { return EscapeForTerminal(Abbreviate(id)); }

std::string LineLabel(const std::string& source, const JsonLine& line) {
  std::string label = source + " line " + std::to_string(line.line_number);
  const auto id = line.value.find("id");
  if (id != line.value.end() && id->is_string()) label += " (id " + ShownId(id->get<std::string>()) + ")";
  return label;
}

// Judges a whole batch before the real store sees one write: Resource::Validate checks each
// line as Insert would (schema rules, id syntax, partition keys, the metadata budget), and
// the batch is checked against itself for ids and unique values given twice.
void DryRunInsert(s3db::Resource& resource, const std::vector<JsonLine>& lines, const std::string& source) {
  std::map<std::string, size_t> ids;                              // id -> line number
  std::map<std::pair<std::string, std::string>, size_t> uniques;  // (path, value) -> line number
  for (const JsonLine& line : lines) {
    auto fail = [&](ExitCode code, const std::string& why) {
      throw CliError(code, LineLabel(source, line) + ": " + why + "; nothing was inserted");
    };
    s3db::ValidatedRecord checked;
    try {
      checked = resource.Validate(line.value);
    } catch (const s3db::Error& error) {
      fail(ExitCodeFor(error), DescribeError(error));
    }
    if (!checked.id.empty()) {
      auto [seen, fresh] = ids.emplace(checked.id, line.line_number);
      if (!fresh) {
        fail(ExitCode::kConflict, "id \"" + checked.id + "\" is also on line " + std::to_string(seen->second));
      }
    }
    for (const auto& [path, value] : checked.unique_values) {
      auto [seen, fresh] = uniques.emplace(std::make_pair(path, value.dump()), line.line_number);
      if (!fresh) {
        fail(ExitCode::kConflict,
             "unique field " + path + " = " + DumpJson(value) + " is also on line " + std::to_string(seen->second));
      }
    }
  }
}

// Insert never overwrites, so an id that is already taken would fail part way through a
// batch; finding them first keeps the batch all or nothing.
void RejectTakenIds(s3db::Resource& resource, const std::vector<JsonLine>& lines, const std::string& source) {
  std::vector<std::string> taken;
  for (const JsonLine& line : lines) {
    const auto id = line.value.find("id");
    if (id != line.value.end() && id->is_string() && resource.Exists(id->get<std::string>())) {
      taken.push_back(LineLabel(source, line));
    }
  }
  if (!taken.empty()) {
    throw s3db::AlreadyExists(resource.name() + ": ids already exist: " + Join(taken, ", ") + "; nothing was inserted",
                              resource.name());
  }
}

struct InsertOutcome {
  size_t inserted = 0;
  size_t failed = 0;
  ExitCode worst = ExitCode::kOk;
};

// One InsertMany. Each failure is one stderr line naming its input line; `echo`, when given,
// receives every inserted record.
InsertOutcome InsertLines(Session& session, s3db::Resource& resource, const std::vector<JsonLine>& lines,
                          const std::string& source, Output* echo) {
  InsertOutcome outcome;
  std::vector<s3db::Json> items;
  items.reserve(lines.size());
  for (const JsonLine& line : lines) items.push_back(line.value);
  s3db::InsertManyResult result = resource.InsertMany(items);
  outcome.inserted = result.inserted.size();
  if (echo != nullptr) {
    for (const s3db::Record& record : result.inserted) echo->Record(record);
  }
  for (const s3db::BulkItemError& error : result.errors) {
    session.diagnostics().Line(LineLabel(source, lines[error.index]) + ": " +
                               DescribeItemError(resource.name(), error));
    outcome.worst = Worst(outcome.worst, ExitCodeFor(error.code));
    ++outcome.failed;
  }
  return outcome;
}

void CreateResource(const CommandLine& line, Session& session, Output& out) {
  s3db::Json document = ReadJsonFile(line.schema_path);
  // What `resource show` printed is accepted back: the version it adds is the shown
  // resource's, not part of the definition (a new resource starts at version 1).
  if (document.is_object()) {
    const auto version = document.find("version");
    if (version != document.end() && version->is_number_integer()) document.erase(version);
  }
  const s3db::ResourceDefinition definition = s3db::ResourceDefinition::FromJson(line.resource, document);
  s3db::Database& database = session.database();
  s3db::Resource& resource = line.if_not_exists ? *database.CreateResourceIfNotExists(definition).resource
                                                : database.CreateResource(definition);
  out.Json(ResourceJson(resource));
}

void DropResource(const CommandLine& line, Session& session) {
  s3db::Database& database = session.database();
  database.resource(line.resource);  // NotFound (exit 3) for a name that is not there
  database.DropResource(line.resource);
}

ExitCode Insert(const CommandLine& line, Session& session, Output& out) {
  if (line.json_given) {
    const s3db::Json record = ParseJsonObject(line.json_text, "JSON argument");
    out.Record(session.database().resource(line.resource).Insert(record));
    return ExitCode::kOk;
  }
  if (session.record_input() == nullptr) {
    throw UsageError(
        "insert needs the record as a JSON argument here (the shell reads commands from "
        "stdin); use import FILE for many records");
  }
  const std::vector<JsonLine> lines = ReadJsonObjectLines(*session.record_input(), "stdin");
  if (lines.empty()) return ExitCode::kOk;
  s3db::Resource& resource = session.database().resource(line.resource);
  DryRunInsert(resource, lines, "stdin");
  RejectTakenIds(resource, lines, "stdin");
  return InsertLines(session, resource, lines, "stdin", &out).worst;
}

ExitCode Delete(const CommandLine& line, Session& session) {
  std::vector<std::string> ids;
  for (const std::string& id : line.ids) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  s3db::Resource& resource = session.database().resource(line.resource);
  // Checked first, so that a mistyped id deletes nothing.
  std::vector<std::string> missing;
  for (const std::string& id : ids) {
    if (!resource.Exists(id)) missing.push_back(id);
  }
  if (!missing.empty()) {
    throw s3db::NotFound(resource.name() + ": no record with id " + Join(missing, ", ") + "; nothing was deleted",
                         resource.name(), missing.size() == 1 ? missing.front() : "");
  }
  // Ids that another writer deletes meanwhile come back as missing: gone, as asked.
  const s3db::DeleteRecordsResult result = resource.DeleteMany(ids);
  ExitCode worst = ExitCode::kOk;
  for (const s3db::BulkItemError& error : result.errors) {
    session.diagnostics().Line(resource.name() + "/" + error.id + ": " + error.message);
    worst = Worst(worst, ExitCodeFor(error.code));
  }
  return worst;
}

// The input of `import`: a regular file as it is (read twice: checked whole, then streamed),
// anything else (a pipe) read into memory once.
struct ImportInput {
  std::unique_ptr<std::istream> stream;
  uint64_t size = 0;  // bytes, for progress
};

constexpr size_t kMaxPipedImportBytes = size_t{1} << 30;

ImportInput OpenImportInput(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw s3db::InvalidArgument("cannot read " + path + ": a directory");
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*file) throw s3db::InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  ImportInput input;
  if (std::filesystem::is_regular_file(path, error)) {
    const std::uintmax_t size = std::filesystem::file_size(path, error);
    input.size = error ? 0 : size;
    input.stream = std::move(file);
    return input;
  }
  // A pipe is read twice (checked, then written), so it is held in memory, up to a bound.
  std::optional<std::string> text = ReadAtMost(*file, kMaxPipedImportBytes);
  if (!text) {
    throw s3db::InvalidArgument("cannot import " + path + ": input that is not a regular file is held in memory, " +
                                "at most " + std::to_string(kMaxPipedImportBytes >> 20) +
                                " MiB; write it to a file and import that");
  }
  input.size = text->size();
  input.stream = std::make_unique<std::istringstream>(std::move(*text));
  return input;
}

// The file line of each record given to the writer, by Write index: the index plus one plus
// the blank lines before it. Only the indexes where that offset changes are kept, so memory
// grows with the runs of blank lines, not with the file. Thread-safe (errors are reported
// from writer threads while lines are still added).
class LineNumbers {
 public:
  void Add(size_t index, size_t line_number) {
    std::lock_guard lock(mu_);
    const size_t offset = line_number - index;
    if (offsets_.empty() || offsets_.back().second != offset) offsets_.emplace_back(index, offset);
  }
  size_t Of(size_t index) {
    std::lock_guard lock(mu_);
    auto after = std::upper_bound(offsets_.begin(), offsets_.end(), index,
                                  [](size_t i, const auto& entry) { return i < entry.first; });
    return after == offsets_.begin() ? index + 1 : index + std::prev(after)->second;
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<size_t, size_t>> offsets_;  // (first index, line number - index)
};

bool EndsWith(const std::string& text, const std::string& end) {
  return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

// Reads every CSV row as a record, keeping nothing; if any is bad, throws naming the first
// bad line and how many others there are, so the caller writes nothing.
void CheckCsvRecords(std::istream& in, const std::vector<s3db::CsvColumn>& columns, const std::string& source) {
  s3db::CsvReader reader(in, columns, source);  // a bad header throws here
  std::string first;
  std::vector<size_t> listed;  // the first few other bad lines, as the message lists them
  size_t others = 0;
  while (true) {
    try {
      if (!reader.NextRecord()) break;
    } catch (const s3db::InvalidArgument& error) {
      if (first.empty()) {
        first = error.what();
      } else if (++others <= kListedBadLines) {
        listed.push_back(reader.row_line_number());
      }
    }
  }
  if (!first.empty()) throw s3db::InvalidArgument(BadLinesMessage(first, listed, others));
}

// Streams records into a RecordWriter: memory stays bounded whatever the file's size, and a
// record that fails is one stderr line (file line, id, cause) while the rest go in. `next`
// gives the next record (with its line number) or nullopt; `bytes_read` the progress.
template <typename Next, typename BytesRead>
ExitCode WriteRecords(Session& session, s3db::Resource& resource, const std::string& path, uint64_t size, bool upsert,
                      Next&& next, BytesRead&& bytes_read) {
  ProgressLine progress(session.diagnostics(), isatty(STDERR_FILENO) != 0);
  LineNumbers lines;
  ExitCode worst = ExitCode::kOk;  // on_error calls are serialized, and Close() joins them
  s3db::WriterOptions options;
  options.mode = upsert ? s3db::WriteMode::kUpsert : s3db::WriteMode::kInsert;
  options.on_error = [&](const s3db::BulkItemError& error) {
    std::string label = path + " line " + std::to_string(lines.Of(error.index));
    if (!error.id.empty()) label += " (id " + ShownId(error.id) + ")";
    progress.Line(label + ": " + DescribeItemError(resource.name(), error));
    worst = Worst(worst, ExitCodeFor(error.code));
  };
  s3db::RecordWriter writer = resource.Writer(options);
  size_t given = 0;
  auto progress_text = [&] {
    const uint64_t percent = size == 0 ? 100 : std::min<uint64_t>(100, bytes_read() * 100 / size);
    return "s3db: importing " + GroupThousands(given) + " records (" + std::to_string(percent) + "%)";
  };
  while (auto record = next()) {
    lines.Add(given++, record->line_number);
    writer.Write(std::move(record->value));
    progress.Update(progress_text);
  }
  const s3db::WriterResult result = writer.Close();
  progress.Finish(progress_text());
  session.diagnostics().Line("imported " + std::to_string(result.written) + ", failed " +
                             std::to_string(result.failed));
  return worst;
}

// JSON lines: a bad JSON line imports nothing, as when the file was read whole: the file is
// checked first, before the database is opened. CSV: the cell types come from the
// resource's schema, so the file is checked once the resource is read, still before any
// write.
ExitCode Import(const CommandLine& line, Session& session) {
  const std::string& path = line.file_path;
  const bool csv = line.format.empty() ? EndsWith(path, ".csv") : line.format == "csv";
  ImportInput input = OpenImportInput(path);
  auto rewind = [&] {
    input.stream->clear();
    input.stream->seekg(0);
  };
  if (!csv) {
    CheckJsonObjectLines(*input.stream, path);
    rewind();
    s3db::Resource& resource = session.database().resource(line.resource);
    JsonLineReader reader(*input.stream, path);
    return WriteRecords(
        session, resource, path, input.size, line.upsert, [&] { return reader.Next(); },
        [&] { return reader.bytes_read(); });
  }
  s3db::Resource& resource = session.database().resource(line.resource);
  const std::vector<s3db::CsvColumn> columns = s3db::CsvColumnsFor(resource.definition());
  CheckCsvRecords(*input.stream, columns, path);
  rewind();
  s3db::CsvReader reader(*input.stream, columns, path);
  return WriteRecords(
      session, resource, path, input.size, line.upsert, [&] { return reader.NextRecord(); },
      [&] { return reader.bytes_read(); });
}

// Records stream out in id order through Resource::Scan, a bounded read-ahead, so a large
// resource never sits in memory. A record deleted while the export runs is left out; one
// that cannot be read is a stderr line, and the export goes on. CSV has the columns of the
// current schema: fields no column holds (written under an older version) are left out and
// counted in one stderr line at the end.
ExitCode Export(const CommandLine& line, Session& session, Output& out) {
  s3db::Resource& resource = session.database().resource(line.resource);
  std::optional<s3db::CsvWriter> csv;
  if (line.format == "csv") {
    std::vector<s3db::CsvColumn> columns = s3db::CsvColumnsFor(resource.definition());
    if (line.output.meta) {
      columns.push_back({"_etag", s3db::CsvCellType::kString});
      columns.push_back({"_lastModified", s3db::CsvCellType::kString});
      columns.push_back({"_v", s3db::CsvCellType::kNumber});
      columns.push_back({"_truncated", s3db::CsvCellType::kJson});  // truncate-data: the cut fields
    }
    csv.emplace(session.out(), std::move(columns));
  }
  ProgressLine progress(session.diagnostics(), isatty(STDERR_FILENO) != 0);
  ExitCode worst = ExitCode::kOk;
  s3db::ScanOptions options;
  options.on_error = [&](const s3db::BulkItemError& error) {  // called on this thread
    progress.Line(resource.name() + "/" + error.id + ": " + error.message);
    worst = Worst(worst, ExitCodeFor(error.code));
  };
  size_t exported = 0;
  size_t left_out = 0;           // records with fields no CSV column holds
  std::string left_out_example;  // the first one: "users/ID: field, field"
  auto progress_text = [&] { return "s3db: exported " + GroupThousands(exported) + " records"; };
  for (const s3db::Record& record : resource.Scan(options)) {
    if (csv) {
      const std::vector<std::string> fields = csv->Write(record.ToJson(line.output.meta));
      if (!fields.empty() && left_out++ == 0) {
        left_out_example = resource.name() + "/" + record.id + ": " + Join(fields, ", ");
      }
    } else {
      out.Record(record);
    }
    ++exported;
    progress.Update(progress_text);
  }
  progress.Finish(progress_text());
  if (left_out > 0) {
    session.diagnostics().Line("export: " + std::to_string(left_out) +
                               (left_out == 1 ? " record has" : " records have") +
                               " fields the current schema has no column for, left out of the CSV (" +
                               left_out_example + "); --format jsonl keeps every field");
  }
  return worst;
}

// Deletes every record; the resource and its definition stay. Refused without --yes before
// the database is opened.
ExitCode DeleteAll(const CommandLine& line, Session& session) {
  if (!line.yes) {
    throw UsageError("delete-all deletes every record of " + line.resource + "; add --yes to confirm");
  }
  s3db::Resource& resource = session.database().resource(line.resource);
  const size_t deleted = resource.DeleteAll();
  session.diagnostics().Line("deleted " + std::to_string(deleted));
  return ExitCode::kOk;
}

s3db::Json RepairExamples(const std::vector<s3db::PartitionRepairExample>& examples) {
  s3db::Json out = s3db::Json::array();
  for (const s3db::PartitionRepairExample& e : examples) {
    out.push_back({{"key", e.key}, {"id", e.id}, {"partition", e.partition}, {"reason", e.reason}});
  }
  return out;
}

// One stderr line per partition reference that failed; returns the worst exit code.
ExitCode ReportPartitionFailures(Session& session, const std::string& resource,
                                 const std::vector<s3db::PartitionFailure>& failures) {
  ExitCode worst = ExitCode::kOk;
  for (const s3db::PartitionFailure& f : failures) {
    session.diagnostics().Line(resource + "/" + f.id + ": partition reference " + f.key + ": " + f.operation +
                               " failed: " + f.message);
    worst = Worst(worst, ExitCodeFor(f.code));
  }
  return worst;
}

// repair: prints a JSON summary; each failed request is a stderr line.
ExitCode Repair(const CommandLine& line, Session& session, Output& out) {
  s3db::PartitionRepairOptions options;
  options.dry_run = line.dry_run;
  // The grammar checked it: a duration above zero.
  options.temporary_max_age = std::chrono::duration_cast<std::chrono::seconds>(
      ParseDuration(line.temp_max_age).value_or(std::chrono::minutes(15)));
  const s3db::PartitionRepairResult r = session.database().Repair(line.resource, options);
  out.Json({{"resource", r.resource},
            {"dryRun", r.dry_run},
            {"records", r.records},
            {"references", r.references},
            {"orphans", r.orphans},
            {"missing", r.missing},
            {"removed", r.removed},
            {"rebuilt", r.rebuilt},
            {"restored", r.restored},
            {"failed", r.failures.size()},
            {"staleTemporaries", r.stale_temporaries},
            {"temporariesRemoved", r.temporaries_removed},
            {"temporariesKept", r.temporaries_kept},
            {"orphanExamples", RepairExamples(r.orphan_examples)},
            {"missingExamples", RepairExamples(r.missing_examples)}});
  return ReportPartitionFailures(session, r.resource, r.failures);
}

// compact: prints a JSON summary of the snapshot written.
ExitCode Compact(const CommandLine& line, Session& session, Output& out) {
  const s3db::CompactResult r = session.database().resource(line.resource).Compact();
  out.Json({{"resource", r.resource},
            {"generation", r.generation},
            {"records", r.records},
            {"reused", r.reused},
            {"fetched", r.fetched},
            {"skipped", r.skipped},
            {"segments", r.segments},
            {"bytes", r.bytes},
            {"deletedObjects", r.deleted_objects}});
  return ExitCode::kOk;
}

// Commands that write records end by waiting for the partition references an asyncPartitions
// resource writes in the background, so their failures are reported before the exit.
ExitCode WithFlushedPartitions(const CommandLine& line, Session& session, ExitCode code) {
  s3db::Resource& resource = session.database().resource(line.resource);
  return Worst(code, ReportPartitionFailures(session, resource.name(), resource.FlushPartitions().failures));
}

// Throws for a failure of the whole command; returns the code of failures already reported.
// rotate-key: the new passphrase never comes from argv (other users can read it in ps).
ExitCode RotateKey(const CommandLine& line, Session& session, Output& out) {
  std::vector<s3db::ReEncryptResult> results;
  s3db::Json summary = s3db::Json::object();
  if (line.resume) {
    s3db::Database& db = session.database();
    for (const std::string& name : db.ResourceNames()) results.push_back(db.resource(name).ReEncrypt());
  } else {
    std::optional<std::string> fresh = ReadPassphrase(line.new_passphrase_file, "S3DB_NEW_PASSPHRASE");
    if (!fresh) {
      throw UsageError("rotate-key needs the new passphrase: --new-passphrase-file FILE or $S3DB_NEW_PASSPHRASE");
    }
    session.diagnostics().AddSecret(*fresh);
    s3db::RotateKeyResult rotated = session.database().RotateKey(*fresh);
    summary["keyId"] = rotated.key_id;
    results = std::move(rotated.resources);
  }
  ExitCode worst = ExitCode::kOk;
  summary["resources"] = s3db::Json::array();
  for (const s3db::ReEncryptResult& r : results) {
    summary["resources"].push_back(
        {{"resource", r.resource}, {"records", r.records}, {"rewritten", r.rewritten}, {"failed", r.errors.size()}});
    for (const s3db::BulkItemError& error : r.errors) {
      session.diagnostics().Line("rotate-key: " + r.resource + "/" + error.id + ": " + error.message);
      worst = Worst(worst, ExitCodeFor(error.code));
    }
  }
  out.Json(summary);
  return worst;
}

// list and query: a record that cannot be read is one stderr line ("users/ada: ...", as in
// export) and the rest are printed; the exit code is the worst of those errors.
s3db::ListOptions ReportingUnreadable(const CommandLine& line, Session& session, const s3db::Resource& resource,
                                      ExitCode& worst) {
  s3db::ListOptions options = ListOptionsOf(line);
  options.on_error = [&session, &worst, name = resource.name()](const s3db::BulkItemError& error) {
    session.out().flush();  // the records before it come first
    session.diagnostics().Line(name + "/" + error.id + ": " + error.message);
    worst = Worst(worst, ExitCodeFor(error.code));
  };
  return options;
}

// The CachePlugin of --cache (main adds it), its driver started: the database is opened.
s3db::CachePlugin& CacheOf(Session& session) {
  session.database();
  for (const std::shared_ptr<s3db::Plugin>& plugin : session.options().plugins) {
    if (auto* cache = dynamic_cast<s3db::CachePlugin*>(plugin.get())) return *cache;
  }
  throw UsageError("'cache' commands need --cache URI");
}

s3db::Json CacheStatsJson(const s3db::CachePlugin& cache) {
  const s3db::CacheStats s = cache.stats();
  return {{"driver", cache.options().driver},
          {"ttlMs", cache.options().ttl.count()},
          {"entries", s.entries},
          {"bytes", s.bytes},
          {"hits", s.hits},
          {"misses", s.misses},
          {"puts", s.puts},
          {"evictions", s.evictions},
          {"expirations", s.expirations},
          {"invalidations", s.invalidations},
          {"droppedFills", s.dropped_fills},
          {"bypassed", s.bypassed},
          {"errors", s.errors}};
}

ExitCode RunCommand(const CommandLine& line, Session& session) {
  Output out(session.out(), line.output);
  switch (line.command) {
    case CommandId::kResourceCreate:
      CreateResource(line, session, out);
      return ExitCode::kOk;
    case CommandId::kResourceList:
      out.Names(session.database().ResourceNames());
      return ExitCode::kOk;
    case CommandId::kResourceShow:
      out.Json(ResourceJson(session.database().resource(line.resource)));
      return ExitCode::kOk;
    case CommandId::kResourceDrop:
      DropResource(line, session);
      return ExitCode::kOk;
    case CommandId::kInsert:
      return WithFlushedPartitions(line, session, Insert(line, session, out));
    case CommandId::kGet:
      out.Record(session.database().resource(line.resource).Get(line.id));
      return ExitCode::kOk;
    case CommandId::kUpdate: {
      const s3db::Json patch = WithoutMatchingId(ParseJsonObject(line.json_text, "JSON argument"), line.id);
      s3db::UpdateOptions options;
      if (!line.if_match.empty()) options.if_match = line.if_match;
      out.Record(session.database().resource(line.resource).Update(line.id, patch, options));
      return WithFlushedPartitions(line, session, ExitCode::kOk);
    }
    case CommandId::kUpsert: {
      const s3db::Json data = WithoutMatchingId(ParseJsonObject(line.json_text, "JSON argument"), line.id);
      out.Record(session.database().resource(line.resource).Upsert(line.id, data));
      return WithFlushedPartitions(line, session, ExitCode::kOk);
    }
    case CommandId::kDelete:
      return WithFlushedPartitions(line, session, Delete(line, session));
    case CommandId::kDeleteAll:
      return DeleteAll(line, session);
    case CommandId::kExists:
      out.Line(session.database().resource(line.resource).Exists(line.id) ? "true" : "false");
      return ExitCode::kOk;
    case CommandId::kList: {
      ExitCode worst = ExitCode::kOk;
      s3db::Resource& resource = session.database().resource(line.resource);
      for (const s3db::Record& record : resource.List(ReportingUnreadable(line, session, resource, worst))) {
        out.Record(record);
      }
      return worst;
    }
    case CommandId::kIds:
      out.Names(session.database().resource(line.resource).ListIds(ListOptionsOf(line)));
      return ExitCode::kOk;
    case CommandId::kCount:
      out.Line(std::to_string(session.database().resource(line.resource).Count(ListOptionsOf(line))));
      return ExitCode::kOk;
    case CommandId::kQuery: {
      const s3db::Json filter = ParseJsonObject(line.json_text, "FILTER_JSON argument");
      ExitCode worst = ExitCode::kOk;
      s3db::Resource& resource = session.database().resource(line.resource);
      for (const s3db::Record& record : resource.Query(filter, ReportingUnreadable(line, session, resource, worst))) {
        out.Record(record);
      }
      return worst;
    }
    case CommandId::kImport:
      return WithFlushedPartitions(line, session, Import(line, session));
    case CommandId::kExport:
      return Export(line, session, out);
    case CommandId::kRotateKey:
      return RotateKey(line, session, out);
    case CommandId::kRepair:
      return Repair(line, session, out);
    case CommandId::kCompact:
      return Compact(line, session, out);
    case CommandId::kBench: {
      BenchOptions bench;
      bench.uri = session.options().uri;
      bench.n = line.bench_n;
      bench.workload = line.bench_workload;
      bench.concurrency = session.options().concurrency;
      bench.plugins = session.options().plugins;
      bench.passphrase = session.options().passphrase;
      return RunBench(bench, session.out(), session.diagnostics());
    }
    case CommandId::kCacheStats:
      out.Json(CacheStatsJson(CacheOf(session)));
      return ExitCode::kOk;
    case CommandId::kCacheClear: {
      s3db::Resource& resource = session.database().resource(line.resource);  // NotFound: exit 3
      CacheOf(session).InvalidatePrefix(s3db::ReadCache::ResourcePrefix(resource.name()));
      out.Json({{"resource", resource.name()}, {"cleared", true}});
      return ExitCode::kOk;
    }
    case CommandId::kShell:
    case CommandId::kWhoami:  // main.cc runs these without a database
    case CommandId::kMigrateFromS3dbJs:
    case CommandId::kConfig:
    case CommandId::kServe:
    case CommandId::kNone:
      break;
  }
  throw UsageError("no command given");
}

}  // namespace

ExitCode Execute(const CommandLine& line, Session& session) {
  try {
    return RunCommand(line, session);
  } catch (const std::exception& error) {
    session.out().flush();  // what the command printed comes before its error
    session.diagnostics().Line(DescribeError(error));
    return ExitCodeFor(error);
  } catch (...) {
    session.out().flush();
    session.diagnostics().Line("unexpected failure of unknown type");
    return ExitCode::kStorage;
  }
}

}  // namespace s3db_cli
