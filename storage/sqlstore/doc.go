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
// safe across processes: an Update takes a lock per number it was given
// (PostgreSQL pg_advisory_xact_lock of a hash of prefix and number inside
// the transaction; MariaDB/MySQL GET_LOCK before the transaction, released
// after, freed by the server if the connection dies; SQLite's BEGIN
// IMMEDIATE takes the database's single write lock), always in one fixed
// order, so the locks never deadlock. (InnoDB may still abort one of two
// writers of different numbers over index locks; the store runs it again.
// MariaDB/MySQL writes run in READ COMMITTED, which avoids most of them.)
//
// The store decides nothing: callhistory.ReplaceWindow and
// callhistory.UpsertCalls read the stored rows through the Tx, work out the
// change in Go and hand it back. Tx.Delete deletes by row id, Tx.Put
// inserts new rows and overwrites changed ones by row id, in multi-row
// statements chunked under each dialect's parameter limit. One table in
// columns.go maps every column to its field of callhistory.Call.
//
// A call an answer lacked is kept with missing_since set (see
// callhistory's doc) and left out of Calls. The use cases delete it when a
// later answer confirms it is gone; a host that wants the missing rows of
// numbers it no longer refreshes gone deletes them itself, e.g.
// DELETE FROM leadcalls_calls WHERE missing_since < (a time of its choice).
//
// # Errors
//
// Every error is wrapped with the operation ("sqlstore: update: ..."). One function reads the drivers' errors (SQLite result codes,
// PostgreSQL SQLSTATE, MySQL error numbers) and adds a sentinel: ErrBusy
// for busy databases, lock timeouts, deadlocks and serialisation failures;
// ErrConflict for a unique-constraint violation. A transaction the database
// rolled back to break a deadlock or a serialisation conflict (PostgreSQL
// 40001/40P01, MySQL 1213) is run again, up to 5 times, before ErrBusy
// surfaces; a busy SQLite BEGIN is retried for up to 30 seconds. A transaction
// whose connection was lost before COMMIT (driver.ErrBadConn, or a connection
// that no longer answers a ping, as after a server restart) is run once more on
// a connection that answers one, and the lost one is discarded; a connection
// lost at COMMIT is not retried, and its error says the write may or may not
// have been committed. A cancelled or expired
// context is reported as context.Canceled or context.DeadlineExceeded.
// ErrInvalid is input the store refuses (a sync name SaveSyncState refuses,
// a state whose times JSON cannot hold, a Tx used after its Update),
// ErrSchemaVersion a database newer than the code. On any error but a connection lost at COMMIT nothing was written. Error
// texts never contain phone numbers.
package sqlstore
