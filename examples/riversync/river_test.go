package riversync_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/examples/riversync"
	"github.com/leadcalls/leadcalls/internal/testdb"
	"github.com/leadcalls/leadcalls/storage/pgcoord"
	"github.com/leadcalls/leadcalls/storage/sqlstore"
)

// TestRiverRunsThePeriodicSync starts River on a schema of its own with a
// short period, lets it run passes against the fake Callyzer, and stops it.
func TestRiverRunsThePeriodicSync(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// testdb's DSN sets search_path to the test's schema: River's tables,
	// the store's and pgcoord's all go there.
	db, dsn := testdb.Postgres(t)
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, riversync.Migrate(ctx, pool))
	require.NoError(t, riversync.Migrate(ctx, pool), "migrating again changes nothing")

	store, err := sqlstore.New(db, sqlstore.Postgres)
	require.NoError(t, err)
	require.NoError(t, store.Migrate(ctx))

	ds := callyzertest.Generate(5, callyzertest.GenerateConfig{End: time.Now().Add(-time.Hour), Span: 60 * 24 * time.Hour, Calls: 250, Leads: 10})
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: ds.Calls, Employees: ds.Employees, Interval: 5 * time.Millisecond})
	client, err := callyzer.NewClient(srv.APIKey(),
		callyzer.WithBaseURL(srv.URL),
		callyzer.WithPacer(callyzer.NewPacer(10*time.Millisecond)),
		callyzer.WithLogger(discard))
	require.NoError(t, err)
	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{
		Source: client,
		Store:  store, // and its sync state
		Lock: callhistory.PassLockFunc(func(ctx context.Context, name string) (func() error, bool, error) {
			return pgcoord.TryLock(ctx, db, name)
		}),
		// Advisory locks are database-wide: a name of this test's own.
		Name:   "riversync-" + strings.ToLower(rand.Text()),
		Logger: discard,
	})
	require.NoError(t, err)

	const every = 300 * time.Millisecond
	rc, err := riversync.NewRiverClient(pool, syncer, every)
	require.NoError(t, err)
	completed, unsubscribe := rc.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer unsubscribe()
	require.NoError(t, rc.Start(ctx))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = rc.Stop(context.Background())
		}
	})

	const passes = 2
	var lastSuccess time.Time
	timeout := time.After(20 * time.Second)
	for i := range passes {
		select {
		case ev := <-completed:
			require.Equal(t, river.EventKindJobCompleted, ev.Kind, "job %d: %v", i, ev.Job.Errors)
			require.Equal(t, riversync.Kind, ev.Job.Kind)
		case <-timeout:
			t.Fatalf("River completed %d sync jobs in 20s, want %d", i, passes)
		}
		st, err := syncer.State(ctx)
		require.NoError(t, err)
		require.Equal(t, callhistory.SyncIdle, st.Status)
		require.True(t, st.LastSuccess.After(lastSuccess), "pass %d recorded its success", i)
		lastSuccess = st.LastSuccess
	}

	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, rc.Stop(stopCtx))
	stopped = true

	stored, phones := 0, map[string]bool{}
	for _, c := range ds.Calls {
		phones[c.ClientE164()] = true
	}
	for phone := range phones {
		calls, err := store.Calls(ctx, phone, 0)
		require.NoError(t, err)
		stored += len(calls)
	}
	require.Equal(t, len(ds.Calls), stored, "every call is stored")
	st, err := syncer.State(ctx)
	require.NoError(t, err)
	require.Equal(t, callhistory.SyncIdle, st.Status)
	require.Zero(t, st.ConsecutiveFailures)
	require.True(t, st.Backfill.Done)
	require.Empty(t, st.LastError)
}
