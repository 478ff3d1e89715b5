package callhistory_test

// The cases of shared/RELIABILITY.md that need no SQL: the real callyzer
// client against the fake server, on memstore.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/storage/memstore"
	"github.com/leadcalls/leadcalls/storage/storagetest"
)

// canaryKey is the API key of every reliability test; it must never show in
// a log line or an error.
const canaryKey = "canary-7f3a9c2e-do-not-log"

const otherPhone = "+48601234568"

// itNow is the refreshes' clock: whole seconds, in the account's zone.
var itNow = time.Date(2026, 11, 25, 15, 0, 0, 0, warsawZone())

func warsawZone() *time.Location {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic(err)
	}
	return loc
}

// itWindow is the window a refresh at itNow uses (6 calendar months).
func itWindow() callhistory.Window {
	return callhistory.Window{From: itNow.AddDate(0, -6, 0).UTC(), To: itNow.UTC()}
}

// countingLeads serves one lead and counts lookups; onLookup, when set, runs
// after each.
type countingLeads struct {
	lookups  atomic.Int64
	err      error
	onLookup func(n int64)
}

func (l *countingLeads) Lead(ctx context.Context, id string) (callhistory.Lead, error) {
	n := l.lookups.Add(1)
	if l.onLookup != nil {
		defer l.onLookup(n)
	}
	if l.err != nil {
		return callhistory.Lead{}, l.err
	}
	if id != leadID {
		return callhistory.Lead{}, callhistory.ErrLeadNotFound
	}
	return callhistory.Lead{ID: leadID, Name: "Jan Kowalski", Phone: "601 234 567", AdvisorID: advisor.ID}, nil
}

type itEnv struct {
	srv   *callyzertest.Server
	store *memstore.Store
	leads *countingLeads
	logs  *syncBuffer
	r     *callhistory.Refresher
}

type itOptions struct {
	server    callyzertest.Options
	clientKey string // default: the server's key
	leads     *countingLeads
	client    []callyzer.Option
	hooks     *storagetest.Hooks
	config    func(*callhistory.Config)
}

func newIT(t testing.TB, o itOptions) *itEnv {
	t.Helper()
	if o.server.APIKey == "" {
		o.server.APIKey = canaryKey
	}
	srv := callyzertest.NewServer(t, o.server)
	key := o.clientKey
	if key == "" {
		key = srv.APIKey()
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := append([]callyzer.Option{
		callyzer.WithBaseURL(srv.URL),
		callyzer.WithInterval(0),
		callyzer.WithRetryDelays(0, 0),
		callyzer.WithMaxRetries(1),
		callyzer.WithAttemptTimeout(400 * time.Millisecond),
		callyzer.WithPageSize(2),
		callyzer.WithLimits(20, 64<<10, 1500*time.Millisecond), // a 429's hold of the key lasts at most 1.5s
		callyzer.WithLogger(logger),
	}, o.client...)
	client, err := callyzer.NewClient(key, opts...)
	require.NoError(t, err)
	if o.leads == nil {
		o.leads = &countingLeads{}
	}
	env := &itEnv{srv: srv, store: memstore.New(), leads: o.leads, logs: logs}
	cfg := callhistory.Config{
		Source: client,
		Store:  storagetest.WithHooks(env.store, o.hooks),
		Leads:  env.leads,
		Now:    func() time.Time { return itNow },
		Logger: logger,
	}
	if o.config != nil {
		o.config(&cfg)
	}
	env.r, err = callhistory.NewRefresher(cfg)
	require.NoError(t, err)
	t.Cleanup(env.r.Wait)
	return env
}

// snapshot is everything the tests' numbers have in the store.
type snapshot struct {
	Calls      map[string][]callhistory.Call
	LastSynced map[string]time.Time
}

func (e *itEnv) snapshot(t testing.TB) snapshot {
	t.Helper()
	s := snapshot{Calls: map[string][]callhistory.Call{}, LastSynced: map[string]time.Time{}}
	for _, p := range []string{leadPhone, otherPhone} {
		calls, err := e.store.Calls(context.Background(), p, 0)
		require.NoError(t, err)
		last, err := e.store.LastSynced(context.Background(), p)
		require.NoError(t, err)
		s.Calls[p], s.LastSynced[p] = calls, last
	}
	return s
}

// requireNoCanary fails when the API key shows in the logs or in err.
func (e *itEnv) requireNoCanary(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		require.NotContains(t, err.Error(), canaryKey)
	}
	require.NotContains(t, e.logs.String(), canaryKey)
}

