package sqlstore

import (
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/internal/testdb"
)

// fullState returns a sync state with the fields a pass sets, times with
// nanoseconds and in a zone other than UTC.
func fullState(i int) callhistory.SyncState {
	warsaw := time.FixedZone("CET", 3600)
	at := base.In(warsaw).Add(time.Duration(i)*time.Hour + 987654321*time.Nanosecond)
	return callhistory.SyncState{
		Status:              callhistory.SyncFailedOther,
		RunningSince:        at,
		LastSuccess:         at.Add(-time.Hour),
		LastError:           "zapis nie powiódł się: żółć 🚀",
		ConsecutiveFailures: i,
		Cursor:              at.Add(-2 * time.Hour),
		Backfill:            callhistory.BackfillProgress{From: at.AddDate(0, -6, 0), To: at, Cursor: callyzer.Cursor{ChunkFrom: at.AddDate(0, -1, 0), ChunkTo: at, NextPage: 3 + i, Seen: 200 + i}},
		LastReport: callhistory.SyncReport{
			SyncCounts:  callhistory.SyncCounts{Pages: 2, Requests: 3, Seen: 150, Inserted: 100, Updated: 20, Unchanged: 30},
			Incremental: callhistory.SyncCounts{Pages: 1, Requests: 1, Seen: 50, Inserted: 50},
			Backfill:    callhistory.SyncCounts{Pages: 1, Requests: 2, Seen: 100, Skipped: 1},
			StartedAt:   at.Add(-time.Minute),
			Duration:    1500 * time.Millisecond,
			Status:      callhistory.SyncFailedOther,
		},
	}
}

func requireSyncState(t *testing.T, s *Store, name string, want callhistory.SyncState) {
	t.Helper()
	got, err := s.SyncState(t.Context(), name)
	require.NoError(t, err)
	// cmp compares times with Equal: same instant, any location.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("SyncState(%q) (-want +got):\n%s", name, diff)
	}
}

// statusQuery reads the status field out of the stored JSON document with
// each database's own JSON functions: the state is one JSON object an
// operator can query, not opaque text.
var statusQuery = map[string]string{
	"sqlite":   "SELECT json_extract(state, '$.status') FROM %ssyncer_state WHERE name = ?",
	"postgres": "SELECT state->>'status' FROM %ssyncer_state WHERE name = ?",
	"mysql":    "SELECT JSON_UNQUOTE(JSON_EXTRACT(state, '$.status')) FROM %ssyncer_state WHERE name = ?",
}

// TestSyncStateNames checks which names are stored alike on every
// dialect: up to MaxSyncNameLen characters (multi-byte ones too); an
// empty, overlong, NUL-carrying or non-UTF-8 name is refused with
// ErrInvalid when saving and reads as the zero state.
func TestSyncStateNames(t *testing.T) {
	t.Parallel()
	longest := strings.Repeat("ż", MaxSyncNameLen)
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for _, name := range []string{"default", "konto-główne", longest} {
			requireSyncState(t, s, name, callhistory.SyncState{})
			require.NoError(t, s.SaveSyncState(ctx, name, fullState(1)), name)
			requireSyncState(t, s, name, fullState(1))
		}
		for _, bad := range []string{"", longest + "x", "a\x00b", "\xff"} {
			require.ErrorIs(t, s.SaveSyncState(ctx, bad, fullState(2)), ErrInvalid, "%q", bad)
			requireSyncState(t, s, bad, callhistory.SyncState{})
		}
		requireSyncState(t, s, "never-saved", callhistory.SyncState{})
	})
}

// TestSyncStateDocument stores text a stricter JSON type would refuse (a
// NUL in LastError, which PostgreSQL's jsonb cannot hold), reads the
// status with the database's JSON functions, and refuses a state that
// does not marshal.
func TestSyncStateDocument(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		nul := fullState(1)
		nul.LastError = "driver said: \x00 \"quoted\" \\ \u2028 <b>"
		require.NoError(t, s.SaveSyncState(ctx, "nul", nul))
		requireSyncState(t, s, "nul", nul)

		st := fullState(1)
		require.NoError(t, s.SaveSyncState(ctx, "default", st))
		var status string
		q := s.d.rebind(strings.ReplaceAll(statusQuery[s.d.name], "%s", s.prefix))
		require.NoError(t, s.db.QueryRowContext(ctx, q, "default").Scan(&status))
		require.Equal(t, string(callhistory.SyncFailedOther), status)

		bad := fullState(2)
		bad.Cursor = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // outside what RFC 3339 writes
		require.ErrorIs(t, s.SaveSyncState(ctx, "default", bad), ErrInvalid)
		requireSyncState(t, s, "default", st)
	})
}

