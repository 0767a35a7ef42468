// Package state is the server's SQL state store: the host inventory today,
// and users, sessions, API tokens, incidents, releases, the audit log and
// the report archive as they are added.
//
// Two databases are supported through plain database/sql:
//
//   - SQLite (modernc.org/sqlite, pure Go), the embedded default: one file,
//     WAL journal, foreign keys on, synchronous=NORMAL and a busy timeout,
//     all set per connection through the DSN. SQLite allows one writer at a
//     time, so DB.WriteTx serializes write transactions inside the process
//     and begins them IMMEDIATE: a writer waits its turn instead of failing
//     with SQLITE_BUSY halfway through. Readers are not blocked by WAL.
//   - PostgreSQL through pgx's database/sql driver, for several servers
//     sharing one state. WriteTx retries serialization failures and
//     deadlocks.
//
// The schema is migrated with goose's Provider API at Open, from SQL files
// embedded in the binary: migrations/sqlite and migrations/postgres hold one
// file per version each, with the same version numbers, and differ only
// where the DDL must (identity columns, STRICT tables). On PostgreSQL a
// session advisory lock keeps two servers from migrating at once.
//
// Queries are written once for both databases, with $1, $2 placeholders
// (modernc binds them by number, as PostgreSQL does). To keep comparisons
// and sorting identical on both, times are stored as BIGINT Unix
// milliseconds in UTC in columns named *_ms, and JSON documents as TEXT.
package state