// seedStore puts calls the refresh must never touch into the store: another
// number's call in the window, and the lead's calls before and after it.
func (e *itEnv) seedStore(t testing.TB) {
	t.Helper()
	w := itWindow()
	before := storedCall("old-before", leadPhone, w.From.Add(-time.Second))
	after := storedCall("new-after", leadPhone, w.To.Add(time.Second))
	otherNo := storedCall("other-1", otherPhone, itNow.Add(-time.Hour))
	_, err := callhistory.UpsertCalls(t.Context(), e.store, []callhistory.Call{before, after, otherNo}, itNow.Add(-24*time.Hour))
	require.NoError(t, err)
}

func storedCall(id, phone string, at time.Time) callhistory.Call {
	return callhistory.Call{CallyzerID: id, Phone: phone, StartedAt: at.UTC(), Status: "answered", Direction: "incoming", RawCallType: "Incoming", DurationSeconds: 30}
}

func serverCall(id string, at time.Time) callyzertest.Call {
	return callyzertest.NewCall(id, leadPhone, at)
}

// answerA and answerB are two Callyzer answers for the lead, six calls each,
// all inside the 180-day chunk of the window, so that with page size 2 the
// chunk has pages 1, 2 and 3.
func answerA() []callyzertest.Call {
	var calls []callyzertest.Call
	for i, days := range []int{10, 20, 40, 80, 120, 160} {
		calls = append(calls, serverCall("a-"+string(rune('1'+i)), itNow.AddDate(0, 0, -days)))
	}
	return calls
}

func answerB() []callyzertest.Call {
	calls := answerA()
	calls[0].Duration = 0
	calls[0].CallType = "Missed"
	calls[1].RecordingURL = "https://rec.example/2.mp3"
	calls[5] = serverCall("b-new", itNow.AddDate(0, 0, -150))
	return calls
}

