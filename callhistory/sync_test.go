package callhistory_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/storage/memstore"
	"github.com/leadcalls/leadcalls/storage/storagetest"
)

// syncNow is the first pass's start in the sync tests: a whole second.
var syncNow = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

// syncKey is the fake's API key; it must never reach a log line or the
// state.
const syncKey = "sync-canary-key-6f1c2e"

// syncClock is a settable clock.
type syncClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *syncClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *syncClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// syncLogs is a goroutine-safe log buffer.
type syncLogs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// recordingSource records the queries a Syncer makes of a real client.
type recordingSource struct {
	*callyzer.Client
	mu      sync.Mutex
	queries []callyzer.HistoryQuery
}

func (s *recordingSource) record(q callyzer.HistoryQuery) {
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.mu.Unlock()
}

func (s *recordingSource) HistoryPages(ctx context.Context, q callyzer.HistoryQuery) iter.Seq2[*callyzer.HistoryPage, error] {
	s.record(q)
	return s.Client.HistoryPages(ctx, q)
}

func (s *recordingSource) priorities() []pacing.Priority {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []pacing.Priority
	for _, q := range s.queries {
		out = append(out, q.Priority)
	}
	return out
}

type syncEnv struct {
	srv    *callyzertest.Server
	src    *recordingSource
	store  *memstore.Store
	clock  *syncClock
	logs   *syncLogs
	syncer *callhistory.Syncer
}

type syncOptions struct {
	server    callyzertest.Options
	clientKey string // default: the server's key
	client    []callyzer.Option
	hooks     *storagetest.Hooks
	config    func(*callhistory.SyncConfig)
}

