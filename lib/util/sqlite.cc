#include "lib/util/sqlite.h"

#include <cstdio>

namespace indafoto {

std::string Value::ToString() const {
  switch (type) {
    case Type::kNull: return "";
    case Type::kInteger: return std::to_string(integer);
    case Type::kReal: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", real);
      return buf;
    }
    case Type::kText: return text;
  }
  return "";
}

bool Value::operator==(const Value& o) const {
  if (type != o.type) return false;
  switch (type) {
    case Type::kNull: return true;
    case Type::kInteger: return integer == o.integer;
    case Type::kReal: return real == o.real;
    case Type::kText: return text == o.text;
  }
  return false;
}

Status SqliteError::ToStatus() const {
  int primary = code_ & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status::Busy(what());
  if (primary == SQLITE_FULL) return Status::NoSpace(what());
  if (primary == SQLITE_READONLY || primary == SQLITE_PERM || primary == SQLITE_CANTOPEN)
    return Status::Permission(what());
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Status::Corrupt(what());
  if (primary == SQLITE_CONSTRAINT) return Status::Invalid(what());  // the data breaks a rule of the schema
  if (primary == SQLITE_IOERR) return Status::IoError(what());
  return Status::IoError(what());
}

static SqliteError ErrorOf(sqlite3* db, int rc, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return SqliteError(db ? sqlite3_extended_errcode(db) : rc, msg);
}

Database::~Database() { Close(); }

void Database::Close() {
  for (auto& [sql, cached] : cache_) {
    if (cached->lent) cached->orphaned = true;  // its borrower finalizes it
    else sqlite3_finalize(cached->stmt);
  }
  cache_.clear();
  if (db_) sqlite3_close_v2(db_);  // _v2: closes once the last statement is finalized
  db_ = nullptr;
}

Database& Database::operator=(Database&& o) noexcept {
  if (this != &o) {
    Close();
    db_ = o.db_;
    cache_ = std::move(o.cache_);
    o.db_ = nullptr;
  }
  return *this;
}

Status Database::Open(const std::string& path, Mode mode, int busy_timeout_ms, Database* out) {
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (mode) {
    case Mode::kReadOnly: flags |= SQLITE_OPEN_READONLY; break;
    case Mode::kReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case Mode::kReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "cannot open database " + path + ": " +
                      (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    if (db) sqlite3_close_v2(db);
    if ((rc & 0xff) == SQLITE_CANTOPEN) return Status::NotFound(msg);
    return Status::IoError(msg);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  *out = Database();
  out->db_ = db;
  return Status::Ok();
}

void Database::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = std::string("exec failed: ") + (err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    throw SqliteError(sqlite3_extended_errcode(db_), msg);
  }
}

Statement Database::Prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end() && !it->second->lent) {
    it->second->lent = true;
    return Statement(db_, it->second->stmt, it->second);
  }
  sqlite3_stmt* stmt = nullptr;
  // PREPARE_PERSISTENT: SQLite's hint for statements that are kept.
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                              nullptr);
  if (rc != SQLITE_OK) throw ErrorOf(db_, rc, std::string("prepare `") + std::string(sql) + "`");
  if (it != cache_.end()) return Statement(db_, stmt);  // the cached one is lent out: a private one
  auto cached = std::make_shared<CachedStatement>();
  cached->stmt = stmt;
  cached->lent = true;
  cache_.emplace(std::string(sql), cached);
  return Statement(db_, stmt, std::move(cached));
}

bool Database::HasTable(const std::string& name) {
  Statement s = Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?");
  s.Bind(1, name);
  return s.Step();
}

bool Database::HasColumn(const std::string& table, const std::string& column) {
  Statement s = Prepare("SELECT 1 FROM pragma_table_info(?) WHERE name=?");
  s.Bind(1, table).Bind(2, column);
  return s.Step();
}

Statement::~Statement() { Release(); }

void Statement::Release() {
  if (!stmt_) return;
  if (lent_ && !lent_->orphaned) {
    // Back to the cache, reset: a statement left mid-way would hold its
    // read snapshot open.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    lent_->lent = false;
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
  lent_.reset();
}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    Release();
    db_ = o.db_;
    stmt_ = o.stmt_;
    lent_ = std::move(o.lent_);
    o.stmt_ = nullptr;
  }
  return *this;
}

Statement& Statement::Bind(int i, int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK) throw ErrorOf(db_, rc, "bind");
  return *this;
}

Statement& Statement::Bind(int i, double v) {
  int rc = sqlite3_bind_double(stmt_, i, v);
  if (rc != SQLITE_OK) throw ErrorOf(db_, rc, "bind");
  return *this;
}

Statement& Statement::Bind(int i, std::string_view v) {
  int rc = sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) throw ErrorOf(db_, rc, "bind");
  return *this;
}

Statement& Statement::Bind(int i, const Value& v) {
  switch (v.type) {
    case Value::Type::kNull: return BindNull(i);
    case Value::Type::kInteger: return Bind(i, v.integer);
    case Value::Type::kReal: return Bind(i, v.real);
    case Value::Type::kText: return Bind(i, std::string_view(v.text));
  }
  return *this;
}

Statement& Statement::BindNull(int i) {
  int rc = sqlite3_bind_null(stmt_, i);
  if (rc != SQLITE_OK) throw ErrorOf(db_, rc, "bind");
  return *this;
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  SqliteError e = ErrorOf(db_, rc, std::string("step `") + sqlite3_sql(stmt_) + "`");
  sqlite3_reset(stmt_);
  throw e;
}

void Statement::Run() {
  while (Step()) {
  }
  Reset();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::Text(int i) const {
  const unsigned char* t = sqlite3_column_text(stmt_, i);
  if (!t) return std::string();
  return std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(stmt_, i));
}

Value Statement::Column(int i) const {
  switch (sqlite3_column_type(stmt_, i)) {
    case SQLITE_INTEGER: return Value::Integer(Int(i));
    case SQLITE_FLOAT: return Value::Real(Real(i));
    case SQLITE_NULL: return Value::Null();
    default: return Value::Text(Text(i));  // TEXT, and BLOB read as bytes
  }
}

Transaction::Transaction(Database& db, bool immediate) : db_(db) {
  db_.Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN");
}

Transaction::~Transaction() {
  if (!done_) {
    // Rollback cannot usefully fail here; if it does, SQLite rolls back when
    // the connection closes.
    sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Transaction::Transaction(Database& db, Status* began, bool immediate) : db_(db) {
  try {
    db_.Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN");
  } catch (const SqliteError& e) {
    began_ = e.ToStatus();
    done_ = true;
  }
  *began = began_;
}

Status Transaction::TryCommit() {
  if (!began_.ok()) return began_;
  try {
    Commit();
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

void Transaction::Commit() {
  db_.Exec("COMMIT");
  done_ = true;
}

void Transaction::Rollback() {
  if (done_) return;
  done_ = true;
  sqlite3_exec(db_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace indafoto