func TestReliabilityAPIFaultsLeaveTheStoreUnchanged(t *testing.T) {
	t.Parallel()
	type fault struct {
		name  string
		f     callyzertest.Fault
		want  error
		msg   string
		pages []int // default: 1, 2, 3
	}
	httpDate := func() string { return time.Now().Add(time.Second).UTC().Format(http.TimeFormat) }
	faults := []fault{
		{name: "500 on every attempt", f: callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 500, Always: true}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "503 on every attempt", f: callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 503, Always: true}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "501", f: callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 501}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "401", f: callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 401}, want: callhistory.ErrCallyzerAuth, msg: msgCallyzerAuth},
		{name: "403", f: callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 403}, want: callhistory.ErrCallyzerAuth, msg: msgCallyzerAuth},
		{name: "429 short Retry-After", f: callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 429, RetryAfter: "1", Always: true}, want: callhistory.ErrRateLimited, msg: msgRateLimited},
		{name: "429 Retry-After over the cap", f: callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 429, RetryAfter: "3600", Always: true}, want: callhistory.ErrRateLimited, msg: msgRateLimited},
		{name: "429 Retry-After HTTP date", f: callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 429, Always: true}, want: callhistory.ErrRateLimited, msg: msgRateLimited},
		{name: "connection reset", f: callyzertest.Fault{Kind: callyzertest.FaultReset, Always: true}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "hang before headers", f: callyzertest.Fault{Kind: callyzertest.FaultHang, Always: true}, want: callhistory.ErrTimeout, msg: msgTimeout},
		{name: "stall mid-body", f: callyzertest.Fault{Kind: callyzertest.FaultStall, Always: true}, want: callhistory.ErrTimeout, msg: msgTimeout},
		{name: "truncated body", f: callyzertest.Fault{Kind: callyzertest.FaultTruncate, Always: true}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "garbage JSON", f: callyzertest.Fault{Kind: callyzertest.FaultGarbage}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "half-typed row", f: callyzertest.Fault{Kind: callyzertest.FaultHalfTyped}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "oversized body", f: callyzertest.Fault{Kind: callyzertest.FaultOversized, Size: 256 << 10}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "data envelope", f: callyzertest.Fault{Kind: callyzertest.FaultDataEnvelope}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "null result", f: callyzertest.Fault{Kind: callyzertest.FaultNullResult}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "missing result", f: callyzertest.Fault{Kind: callyzertest.FaultMissingResult}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "total_records disagrees on every reading", f: callyzertest.Fault{Kind: callyzertest.FaultWrongTotal, Always: true}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "row without id", f: callyzertest.Fault{Kind: callyzertest.FaultMissingID}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "never stops paging", f: callyzertest.Fault{Kind: callyzertest.FaultEndlessPaging, Always: true}, want: callhistory.ErrUpstream, msg: msgFailed},
		{name: "server exception 400 on every attempt", f: callyzertest.Fault{Kind: callyzertest.FaultDBException, Always: true}, want: callhistory.ErrUpstream, msg: msgFailed},
	}
	positions := []struct {
		name string
		page int
	}{{"first page", 1}, {"middle page", 2}, {"last page", 3}}

	for _, ft := range faults {
		for _, pos := range positions {
			t.Run(ft.name+"/"+pos.name, func(t *testing.T) {
				t.Parallel()
				env := newIT(t, itOptions{server: callyzertest.Options{Calls: answerA()}})
				env.seedStore(t)
				_, err := env.r.Refresh(t.Context(), admin, leadID)
				require.NoError(t, err)
				before := env.snapshot(t)

				env.srv.SetCalls(answerB()...)
				f := ft.f
				f.Page = pos.page
				if ft.name == "429 Retry-After HTTP date" {
					f.RetryAfter = httpDate()
				}
				env.srv.Inject(f)
				res, err := env.r.Refresh(t.Context(), admin, leadID)
				require.Nil(t, res)
				require.ErrorIs(t, err, ft.want, "error: %v", err)
				require.Equal(t, ft.msg, callhistory.Message(err, "pl"))
				fired := false
				for _, req := range env.srv.Requests() {
					fired = fired || (req.Fault == f.Kind && req.PageNo == pos.page)
				}
				require.True(t, fired, "the fault did not fire on page %d", pos.page)
				if diff := cmp.Diff(before, env.snapshot(t)); diff != "" {
					t.Fatalf("the store changed after a failed refresh (-before +after):\n%s", diff)
				}
				env.requireNoCanary(t, err)

				// The same refresh without the fault does change the store,
				// so the comparison above could have failed. (After a 429 the
				// client holds the key back for the Retry-After; skip the wait.)
				if f.Status == http.StatusTooManyRequests {
					return
				}
				env.srv.ClearFaults()
				_, err = env.r.Refresh(t.Context(), admin, leadID)
				require.NoError(t, err)
				require.NotEqual(t, before, env.snapshot(t))
				env.requireNoCanary(t, nil)
			})
		}
	}
}

func TestReliabilityWrongAPIKey(t *testing.T) {
	t.Parallel()
	env := newIT(t, itOptions{
		server:    callyzertest.Options{APIKey: "the-right-key", Calls: answerA()},
		clientKey: canaryKey,
	})
	env.seedStore(t)
	before := env.snapshot(t)
	_, err := env.r.Refresh(t.Context(), admin, leadID)
	require.ErrorIs(t, err, callhistory.ErrCallyzerAuth)
	require.ErrorIs(t, err, callyzer.ErrUnauthorized)
	require.Equal(t, msgCallyzerAuth, callhistory.Message(err, "pl"))
	require.Equal(t, before, env.snapshot(t))
	env.requireNoCanary(t, err)
}

