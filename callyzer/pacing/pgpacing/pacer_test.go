package pgpacing_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/callyzer/pacing/internal/rule"
	"github.com/leadcalls/leadcalls/callyzer/pacing/pgpacing"
)

// unusedDB is a *sql.DB for tests that fail before any I/O.
func unusedDB(t *testing.T) *sql.DB {
	t.Helper()
	db := sql.OpenDB(nil)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newPacer(t *testing.T, db *sql.DB, cfg pgpacing.Config) pacing.Pacer {
	t.Helper()
	p, err := pgpacing.New(db, cfg)
	require.NoError(t, err)
	return p
}

func TestNewRejectsBadInput(t *testing.T) {
	t.Parallel()
	db := unusedDB(t)
	for name, tc := range map[string]struct {
		db  *sql.DB
		cfg pgpacing.Config
	}{
		"nil db":            {nil, pgpacing.Config{Name: "acct"}},
		"empty name":        {db, pgpacing.Config{Interval: time.Second}},
		"negative interval": {db, pgpacing.Config{Name: "acct", Interval: -time.Second}},
		"negative lease":    {db, pgpacing.Config{Name: "acct", Lease: -time.Second}},
		"negative poll":     {db, pgpacing.Config{Name: "acct", PollInterval: -time.Millisecond}},
		"poll over cap":     {db, pgpacing.Config{Name: "acct", PollInterval: time.Second}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := pgpacing.New(tc.db, tc.cfg)
			require.Error(t, err)
			require.Nil(t, p)
		})
	}
}

func TestAcquireFailsBeforeIO(t *testing.T) {
	t.Parallel()
	p := newPacer(t, unusedDB(t), pgpacing.Config{Name: "acct", Interval: time.Second})

	_, err := single(t.Context(), p, pacing.Priority(7))
	require.ErrorContains(t, err, "unknown priority")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = single(ctx, p, pacing.Interactive)
	require.ErrorIs(t, err, context.Canceled)
}

func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	var g errgroup.Group
	for range 4 {
		db := d.replica(t)
		g.Go(func() error { return pgpacing.Migrate(t.Context(), db) })
	}
	require.NoError(t, g.Wait())
	db := d.replica(t)
	require.NoError(t, pgpacing.Migrate(t.Context(), db), "a second run changes nothing and succeeds")

	p := newPacer(t, db, pgpacing.Config{Name: d.name, Interval: time.Millisecond})
	release, err := single(t.Context(), p, pacing.Background)
	require.NoError(t, err)
	release(time.Time{})
}

// Tables of the first version (no held_until, no begun_at) get the new
// columns, and their rows stay usable.
func TestMigrateUpgradesEarlierTables(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	db := d.replica(t)
	for _, stmt := range []string{
		`CREATE TABLE leadcalls_pacer (name text PRIMARY KEY, next_start_at timestamptz NOT NULL,
			started_at timestamptz, holder text, lease_until timestamptz)`,
		`CREATE TABLE leadcalls_pacer_waiters (name text NOT NULL, waiter text NOT NULL,
			lease_until timestamptz NOT NULL, PRIMARY KEY (name, waiter))`,
		`INSERT INTO leadcalls_pacer_waiters VALUES ('old', 'w', clock_timestamp())`,
	} {
		_, err := db.ExecContext(t.Context(), stmt)
		require.NoError(t, err)
	}
	require.NoError(t, pgpacing.Migrate(t.Context(), db))
	require.NoError(t, pgpacing.Migrate(t.Context(), db))

	p := newPacer(t, db, pgpacing.Config{Name: d.name, Interval: time.Millisecond})
	p.Hold(time.Now().Add(10 * time.Millisecond))
	seq := p.Begin(pacing.Interactive)
	release, err := seq.Acquire(t.Context())
	require.NoError(t, err)
	release(time.Time{})
	seq.End()
}

func TestAcquireWithoutMigrateSaysSo(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	p := newPacer(t, d.replica(t), pgpacing.Config{Name: d.name, Interval: time.Millisecond})
	_, err := single(t.Context(), p, pacing.Background)
	require.ErrorContains(t, err, "pgpacing.Migrate")
}

