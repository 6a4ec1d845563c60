#pragma once
// A thin RAII layer over the SQLite C API: a connection, prepared statements and
// transactions that roll back unless committed. Every failure becomes an Error that
// names the database file, what crossload was doing and SQLite's own message.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "harness/util/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace crossload::sql {

class Connection;

class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binds the parameters ?1, ?2, ... in order; a bind failure surfaces at step().
  template <class... Args>
  Statement& bind(const Args&... args) {
    int index = 1;
    (bind_one(index++, args), ...);
    return *this;
  }

  Result<bool> step();  // true: a row is ready to read; false: done
  Status run();         // steps a statement that returns no rows (or ignores them)
  void reset();         // ready to bind and run again (one prepare, many rows)

  bool is_null(int column) const;
  std::string text(int column) const;
  int64_t integer(int column) const;
  double real(int column) const;  // NULL reads back as NaN (SQLite stores NaN as NULL)

 private:
  friend class Connection;
  Statement(const Connection* db, sqlite3_stmt* stmt, std::string what)
      : db_(db), stmt_(stmt), what_(std::move(what)) {}

  template <class T>
  void bind_one(int index, const std::optional<T>& value) {
    if (value)
      bind_one(index, *value);
    else
      bind_null(index);
  }
  template <class T>
  void bind_one(int index, const T& value) {
    if constexpr (std::is_same_v<T, std::nullptr_t>)
      bind_null(index);
    else if constexpr (std::is_same_v<T, bool> || std::is_integral_v<T>)
      bind_int(index, static_cast<int64_t>(value));
    else if constexpr (std::is_floating_point_v<T>)
      bind_real(index, static_cast<double>(value));
    else
      bind_text(index, std::string_view(value));
  }
  void bind_null(int index);
  void bind_int(int index, int64_t value);
  void bind_real(int index, double value);
  void bind_text(int index, std::string_view value);
  void note_bind(int rc);

  const Connection* db_ = nullptr;  // statements live inside one Store call, never longer
  sqlite3_stmt* stmt_ = nullptr;
  std::string what_;  // what the statement does, for error messages
  int bind_rc_ = 0;
};

class Connection {
 public:
  // Opens (creating if needed) the file; the file is only read at the first statement,
  // so a corrupt file shows up there, as an error, not here.
  static Result<Connection> open(const std::string& path, std::chrono::milliseconds busy_timeout);

  Connection() = default;
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;

  // `what` says what crossload was doing ("saving cell a/b/c/d"), for the error message.
  Result<Statement> prepare(std::string_view sql, std::string what) const;
  Status exec(std::string_view sql, std::string_view what) const;  // one or more statements
  Error error(int rc, std::string_view what) const;
  int64_t changes() const;         // rows changed by the last statement
  int64_t last_insert_id() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_.get(); }

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  std::string path_;
  std::unique_ptr<sqlite3, Closer> db_;
};

// BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that reads and
// then writes can fail with SQLITE_BUSY in WAL mode without waiting out busy_timeout.
enum class TransactionKind { kRead, kWrite };

// Begun while another transaction is open on the connection, a Transaction is a savepoint of
// it: committing releases it into the outer one, which still decides.
class Transaction {
 public:
  // `what` names the work the transaction does, for its error messages.
  static Result<Transaction> begin(const Connection& db, TransactionKind kind, std::string what);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();  // rolls back unless committed

  Status commit();

 private:
  Transaction(const Connection* db, std::string what) : db_(db), what_(std::move(what)) {}
  const Connection* db_ = nullptr;  // null once committed or moved from
  std::string what_;
  bool nested_ = false;  // begun inside another transaction: a savepoint
};

// The error text for a failed SQLite call, naming the file, the action and the cause.
Error sqlite_error(const std::string& path, int rc, std::string_view sqlite_message,
                   std::string_view what);

}  // namespace crossload::sql