func TestReliabilityRefreshDeadline(t *testing.T) {
	t.Parallel()
	env := newIT(t, itOptions{server: callyzertest.Options{Calls: answerA()}})
	// The whole refresh may take 300ms; the server hangs on page 2 until
	// the client gives up, and the client's own attempt timeout is an hour:
	// only the refresh deadline can end the refresh.
	client, err := callyzer.NewClient(env.srv.APIKey(), callyzer.WithBaseURL(env.srv.URL), callyzer.WithInterval(0),
		callyzer.WithRetryDelays(0, 0), callyzer.WithPageSize(2), callyzer.WithAttemptTimeout(time.Hour))
	require.NoError(t, err)
	r, err := callhistory.NewRefresher(callhistory.Config{
		Source: client, Store: env.store, Leads: env.leads,
		Now: func() time.Time { return itNow }, RefreshTimeout: 300 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(env.logs, nil)),
	})
	require.NoError(t, err)
	env.seedStore(t)
	before := env.snapshot(t)
	env.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultHang, Page: 2, Always: true})
	start := time.Now()
	_, err = r.Refresh(t.Context(), admin, leadID)
	took := time.Since(start)
	require.ErrorIs(t, err, callhistory.ErrTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// The deadline, not a timeout of the client's (an hour), ended it; the
	// bound is only there to fail rather than hang, generous for a loaded
	// machine under -race.
	require.GreaterOrEqual(t, took, 300*time.Millisecond, "not before the deadline")
	require.Less(t, took, time.Minute)
	reqs := env.srv.Requests()
	require.Len(t, reqs, 2, "page 1, then page 2 that hung; no retry after the deadline")
	require.Equal(t, 2, reqs[1].PageNo)
	require.Zero(t, reqs[1].Status, "the hung page was never answered")
	require.Equal(t, before, env.snapshot(t))
	r.Wait()
}

func mustClient(t testing.TB, srv *callyzertest.Server) *callyzer.Client {
	t.Helper()
	c, err := callyzer.NewClient(srv.APIKey(), callyzer.WithBaseURL(srv.URL), callyzer.WithInterval(0),
		callyzer.WithRetryDelays(0, 0), callyzer.WithPageSize(2))
	require.NoError(t, err)
	return c
}

func TestReliabilityWindowEdges(t *testing.T) {
	t.Parallel()
	w := itWindow()
	atFrom := serverCall("edge-from", w.From)
	atTo := serverCall("edge-to", w.To)
	inside := serverCall("inside", itNow.AddDate(0, 0, -3)) // in the short chunk
	env := newIT(t, itOptions{server: callyzertest.Options{Calls: []callyzertest.Call{atFrom, atTo, inside}}})
	env.seedStore(t)
	// Older versions of the edge calls are stored: the refresh must update
	// them in place.
	stale := []callhistory.Call{storedCall("edge-from", leadPhone, w.From), storedCall("edge-to", leadPhone, w.To)}
	_, err := callhistory.UpsertCalls(t.Context(), env.store, stale, itNow.Add(-time.Hour))
	require.NoError(t, err)
	staleRows := env.snapshot(t).Calls[leadPhone]

	res, err := env.r.Refresh(t.Context(), admin, leadID)
	require.NoError(t, err)
	require.Equal(t, 2, res.Report.Updated, "both edge calls refreshed: %+v", res.Report)
	require.Equal(t, 1, res.Report.Inserted)
	require.Zero(t, res.Report.Deleted)

	got := map[string]callhistory.Call{}
	for _, c := range res.Calls {
		got[c.CallyzerID] = c
	}
	for _, id := range []string{"edge-from", "edge-to", "inside", "old-before", "new-after"} {
		require.Contains(t, got, id)
	}
	require.Equal(t, "Outgoing", got["edge-from"].RawCallType, "refreshed from the API")
	require.Equal(t, "Outgoing", got["edge-to"].RawCallType, "refreshed from the API")
	require.True(t, got["edge-from"].StartedAt.Equal(w.From))
	require.True(t, got["edge-to"].StartedAt.Equal(w.To))
	for _, old := range staleRows {
		if c, ok := got[old.CallyzerID]; ok {
			require.Equal(t, old.RowID, c.RowID, "%s keeps its row", old.CallyzerID)
		}
	}
	require.Equal(t, "Incoming", got["new-after"].RawCallType, "a call newer than the window is not touched")
	require.Equal(t, itNow.UTC(), res.LastSyncedAt)

	// The chunks of the window do not overlap or leave gaps: the requests
	// cover [From, To] exactly.
	var spans [][2]float64
	for _, req := range env.srv.Requests() {
		if req.PageNo == 1 {
			spans = append(spans, [2]float64{req.Body["call_from"].(float64), req.Body["call_to"].(float64)})
		}
	}
	require.Len(t, spans, 2, "six months are two chunks of at most 180 days")
	lo, hi := min(spans[0][0], spans[1][0]), max(spans[0][1], spans[1][1])
	require.Equal(t, float64(w.From.Unix()), lo)
	require.Equal(t, float64(w.To.Unix()), hi)
}