// newSyncEnv starts a fake Callyzer, a real client with no pacing, no retry
// delays, no retries and pages of 5 rows, a memstore and a Syncer on them.
func newSyncEnv(t testing.TB, o syncOptions) *syncEnv {
	t.Helper()
	o.server.APIKey = syncKey
	srv := callyzertest.NewServer(t, o.server)
	key := o.clientKey
	if key == "" {
		key = srv.APIKey()
	}
	logs := &syncLogs{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, err := callyzer.NewClient(key, append([]callyzer.Option{
		callyzer.WithBaseURL(srv.URL),
		callyzer.WithInterval(0),
		callyzer.WithRetryDelays(0, 0),
		callyzer.WithMaxRetries(0),
		callyzer.WithPageSize(5),
		callyzer.WithLogger(logger),
	}, o.client...)...)
	require.NoError(t, err)
	env := &syncEnv{
		srv:   srv,
		src:   &recordingSource{Client: client},
		store: memstore.New(),
		clock: &syncClock{now: syncNow},
		logs:  logs,
	}
	cfg := callhistory.SyncConfig{
		Source: env.src,
		Store:  storagetest.WithHooks(env.store, o.hooks),
		State:  env.store,
		Now:    env.clock.Now,
		Logger: logger,
	}
	if o.config != nil {
		o.config(&cfg)
	}
	env.syncer, err = callhistory.NewSyncer(cfg)
	require.NoError(t, err)
	return env
}

// state returns the saved sync state.
func (e *syncEnv) state(t testing.TB) callhistory.SyncState {
	t.Helper()
	st, err := e.syncer.State(t.Context())
	require.NoError(t, err)
	return st
}

// stored returns every stored call of phones, by CallyzerID, failing on a
// duplicate.
func (e *syncEnv) stored(t testing.TB, phones ...string) map[string]callhistory.Call {
	t.Helper()
	out := map[string]callhistory.Call{}
	for _, p := range phones {
		calls, err := e.store.Calls(t.Context(), p, 0)
		require.NoError(t, err)
		for _, c := range calls {
			_, dup := out[c.CallyzerID]
			require.False(t, dup, "call %s stored twice", c.CallyzerID)
			out[c.CallyzerID] = c
		}
	}
	return out
}

// requireClean checks that neither the logs nor the state carry the API key
// or a full number of the tests.
func (e *syncEnv) requireClean(t testing.TB) {
	t.Helper()
	st := e.state(t)
	for _, text := range []string{e.logs.String(), st.LastError} {
		require.NotContains(t, text, syncKey)
		for _, p := range syncPhones {
			require.NotContains(t, text, p)
			require.NotContains(t, text, p[3:]) // the national digits
		}
	}
}

// backfillRequests returns the fake's requests by call time (the backfill's).
func backfillRequests(reqs []callyzertest.Request) []callyzertest.Request {
	var out []callyzertest.Request
	for _, r := range reqs {
		if _, ok := r.Body["call_from"]; ok {
			out = append(out, r)
		}
	}
	return out
}

// incrementalRequests returns the fake's requests by upload time only.
func incrementalRequests(reqs []callyzertest.Request) []callyzertest.Request {
	var out []callyzertest.Request
	for _, r := range reqs {
		if _, ok := r.Body["call_from"]; !ok {
			if _, ok := r.Body["synced_from"]; ok {
				out = append(out, r)
			}
		}
	}
	return out
}

func unix(r callyzertest.Request, field string) time.Time {
	return time.Unix(int64(r.Body[field].(float64)), 0).UTC()
}

// The numbers of the sync tests.
var syncPhones = []string{"+48601200301", "+48601200302", "+48601200303"}

// syncCall is a call of phones[i%3] started at, uploaded two minutes later.
func syncCall(id string, i int, at time.Time) callyzertest.Call {
	return callyzertest.NewCall(id, syncPhones[i%len(syncPhones)], at)
}

// spreadCalls returns n calls started an hour apart from newest back,
// ids prefix+index.
func spreadCalls(prefix string, n int, newest time.Time, step time.Duration) []callyzertest.Call {
	out := make([]callyzertest.Call, n)
	for i := range out {
		out[i] = syncCall(fmt.Sprintf("%s%03d", prefix, i), i, newest.Add(-time.Duration(i)*step))
	}
	return out
}

func TestSyncFirstRunBackfillsThenPicksUpLateUploads(t *testing.T) {
	t.Parallel()
	// 30 calls over the last six months, one older (outside the backfill),
	// and two uploaded in the last hour (read again two hours later).
	calls := spreadCalls("b-", 30, syncNow.Add(-3*time.Hour), 6*24*time.Hour)
	calls[0].SyncedAt = syncNow.Add(-30 * time.Minute)
	calls[1].SyncedAt = syncNow.Add(-20 * time.Minute)
	old := syncCall("old", 0, syncNow.AddDate(0, -7, 0))
	env := newSyncEnv(t, syncOptions{server: callyzertest.Options{Calls: append(calls, old)}})

	rep, err := env.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	// The incremental read [now-1m, now] finds nothing; the backfill reads
	// all 30 (6 pages and the empty older chunk).
	want := callhistory.SyncCounts{Pages: 1, Requests: 1}
	require.Empty(t, cmp.Diff(want, rep.Incremental))
	want = callhistory.SyncCounts{Pages: 7, Requests: 7, Seen: 30, Inserted: 30}
	require.Empty(t, cmp.Diff(want, rep.Backfill))
	require.Equal(t, 30, rep.Inserted)
	require.Len(t, env.stored(t, syncPhones...), 30)
	st := env.state(t)
	require.Equal(t, callhistory.SyncIdle, st.Status)
	require.True(t, st.Cursor.Equal(syncNow), "the first run's cursor is its start, got %v", st.Cursor)
	require.True(t, st.Backfill.Done)
	require.True(t, st.Backfill.From.Equal(syncNow.AddDate(0, -6, 0)))
	require.True(t, st.LastSuccess.Equal(syncNow))
	require.Empty(t, cmp.Diff(*rep, st.LastReport))
	for _, p := range env.src.priorities() {
		require.Equal(t, pacing.Background, p, "the sync's requests are Background")
	}

	// A call made three days ago reaches Callyzer only now.
	late := syncCall("late-1", 1, syncNow.Add(-72*time.Hour))
	late.SyncedAt = syncNow.Add(30 * time.Minute)
	env.srv.AddCalls(late)
	env.clock.Set(syncNow.Add(time.Hour))
	env.srv.ResetRequests()

	rep, err = env.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	want = callhistory.SyncCounts{Pages: 2, Requests: 2, Seen: 1, Inserted: 1}
	require.Empty(t, cmp.Diff(want, rep.SyncCounts), "the second pass reads the late upload")
	require.Zero(t, rep.Backfill)
	reqs := env.srv.Requests()
	require.Len(t, reqs, 2)
	require.Empty(t, backfillRequests(reqs), "no backfill once it is done")
	// First the uploads leaving the Overlap window, [cursor - 2h, now - 2h];
	// then the new ones, [cursor - 1m, now].
	require.True(t, unix(reqs[0], "synced_from").Equal(syncNow.Add(-2*time.Hour)))
	require.True(t, unix(reqs[0], "synced_to").Equal(syncNow.Add(-time.Hour)))
	require.True(t, unix(reqs[1], "synced_from").Equal(syncNow.Add(-time.Minute)), "reads from cursor - 1m")
	require.True(t, unix(reqs[1], "synced_to").Equal(syncNow.Add(time.Hour)))
	require.Contains(t, env.stored(t, syncPhones...), "late-1")
	require.True(t, env.state(t).Cursor.Equal(syncNow.Add(time.Hour)))

	// Two hours after their stamps, a pass reads the three recent uploads
	// once more (a call Callyzer made visible late would be read here):
	// unchanged, not inserted again.
	env.clock.Set(syncNow.Add(160 * time.Minute))
	rep, err = env.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	want = callhistory.SyncCounts{Pages: 2, Requests: 2, Seen: 3, Unchanged: 3}
	require.Empty(t, cmp.Diff(want, rep.SyncCounts))
	require.Len(t, env.stored(t, syncPhones...), 31)
	last, err := env.store.LastSynced(t.Context(), syncPhones[1])
	require.NoError(t, err)
	require.True(t, last.Equal(syncNow.Add(160*time.Minute)), "the sync moves the last-sync date of the numbers it wrote")
	env.requireClean(t)
}

func TestSyncKilledMidBackfillResumesAtThePageThatFailed(t *testing.T) {
	t.Parallel()
	// A 183-day backfill is two chunks: [now-180d, now] holds 38 calls
	// (8 pages of 5), the older one holds 2 (1 page).
	recent := spreadCalls("r-", 38, syncNow.Add(-3*time.Hour), 4*24*time.Hour) // uploaded before the first incremental window
	older := spreadCalls("o-", 2, syncNow.Add(-181*24*time.Hour), time.Hour)
	all := append(slices.Clone(recent), older...)
	ids := func(m map[string]callhistory.Call) []string {
		var out []string
		for id := range m {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	var wantIDs []string
	for _, c := range all {
		wantIDs = append(wantIDs, c.ID)
	}
	slices.Sort(wantIDs)

	for _, tc := range []struct {
		name       string
		failPage   int // the backfill page of the first chunk that fails
		byCancel   bool
		wantStatus callhistory.SyncStatus
		wantErr    error
		failures   int
	}{
		{name: "APIFaultOnPage4", failPage: 4, wantStatus: callhistory.SyncFailedOther, wantErr: callhistory.ErrUpstream, failures: 1},
		{name: "APIFaultOnPage1", failPage: 1, wantStatus: callhistory.SyncFailedOther, wantErr: callhistory.ErrUpstream, failures: 1},
		{name: "APIFaultOnLastPage", failPage: 8, wantStatus: callhistory.SyncFailedOther, wantErr: callhistory.ErrUpstream, failures: 1},
		{name: "CancelledWhileCommittingPage6", failPage: 6, byCancel: true, wantStatus: callhistory.SyncIdle, wantErr: context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var commits, cancelAt atomic.Int64
			hooks := &storagetest.Hooks{BeforeCommit: func() error {
				if commits.Add(1) == cancelAt.Load() {
					cancel()
				}
				return nil
			}}
			env := newSyncEnv(t, syncOptions{server: callyzertest.Options{Calls: all}, hooks: hooks})
			// Request 1 is the incremental read; the backfill's page k is
			// request k+1.
			if tc.byCancel {
				cancelAt.Store(int64(tc.failPage)) // the incremental read commits nothing
			} else {
				env.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 500, Request: tc.failPage + 1})
			}

			rep, err := env.syncer.RunOnce(ctx)
			require.ErrorIs(t, err, tc.wantErr)
			committed := (tc.failPage - 1) * 5
			require.Equal(t, committed, rep.Backfill.Inserted)
			require.Len(t, env.stored(t, syncPhones...), committed, "the pages before the failure stay committed")
			st := env.state(t)
			require.Equal(t, tc.wantStatus, st.Status)
			require.Equal(t, tc.failures, st.ConsecutiveFailures)
			require.NotEmpty(t, st.LastError)
			require.True(t, !st.Backfill.To.IsZero() && !st.Backfill.Done)
			// A zero cursor is the start: page 1 of the newest chunk.
			require.Equal(t, tc.failPage, max(st.Backfill.NextPage, 1), "the progress points at the page not committed")
			require.Equal(t, committed, st.Backfill.Seen)
			require.True(t, st.Cursor.Equal(syncNow))
			require.Len(t, backfillRequests(env.srv.Requests()), tc.failPage)

			env.srv.ResetRequests()
			env.clock.Set(syncNow.Add(10 * time.Minute))
			rep, err = env.syncer.RunOnce(t.Context())
			require.NoError(t, err)
			reqs := backfillRequests(env.srv.Requests())
			require.Len(t, reqs, 8-tc.failPage+1+1, "the resumed pass reads the failed page and the rest, nothing before")
			require.Equal(t, tc.failPage, reqs[0].PageNo)
			require.True(t, unix(reqs[0], "call_to").Equal(syncNow))
			require.Equal(t, 40-committed, rep.Backfill.Inserted)
			require.Zero(t, rep.Backfill.Unchanged, "no committed page is read again")
			require.Equal(t, wantIDs, ids(env.stored(t, syncPhones...)), "every call once, none lost")
			st = env.state(t)
			require.Equal(t, callhistory.SyncIdle, st.Status)
			require.Zero(t, st.ConsecutiveFailures)
			require.Empty(t, st.LastError)
			require.True(t, st.Backfill.Done)
			env.requireClean(t)
		})
	}
}

