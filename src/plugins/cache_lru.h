// The bookkeeping the memory and file cache drivers share: entries by key in key order (so a
// prefix is a range), a recency list, and the entry/byte bounds. Not thread-safe; the driver
// holds its lock around every call.
//
// May call: util/ and the public headers; the stores only through ObjectStore.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <vector>

namespace s3db::plugins {

template <typename Payload>
class LruIndex {
 public:
  struct Entry {
    Payload payload;
    size_t bytes = 0;  // key + value
    int64_t expires_ms = 0;
    std::list<const std::string*>::iterator recency;
  };

  LruIndex(size_t max_entries, size_t max_bytes) : max_entries_(max_entries), max_bytes_(max_bytes) {}

  Entry* Find(const std::string& key) {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second;
  }

  void Touch(Entry& entry) { recency_.splice(recency_.begin(), recency_, entry.recency); }

  // Inserts or replaces as the most recent entry.
  Entry& Upsert(const std::string& key, Payload payload, size_t bytes, int64_t expires_ms) {
    auto [it, inserted] = entries_.try_emplace(key);
    Entry& e = it->second;
    if (inserted) {
      recency_.push_front(&it->first);
      e.recency = recency_.begin();
    } else {
      bytes_ -= e.bytes;
      Touch(e);
    }
    e.payload = std::move(payload);
    e.bytes = bytes;
    e.expires_ms = expires_ms;
    bytes_ += bytes;
    return e;
  }

  // Inserts as the least recent entry (loading a file cache's entries oldest last).
  void AddOldest(const std::string& key, Payload payload, size_t bytes, int64_t expires_ms) {
    auto [it, inserted] = entries_.try_emplace(key);
    if (!inserted) return;
    recency_.push_back(&it->first);
    Entry& e = it->second;
    e.recency = std::prev(recency_.end());
    e.payload = std::move(payload);
    e.bytes = bytes;
    e.expires_ms = expires_ms;
    bytes_ += bytes;
  }

  bool Erase(const std::string& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    EraseIt(it);
    return true;
  }

  // Removes every entry whose key starts with `prefix`; returns their payloads.
  std::vector<Payload> ErasePrefix(const std::string& prefix) {
    std::vector<Payload> out;
    auto it = entries_.lower_bound(prefix);
    while (it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
      out.push_back(std::move(it->second.payload));
      it = EraseIt(it);
    }
    return out;
  }

  // Removes least recent entries until the bounds hold; returns their payloads.
  std::vector<Payload> EvictOverBounds() {
    std::vector<Payload> out;
    while (!recency_.empty() && (entries_.size() > max_entries_ || bytes_ > max_bytes_)) {
      auto it = entries_.find(*recency_.back());
      out.push_back(std::move(it->second.payload));
      EraseIt(it);
    }
    return out;
  }

  std::vector<Payload> EraseAll() {
    std::vector<Payload> out;
    for (auto& [key, e] : entries_) out.push_back(std::move(e.payload));
    entries_.clear();
    recency_.clear();
    bytes_ = 0;
    return out;
  }

  // Whether an entry of this size can ever be held.
  bool Fits(size_t bytes) const { return bytes <= max_bytes_; }
  size_t size() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }
  // Keys from most to least recent (tests check the order).
  std::vector<std::string> RecencyOrder() const {
    std::vector<std::string> out;
    for (const std::string* k : recency_) out.push_back(*k);
    return out;
  }

 private:
  using Map = std::map<std::string, Entry>;
  typename Map::iterator EraseIt(typename Map::iterator it) {
    bytes_ -= it->second.bytes;
    recency_.erase(it->second.recency);
    return entries_.erase(it);
  }

  size_t max_entries_;
  size_t max_bytes_;
  size_t bytes_ = 0;
  Map entries_;
  std::list<const std::string*> recency_;  // front: most recent; points at the map's keys
};

}  // namespace s3db::plugins