func TestReliabilityRepeatedRowStoredOnce(t *testing.T) {
	t.Parallel()
	env := newIT(t, itOptions{server: callyzertest.Options{Calls: answerA()}})
	env.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultRepeatRow, Page: 2})
	res, err := env.r.Refresh(t.Context(), admin, leadID)
	require.NoError(t, err)
	repeated := false
	for _, req := range env.srv.Requests() {
		repeated = repeated || req.Fault == callyzertest.FaultRepeatRow
	}
	require.True(t, repeated, "the fault did not fire")
	require.Equal(t, 6, res.Report.Fetched)
	require.Equal(t, 6, res.Report.Inserted)
	requireUnique(t, res.Calls)
	require.Len(t, res.Calls, 6)
}

// TestReliabilityEmptyAnswerTakesOutOnlyTheWindow: with the guard off, an
// empty answer takes the window's calls out of the list and nothing else;
// they stay stored, missing, and come back with the next answer that holds
// them. With the default guard the same answer (6 of 6 listed calls) is
// refused and changes nothing.
func TestReliabilityEmptyAnswerTakesOutOnlyTheWindow(t *testing.T) {
	t.Parallel()
	for _, guarded := range []bool{false, true} {
		t.Run(fmt.Sprintf("guard=%v", guarded), func(t *testing.T) {
			t.Parallel()
			o := itOptions{server: callyzertest.Options{Calls: answerA()}}
			if !guarded {
				o.config = func(c *callhistory.Config) { c.Guard = &callhistory.RemovalGuard{} }
			}
			env := newIT(t, o)
			env.seedStore(t)
			_, err := env.r.Refresh(t.Context(), admin, leadID)
			require.NoError(t, err)
			before := env.snapshot(t)
			require.Len(t, before.Calls[leadPhone], 8)

			env.srv.SetCalls()
			res, err := env.r.Refresh(t.Context(), admin, leadID)
			if guarded {
				require.ErrorIs(t, err, callhistory.ErrSuspiciousAnswer)
				require.ErrorIs(t, err, callhistory.ErrUpstream)
				require.Equal(t, msgFailed, callhistory.Message(err, "pl"))
				require.Empty(t, cmp.Diff(before, env.snapshot(t)), "a refused answer changes nothing")
				require.Contains(t, env.logs.String(), "client_numbers form")
				return
			}
			require.NoError(t, err)
			require.Equal(t, 6, res.Report.Deleted)
			after := env.snapshot(t)
			var ids []string
			for _, c := range after.Calls[leadPhone] {
				ids = append(ids, c.CallyzerID)
			}
			require.ElementsMatch(t, []string{"old-before", "new-after"}, ids)
			require.Equal(t, before.Calls[otherPhone], after.Calls[otherPhone])
			require.Equal(t, before.LastSynced[otherPhone], after.LastSynced[otherPhone])

			env.srv.SetCalls(answerA()...)
			res, err = env.r.Refresh(t.Context(), admin, leadID)
			require.NoError(t, err)
			require.Equal(t, callhistory.Report{Requests: res.Report.Requests, Fetched: 6, Updated: 6, Path: "spec", Duration: res.Report.Duration}, *res.Report,
				"the next answer lists them again, under the same rows")
			require.Empty(t, cmp.Diff(before.Calls[leadPhone], env.snapshot(t).Calls[leadPhone]))
		})
	}
}