// TestSyncStateSurvivesReopen saves a state, closes the *sql.DB, and
// reads it back through a new *sql.DB and Store, as after a restart.
func TestSyncStateSurvivesReopen(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db, dsn := openFresh(t, b.name)
			s := newMigrated(t, db, b.dialect)
			require.NoError(t, s.SaveSyncState(t.Context(), "default", fullState(1)))
			require.NoError(t, s.SaveSyncState(t.Context(), "other", fullState(2)))
			require.NoError(t, db.Close())

			reopened := newMigrated(t, testdb.OpenDSN(t, driverOf(b.name), dsn), b.dialect)
			requireSyncState(t, reopened, "default", fullState(1))
			requireSyncState(t, reopened, "other", fullState(2))
		})
	}
}

// TestMigrateFromVersion1 builds a database with the version 1 migrations
// only (what the previous release created), stores calls in it, then
// upgrades it from three *sql.DB at once, twice: version 2, the calls and
// last-sync dates untouched, sync states working.
func TestMigrateFromVersion1(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			const phone = "+48601234567"
			db, dsn := openFresh(t, b.name)
			old, err := New(db, b.dialect)
			require.NoError(t, err)
			migrations, err := old.migrations()
			require.NoError(t, err)
			require.Len(t, migrations, latestVersion)
			require.NoError(t, old.migrate(ctx, migrations[:1]))
			require.Equal(t, 1, schemaVersion(t, db, DefaultTablePrefix))
			// Rows as version 1 has them: its 17 columns, and the number's
			// last-sync date.
			v1 := makeCalls(phone, "v1", 5)
			cols := columnNames[:17]
			for _, c := range v1 {
				q := "INSERT INTO " + old.table("calls") + " (" + strings.Join(cols, ", ") + ") VALUES (" + placeholders(len(cols)) + ")"
				_, err := db.ExecContext(ctx, old.d.rebind(q), old.args(&c)[:len(cols)]...)
				require.NoError(t, err)
			}
			_, err = db.ExecContext(ctx, old.d.rebind("INSERT INTO "+old.table("sync_state")+" (phone, last_synced_at) VALUES (?, ?)"), phone, old.d.timeArg(base))
			require.NoError(t, err)
			before := want(v1)
			_, err = old.SyncState(ctx, "default")
			require.Error(t, err, "a version 1 database has no sync-state table")

			stores := []*Store{old}
			for range 2 {
				s, err := New(testdb.OpenDSN(t, driverOf(b.name), dsn), b.dialect)
				require.NoError(t, err)
				stores = append(stores, s)
			}
			for range 2 {
				migrateAll(t, stores)
				require.Equal(t, latestVersion, schemaVersion(t, db, DefaultTablePrefix))
				require.Equal(t, latestVersion, versionRows(t, db, DefaultTablePrefix))
			}

			if diff := cmp.Diff(before, stored(t, stores[1], phone), ignoreRowID); diff != "" {
				t.Fatalf("calls changed by the upgrade (-before +after):\n%s", diff)
			}
			last, err := stores[2].LastSynced(ctx, phone)
			require.NoError(t, err)
			require.Equal(t, base, last)
			require.NoError(t, stores[1].SaveSyncState(ctx, "default", fullState(1)))
			requireSyncState(t, stores[2], "default", fullState(1))
		})
	}
}

// migrateAll runs Migrate on every store at once and fails on any error.
func migrateAll(t *testing.T, stores []*Store) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
}

func versionRows(t *testing.T, db *sql.DB, prefix string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+prefix+"schema_version").Scan(&n))
	return n
}

// TestSaveSyncStateConcurrent saves states of one name from two *sql.DB at
// once: every save succeeds (no busy or deadlock error surfaces), and the
// state read afterwards is one of the saved ones, whole.
func TestSaveSyncStateConcurrent(t *testing.T) {
	t.Parallel()
	const saves = 10
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s1, s2 := twoProcesses(t, b.name, b.dialect)
			var wg sync.WaitGroup
			errs := make([]error, 2*saves)
			for w, s := range []*Store{s1, s2} {
				wg.Go(func() {
					for i := range saves {
						errs[w*saves+i] = s.SaveSyncState(t.Context(), "default", fullState(w*saves+i))
					}
				})
			}
			wg.Wait()
			require.NoError(t, errors.Join(errs...))
			got, err := s2.SyncState(t.Context(), "default")
			require.NoError(t, err)
			whole := false
			for i := range 2 * saves {
				whole = whole || cmp.Equal(fullState(i), got)
			}
			require.True(t, whole, "the state read is none of the saved ones: %+v", got)
		})
	}
}
