package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/internal/testdb"
)

// latestVersion is the newest schema version; TestMigrationsPerDialect
// keeps it true.
const latestVersion = 4

// TestMigrationsPerDialect checks that every dialect has the versions 1 to
// latestVersion, each with at least one statement.
func TestMigrationsPerDialect(t *testing.T) {
	t.Parallel()
	for _, d := range []Dialect{SQLite, Postgres, MySQL} {
		s, err := New(&sql.DB{}, d)
		require.NoError(t, err)
		migrations, err := s.migrations()
		require.NoError(t, err)
		require.Len(t, migrations, latestVersion, d.String())
		for i, m := range migrations {
			require.Equal(t, i+1, m.version, d.String())
			require.NotEmpty(t, m.statements, "%s version %d", d, m.version)
		}
	}
}

func schemaVersion(t *testing.T, db *sql.DB, prefix string) int {
	t.Helper()
	var v int
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT MAX(version) FROM "+prefix+"schema_version").Scan(&v))
	return v
}

// TestMigrateConcurrentAndIdempotent starts Migrate from four *sql.DB at
// once on a fresh database, then again: no error, one version row each.
func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db, dsn := openFresh(t, b.name)
			stores := []*Store{}
			for i := range 4 {
				other := db
				if i > 0 {
					other = testdb.OpenDSN(t, driverOf(b.name), dsn)
				}
				s, err := New(other, b.dialect)
				require.NoError(t, err)
				stores = append(stores, s)
			}
			for range 2 {
				migrateAll(t, stores)
			}
			require.Equal(t, latestVersion, schemaVersion(t, db, DefaultTablePrefix))
			require.Equal(t, latestVersion, versionRows(t, db, DefaultTablePrefix))
			requireSyncState(t, stores[1], "default", callhistory.SyncState{})
		})
	}
}

// TestTablePrefix keeps two stores with different prefixes in one database
// apart, and rejects prefixes that are not plain identifiers.
func TestTablePrefix(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"Leads", "1x_", "a-b", "x; DROP TABLE y", "abcdefghijabcdefghijabcdefghijabcdefghijX"} {
		_, err := New(&sql.DB{}, SQLite, WithTablePrefix(bad))
		require.ErrorIs(t, err, ErrInvalid, bad)
	}
	eachBackendDB(t, func(t *testing.T, db *sql.DB, d Dialect) {
		const phone = "+48601234567"
		a := newMigrated(t, db, d, WithTablePrefix("crm_a_"))
		b := newMigrated(t, db, d, WithTablePrefix(""))
		_, err := callhistory.ReplaceWindow(t.Context(), a, phone, window, makeCalls(phone, "a", 3), base)
		require.NoError(t, err)
		require.Len(t, stored(t, a, phone), 3)
		require.Empty(t, stored(t, b, phone))
		require.Equal(t, latestVersion, schemaVersion(t, db, "crm_a_"))
		require.Equal(t, latestVersion, schemaVersion(t, db, ""))
		require.NoError(t, a.SaveSyncState(t.Context(), "default", fullState(1)))
		requireSyncState(t, b, "default", callhistory.SyncState{})
	})
}

// TestSchemaTooNew refuses a database migrated by newer code.
func TestSchemaTooNew(t *testing.T) {
	t.Parallel()
	eachBackendDB(t, func(t *testing.T, db *sql.DB, d Dialect) {
		s := newMigrated(t, db, d)
		_, err := db.ExecContext(t.Context(), s.d.rebind(fmt.Sprintf("INSERT INTO %sschema_version (version) VALUES (?)", DefaultTablePrefix)), 99)
		require.NoError(t, err)
		require.ErrorIs(t, s.Migrate(t.Context()), ErrSchemaVersion)
	})
}

func eachBackendDB(t *testing.T, f func(t *testing.T, db *sql.DB, d Dialect)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db, _ := openFresh(t, b.name)
			f(t, db, b.dialect)
		})
	}
}

func TestNewChecksArguments(t *testing.T) {
	t.Parallel()
	_, err := New(nil, SQLite)
	require.ErrorIs(t, err, ErrInvalid)
	_, err = New(&sql.DB{}, Dialect(42))
	require.ErrorIs(t, err, ErrInvalid)
	require.Equal(t, "Dialect(42)", Dialect(42).String())
	require.Equal(t, "postgres", Postgres.String())
}

// fakeErr stands in for the drivers' error types, which the package does
// not import: the methods and messages are theirs.
type sqliteErr struct{ code int }

func (e sqliteErr) Error() string { return fmt.Sprintf("sqlite error %d", e.code) }
func (e sqliteErr) Code() int     { return e.code }

type pgErr struct{ state string }

func (e pgErr) Error() string    { return "ERROR: something (SQLSTATE " + e.state + ")" }
func (e pgErr) SQLState() string { return e.state }