func TestSyncStoreFailureLeavesTheCursorBehind(t *testing.T) {
	t.Parallel()
	var commits, failOn atomic.Int64 // failOn: the commit of the pass that fails; 0 for none
	errDisk := errors.New("disk full")
	hooks := &storagetest.Hooks{BeforeCommit: func() error {
		if commits.Add(1) == failOn.Load() {
			return errDisk
		}
		return nil
	}}
	// Chunks of one day, so that the three-day outage below is read as
	// four chunks: [c-1m, c+23h59m], [c+23h59m+1s, ...], ...
	env := newSyncEnv(t, syncOptions{
		hooks:  hooks,
		client: []callyzer.Option{callyzer.WithMaxWindow(24 * time.Hour)},
		config: func(c *callhistory.SyncConfig) {
			c.Overlap = time.Hour
		},
	})
	// The sync last ran three days ago and its backfill is done.
	cursor := syncNow.Add(-72 * time.Hour)
	require.NoError(t, env.store.SaveSyncState(t.Context(), "default", callhistory.SyncState{
		Status:   callhistory.SyncIdle,
		Cursor:   cursor,
		Backfill: callhistory.BackfillProgress{From: cursor.AddDate(0, -6, 0), To: cursor, Cursor: callyzer.Cursor{Done: true}},
	}))
	// Uploads during the outage: 7 on each day (two pages of each chunk).
	var uploads []callyzertest.Call
	for day := range 3 {
		for i := range 7 {
			c := syncCall(fmt.Sprintf("u-%d-%d", day, i), i, cursor.Add(time.Duration(day*24+i)*time.Hour))
			c.SyncedAt = c.StartedAt.Add(30 * time.Minute)
			uploads = append(uploads, c)
		}
	}
	env.srv.SetCalls(uploads...)

	pass := func(failAt int64) (*callhistory.SyncReport, error) {
		commits.Store(0)
		failOn.Store(failAt)
		return env.syncer.RunOnce(t.Context())
	}

	// The store fails on the first chunk's second page.
	rep, err := pass(2)
	require.ErrorIs(t, err, callhistory.ErrStore)
	require.ErrorIs(t, err, errDisk)
	require.Equal(t, 5, rep.Inserted, "the first page stays committed")
	st := env.state(t)
	require.True(t, st.Cursor.Equal(cursor), "a failed batch leaves the cursor where it was, got %v", st.Cursor)
	require.Equal(t, callhistory.SyncFailedOther, st.Status)
	require.Equal(t, 1, st.ConsecutiveFailures)
	require.Contains(t, st.LastError, "disk full")

	// Now it fails on the second chunk: the cursor moves past the first
	// chunk, which is committed, and no further.
	rep, err = pass(3)
	require.ErrorIs(t, err, errDisk)
	// (The first request reads the uploads leaving the Overlap window, none.)
	require.Equal(t, callhistory.SyncCounts{Pages: 4, Requests: 4, Seen: 12, Inserted: 2, Unchanged: 5}, rep.SyncCounts)
	st = env.state(t)
	require.True(t, st.Cursor.Equal(cursor.Add(24*time.Hour-time.Minute)), "the cursor is the end of the committed chunk, got %v", st.Cursor)
	require.Equal(t, 2, st.ConsecutiveFailures)

	// Recovery reads from the cursor (less the overlap) and stores the rest.
	rep, err = pass(0)
	require.NoError(t, err)
	require.Equal(t, 14, rep.Inserted)
	require.Len(t, env.stored(t, syncPhones...), 21)
	st = env.state(t)
	require.True(t, st.Cursor.Equal(syncNow))
	require.Zero(t, st.ConsecutiveFailures)
	require.Equal(t, callhistory.SyncIdle, st.Status)
	require.Empty(t, st.LastError)
}

