// Thin RAII wrapper over the SQLite3 C API.
//
// Statement cache: Prepare() compiles a given SQL text once per connection.
// The compiled statement is lent to the returned Statement and, when that
// Statement goes, reset (releasing any read snapshot) and kept for the next
// Prepare() of the same text. A text already lent out (a nested use) gets a
// fresh statement of its own. SQL never contains data, so the set of texts,
// and the cache, stay small.
//
// Inside a module, SQLite failures throw SqliteError so that a chain of
// statements reads straight; every module edge (ArchiveDb, CatalogStore, ...)
// catches it and returns a Status. Statements are always prepared: SQL text
// never contains data, only `?` parameters.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "lib/util/status.h"
#include "lib/util/value.h"

namespace indafoto {

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }
  Status ToStatus() const;

 private:
  int code_;
};

class Statement;

// One compiled statement of a connection's cache (see above).
struct CachedStatement {
  sqlite3_stmt* stmt = nullptr;
  bool lent = false;      // a Statement uses it now
  bool orphaned = false;  // the connection closed while it was lent: the borrower finalizes
};

class Database {
 public:
  enum class Mode { kReadOnly, kReadWrite, kReadWriteCreate };

  Database() = default;
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  Database(Database&& o) noexcept : db_(o.db_), cache_(std::move(o.cache_)) { o.db_ = nullptr; }
  Database& operator=(Database&& o) noexcept;

  // Opens `path`. busy_timeout_ms applies to every statement: a crawler or
  // explorer holding the write lock makes us wait, not fail.
  static Status Open(const std::string& path, Mode mode, int busy_timeout_ms, Database* out);

  void Exec(const char* sql);                 // throws SqliteError
  Statement Prepare(std::string_view sql);    // throws SqliteError; cached, see above
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  bool HasTable(const std::string& name);
  bool HasColumn(const std::string& table, const std::string& column);
  sqlite3* raw() const { return db_; }
  bool is_open() const { return db_ != nullptr; }

 private:
  void Close();

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::shared_ptr<CachedStatement>> cache_;
};

// A prepared statement. Bind parameters are 1-based like SQLite's.
class Statement {
 public:
  Statement() = default;
  // Owns `stmt` (finalized with the Statement), or borrows it from the
  // connection's cache (`lent`: reset and given back instead).
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::shared_ptr<CachedStatement> lent = nullptr)
      : db_(db), stmt_(stmt), lent_(std::move(lent)) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_), lent_(std::move(o.lent_)) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;

  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Statement& Bind(int i, double v);
  Statement& Bind(int i, std::string_view v);
  Statement& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Statement& Bind(int i, const Value& v);
  Statement& BindNull(int i);

  // Steps once: true while a row is available. Throws on error.
  bool Step();
  // Steps to completion, expecting no rows.
  void Run();
  void Reset();  // also clears bindings

  int ColumnCount() const { return sqlite3_column_count(stmt_); }
  bool IsNull(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  int64_t Int(int i) const { return sqlite3_column_int64(stmt_, i); }
  double Real(int i) const { return sqlite3_column_double(stmt_, i); }
  std::string Text(int i) const;
  Value Column(int i) const;

 private:
  void Release();

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::shared_ptr<CachedStatement> lent_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed.
// Immediate: we take the write lock up front so a busy database shows up as
// a wait at BEGIN (covered by the busy timeout), never as a failed COMMIT
// after work was done.
class Transaction {
 public:
  explicit Transaction(Database& db, bool immediate = true);  // throws SqliteError
  // The form for code outside the modules that own SQL: never throws;
  // *began says whether BEGIN IMMEDIATE succeeded (if not, the object does
  // nothing and TryCommit returns the same error).
  Transaction(Database& db, Status* began, bool immediate = true);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void Commit();  // throws SqliteError
  Status TryCommit();
  // Rolls back now (before other work on the connection); idempotent.
  void Rollback();

 private:
  Database& db_;
  bool done_ = false;
  Status began_;
};

}  // namespace indafoto
