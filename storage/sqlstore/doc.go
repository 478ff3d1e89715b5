// Package sqlstore is a callhistory.Store and callhistory.SyncStateStore
// on database/sql, for SQLite, PostgreSQL and MariaDB/MySQL. It imports no
// driver: the host opens the *sql.DB with the driver of its choice, keeps
// owning it, and names the dialect.
//
// # Usage
//
//	db, err := sql.Open("sqlite", "file:calls.db?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
//	...
//	store, err := sqlstore.New(db, sqlstore.SQLite)
//	...
//	if err := store.Migrate(ctx); err != nil { ... } // once at start-up
//
// The DSN each dialect needs:
//
//   - SQLite, modernc.org/sqlite (driver "sqlite", no cgo):
//     file:PATH?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1).
//     WAL lets readers run beside the writer; the busy timeout makes a
//     writer wait for another instead of failing. The store runs BEGIN
//     IMMEDIATE itself, so _txlock=immediate is not needed (modernc v1.62
//     accepts it, and it does no harm); without a busy timeout the store
//     retries a busy BEGIN for up to 30 seconds, but set one anyway.
//   - PostgreSQL, github.com/jackc/pgx/v5/stdlib (driver "pgx"):
//     postgres://USER@HOST:5432/DB?sslmode=disable (any search_path; the
//     tables go to the first schema of it).
//   - MariaDB/MySQL (tested on MariaDB 10.11), github.com/go-sql-driver/mysql (driver
//     "mysql"): USER@tcp(HOST:3306)/DB?parseTime=true&loc=UTC. Times are
//     written and read as UTC wall-clock text, so neither loc nor the
//     session time_zone changes them; parseTime=true and loc=UTC are the
//     recommended settings.
//
// Tables are named with a prefix (WithTablePrefix; default "leadcalls_"):
// calls (a surrogate row id, the Callyzer id unique, an index on number and
// start time, every field of callhistory.Call), sync_state (the last-sync
// date of each number), syncer_state (the state of each named periodic
// sync, added in schema version 2) and schema_version. Migrate applies the
// embedded, append-only schema versions under a database lock (PostgreSQL
// advisory lock, MariaDB GET_LOCK, SQLite BEGIN IMMEDIATE), so several
// processes may start at once, and a database of an older version is
// upgraded in place: version 2 only adds a table.
//
// # Sync state
//
// The Store keeps the callhistory.Syncer's state, so a Syncer whose Store
// is a *sqlstore.Store needs no SyncConfig.State. SaveSyncState writes the
// whole callhistory.SyncState as one JSON document (encoding/json, so times
// keep their nanoseconds) into the syncer_state row of the sync's name,
// with one upsert in a transaction of its own; SyncState reads it back and
// returns the zero state for a name never saved. The document's column is
// json on PostgreSQL (not jsonb, which refuses the \u0000 an error text may
// hold; json keeps the text exactly), JSON on MariaDB/MySQL and TEXT
// checked with json_valid on SQLite, so an operator can query it, e.g.
// state->>'status' on PostgreSQL. A name is 1 to MaxSyncNameLen (191)
// characters of UTF-8 without NUL on every dialect.
//
// Times are stored in UTC, truncated to the microsecond: TIMESTAMPTZ on
// PostgreSQL, DATETIME(6) on MariaDB, INTEGER microseconds since the Unix
// epoch on SQLite (sortable, and window bounds compare exactly).
//
// Writers of one number are serialised in the database, so the store is
// safe across processes: PostgreSQL takes pg_advisory_xact_lock(hash of
// prefix and number) inside the write transaction; MariaDB/MySQL takes
// GET_LOCK(name from the same hash) before the transaction and releases it
// after (a lock held by a dead connection is freed by the server);
// SQLite's BEGIN IMMEDIATE takes the database's single write lock.
// UpsertCalls takes the locks of all its numbers in one fixed order, so
// the per-number locks never deadlock. (InnoDB may still abort one of two
// writers of different numbers over index locks; the store runs it again.
// MariaDB/MySQL writes run in READ COMMITTED, which avoids most of them.) A call that moves to another number takes only
// the new number's lock; the unique index on the Callyzer id is the
// backstop.
//
// A write reads the stored rows of the window (and of the incoming ids)
// inside its transaction, computes the difference in Go, then deletes the
// missing rows by row id and upserts the new and changed rows in multi-row
// statements, chunked under each dialect's parameter limit; unchanged rows
// are not written. StoreHooks.BeforeWrite(k) runs for each written row as
// it joins a batch. The callhistory.Store rules that protect a concurrent
// sync's writes compare stored times (microseconds): a missing row is
// deleted only when its synced_at is NULL or not after syncedAt, and an
// incoming call whose ModifiedAt is before the stored modified_at (both
// set) is not written and counts as unchanged. Both statements keep those
// rules for a row that a writer of another number (holding only its own
// number's lock) changed after the read: the DELETE also names the number,
// so a call moved away meanwhile stays; the upsert's conflict clause
// leaves a row whose modified_at is after the incoming one (ON CONFLICT
// ... DO UPDATE ... WHERE on SQLite and PostgreSQL, an IF() per column on
// MariaDB/MySQL). The WriteResult counts the rows as read, except Deleted,
// which counts the rows the DELETE removed.
//
// # Errors
//
// Every error is wrapped with the operation ("sqlstore: replace window:
// ..."). One function reads the drivers' errors (SQLite result codes,
// PostgreSQL SQLSTATE, MySQL error numbers) and adds a sentinel: ErrBusy
// for busy databases, lock timeouts, deadlocks and serialisation failures;
// ErrConflict for a unique-constraint violation. A transaction the database
// rolled back to break a deadlock or a serialisation conflict (PostgreSQL
// 40001/40P01, MySQL 1213) is run again, up to 5 times, before ErrBusy
// surfaces; a busy SQLite BEGIN is retried for up to 30 seconds. A cancelled or expired
// context is reported as context.Canceled or context.DeadlineExceeded.
// ErrInvalid is input that breaks the Store contract (including a sync
// name SaveSyncState refuses, or a state whose times JSON cannot hold),
// ErrSchemaVersion a database newer than the code. On any error nothing was written. Error
// texts never contain phone numbers.
//
// # Testing
//
// The tests run storage/storagetest's conformance suite and the package's
// own tests on SQLite always, and on PostgreSQL and MariaDB when
// LEADCALLS_TEST_POSTGRES_DSN and LEADCALLS_TEST_MYSQL_DSN are set (they
// skip, saying so, otherwise; CI sets both). Each test gets its own
// namespace from internal/testdb (a file, a schema, a database). The
// suite includes its SyncState group; on SQLite its concurrency subtests
// run 8 writers for 4 rounds (SQLite runs one writer at a time anyway).
// Besides the suite: two *sql.DB refreshing one number with different
// answers 100 times end with exactly one answer (and, with the lock
// disabled, the same check fails); a process killed (SIGKILL) in the
// middle of a SQLite write, 20 times, leaves the old state and a database
// that passes integrity_check (and the test checks that the uncommitted
// write had reached the WAL); Migrate from four connections at once on an
// empty database, and from three on a version 1 database with calls in it
// (upgraded to version 2, the calls kept); on PostgreSQL and MariaDB, a
// writer of another number that moves two calls of a refreshing window,
// as newer copies, between the refresh's read and its statements (the
// moved calls stay moved and unchanged); sync states that survive
// reopening the database, saved from two *sql.DB at once, with names at
// the length limit and a NUL in the document. Benchmarks
// compare a 1,000-call ReplaceWindow and a 500-call read with plain SQL
// baselines: go test -run '^$' -bench . ./storage/sqlstore/
package sqlstore