func TestSyncFailuresAreCountedAndClassified(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		fault      callyzertest.Fault
		wantStatus callhistory.SyncStatus
		wantErr    error
	}{
		{"Unauthorized401", callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 401, Always: true},
			callhistory.SyncFailedUnauthorized, callhistory.ErrCallyzerAuth},
		{"Forbidden403", callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 403, Always: true},
			callhistory.SyncFailedUnauthorized, callhistory.ErrCallyzerAuth},
		{"RateLimited", callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 429, RetryAfter: "3600", Always: true},
			callhistory.SyncFailedRateLimited, callhistory.ErrRateLimited},
		{"ServerError", callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 503, Always: true},
			callhistory.SyncFailedOther, callhistory.ErrUpstream},
		{"Garbage", callyzertest.Fault{Kind: callyzertest.FaultGarbage, Always: true},
			callhistory.SyncFailedOther, callhistory.ErrUpstream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newSyncEnv(t, syncOptions{
				server: callyzertest.Options{Calls: spreadCalls("f-", 12, syncNow.Add(-3*time.Hour), 24*time.Hour)},
				// A 429 holds the key's slot for its Retry-After, capped here.
				client: []callyzer.Option{callyzer.WithLimits(0, 0, 10*time.Millisecond)},
			})
			env.srv.Inject(tc.fault)
			for pass := 1; pass <= 2; pass++ {
				rep, err := env.syncer.RunOnce(t.Context())
				require.ErrorIs(t, err, tc.wantErr)
				require.Equal(t, pass, env.srv.RequestCount(), "a failed pass stops at its first request")
				require.Equal(t, 1, rep.Requests)
				st := env.state(t)
				require.Equal(t, tc.wantStatus, st.Status)
				require.Equal(t, pass, st.ConsecutiveFailures)
				require.NotEmpty(t, st.LastError)
				require.True(t, st.LastSuccess.IsZero())
				require.True(t, st.RunningSince.IsZero())
				require.Equal(t, tc.wantStatus, st.LastReport.Status)
			}
			env.srv.ClearFaults()
			env.clock.Set(syncNow.Add(time.Minute))
			rep, err := env.syncer.RunOnce(t.Context())
			require.NoError(t, err)
			require.Equal(t, 12, rep.Inserted)
			st := env.state(t)
			require.Equal(t, callhistory.SyncIdle, st.Status)
			require.Zero(t, st.ConsecutiveFailures, "a success resets the count")
			require.Empty(t, st.LastError)
			require.True(t, st.LastSuccess.Equal(syncNow.Add(time.Minute)))
			env.requireClean(t)
		})
	}
}

