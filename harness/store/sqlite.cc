#include "harness/store/sqlite.h"

#include <sqlite3.h>

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace crossload::sql {

namespace {

// What a user can do about the most common failures; SQLite's own text says what, not why.
std::string_view hint_for(int rc) {
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    return " A record refers to a run (or cell) the store does not have.";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return " Another process held the store locked for longer than the busy timeout;"
             " is another crossload run writing to it?";
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return " The file is damaged or is not a crossload results store;"
             " move it aside (or choose another store path) to start afresh.";
    case SQLITE_CANTOPEN:
      return " Check that its directory exists and is writable.";
    case SQLITE_READONLY:
      return " The file or its directory is read-only; crossload needs to write beside it"
             " (the -wal and -shm files).";
    case SQLITE_FULL:
      return " The disk is full.";
    default:
      return "";
  }
}

}  // namespace

Error sqlite_error(const std::string& path, int rc, std::string_view sqlite_message,
                   std::string_view what) {
  return make_error(ErrorKind::kStore, fmt::format("results store {}: cannot {}: {} (SQLite error {}).{}", path,
                                what, sqlite_message, rc, hint_for(rc)));
}

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      what_(std::move(other.what_)),
      bind_rc_(other.bind_rc_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    what_ = std::move(other.what_);
    bind_rc_ = other.bind_rc_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::note_bind(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

void Statement::bind_null(int index) { note_bind(sqlite3_bind_null(stmt_, index)); }

void Statement::bind_int(int index, int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::bind_real(int index, double value) {
  note_bind(sqlite3_bind_double(stmt_, index, value));
}

void Statement::bind_text(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies, so temporaries passed to bind() are safe.
  note_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                                SQLITE_UTF8));
}

Result<bool> Statement::step() {
  if (bind_rc_ != SQLITE_OK) return db_->error(bind_rc_, what_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error(rc, what_);
}

Status Statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return row.error();
    if (!*row) return ok_status();
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::string Statement::text(int column) const {
  // Bytes, not a C string: text may legitimately hold NUL characters.
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  int size = sqlite3_column_bytes(stmt_, column);
  return data ? std::string(data, static_cast<size_t>(size)) : std::string();
}

int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::real(int column) const {
  if (is_null(column)) return std::numeric_limits<double>::quiet_NaN();
  return sqlite3_column_double(stmt_, column);
}

// ---- Connection ----

void Connection::Closer::operator()(sqlite3* db) const {
  // _v2 defers the close if a statement is somehow still alive rather than leaking the handle.
  sqlite3_close_v2(db);
}

Result<Connection> Connection::open(const std::string& path,
                                    std::chrono::milliseconds busy_timeout) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                           nullptr);
  Connection db;
  db.path_ = path;
  db.db_.reset(raw);  // even a failed open returns a handle that must be closed
  if (rc != SQLITE_OK)
    return sqlite_error(path, rc, raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc), "open it");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count()));
  return db;
}

Error Connection::error(int rc, std::string_view what) const {
  return sqlite_error(path_, rc, db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc), what);
}

int64_t Connection::changes() const { return sqlite3_changes(db_.get()); }

int64_t Connection::last_insert_id() const { return sqlite3_last_insert_rowid(db_.get()); }

Result<Statement> Connection::prepare(std::string_view sql, std::string what) const {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt,
                              nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return error(rc, what);
  }
  return Statement(this, stmt, std::move(what));
}

Status Connection::exec(std::string_view sql, std::string_view what) const {
  std::string owned(sql);  // sqlite3_exec needs a NUL-terminated string
  int rc = sqlite3_exec(db_.get(), owned.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, what);
  return ok_status();
}

// ---- Transaction ----

Result<Transaction> Transaction::begin(const Connection& db, TransactionKind kind,
                                       std::string what) {
  // Inside an open transaction (a batch of cells): a savepoint, so this part still lands whole or not at all.
  bool nested = sqlite3_get_autocommit(db.handle()) == 0;
  auto sql = nested ? "SAVEPOINT nested" : kind == TransactionKind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED";
  auto begun = db.exec(sql, what);
  if (!begun) return begun.error();
  Transaction t(&db, std::move(what));
  t.nested_ = nested;
  return t;
}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), what_(std::move(other.what_)), nested_(other.nested_) {}

Transaction::~Transaction() {
  // A failed step may already have rolled back; a second ROLLBACK then just fails harmlessly.
  if (db_)
    sqlite3_exec(db_->handle(), nested_ ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK", nullptr, nullptr,
                 nullptr);
}

Status Transaction::commit() {
  auto done = db_->exec(nested_ ? "RELEASE nested" : "COMMIT", what_);
  if (!done) return done.error();
  db_ = nullptr;
  return ok_status();
}

}  // namespace crossload::sql
