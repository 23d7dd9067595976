// Resource calls with CallOptions (resource.h "per-call options"): each runs the plain call
// inside a CallScope, which sets the thread's priority and deadline for the requests it
// makes (bulk workers, scans and writers inherit them from the calling thread).
#include "s3db/executor.h"
#include "s3db/resource.h"

namespace s3db {

Record Resource::Insert(const Json& data, const CallOptions& call) {
  CallScope scope(call);
  return Insert(data);
}
Record Resource::Insert(Json&& data, const CallOptions& call) {
  CallScope scope(call);
  return Insert(std::move(data));
}
Record Resource::Get(const std::string& id, const CallOptions& call) {
  CallScope scope(call);
  return Get(id);
}
std::optional<Record> Resource::TryGet(const std::string& id, const CallOptions& call) {
  CallScope scope(call);
  return TryGet(id);
}
bool Resource::Exists(const std::string& id, const CallOptions& call) {
  CallScope scope(call);
  return Exists(id);
}
Record Resource::Update(const std::string& id, const Json& patch, const UpdateOptions& options,
                        const CallOptions& call) {
  CallScope scope(call);
  return Update(id, patch, options);
}
Record Resource::Upsert(const std::string& id, const Json& data, const CallOptions& call) {
  CallScope scope(call);
  return Upsert(id, data);
}
void Resource::Delete(const std::string& id, const CallOptions& call) {
  CallScope scope(call);
  Delete(id);
}
InsertManyResult Resource::InsertMany(const std::vector<Json>& items, const CallOptions& call) {
  CallScope scope(call);
  return InsertMany(items);
}
GetManyResult Resource::GetMany(const std::vector<std::string>& ids, const CallOptions& call) {
  CallScope scope(call);
  return GetMany(ids);
}
DeleteRecordsResult Resource::DeleteMany(const std::vector<std::string>& ids, const CallOptions& call) {
  CallScope scope(call);
  return DeleteMany(ids);
}
std::vector<Record> Resource::GetAll(const CallOptions& call) {
  CallScope scope(call);
  return GetAll();
}
size_t Resource::DeleteAll(const CallOptions& call) {
  CallScope scope(call);
  return DeleteAll();
}
std::vector<std::string> Resource::ListIds(const ListOptions& options, const CallOptions& call) {
  CallScope scope(call);
  return ListIds(options);
}
size_t Resource::Count(const ListOptions& options, const CallOptions& call) {
  CallScope scope(call);
  return Count(options);
}
std::vector<Record> Resource::List(const ListOptions& options, const CallOptions& call) {
  CallScope scope(call);
  return List(options);
}
PageResult Resource::Page(const PageOptions& options, const CallOptions& call) {
  CallScope scope(call);
  return Page(options);
}
std::vector<Record> Resource::Query(const Json& filter, const ListOptions& options, const CallOptions& call) {
  CallScope scope(call);
  return Query(filter, options);
}
RecordScan Resource::Scan(const ScanOptions& options, const CallOptions& call) {
  CallScope scope(call);  // the scan's threads take the priority and deadline with them
  return Scan(options);
}
RecordWriter Resource::Writer(const WriterOptions& options, const CallOptions& call) {
  CallScope scope(call);  // as Scan: the writer's threads keep them
  return Writer(options);
}
std::vector<Record> Resource::ListByPartition(const std::string& partition, const Json& values,
                                              const ListOptions& options, const CallOptions& call) {
  CallScope scope(call);
  return ListByPartition(partition, values, options);
}
Record Resource::GetFromPartition(const std::string& id, const std::string& partition, const Json& values,
                                  const CallOptions& call) {
  CallScope scope(call);
  return GetFromPartition(id, partition, values);
}
PartitionFlushResult Resource::FlushPartitions(const CallOptions& call) {
  CallScope scope(call);
  return FlushPartitions();
}
PartitionRepairResult Resource::RepairPartitions(const PartitionRepairOptions& options, const CallOptions& call) {
  CallScope scope(call);
  return RepairPartitions(options);
}
ReEncryptResult Resource::ReEncrypt(const CallOptions& call) {
  CallScope scope(call);
  return ReEncrypt();
}
CompactResult Resource::Compact(const CallOptions& call) {
  CallScope scope(call);
  return Compact();
}

}  // namespace s3db
