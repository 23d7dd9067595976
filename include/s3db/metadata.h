// Metadata: an object's user metadata, text keys to text values in ascending byte order.
//
// A sorted vector with the parts of std::map's interface that metadata needs. An object
// carries about a dozen short entries, and every read copies them out of the store and every
// write copies them in: one allocation for the vector instead of a tree node per entry makes
// that copy several times cheaper (a record read on the memory store got about 10% faster).
//
// Differences from std::map: inserting or erasing invalidates iterators and references to
// entries, and keys are reachable through iterators (`it->first`) but must not be changed
// there (the order would break).
#pragma once

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3db {

class Metadata {
 public:
  using key_type = std::string;
  using mapped_type = std::string;
  using value_type = std::pair<std::string, std::string>;
  using size_type = size_t;
  using iterator = std::vector<value_type>::iterator;
  using const_iterator = std::vector<value_type>::const_iterator;

  Metadata() = default;
  // As for std::map, the first of two entries with one key wins.
  Metadata(std::initializer_list<value_type> entries) {
    entries_.reserve(entries.size());
    for (const auto& e : entries) emplace(e.first, e.second);
  }

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  const_iterator cbegin() const { return entries_.cbegin(); }
  const_iterator cend() const { return entries_.cend(); }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void clear() { entries_.clear(); }
  void reserve(size_t n) { entries_.reserve(n); }

  iterator find(std::string_view key) {
    auto it = LowerBound(key);
    return it != entries_.end() && it->first == key ? it : entries_.end();
  }
  const_iterator find(std::string_view key) const { return const_cast<Metadata*>(this)->find(key); }
  size_t count(std::string_view key) const { return find(key) != end() ? 1 : 0; }
  bool contains(std::string_view key) const { return find(key) != end(); }

  const std::string& at(std::string_view key) const {
    auto it = find(key);
    if (it == end()) throw std::out_of_range("metadata has no key '" + std::string(key) + "'");
    return it->second;
  }
  std::string& at(std::string_view key) { return const_cast<std::string&>(std::as_const(*this).at(key)); }

  std::string& operator[](std::string_view key) {
    auto it = LowerBound(key);
    if (it == entries_.end() || it->first != key) it = entries_.emplace(it, std::string(key), std::string());
    return it->second;
  }

  // Adds the entry unless the key is there; like std::map, says which and where.
  std::pair<iterator, bool> emplace(std::string key, std::string value) {
    if (entries_.empty() || entries_.back().first < key) {  // built in key order: append
      entries_.emplace_back(std::move(key), std::move(value));
      return {entries_.end() - 1, true};
    }
    auto it = LowerBound(key);
    if (it != entries_.end() && it->first == key) return {it, false};
    return {entries_.emplace(it, std::move(key), std::move(value)), true};
  }
  std::pair<iterator, bool> insert(value_type entry) { return emplace(std::move(entry.first), std::move(entry.second)); }
  std::pair<iterator, bool> insert_or_assign(std::string key, std::string value) {
    auto [it, added] = emplace(std::move(key), std::string());
    it->second = std::move(value);
    return {it, added};
  }

  size_t erase(std::string_view key) {
    auto it = find(key);
    if (it == entries_.end()) return 0;
    entries_.erase(it);
    return 1;
  }
  iterator erase(const_iterator it) { return entries_.erase(it); }

  friend bool operator==(const Metadata& a, const Metadata& b) { return a.entries_ == b.entries_; }

 private:
  iterator LowerBound(std::string_view key) {
    return std::lower_bound(entries_.begin(), entries_.end(), key,
                            [](const value_type& e, std::string_view k) { return std::string_view(e.first) < k; });
  }

  std::vector<value_type> entries_;
};

}  // namespace s3db