func TestSyncWrongAPIKeySendsOneRequest(t *testing.T) {
	t.Parallel()
	env := newSyncEnv(t, syncOptions{clientKey: "wrong-" + syncKey})
	_, err := env.syncer.RunOnce(t.Context())
	require.ErrorIs(t, err, callhistory.ErrCallyzerAuth)
	require.Equal(t, 1, env.srv.RequestCount())
	require.False(t, env.srv.Requests()[0].Authorized)
	st := env.state(t)
	require.Equal(t, callhistory.SyncFailedUnauthorized, st.Status)
	require.Equal(t, 1, st.ConsecutiveFailures)
	require.NotContains(t, st.LastError, "wrong-")
	require.NotContains(t, env.logs.String(), "wrong-")
	env.requireClean(t)
}

// leakyStore fails every write with an error that quotes the number.
type leakyStore struct{ *memstore.Store }

func (s leakyStore) Update(_ context.Context, phones []string, _ func(callhistory.Tx) error) error {
	p := phones[0]
	return fmt.Errorf("constraint failed for %s (%s %s %s) at 2026-05-25T14:00:00Z", p, p[3:6], p[6:9], p[9:])
}

func TestSyncErrorsNeverCarryFullNumbers(t *testing.T) {
	t.Parallel()
	env := newSyncEnv(t, syncOptions{
		server: callyzertest.Options{Calls: spreadCalls("m-", 3, syncNow.Add(-3*time.Hour), time.Hour)},
		config: func(c *callhistory.SyncConfig) { c.Store = leakyStore{c.State.(*memstore.Store)} },
	})
	_, err := env.syncer.RunOnce(t.Context())
	require.ErrorIs(t, err, callhistory.ErrStore)
	st := env.state(t)
	require.Contains(t, st.LastError, "+48 601 *** 301", "a number in an error is masked like MaskPhone does")
	require.NotContains(t, st.LastError, "601 200 301")
	require.Contains(t, st.LastError, "2026-05-25T14:00:00Z", "dates stay readable")
	env.requireClean(t)
}