// TestPacerAcrossReplicas runs three replicas (separate pools) with three
// goroutines each, mixing priorities, and checks what a Callyzer server
// would see: never two holders at once, and starts at least the interval
// apart.
func TestPacerAcrossReplicas(t *testing.T) {
	t.Parallel()
	const (
		interval   = 30 * time.Millisecond
		replicas   = 3
		goroutines = 3
		rounds     = 8
	)
	d := newTestDB(t)
	dbs := d.migrated(t, replicas)

	type span struct {
		start, end time.Time
		who        string
	}
	var (
		mu       sync.Mutex
		spans    []span
		inFlight atomic.Int32
		overlaps atomic.Int32
		claims   claimTimes // every pacer's grants
	)
	// A broken pacer fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	var g errgroup.Group
	for r, db := range dbs {
		p := newPacer(t, db, pgpacing.Config{Name: d.name, Interval: interval, PollInterval: 5 * time.Millisecond})
		pgpacing.SetClaimHook(p, claims.hook)
		for gr := range goroutines {
			g.Go(func() error {
				for i := range rounds {
					prio := pacing.Background
					if (r+gr+i)%3 == 0 {
						prio = pacing.Interactive
					}
					release, err := single(ctx, p, prio)
					if err != nil {
						return err
					}
					start := time.Now()
					if inFlight.Add(1) > 1 {
						overlaps.Add(1)
					}
					// The "request": some outlast the interval, so that
					// only the in-flight rule keeps the next one out.
					work := time.Millisecond
					if i%4 == 0 {
						work = interval + 10*time.Millisecond
					}
					time.Sleep(work)
					inFlight.Add(-1)
					end := time.Now()
					release(time.Time{})
					mu.Lock()
					spans = append(spans, span{start, end, fmt.Sprintf("r%d/g%d/%d", r, gr, i)})
					mu.Unlock()
				}
				return nil
			})
		}
	}
	require.NoError(t, g.Wait())
	require.Zero(t, overlaps.Load(), "two callers held the slot at once")
	require.Len(t, spans, replicas*goroutines*rounds)

	// The slot is exclusive: each request, timed by the test, began after
	// the one before it ended (the next Acquire returns only after the
	// release has committed, so this holds however the goroutines are
	// scheduled).
	slices.SortFunc(spans, func(a, b span) int { return a.start.Compare(b.start) })
	for i := 1; i < len(spans); i++ {
		prev, cur := spans[i-1], spans[i]
		require.False(t, cur.start.Before(prev.end), "%s started before %s ended", cur.who, prev.who)
	}

	// The spacing, measured where the pacer decides it instead of after
	// Acquire returns (where a descheduled goroutine would shift the
	// test's own reading). On the database clock, claims are interval
	// apart exactly: a claim needs clock_timestamp() >= next_start_at, and
	// the claim before it set next_start_at >= its start + interval.
	claims.mu.Lock()
	defer claims.mu.Unlock()
	require.Len(t, claims.db, replicas*goroutines*rounds)
	db := slices.SortedFunc(slices.Values(claims.db), time.Time.Compare)
	for i := 1; i < len(db); i++ {
		require.GreaterOrEqual(t, db[i].Sub(db[i-1]), interval, "database claims %d and %d", i-1, i)
	}
	// As callers see it: Acquire returns at "granted", which is at most
	// its claim's round trip (lag) after the database's start; release
	// pushes the next start lag further, so in real time the next claim,
	// and its granted, come at least interval after this granted. No
	// clock is compared with another here (the database's wall clock only
	// measures its own intervals), so the only tolerance is for the two
	// clocks' rates (NTP slews by at most 0.05%).
	const tolerance = 100 * time.Microsecond
	local := slices.SortedFunc(slices.Values(claims.local), time.Time.Compare)
	for i := 1; i < len(local); i++ {
		require.GreaterOrEqual(t, local[i].Sub(local[i-1]), interval-tolerance, "grants %d and %d as the callers saw them", i-1, i)
	}
}

// waiter starts an Acquire on its own Pacer and reports once it has polled
// without getting the slot (so it is waiting, and an Interactive one has its
// waiter row), and again when it got the slot.
type waiter struct {
	label   string
	waiting chan struct{}
	got     chan error
	release func(time.Time)
}