func requireUnique(t testing.TB, calls []callhistory.Call) {
	t.Helper()
	ids, rows := map[string]bool{}, map[int64]bool{}
	for _, c := range calls {
		require.False(t, ids[c.CallyzerID], "call %s twice", c.CallyzerID)
		require.False(t, rows[c.RowID], "row %d twice", c.RowID)
		ids[c.CallyzerID], rows[c.RowID] = true, true
	}
}

func TestReliabilityFiftyConcurrentRefreshesShareOneFetch(t *testing.T) {
	t.Parallel()
	const n = 50
	allIn := make(chan struct{})
	var gate atomic.Bool
	env := newIT(t, itOptions{
		server: callyzertest.Options{Calls: answerA(), LatencyFunc: func(callyzertest.Request) time.Duration {
			if gate.CompareAndSwap(true, false) {
				<-allIn // hold the first request until every caller waits on it
			}
			return 0
		}},
	})
	env.seedStore(t)
	_, err := env.r.Refresh(t.Context(), admin, leadID)
	require.NoError(t, err)
	oneFetch := env.srv.RequestCount()
	env.srv.SetCalls(answerB()...)
	env.srv.ResetRequests()
	gate.Store(true)
	var joined atomic.Int64
	callhistory.SetAfterJoin(env.r, func() {
		if joined.Add(1) == n {
			close(allIn)
		}
	})

	results := make([]*callhistory.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = env.r.Refresh(t.Context(), admin, leadID) })
	}
	wg.Wait()

	require.Len(t, env.srv.Requests(), oneFetch, "one fetch sequence for all callers")
	require.Equal(t, 1, env.srv.MaxInFlight())
	leaders := 0
	for i := range n {
		require.NoError(t, errs[i])
		requireUnique(t, results[i].Calls)
		if diff := cmp.Diff(results[0].Calls, results[i].Calls); diff != "" {
			t.Fatalf("caller %d got another list (-first +this):\n%s", i, diff)
		}
		if !results[i].Report.Shared {
			leaders++
		}
	}
	require.Equal(t, 1, leaders)
	require.Contains(t, idsOf(results[0].Calls), "b-new")
	require.Len(t, results[0].Calls, 8)
}

func idsOf(calls []callhistory.Call) []string {
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = c.CallyzerID
	}
	return ids
}

func TestReliabilityFirstCallerCancellingFailsNoOne(t *testing.T) {
	t.Parallel()
	const others = 5
	arrived, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	first.Store(true)
	env := newIT(t, itOptions{
		server: callyzertest.Options{Calls: answerA(), LatencyFunc: func(callyzertest.Request) time.Duration {
			if first.CompareAndSwap(true, false) {
				close(arrived)
				<-release
			}
			return 0
		}},
	})

	joined := make(chan struct{})
	var joins atomic.Int64
	callhistory.SetAfterJoin(env.r, func() {
		if joins.Add(1) == others+1 {
			close(joined)
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	firstErr := make(chan error)
	go func() {
		_, err := env.r.Refresh(ctx, admin, leadID)
		firstErr <- err
	}()
	<-arrived // the first caller's fetch is at the server

	results := make([]*callhistory.Result, others)
	errs := make([]error, others)
	var wg sync.WaitGroup
	for i := range others {
		wg.Go(func() { results[i], errs[i] = env.r.Refresh(t.Context(), advisor, leadID) })
	}
	<-joined // every other caller waits on the first caller's fetch
	cancel()
	err := <-firstErr
	require.ErrorIs(t, err, callhistory.ErrTimeout)
	require.ErrorIs(t, err, context.Canceled)

	close(release)
	wg.Wait()
	for i := range others {
		require.NoError(t, errs[i])
		require.True(t, results[i].Report.Shared)
		require.Len(t, results[i].Calls, 6)
	}
	require.Equal(t, 4, env.srv.RequestCount(), "one fetch: three pages and the short chunk's one")
}

func TestReliabilityAuthorisation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		actor    *callhistory.Actor
		leadsErr error
		allowed  bool
	}{
		{"administrator", admin, nil, true},
		{"head of department", &callhistory.Actor{ID: "u-head", Role: callhistory.RoleHeadOfDepartment}, nil, true},
		{"team leader", &callhistory.Actor{ID: "u-lead", Role: callhistory.RoleTeamLeader}, nil, true},
		{"assigned advisor", advisor, nil, true},
		{"another advisor", other, nil, false},
		{"unknown role", &callhistory.Actor{ID: "u-x", Role: "auditor"}, nil, false},
		{"no actor", nil, nil, false},
		{"error loading the lead", admin, errors.New("crm: connection refused"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newIT(t, itOptions{server: callyzertest.Options{Calls: answerA()}, leads: &countingLeads{err: tt.leadsErr}})
			env.seedStore(t)
			before := env.snapshot(t)
			res, err := env.r.Refresh(t.Context(), tt.actor, leadID)
			if tt.allowed {
				require.NoError(t, err)
				require.Len(t, res.Calls, 8)
				require.Positive(t, env.srv.RequestCount())
				return
			}
			require.ErrorIs(t, err, callhistory.ErrForbidden)
			require.Equal(t, msgForbidden, callhistory.Message(err, "pl"))
			require.Zero(t, env.srv.RequestCount(), "no request to Callyzer when denied")
			require.Equal(t, before, env.snapshot(t), "no write when denied")

			_, err = env.r.History(t.Context(), tt.actor, leadID)
			require.ErrorIs(t, err, callhistory.ErrForbidden)
			require.Zero(t, env.srv.RequestCount())
		})
	}
}

func TestReliabilityLogsMaskThePhone(t *testing.T) {
	t.Parallel()
	env := newIT(t, itOptions{server: callyzertest.Options{Calls: answerA()}})
	_, err := env.r.Refresh(t.Context(), admin, leadID)
	require.NoError(t, err)
	logs := env.logs.String()
	require.Contains(t, logs, "+48 601 *** 567")
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		require.NotContains(t, line, "601234567", "a full number in a log line")
	}
	env.requireNoCanary(t, nil)
}