func TestSyncExplicitBackfillRereadsTheWindow(t *testing.T) {
	t.Parallel()
	env := newSyncEnv(t, syncOptions{server: callyzertest.Options{
		Calls: spreadCalls("x-", 8, syncNow.Add(-3*time.Hour), 10*24*time.Hour),
	}})
	_, err := env.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	later := syncNow.Add(24 * time.Hour)
	env.clock.Set(later)
	env.srv.ResetRequests()

	rep, err := env.syncer.Backfill(t.Context())
	require.NoError(t, err)
	require.Equal(t, 8, rep.Backfill.Unchanged)
	require.Zero(t, rep.Inserted)
	st := env.state(t)
	require.True(t, st.Backfill.Done)
	require.True(t, st.Backfill.To.Equal(later), "a requested backfill reads back from now")
	require.True(t, st.Cursor.Equal(later))
	reqs := backfillRequests(env.srv.Requests())
	require.NotEmpty(t, reqs)
	require.True(t, unix(reqs[0], "call_to").Equal(later))
}

func TestSyncPassLock(t *testing.T) {
	t.Parallel()
	t.Run("HeldElsewhere", func(t *testing.T) {
		t.Parallel()
		lock := callhistory.NewLocalPassLock()
		env := newSyncEnv(t, syncOptions{config: func(c *callhistory.SyncConfig) { c.Lock = lock }})
		release, ok, err := lock.TryLock(t.Context(), "default")
		require.NoError(t, err)
		require.True(t, ok)
		rep, err := env.syncer.RunOnce(t.Context())
		require.ErrorIs(t, err, callhistory.ErrPassInProgress)
		require.Nil(t, rep)
		require.Zero(t, env.srv.RequestCount(), "a pass that finds the lock held does nothing")
		require.Empty(t, cmp.Diff(callhistory.SyncState{}, env.state(t)))
		require.NoError(t, release())
		_, err = env.syncer.RunOnce(t.Context())
		require.NoError(t, err)
	})
	t.Run("OtherNamesRun", func(t *testing.T) {
		t.Parallel()
		lock := callhistory.NewLocalPassLock()
		env := newSyncEnv(t, syncOptions{config: func(c *callhistory.SyncConfig) { c.Lock, c.Name = lock, "konto-2" }})
		release, ok, err := lock.TryLock(t.Context(), "default")
		require.NoError(t, err)
		require.True(t, ok)
		defer func() { require.NoError(t, release()) }()
		_, err = env.syncer.RunOnce(t.Context())
		require.NoError(t, err)
		st, err := env.store.SyncState(t.Context(), "konto-2")
		require.NoError(t, err)
		require.Equal(t, callhistory.SyncIdle, st.Status)
	})
	t.Run("ReleasedOnceAfterEveryPass", func(t *testing.T) {
		t.Parallel()
		var taken, released atomic.Int64
		inner := callhistory.NewLocalPassLock()
		lock := lockFunc(func(ctx context.Context, name string) (func() error, bool, error) {
			rel, ok, err := inner.TryLock(ctx, name)
			if !ok {
				return rel, ok, err
			}
			taken.Add(1)
			return func() error { released.Add(1); return rel() }, true, nil
		})
		env := newSyncEnv(t, syncOptions{config: func(c *callhistory.SyncConfig) { c.Lock = lock }})
		_, err := env.syncer.RunOnce(t.Context())
		require.NoError(t, err)
		env.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 500, Always: true})
		_, err = env.syncer.RunOnce(t.Context())
		require.Error(t, err)
		require.Equal(t, int64(2), taken.Load())
		require.Equal(t, int64(2), released.Load())
	})
	t.Run("LockError", func(t *testing.T) {
		t.Parallel()
		errDB := errors.New("connection refused")
		env := newSyncEnv(t, syncOptions{config: func(c *callhistory.SyncConfig) {
			c.Lock = lockFunc(func(context.Context, string) (func() error, bool, error) { return nil, false, errDB })
		}})
		_, err := env.syncer.RunOnce(t.Context())
		require.ErrorIs(t, err, errDB)
		require.ErrorIs(t, err, callhistory.ErrStore)
		require.Zero(t, env.srv.RequestCount())
	})
}

// syncLeads is the CRM's leads for the race and priority tests.
type syncLeads map[string]callhistory.Lead

func (l syncLeads) Lead(_ context.Context, id string) (callhistory.Lead, error) {
	lead, ok := l[id]
	if !ok {
		return callhistory.Lead{}, callhistory.ErrLeadNotFound
	}
	return lead, nil
}

var syncAdmin = &callhistory.Actor{ID: "admin-1", Role: callhistory.RoleAdministrator}