func startWaiter(t *testing.T, ctx context.Context, db *sql.DB, name string, interval time.Duration,
	prio pacing.Priority, label string, order chan<- string) *waiter {
	t.Helper()
	p := newPacer(t, db, pgpacing.Config{Name: name, Interval: interval, PollInterval: 5 * time.Millisecond})
	w := &waiter{label: label, waiting: make(chan struct{}), got: make(chan error, 1)}
	var once sync.Once
	pgpacing.SetPollHook(p, func(pacing.Priority) { once.Do(func() { close(w.waiting) }) })
	go func() {
		release, err := single(ctx, p, prio)
		if err == nil {
			if order != nil {
				order <- label
			}
			w.release = release
		}
		w.got <- err
	}()
	return w
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestPacerServesInteractiveFirstAcrossReplicas(t *testing.T) {
	t.Parallel()
	const interval = 20 * time.Millisecond
	d := newTestDB(t)
	dbs := d.migrated(t, 4)
	ctx := t.Context()

	holder := newPacer(t, dbs[0], pgpacing.Config{Name: d.name, Interval: interval})
	releaseHolder, err := single(ctx, holder, pacing.Background)
	require.NoError(t, err)

	order := make(chan string, 8)
	var waiters []*waiter
	for i, db := range []*sql.DB{dbs[1], dbs[1], dbs[2], dbs[2]} {
		w := startWaiter(t, ctx, db, d.name, interval, pacing.Background, fmt.Sprintf("background-%d", i), order)
		waitFor(t, w.waiting, w.label+" to wait")
		waiters = append(waiters, w)
	}
	// Interactive callers arrive last, on two other replicas.
	for i, db := range []*sql.DB{dbs[3], dbs[1]} {
		w := startWaiter(t, ctx, db, d.name, interval, pacing.Interactive, fmt.Sprintf("interactive-%d", i), order)
		waitFor(t, w.waiting, w.label+" to wait")
		waiters = append(waiters, w)
	}
	releaseHolder(time.Time{})

	// Hand the slot on as each waiter gets it; record the order.
	var got []string
	for range waiters {
		var label string
		select {
		case label = <-order:
		case <-time.After(5 * time.Second):
			t.Fatalf("no waiter got the slot; order so far %v", got)
		}
		got = append(got, label)
		for _, w := range waiters {
			if w.label == label {
				require.NoError(t, <-w.got)
				w.release(time.Time{})
			}
		}
	}
	require.Equal(t, []string{"interactive-0", "interactive-1"}, got[:2],
		"interactive callers must get the next slots, in the order they came, before every waiting background caller; order %v", got)
}

// A Background request on one replica that has let rule.AgeLimit
// starts go to Interactive ones on another is served before the next
// Interactive one waiting.
func TestPacerBackgroundAgesAcrossReplicas(t *testing.T) {
	t.Parallel()
	const interval = 10 * time.Millisecond
	d := newTestDB(t)
	dbs := d.migrated(t, 3)
	ctx := t.Context()

	order := make(chan string, 64)
	first := startWaiter(t, ctx, dbs[0], d.name, interval, pacing.Interactive, "i0", order)
	require.NoError(t, <-first.got)
	<-order
	bg := startWaiter(t, ctx, dbs[1], d.name, interval, pacing.Background, "bg", order)
	waitFor(t, bg.waiting, "the background caller to wait")
	holder := first
	var got []string
	for i := 1; ; i++ {
		require.Less(t, i, 40, "the background caller never got the slot: %v", got)
		next := startWaiter(t, ctx, dbs[2], d.name, interval, pacing.Interactive, fmt.Sprintf("i%d", i), order)
		waitFor(t, next.waiting, next.label+" to wait")
		// Long enough for the background caller to poll (every 5 ms) and,
		// once aged, to register as an Interactive waiter.
		time.Sleep(4 * interval)
		holder.release(time.Time{})
		label := <-order
		got = append(got, label)
		if label == "bg" {
			require.NoError(t, <-bg.got)
			bg.release(time.Time{})
			require.NoError(t, <-next.got)
			next.release(time.Time{})
			break
		}
		require.NoError(t, <-next.got)
		holder = next
	}
	// i0 started before bg asked; then N = rule.AgeLimit Interactive
	// starts were let go. The background caller learns it has aged at its
	// first poll after iN's start and ranks as asking then: before iN+1
	// when that poll came before iN+1 first asked, else after it. On a
	// machine too busy to poll within the sleep above, one more start may
	// go.
	require.GreaterOrEqual(t, len(got), rule.AgeLimit+1, "order: %v", got)
	require.LessOrEqual(t, len(got), rule.AgeLimit+3, "order: %v", got)
}

func TestPacerCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	const interval = 10 * time.Millisecond
	d := newTestDB(t)
	dbs := d.migrated(t, 3)

	holder := newPacer(t, dbs[0], pgpacing.Config{Name: d.name, Interval: interval})
	releaseHolder, err := single(t.Context(), holder, pacing.Background)
	require.NoError(t, err)

	for _, prio := range []pacing.Priority{pacing.Interactive, pacing.Background} {
		ctx, cancel := context.WithCancel(t.Context())
		w := startWaiter(t, ctx, dbs[1], d.name, interval, prio, "waiter", nil)
		waitFor(t, w.waiting, "the waiter to wait")
		cancel()
		select {
		case err := <-w.got:
			require.ErrorIs(t, err, context.Canceled)
		case <-time.After(5 * time.Second):
			t.Fatal("Acquire did not return after its context was cancelled")
		}
	}
	var rows int
	require.NoError(t, dbs[2].QueryRowContext(t.Context(),
		"SELECT count(*) FROM leadcalls_pacer_waiters").Scan(&rows))
	require.Zero(t, rows, "a cancelled interactive waiter must remove its row")

	// Had the cancelled interactive waiter's row stayed, this background
	// caller would be held back for its 5s lease.
	releaseHolder(time.Time{})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	release, err := single(ctx, newPacer(t, dbs[2], pgpacing.Config{Name: d.name, Interval: interval}), pacing.Background)
	require.NoError(t, err)
	release(time.Time{})
}

