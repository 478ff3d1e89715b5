package sqlstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dialect names the SQL database behind a Store. Everything that differs
// between databases lives in the dialect table below, nowhere else.
type Dialect int

// The supported dialects.
const (
	// SQLite, through modernc.org/sqlite (no cgo) or any driver that speaks
	// SQLite 3.35 or later.
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL 12 or later, through github.com/jackc/pgx/v5/stdlib.
	Postgres
	// MySQL is MariaDB (tested on 10.11) or MySQL 8, through github.com/go-sql-driver/mysql.
	MySQL
)

// String returns the dialect's short name: "sqlite", "postgres" or "mysql".
func (d Dialect) String() string {
	if x := d.spec(); x != nil {
		return x.name
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

func (d Dialect) spec() *dialect {
	switch d {
	case SQLite:
		return &sqliteDialect
	case Postgres:
		return &postgresDialect
	case MySQL:
		return &mysqlDialect
	}
	return nil
}

// lockMode says how writers of one phone number are serialised.
type lockMode int

const (
	// lockByBegin: the begin statement takes the database's single write
	// lock (SQLite BEGIN IMMEDIATE), which serialises every writer.
	lockByBegin lockMode = iota
	// lockInTx: one lock statement per key right after begin; commit or
	// rollback releases them (PostgreSQL transaction advisory locks).
	lockInTx
	// lockAroundTx: one session lock per key before begin, released
	// explicitly after commit or rollback (MariaDB/MySQL GET_LOCK).
	lockAroundTx
)

// dialect holds every difference between the supported databases.
type dialect struct {
	name string
	// numbered placeholders ($1, $2, ...) instead of ?.
	numbered bool
	// maxParams is the most bind parameters one statement may carry.
	maxParams int
	// begin opens a write transaction; beginUnlocked is the begin used
	// when the lock is disabled by a test.
	begin, beginUnlocked []string
	lockMode             lockMode
	// lock takes the lock named by the key argument; for lockAroundTx it
	// returns 1 when taken. unlock releases it (lockAroundTx only).
	lock, unlock string
	// overwrite returns the head and tail of a multi-row statement that
	// overwrites rows of table by id: "(id, cols...) VALUES" rows, then
	// the tail.
	overwrite func(table string, cols []string) (head, tail string)
	// upsertSync is the conflict clause of the sync_state insert.
	upsertSync string
	// upsertSyncer is the conflict clause of the syncer_state insert,
	// replacing the stored document.
	upsertSyncer string
	// insertAlias is written after the table name of an upsert.
	insertAlias string
	// versionTable creates the schema-version table.
	versionTable string
	// types are the column types of the placeholders of a migration
	// written for every dialect: text, time (as timeArg writes it), int.
	types map[string]string
	// timeArg turns a UTC, microsecond time into a bind argument;
	// scanTime turns a scanned value back.
	timeArg  func(time.Time) any
	scanTime func(v any) (time.Time, error)
}

var sqliteDialect = dialect{
	name:          "sqlite",
	maxParams:     32766, // SQLITE_MAX_VARIABLE_NUMBER since SQLite 3.32
	begin:         []string{"BEGIN IMMEDIATE"},
	beginUnlocked: []string{"BEGIN DEFERRED"},
	lockMode:      lockByBegin,
	overwrite: func(table string, cols []string) (string, string) {
		return "INSERT INTO " + table + " (id, " + strings.Join(cols, ", ") + ") VALUES ",
			" ON CONFLICT (id) DO UPDATE SET " + assignEach(cols, "excluded.%s")
	},
	upsertSync:   "ON CONFLICT (phone) DO UPDATE SET last_synced_at = excluded.last_synced_at",
	upsertSyncer: "ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
	insertAlias:  " AS t",
	versionTable: "CREATE TABLE IF NOT EXISTS {{prefix}}schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
	types:        map[string]string{"text": "TEXT", "time": "INTEGER", "int": "INTEGER"},
	timeArg:      func(t time.Time) any { return t.UnixMicro() },
	scanTime: func(v any) (time.Time, error) {
		switch v := v.(type) {
		case int64:
			return time.UnixMicro(v).UTC(), nil
		case time.Time: // a driver told to turn integers into times
			return utcMicro(v), nil
		}
		return time.Time{}, fmt.Errorf("sqlstore: unexpected SQLite time value of type %T", v)
	},
}

var postgresDialect = dialect{
	name:      "postgres",
	numbered:  true,
	maxParams: 65535,
	// Each statement sees what the lock holder before us committed.
	begin:         []string{"BEGIN ISOLATION LEVEL READ COMMITTED"},
	beginUnlocked: []string{"BEGIN ISOLATION LEVEL READ COMMITTED"},
	lockMode:      lockInTx,
	lock:          "SELECT pg_advisory_xact_lock(?)",
	// The row ids are GENERATED ALWAYS: an overwrite names them explicitly.
	overwrite: func(table string, cols []string) (string, string) {
		return "INSERT INTO " + table + " (id, " + strings.Join(cols, ", ") + ") OVERRIDING SYSTEM VALUE VALUES ",
			" ON CONFLICT (id) DO UPDATE SET " + assignEach(cols, "EXCLUDED.%s")
	},
	upsertSync:   "ON CONFLICT (phone) DO UPDATE SET last_synced_at = EXCLUDED.last_synced_at",
	upsertSyncer: "ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at",
	insertAlias:  " AS t",
	versionTable: "CREATE TABLE IF NOT EXISTS {{prefix}}schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
	types:        map[string]string{"text": "TEXT", "time": "TIMESTAMPTZ", "int": "INTEGER"},
	timeArg:      func(t time.Time) any { return t },
	scanTime: func(v any) (time.Time, error) {
		if t, ok := v.(time.Time); ok {
			return t.UTC(), nil
		}
		return time.Time{}, fmt.Errorf("sqlstore: unexpected PostgreSQL time value of type %T", v)
	},
}

// mysqlTimeLayout is how DATETIME(6) values are written and, without the
// DSN's parseTime, read.
const mysqlTimeLayout = "2006-01-02 15:04:05.999999"

var mysqlDialect = dialect{
	name:      "mysql",
	maxParams: 65535,
	// READ COMMITTED: no gap locks, which under REPEATABLE READ make
	// writers of different numbers deadlock on neighbouring index gaps.
	begin:         []string{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "START TRANSACTION"},
	beginUnlocked: []string{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "START TRANSACTION"},
	lockMode:      lockAroundTx,
	lock:          "SELECT GET_LOCK(?, ?)",
	unlock:        "SELECT RELEASE_LOCK(?)",
	overwrite: func(table string, cols []string) (string, string) {
		return "INSERT INTO " + table + " (id, " + strings.Join(cols, ", ") + ") VALUES ",
			" ON DUPLICATE KEY UPDATE " + assignEach(cols, "VALUES(%s)")
	},
	upsertSync:   "ON DUPLICATE KEY UPDATE last_synced_at = VALUES(last_synced_at)",
	upsertSyncer: "ON DUPLICATE KEY UPDATE state = VALUES(state), updated_at = VALUES(updated_at)",
	versionTable: "CREATE TABLE IF NOT EXISTS {{prefix}}schema_version (version INT NOT NULL PRIMARY KEY, applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))",
	types:        map[string]string{"text": "TEXT", "time": "DATETIME(6)", "int": "INT"},
	// Written as text in UTC, so the session time_zone and the DSN's loc
	// play no part.
	timeArg: func(t time.Time) any { return t.Format(mysqlTimeLayout) },
	scanTime: func(v any) (time.Time, error) {
		switch v := v.(type) {
		case time.Time:
			// DATETIME has no zone: the driver attached its loc to
			// the wall clock we wrote in UTC. Read the clock back as UTC.
			y, mo, d := v.Date()
			h, mi, s := v.Clock()
			return time.Date(y, mo, d, h, mi, s, v.Nanosecond(), time.UTC), nil
		case []byte:
			return time.ParseInLocation(mysqlTimeLayout, string(v), time.UTC)
		case string:
			return time.ParseInLocation(mysqlTimeLayout, v, time.UTC)
		}
		return time.Time{}, fmt.Errorf("sqlstore: unexpected MySQL time value of type %T", v)
	},
}

// rebind rewrites the ? placeholders of q for d.
func (d *dialect) rebind(q string) string {
	if !d.numbered {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + len(q)/4)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// assignEach returns "c1 = f(c1), c2 = f(c2), ..." with f given as a format.
func assignEach(cols []string, format string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c + " = " + fmt.Sprintf(format, c)
	}
	return strings.Join(parts, ", ")
}

// utcMicro is how the store keeps every time: UTC, truncated to the
// microsecond (what PostgreSQL and DATETIME(6) keep), no monotonic reading.
func utcMicro(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