func TestSyncAndRefreshRacingOnOneNumber(t *testing.T) {
	t.Parallel()
	lead := callhistory.Lead{ID: "L-1", Name: "Jan Kowalski", Phone: syncPhones[0]}
	leads := syncLeads{lead.ID: lead}
	calls := spreadCalls("race-", 30, syncNow.Add(-3*time.Hour), 5*24*time.Hour) // 10 of the lead's number
	var wantIDs []string
	for _, c := range calls {
		if c.ClientE164() == lead.Phone {
			wantIDs = append(wantIDs, c.ID)
		}
	}
	slices.Sort(wantIDs)
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: calls})
	client, err := callyzer.NewClient(srv.APIKey(), callyzer.WithBaseURL(srv.URL), callyzer.WithInterval(0),
		callyzer.WithRetryDelays(0, 0), callyzer.WithPageSize(5))
	require.NoError(t, err)
	discard := slog.New(slog.DiscardHandler)

	const rounds = 30
	for i := range rounds {
		yield := func() error { time.Sleep(0); return nil }
		mem := memstore.New()
		store := storagetest.WithHooks(mem, &storagetest.Hooks{
			AfterDelete: yield, BeforeWrite: func(int) error { return yield() }, BeforeCommit: yield,
		})
		// Alternate which of the two carries the later date.
		refreshAt := syncNow.Add(time.Duration(2*i+i%2) * time.Second)
		syncAt := syncNow.Add(time.Duration(2*i+1-i%2) * time.Second)
		r, err := callhistory.NewRefresher(callhistory.Config{Source: client, Store: store, Leads: leads,
			Now: func() time.Time { return refreshAt }, Logger: discard})
		require.NoError(t, err)
		s, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: client, Store: store, State: mem,
			Now: func() time.Time { return syncAt }, Logger: discard})
		require.NoError(t, err)

		var wg sync.WaitGroup
		stop := make(chan struct{})
		var seen []time.Time // last-sync dates the watcher read, in order
		var refreshErr, syncErr, watchErr error
		wg.Go(func() {
			for {
				last, err := store.LastSynced(context.Background(), lead.Phone)
				if err != nil {
					watchErr = err
					return
				}
				if len(seen) == 0 || !last.Equal(seen[len(seen)-1]) {
					seen = append(seen, last)
				}
				select {
				case <-stop:
					return
				default:
					time.Sleep(0)
				}
			}
		})
		var work sync.WaitGroup
		work.Go(func() { _, refreshErr = r.Refresh(t.Context(), syncAdmin, lead.ID) })
		work.Go(func() { _, syncErr = s.RunOnce(t.Context()) })
		work.Wait()
		close(stop)
		wg.Wait()
		r.Wait()
		require.NoError(t, refreshErr, "round %d", i)
		require.NoError(t, syncErr, "round %d", i)
		require.NoError(t, watchErr)

		stored, err := store.Calls(t.Context(), lead.Phone, 0)
		require.NoError(t, err)
		var got []string
		for _, c := range stored {
			got = append(got, c.CallyzerID)
		}
		slices.Sort(got)
		require.Equal(t, wantIDs, got, "round %d: every call of the number exactly once", i)
		last, err := store.LastSynced(t.Context(), lead.Phone)
		require.NoError(t, err)
		want := refreshAt
		if syncAt.After(want) {
			want = syncAt
		}
		require.True(t, last.Equal(want), "round %d: last-sync %v, want the later of both, %v", i, last, want)
		for k := 1; k < len(seen); k++ {
			require.False(t, seen[k].Before(seen[k-1]), "round %d: the last-sync date went back from %v to %v", i, seen[k-1], seen[k])
		}
	}
}

// markingPacer is the key's pacing.New pacer; it calls mark when an
// Interactive sequence (a refresh) first asks for the slot, before it
// queues.
type markingPacer struct {
	pacing.Pacer
	mark func()
}

func (p *markingPacer) Begin(prio pacing.Priority) pacing.Sequence {
	seq := p.Pacer.Begin(prio)
	if prio != pacing.Interactive {
		return seq
	}
	return &markingSequence{Sequence: seq, mark: p.mark}
}

type markingSequence struct {
	pacing.Sequence
	once sync.Once
	mark func()
}

func (s *markingSequence) Acquire(ctx context.Context) (func(time.Time), error) {
	s.once.Do(s.mark)
	return s.Sequence.Acquire(ctx)
}