func TestTranslate(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		err   error
		want  []error
		retry bool
	}{
		{"sqlite busy", t.Context(), sqliteErr{5}, []error{ErrBusy}, false},
		{"sqlite busy snapshot", t.Context(), sqliteErr{5 | 2<<8}, []error{ErrBusy}, false},
		{"sqlite unique", t.Context(), sqliteErr{2067}, []error{ErrConflict}, false},
		{"sqlite not null", t.Context(), sqliteErr{1299}, nil, false},
		{"postgres unique", t.Context(), fmt.Errorf("wrapped: %w", pgErr{"23505"}), []error{ErrConflict}, false},
		{"postgres deadlock", t.Context(), pgErr{"40P01"}, []error{ErrBusy}, true},
		{"postgres syntax", t.Context(), pgErr{"42601"}, nil, false},
		{"mysql duplicate", t.Context(), errors.New("Error 1062 (23000): Duplicate entry 'x' for key 'c'"), []error{ErrConflict}, false},
		{"mysql deadlock", t.Context(), errors.New("Error 1213: Deadlock found"), []error{ErrBusy}, true},
		{"mysql lock wait timeout", t.Context(), errors.New("Error 1205 (HY000): Lock wait timeout exceeded"), []error{ErrBusy}, false},
		{"mysql other", t.Context(), errors.New("Error 1146 (42S02): Table doesn't exist"), nil, false},
		{"interrupted by ctx", cancelled, sqliteErr{9}, []error{context.Canceled}, false},
		{"ctx error kept", t.Context(), fmt.Errorf("x: %w", context.DeadlineExceeded), []error{context.DeadlineExceeded}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := translate(tt.ctx, "op", tt.err)
			_, retry := classify(got)
			require.Equal(t, tt.retry, retry, "retry, judged on the translated error")
			require.ErrorIs(t, got, tt.err, "the driver's error stays in the chain")
			for _, w := range tt.want {
				require.ErrorIs(t, got, w)
			}
			for _, s := range []error{ErrBusy, ErrConflict} {
				if !slices.Contains(tt.want, s) {
					require.NotErrorIs(t, got, s)
				}
			}
		})
	}
	require.NoError(t, translate(t.Context(), "op", nil))
}

// TestSharedMigration: a version written once for every dialect (all_NNN.sql,
// type placeholders) applies on each backend after the per-dialect ones, and
// a text column added so reads as "" in rows written before it.
func TestSharedMigration(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{}
	names, err := fs.Glob(schemaFiles, "schema/*.sql")
	require.NoError(t, err)
	for _, name := range names {
		body, err := fs.ReadFile(schemaFiles, name)
		require.NoError(t, err)
		fsys[name] = &fstest.MapFile{Data: body}
	}
	fsys[fmt.Sprintf("schema/all_%03d.sql", latestVersion+1)] = &fstest.MapFile{Data: []byte(
		"-- A later column on every dialect.\n" +
			"ALTER TABLE {{prefix}}calls ADD COLUMN extra_note {{text}} NULL;\n" +
			"ALTER TABLE {{prefix}}calls ADD COLUMN extra_at {{time}} NULL;\n")}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db, _ := openFresh(t, b.name)
			s, err := New(db, b.dialect)
			require.NoError(t, err)
			ms, err := s.migrationsIn(fsys)
			require.NoError(t, err)
			require.Len(t, ms, latestVersion+1)
			require.NoError(t, s.migrate(t.Context(), ms[:latestVersion]))
			const phone = "+48601234567"
			_, err = callhistory.UpsertCalls(t.Context(), s, makeCalls(phone, "m", 2), base)
			require.NoError(t, err)
			require.NoError(t, s.migrate(t.Context(), ms))
			require.Equal(t, latestVersion+1, schemaVersion(t, db, DefaultTablePrefix))

			var note sql.NullString
			var at any
			require.NoError(t, db.QueryRowContext(t.Context(), s.d.rebind("SELECT extra_note, extra_at FROM "+s.table("calls")+" WHERE callyzer_id = ?"), "m-0000").Scan(&note, &at))
			require.False(t, note.Valid, "the new column is NULL in rows written before it")
			require.Nil(t, at)
			var got string
			require.NoError(t, db.QueryRowContext(t.Context(), "SELECT extra_note FROM "+s.table("calls")+" WHERE callyzer_id = 'm-0001'").Scan(textDest[string]{&got}))
			require.Empty(t, got, "a NULL text reads as empty")
			_, err = db.ExecContext(t.Context(), s.d.rebind("UPDATE "+s.table("calls")+" SET extra_at = ? WHERE callyzer_id = ?"), s.d.timeArg(utcMicro(base)), "m-0001")
			require.NoError(t, err)
			require.NoError(t, db.QueryRowContext(t.Context(), s.d.rebind("SELECT extra_at FROM "+s.table("calls")+" WHERE callyzer_id = ?"), "m-0001").Scan(&at))
			when, err := s.d.scanTime(at)
			require.NoError(t, err)
			require.True(t, when.Equal(base), "a {{time}} column holds what timeArg writes: %v", when)
		})
	}
}