func TestPacerLeaseFreesSlotOfCrashedHolder(t *testing.T) {
	t.Parallel()
	const (
		interval = 10 * time.Millisecond
		lease    = 300 * time.Millisecond
	)
	d := newTestDB(t)
	dbs := d.migrated(t, 3)
	ctx := t.Context()
	var claims claimTimes
	acquireWithin := func(db *sql.DB, within time.Duration) (func(time.Time), error) {
		ctx, cancel := context.WithTimeout(ctx, within)
		defer cancel()
		p := newPacer(t, db, pgpacing.Config{Name: d.name, Interval: interval, PollInterval: 5 * time.Millisecond})
		pgpacing.SetClaimHook(p, claims.hook)
		return single(ctx, p, pacing.Background)
	}

	crashed := newPacer(t, dbs[0], pgpacing.Config{Name: d.name, Interval: interval, Lease: lease})
	pgpacing.SetClaimHook(crashed, claims.hook)
	releaseCrashed, err := single(ctx, crashed, pacing.Background)
	require.NoError(t, err)
	crashedStart, _ := claims.last()

	// The successor gets the slot only once the lease has run out, as the
	// database's claim times show (the test's own timing does not matter).
	releaseNext, err := acquireWithin(dbs[1], 5*time.Second)
	require.NoError(t, err, "the lease must free the slot of a holder that never releases")
	nextStart, _ := claims.last()
	require.GreaterOrEqual(t, nextStart.Sub(crashedStart), lease, "the slot was taken before the holder's lease ended")

	// The crashed holder comes back and releases late: that must not free
	// the slot its successor holds (default lease: 2 minutes, so the
	// waiter below fails at its deadline however slow the machine is).
	releaseCrashed(time.Time{})
	_, err = acquireWithin(dbs[2], 150*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded, "a stale release freed another holder's slot")

	releaseNext(time.Time{})
	releaseNext(time.Time{}) // idempotent: must not disturb the next holder either
	release, err := acquireWithin(dbs[2], 5*time.Second)
	require.NoError(t, err)
	release(time.Time{})
}