// TestSyncBackgroundYieldsToAnInteractiveRefresh checks, by the order of
// requests at the fake and not by the clock, that an interactive refresh
// waits for at most the one sync request holding the Callyzer slot while a
// 200-page backfill keeps the queue full. At the moment the refresh asks
// for the slot, at most one sync request can hold it without having reached
// the fake yet; after that, the pacer serves the refresh before any
// waiting Background request. So at most one sync request may reach the
// fake between that moment and the refresh's own request, however slow the
// machine. The waits are logged, not bounded.
func TestSyncBackgroundYieldsToAnInteractiveRefresh(t *testing.T) {
	const (
		latency  = 20 * time.Millisecond // each request's time at the fake
		interval = 30 * time.Millisecond // the pacing interval of the client
	)
	lead := callhistory.Lead{ID: "L-7", Name: "Anna Nowak", Phone: "+48601200377"}
	calls := spreadCalls("bg-", 200, syncNow.Add(-3*time.Hour), 12*time.Hour)
	calls = append(calls,
		callyzertest.NewCall("lead-1", lead.Phone, syncNow.Add(-48*time.Hour)),
		callyzertest.NewCall("lead-2", lead.Phone, syncNow.Add(-24*time.Hour)))
	// The fake does not enforce the pace itself: on a loaded machine the
	// loopback delay of one request and not the next would make it refuse
	// a request the client paced correctly, and end the backfill early.
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: calls, Latency: latency})
	var queuedAt atomic.Int64 // the fake's request count when the refresh asked for the slot
	// The key's one slot, shared by both clients.
	pacer := &markingPacer{
		Pacer: pacing.New(interval),
		mark:  func() { queuedAt.Store(int64(srv.RequestCount())) },
	}
	newClient := func(opts ...callyzer.Option) *callyzer.Client {
		c, err := callyzer.NewClient(srv.APIKey(), append([]callyzer.Option{callyzer.WithBaseURL(srv.URL),
			callyzer.WithPacer(pacer), callyzer.WithRetryDelays(0, 0), callyzer.WithMaxRetries(0)}, opts...)...)
		require.NoError(t, err)
		return c
	}
	discard := slog.New(slog.DiscardHandler)
	store := memstore.New()
	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: newClient(callyzer.WithPageSize(1)), Store: store,
		Now: func() time.Time { return syncNow }, Logger: discard})
	require.NoError(t, err)
	refresher, err := callhistory.NewRefresher(callhistory.Config{Source: newClient(), Store: store,
		Leads: syncLeads{lead.ID: lead}, Now: func() time.Time { return syncNow }, Logger: discard})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := syncer.Backfill(ctx)
		done <- err
	}()
	waitRequests := func(n int) {
		deadline := time.Now().Add(30 * time.Second)
		for srv.RequestCount() < n {
			select {
			case err := <-done:
				require.FailNow(t, "the backfill ended early", "after %d requests: %v", srv.RequestCount(), err)
			default:
			}
			require.True(t, time.Now().Before(deadline), "the backfill stalled at %d requests", srv.RequestCount())
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitRequests(10)

	isRefresh := func(r callyzertest.Request) bool {
		numbers, _ := r.Body["client_numbers"].([]any)
		return len(numbers) > 0
	}
	var waits []time.Duration
	var overtaking []int // sync requests between the refresh's queueing and its first request
	for range 5 {
		queuedAt.Store(-1)
		_, err := refresher.Refresh(t.Context(), syncAdmin, lead.ID)
		require.NoError(t, err)
		mark := int(queuedAt.Load())
		require.GreaterOrEqual(t, mark, 0, "the refresh asked the shared pacer for the slot")
		var first *callyzertest.Request
		syncBefore := 0
		var lastSync time.Time
		for _, r := range srv.Requests() {
			switch {
			case r.N <= mark:
				if !isRefresh(r) {
					lastSync = r.Time
				}
			case isRefresh(r):
				first = &r
			default:
				syncBefore++
				lastSync = r.Time
			}
			if first != nil {
				break
			}
		}
		require.NotNil(t, first, "the refresh's request reached the fake")
		require.LessOrEqual(t, syncBefore, 1,
			"the refresh waited for more than the one sync request holding the slot when it queued")
		overtaking = append(overtaking, syncBefore)
		waits = append(waits, first.Time.Sub(lastSync))
		waitRequests(srv.RequestCount() + 3) // let the backfill go on between refreshes
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	st, err := syncer.State(t.Context())
	require.NoError(t, err)
	require.True(t, !st.Backfill.To.IsZero() && !st.Backfill.Done, "the backfill was still running during every refresh")

	t.Logf("sync requests between each refresh's queueing and its request: %v; its request's start after the last sync request's: %v (latency %v, interval %v)",
		overtaking, waits, latency, interval)
}
