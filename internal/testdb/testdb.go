// Package testdb gives each test a fresh, isolated database namespace, so
// that packages' tests can run in parallel against the same servers:
//
//   - SQLite: a new file in t.TempDir(), WAL mode, busy timeout, foreign keys.
//   - PostgreSQL: a new schema (CREATE SCHEMA) in the database of
//     LEADCALLS_TEST_POSTGRES_DSN; the returned DSN sets search_path to it.
//     Dropped (CASCADE) on Cleanup.
//   - MariaDB/MySQL: a new database (CREATE DATABASE) on the server of
//     LEADCALLS_TEST_MYSQL_DSN; the returned DSN names it. Dropped on Cleanup.
//
// Server-backed helpers skip (or fail under LEADCALLS_REQUIRE_ALL) through
// internal/testenv when their variable is not set. Every *sql.DB they return
// is closed on Cleanup, before the namespace is dropped.
package testdb

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/leadcalls/leadcalls/internal/testenv"
)

// Names of the backends, as Open takes them and as database/sql drivers
// are registered under.
const (
	SQLiteName   = "sqlite"
	PostgresName = "postgres"
	MySQLName    = "mysql"
)

// Names lists every backend.
var Names = []string{SQLiteName, PostgresName, MySQLName}

// Driver names registered by the imported drivers.
const (
	SQLiteDriver   = "sqlite"
	PostgresDriver = "pgx"
	MySQLDriver    = "mysql"
)

// SQLiteParams are the DSN parameters a store's SQLite database needs with
// modernc.org/sqlite: WAL (readers never block the writer), a busy timeout
// (writers wait for each other instead of failing) and foreign keys.
const SQLiteParams = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"

// Open returns a fresh database of the named backend ("sqlite", "postgres"
// or "mysql"); server backends skip when not configured.
func Open(t testing.TB, name string) *sql.DB {
	t.Helper()
	switch name {
	case SQLiteName:
		return SQLite(t)
	case PostgresName:
		db, _ := Postgres(t)
		return db
	case MySQLName:
		db, _ := MySQL(t)
		return db
	}
	t.Fatalf("testdb: unknown backend %q", name)
	return nil
}

// SQLite returns a new SQLite database in a file of t.TempDir().
func SQLite(t testing.TB) *sql.DB {
	t.Helper()
	return OpenSQLite(t, SQLitePath(t))
}

// SQLitePath returns the path of a new SQLite file in t.TempDir(), for
// tests that open it more than once (several *sql.DB, a child process).
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "test.db")
}

// SQLiteDSN returns the DSN of the SQLite file at path, with SQLiteParams.
func SQLiteDSN(path string) string {
	return "file:" + path + "?" + SQLiteParams
}

// OpenSQLite opens the SQLite file at path (creating it if needed) and
// closes it on Cleanup.
func OpenSQLite(t testing.TB, path string) *sql.DB {
	t.Helper()
	return OpenDSN(t, SQLiteDriver, SQLiteDSN(path))
}

// OpenDSN opens driverName's dsn, pings it, and closes it on Cleanup.
func OpenDSN(t testing.TB, driverName, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatalf("testdb: open %s: %v", driverName, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatalf("testdb: ping %s: %v", driverName, err)
	}
	return db
}

// Postgres creates a schema of its own for t in the database of
// LEADCALLS_TEST_POSTGRES_DSN and returns a *sql.DB whose connections use
// it, and the DSN (search_path set) for opening more. The schema is dropped
// on Cleanup.
func Postgres(t testing.TB) (*sql.DB, string) {
	t.Helper()
	base := testenv.PostgresDSN(t)
	schema := uniqueName()
	admin := adminDB(t, PostgresDriver, base)
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("testdb: create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("testdb: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testdb: %s is not a URL: %v", testenv.PostgresDSNVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown keys as run-time parameters
	u.RawQuery = q.Encode()
	dsn := u.String()
	return OpenDSN(t, PostgresDriver, dsn), dsn
}

// MySQL creates a database of its own for t on the server of
// LEADCALLS_TEST_MYSQL_DSN and returns a *sql.DB on it, and its DSN. The
// database is dropped on Cleanup.
func MySQL(t testing.TB) (*sql.DB, string) {
	t.Helper()
	base := testenv.MySQLDSN(t)
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("testdb: parse %s: %v", testenv.MySQLDSNVar, err)
	}
	name := uniqueName()
	admin := adminDB(t, MySQLDriver, base)
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("testdb: create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name); err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	dsn := cfg.FormatDSN()
	return OpenDSN(t, MySQLDriver, dsn), dsn
}

// adminDB opens a connection for creating and dropping namespaces. Its
// Cleanup is registered first, so it closes last, after the drop.
func adminDB(t testing.TB, driverName, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatalf("testdb: open %s: %v", driverName, err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// uniqueName returns a fresh lower-case identifier for a schema or database.
func uniqueName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "lct_" + hex.EncodeToString(b)
}
