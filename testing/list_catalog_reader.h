// A catalog source held in memory, for tests of what consumes catalogs
// (the store, holders, the outbox): their behaviour does not depend on
// where entries come from (the manifest and remote-database readers have
// their own tests).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "lib/catalog/catalog.h"

namespace indafoto {

class ListCatalogReader : public CatalogReader {
 public:
  // `fail_at_end`: every entry is handed on, then the read fails (a
  // truncated source).
  ListCatalogReader(std::string fingerprint, std::vector<RemoteImage> entries, bool fail_at_end = false)
      : fingerprint_(std::move(fingerprint)), entries_(std::move(entries)), fail_at_end_(fail_at_end) {}
  Status Fingerprint(std::string* out) override {
    *out = fingerprint_;
    return Status::Ok();
  }
  Status ReadAll(const std::function<Status(const RemoteImage&)>& sink) override {
    for (const RemoteImage& e : entries_) {
      if (Status s = sink(e); !s.ok()) return s;
    }
    return fail_at_end_ ? Status::Corrupt("truncated") : Status::Ok();
  }
  std::string Describe() const override { return "list " + fingerprint_; }

 private:
  std::string fingerprint_;
  std::vector<RemoteImage> entries_;
  bool fail_at_end_;
};

}  // namespace indafoto
