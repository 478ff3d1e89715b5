package riversync_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/examples/riversync"
	"github.com/leadcalls/leadcalls/internal/testdb"
	"github.com/leadcalls/leadcalls/storage/pgcoord"
	"github.com/leadcalls/leadcalls/storage/sqlstore"
)

// What the tests of this package cover:
//
// The tests of SyncWorker run against the fake Callyzer and a memstore. The
// River test needs PostgreSQL (LEADCALLS_TEST_POSTGRES_DSN; it skips
// without it, and fails instead under LEADCALLS_REQUIRE_ALL=1): it gives the
// pool a fresh schema through search_path (internal/testdb), so River's
// tables and the store's live in it and are dropped with it; it
// starts River with a 300 ms period, waits for two completed sync jobs,
// checks the stored calls and the sync state, and stops River, after which
// goleak finds no goroutine left. A second one starts River from a host's
// config with queues of its own (AddTo) and checks that the sync job runs
// in QueueName.

// riverEnv is one test's PostgreSQL schema with River's tables and the
// store's, a fake Callyzer with data, and a Syncer over them.
type riverEnv struct {
	pool   *pgxpool.Pool
	store  *sqlstore.Store
	syncer *callhistory.Syncer
	ds     callyzertest.Dataset
}

func newRiverEnv(t *testing.T) *riverEnv {
	t.Helper()
	ctx := t.Context()
	// testdb's DSN sets search_path to the test's schema: River's tables
	// and the store's both go there. River's pool and the store's
	// *sql.DB are separate, as the package documentation recommends.
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
		callyzer.WithPacer(pacing.New(10*time.Millisecond)),
		callyzer.WithLogger(discard))
	require.NoError(t, err)
	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{
		Source: client,
		Store:  store, // and its sync state
		Lock:   pgcoord.PassLock{DB: db},
		// Advisory locks are database-wide: a name of this test's own.
		Name:   "riversync-" + strings.ToLower(rand.Text()),
		Logger: discard,
	})
	require.NoError(t, err)
	return &riverEnv{pool: pool, store: store, syncer: syncer, ds: ds}
}

// start subscribes to the outcomes of rc's jobs, starts rc, and stops it
// when the test ends (unless the test stopped it).
func start(t *testing.T, rc *river.Client[pgx.Tx]) <-chan *river.Event {
	t.Helper()
	outcomes, unsubscribe := rc.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	t.Cleanup(unsubscribe)
	require.NoError(t, rc.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rc.Stop(ctx) // a no-op when the test stopped it
	})
	return outcomes
}

// TestRiverRunsThePeriodicSync starts River on a schema of its own with a
// short period, lets it run passes against the fake Callyzer, and stops it.
func TestRiverRunsThePeriodicSync(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	env := newRiverEnv(t)

	const every = 300 * time.Millisecond
	rc, err := riversync.NewRiverClient(env.pool, env.syncer, every)
	require.NoError(t, err)
	completed := start(t, rc)

	const passes = 2
	var lastSuccess time.Time
	timeout := time.After(20 * time.Second)
	for i := range passes {
		select {
		case ev := <-completed:
			require.Equal(t, river.EventKindJobCompleted, ev.Kind, "job %d: %v", i, ev.Job.Errors)
			require.Equal(t, riversync.Kind, ev.Job.Kind)
			require.Equal(t, riversync.QueueName, ev.Job.Queue)
		case <-timeout:
			t.Fatalf("River completed %d sync jobs in 20s, want %d", i, passes)
		}
		st, err := env.syncer.State(ctx)
		require.NoError(t, err)
		require.Equal(t, callhistory.SyncIdle, st.Status)
		require.True(t, st.LastSuccess.After(lastSuccess), "pass %d recorded its success", i)
		lastSuccess = st.LastSuccess
	}

	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, rc.Stop(stopCtx))

	stored, phones := 0, map[string]bool{}
	for _, c := range env.ds.Calls {
		phones[c.ClientE164()] = true
	}
	for phone := range phones {
		calls, err := env.store.Calls(ctx, phone, 0)
		require.NoError(t, err)
		stored += len(calls)
	}
	require.Equal(t, len(env.ds.Calls), stored, "every call is stored")
	st, err := env.syncer.State(ctx)
	require.NoError(t, err)
	require.Equal(t, callhistory.SyncIdle, st.Status)
	require.Zero(t, st.ConsecutiveFailures)
	require.True(t, st.Backfill.Done)
	require.Empty(t, st.LastError)
}

// TestAddToHostWithItsOwnQueues starts River from the config of a host
// that works only queues of its own (no "default"): the sync job must go
// to, and be worked in, the sync's queue, and the host's queue still works
// its jobs.
func TestAddToHostWithItsOwnQueues(t *testing.T) {
	t.Parallel()
	env := newRiverEnv(t)

	hostJobs := make(chan string, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[emailArgs]) error {
		hostJobs <- job.Args.To
		return nil
	}))
	cfg := &river.Config{
		Queues:  map[string]river.QueueConfig{"emails": {MaxWorkers: 2}},
		Workers: workers,
	}
	require.NoError(t, riversync.AddTo(cfg, env.syncer, time.Hour)) // RunOnStart: one job now
	rc, err := river.NewClient(riverpgxv5.New(env.pool), cfg)
	require.NoError(t, err)
	outcomes := start(t, rc)
	_, err = rc.Insert(t.Context(), emailArgs{To: "jan@example.com"}, &river.InsertOpts{Queue: "emails"})
	require.NoError(t, err)

	timeout := time.After(20 * time.Second)
	syncDone := false
	for !syncDone {
		select {
		case ev := <-outcomes:
			require.Equal(t, river.EventKindJobCompleted, ev.Kind, "%s job: %v", ev.Job.Kind, ev.Job.Errors)
			if ev.Job.Kind == riversync.Kind {
				require.Equal(t, riversync.QueueName, ev.Job.Queue)
				syncDone = true
			}
		case <-timeout:
			t.Fatal("the sync job did not run within 20s")
		}
	}
	select {
	case to := <-hostJobs:
		require.Equal(t, "jan@example.com", to)
	case <-timeout:
		t.Fatal("the host's own job did not run")
	}
	st, err := env.syncer.State(t.Context())
	require.NoError(t, err)
	require.False(t, st.LastSuccess.IsZero(), "the pass ran and succeeded")
}

// emailArgs is a host's own job.
type emailArgs struct {
	To string `json:"to"`
}

func (emailArgs) Kind() string { return "host_email" }
