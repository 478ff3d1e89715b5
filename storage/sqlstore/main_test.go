package sqlstore

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/internal/testdb"
	"github.com/leadcalls/leadcalls/statusmap"
)

// Every *sql.DB of the tests is closed in Cleanup, so no driver goroutine
// outlives its test and goleak needs no ignore options.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// backends maps each backend's testdb name to its dialect.
var backends = []struct {
	name    string
	dialect Dialect
}{
	{testdb.SQLiteName, SQLite},
	{testdb.PostgresName, Postgres},
	{testdb.MySQLName, MySQL},
}

// openFresh returns a fresh database of backend name and its DSN (for
// opening a second *sql.DB on it); SQLite's DSN is its file's.
func openFresh(t testing.TB, name string) (*sql.DB, string) {
	t.Helper()
	switch name {
	case testdb.PostgresName:
		return testdb.Postgres(t)
	case testdb.MySQLName:
		return testdb.MySQL(t)
	}
	path := testdb.SQLitePath(t)
	return testdb.OpenSQLite(t, path), testdb.SQLiteDSN(path)
}

func driverOf(name string) string {
	switch name {
	case testdb.PostgresName:
		return testdb.PostgresDriver
	case testdb.MySQLName:
		return testdb.MySQLDriver
	}
	return testdb.SQLiteDriver
}

// newMigrated returns a migrated Store on db.
func newMigrated(t testing.TB, db *sql.DB, d Dialect, opts ...Option) *Store {
	t.Helper()
	s, err := New(db, d, opts...)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	return s
}

var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// makeCall returns a call of phone, i minutes after base, with every field set.
func makeCall(phone, id string, i int) callhistory.Call {
	return callhistory.Call{
		CallyzerID:      id,
		Phone:           phone,
		Direction:       statusmap.Outgoing,
		Status:          statusmap.Connected,
		StartedAt:       base.Add(time.Duration(i) * time.Minute).Add(123456 * time.Microsecond),
		DurationSeconds: 30 + i,
		EmployeeName:    "Anna Nowak",
		EmployeeCode:    "E7",
		EmployeePhone:   "+48601000001",
		ClientName:      "Klient " + id,
		RecordingURL:    "https://rec.example/" + id,
		Note:            "note ąę " + id,
		RawCallType:     "Outgoing",
		CRMStatus:       "Interested",
		CallyzerLeadID:  "L" + id,
		SyncedAt:        base.Add(time.Duration(i)*time.Minute + time.Hour),
		ModifiedAt:      base.Add(time.Duration(i)*time.Minute + 2*time.Hour),
	}
}

// makeCalls returns n calls of phone with ids prefix-0 ... prefix-(n-1).
func makeCalls(phone, prefix string, n int) []callhistory.Call {
	out := make([]callhistory.Call, n)
	for i := range out {
		out[i] = makeCall(phone, fmt.Sprintf("%s-%04d", prefix, i), i)
	}
	return out
}

// window covers every call makeCalls returns (up to 10,000 of them).
var window = callhistory.Window{From: base, To: base.Add(10000 * time.Minute)}

// afterUploads is a sync date after the SyncedAt of every call makeCalls
// returns, so that a ReplaceWindow at it (or later) deletes every stored
// call its answer lacks.
var afterUploads = window.To.Add(2 * time.Hour)
