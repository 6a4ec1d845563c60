#include "harness/store/schema.h"

#include <array>

namespace crossload::schema {

namespace {

// Version 1. Notes on choices that are not obvious from the SQL:
// - No CHECK constraints on status/outcome strings: SQLite cannot alter a CHECK without
//   rebuilding the table, and new outcomes will come; the Store validates them instead.
// - JSON (fingerprint, manifest, detail) is stored as text, readable with sqlite3's json_*().
// - Warnings and measurements are child rows, not JSON, so reports can query
//   "every InconsistentVersionWarning" or "load time per consumer" in SQL.
// - REAL columns are nullable: SQLite stores NaN as NULL, and a NaN measurement is data.
// - runs.id is AUTOINCREMENT so an id is never reused, even after a run is deleted.
constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE runs (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at        TEXT NOT NULL,            -- ISO-8601 UTC
  finished_at       TEXT NOT NULL DEFAULT '', -- empty until finished
  matrix_path       TEXT NOT NULL,
  matrix_sha256     TEXT NOT NULL,
  crossload_version TEXT NOT NULL,
  status            TEXT NOT NULL             -- running | finished | interrupted
);
CREATE INDEX runs_by_matrix ON runs (matrix_sha256, id);

CREATE TABLE environments (
  run_id            INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name              TEXT NOT NULL,
  provider          TEXT NOT NULL,
  location          TEXT NOT NULL,            -- EnvRecord::where
  status            TEXT NOT NULL,            -- ok | unavailable
  reason            TEXT NOT NULL,
  fingerprint       TEXT NOT NULL,            -- JSON
  provision_seconds REAL,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE artifacts (
  run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  producer   TEXT NOT NULL,
  fixture    TEXT NOT NULL,
  format     TEXT NOT NULL,
  path       TEXT NOT NULL,
  sha256     TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  status     TEXT NOT NULL,                   -- ok | unsupported | error
  reason     TEXT NOT NULL,
  manifest   TEXT NOT NULL,                   -- JSON
  PRIMARY KEY (run_id, producer, fixture, format)
);

CREATE TABLE cells (
  run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  id       TEXT NOT NULL,                     -- <fixture>/<format>/<producer>/<consumer>
  fixture  TEXT NOT NULL,
  format   TEXT NOT NULL,
  producer TEXT NOT NULL,
  consumer TEXT NOT NULL,
  outcome  TEXT NOT NULL,                     -- OK_EXACT, MISMATCH, ... (outcome.h)
  detail   TEXT NOT NULL,                     -- JSON
  PRIMARY KEY (run_id, id)
);

CREATE TABLE cell_warnings (
  run_id                   INTEGER NOT NULL,
  cell_id                  TEXT NOT NULL,
  seq                      INTEGER NOT NULL,  -- order within the cell
  category                 TEXT NOT NULL,
  message                  TEXT NOT NULL,
  original_sklearn_version TEXT,              -- NULL when the warning carries none
  PRIMARY KEY (run_id, cell_id, seq),
  FOREIGN KEY (run_id, cell_id) REFERENCES cells (run_id, id) ON DELETE CASCADE
);

CREATE TABLE cell_measurements (
  run_id  INTEGER NOT NULL,
  cell_id TEXT NOT NULL,
  seq     INTEGER NOT NULL,                   -- order within the cell
  name    TEXT NOT NULL,
  value   REAL,                               -- NULL stands for NaN
  unit    TEXT NOT NULL,
  PRIMARY KEY (run_id, cell_id, seq),
  FOREIGN KEY (run_id, cell_id) REFERENCES cells (run_id, id) ON DELETE CASCADE
);
)sql";

// Version 2: content-addressed reuse. A run looks results up by key across every earlier
// run of the store, so the keys are indexed; reused_from names the run a copied cell came from.
constexpr std::string_view kVersion2 = R"sql(
ALTER TABLE cells ADD COLUMN reuse_key TEXT NOT NULL DEFAULT '';
ALTER TABLE cells ADD COLUMN reused_from INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cells_by_reuse_key ON cells (reuse_key, run_id);
ALTER TABLE artifacts ADD COLUMN reuse_key TEXT NOT NULL DEFAULT '';
CREATE INDEX artifacts_by_reuse_key ON artifacts (reuse_key, run_id);
)sql";

constexpr std::array<std::string_view, 2> kMigrations{kVersion1, kVersion2};

}  // namespace

std::span<const std::string_view> migrations() { return kMigrations; }

}  // namespace crossload::schema