func TestReliabilityStoreFaultsLeaveTheStoreUnchanged(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	tests := []struct {
		name  string
		hooks func(armed *atomic.Bool) *storagetest.Hooks
		want  error
	}{
		{"error after the delete", func(armed *atomic.Bool) *storagetest.Hooks {
			return &storagetest.Hooks{AfterDelete: func() error {
				if armed.Load() {
					return boom
				}
				return nil
			}}
		}, callhistory.ErrStore},
		{"error on the 3rd write", func(armed *atomic.Bool) *storagetest.Hooks {
			return &storagetest.Hooks{BeforeWrite: func(k int) error {
				if armed.Load() && k == 3 {
					return boom
				}
				return nil
			}}
		}, callhistory.ErrStore},
		{"error on commit", func(armed *atomic.Bool) *storagetest.Hooks {
			return &storagetest.Hooks{BeforeCommit: func() error {
				if armed.Load() {
					return boom
				}
				return nil
			}}
		}, callhistory.ErrStore},
		{"panic on the 3rd write", func(armed *atomic.Bool) *storagetest.Hooks {
			return &storagetest.Hooks{BeforeWrite: func(k int) error {
				if armed.Load() && k == 3 {
					panic("store: boom")
				}
				return nil
			}}
		}, callhistory.ErrInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var armed atomic.Bool
			env := newIT(t, itOptions{server: callyzertest.Options{Calls: answerA()}, hooks: tt.hooks(&armed)})
			env.seedStore(t)
			_, err := env.r.Refresh(t.Context(), admin, leadID)
			require.NoError(t, err)
			before := env.snapshot(t)

			env.srv.SetCalls(answerB()...)
			armed.Store(true)
			_, err = env.r.Refresh(t.Context(), admin, leadID)
			require.ErrorIs(t, err, tt.want)
			require.Equal(t, msgFailed, callhistory.Message(err, "pl"))
			if diff := cmp.Diff(before, env.snapshot(t)); diff != "" {
				t.Fatalf("the store changed after a failed write (-before +after):\n%s", diff)
			}
			env.requireNoCanary(t, err)

			armed.Store(false)
			_, err = env.r.Refresh(t.Context(), admin, leadID)
			require.NoError(t, err)
			require.NotEqual(t, before, env.snapshot(t))
		})
	}
}
