package callhistory_test

import (
	"context"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// gatedSource holds the queries hold picks until release is closed, after
// telling entered (when set) that one arrived.
type gatedSource struct {
	callhistory.CallSource
	hold    func(callyzer.HistoryQuery) bool
	entered chan callyzer.HistoryQuery
	release chan struct{}
}

func (s *gatedSource) HistoryPages(ctx context.Context, q callyzer.HistoryQuery) iter.Seq2[*callyzer.HistoryPage, error] {
	if s.hold == nil || !s.hold(q) {
		return s.CallSource.HistoryPages(ctx, q)
	}
	return func(yield func(*callyzer.HistoryPage, error) bool) {
		if s.entered != nil {
			s.entered <- q
		}
		select {
		case <-s.release:
		case <-ctx.Done():
			yield(nil, ctx.Err())
			return
		}
		for page, err := range s.CallSource.HistoryPages(ctx, q) {
			if !yield(page, err) {
				return
			}
		}
	}
}

// isCatchUp reports whether q is a catch-up's read: by upload time only, at
// Interactive priority (a sync pass reads at Background).
func isCatchUp(q callyzer.HistoryQuery) bool {
	return q.CallFrom.IsZero() && !q.SyncedFrom.IsZero() && q.Priority == pacing.Interactive
}

// isOwnFetch reports whether q is the spec's path: a number's own read by
// call time.
func isOwnFetch(q callyzer.HistoryQuery) bool { return len(q.ClientNumbers) > 0 }

// filtersNumber reports whether r asks for one client number's calls.
func filtersNumber(r callyzertest.Request) bool {
	numbers, _ := r.Body["client_numbers"].([]any)
	return len(numbers) > 0
}

// catchUpEnv is a syncEnv with a Refresher on the same store and Syncer.
type catchUpEnv struct {
	*syncEnv
	gate  *gatedSource
	r     *callhistory.Refresher
	leads syncLeads
}

// newCatchUpEnv builds a syncEnv whose fake holds calls, a Refresher with
// strategy on its Syncer, and one lead per number of syncPhones (L-0…).
func newCatchUpEnv(t *testing.T, calls []callyzertest.Call, configure func(*callhistory.Config)) *catchUpEnv {
	t.Helper()
	gate := &gatedSource{release: make(chan struct{})}
	env := newSyncEnv(t, syncOptions{server: callyzertest.Options{Calls: calls},
		config: func(c *callhistory.SyncConfig) { gate.CallSource, c.Source = c.Source, gate }})
	leads := syncLeads{}
	for i, p := range syncPhones {
		id := "L-" + string(rune('0'+i))
		leads[id] = callhistory.Lead{ID: id, Name: "Lead " + id, Phone: p}
	}
	cfg := callhistory.Config{
		Source: gate,
		Store:  env.store,
		Leads:  leads,
		Syncer: env.syncer,
		// Mirrors wait for a lull of RefreshTimeout: a short one keeps the
		// tests that drain them short.
		RefreshTimeout: time.Second,
		Now:            env.clock.Now,
		Logger:         slog.New(slog.DiscardHandler),
	}
	if configure != nil {
		configure(&cfg)
	}
	r, err := callhistory.NewRefresher(cfg)
	require.NoError(t, err)
	t.Cleanup(r.Wait)
	return &catchUpEnv{syncEnv: env, gate: gate, r: r, leads: leads}
}

// queries returns the queries the client was asked, in order, that keep
// picks.
func (e *catchUpEnv) queries(keep func(callyzer.HistoryQuery) bool) []callyzer.HistoryQuery {
	e.src.mu.Lock()
	defer e.src.mu.Unlock()
	var out []callyzer.HistoryQuery
	for _, q := range e.src.queries {
		if keep(q) {
			out = append(out, q)
		}
	}
	return out
}

// fakeByUpload returns the fake's requests by upload time only: the
// catch-ups' and sync passes' incremental reads.
func fakeByUpload(reqs []callyzertest.Request) []callyzertest.Request {
	return incrementalRequests(reqs)
}

// fakeOwnFetches returns the fake's requests that filter by client number.
func fakeOwnFetches(reqs []callyzertest.Request) []callyzertest.Request {
	var out []callyzertest.Request
	for _, r := range reqs {
		if filtersNumber(r) {
			out = append(out, r)
		}
	}
	return out
}

func ids(calls []callhistory.Call) []string {
	out := make([]string, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.CallyzerID)
	}
	slices.Sort(out)
	return out
}

// baseCalls are 12 calls, four per number, the newest three hours before
// syncNow, a day apart: all inside the sync's first backfill.
func baseCalls() []callyzertest.Call {
	return spreadCalls("base-", 12, syncNow.Add(-3*time.Hour), 24*time.Hour)
}

// uploaded is a call of phones[i%3] made a day before syncNow and uploaded
// at syncedAt (a phone that was offline).
func uploaded(id string, i int, syncedAt time.Time) callyzertest.Call {
	c := syncCall(id, i, syncNow.Add(-24*time.Hour))
	c.SyncedAt, c.ModifiedAt = syncedAt, syncedAt
	return c
}

func TestCatchUpOnlyWhenTheStoreIsKnownComplete(t *testing.T) {
	t.Parallel()
	lead := "L-0"
	tests := []struct {
		name string
		// prepare runs the sync (or not) and sets the clock for the refresh.
		prepare  func(t *testing.T, e *catchUpEnv)
		wantPath string
	}{
		{"NoSyncPassYet", func(t *testing.T, e *catchUpEnv) {}, "spec"},
		{"BackfillNotFinished", func(t *testing.T, e *catchUpEnv) {
			// The pass's first request (by upload time) succeeds, its
			// backfill's first fails: the cursor is set, the backfill not done.
			e.srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultStatus, Status: 500, Request: 2})
			_, err := e.syncer.RunOnce(t.Context())
			require.Error(t, err)
			st := e.state(t)
			require.False(t, st.Cursor.IsZero())
			require.False(t, st.Backfill.Done)
			e.srv.ClearFaults()
			e.clock.Set(syncNow.Add(time.Minute))
		}, "spec"},
		{"CursorTooOld", func(t *testing.T, e *catchUpEnv) {
			_, err := e.syncer.RunOnce(t.Context())
			require.NoError(t, err)
			e.clock.Set(syncNow.Add(15*time.Minute + time.Second))
		}, "spec"},
		{"CursorRecentEnough", func(t *testing.T, e *catchUpEnv) {
			_, err := e.syncer.RunOnce(t.Context())
			require.NoError(t, err)
			e.clock.Set(syncNow.Add(15 * time.Minute))
		}, "catch-up"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newCatchUpEnv(t, baseCalls(), func(c *callhistory.Config) { c.Strategy = "catch-up" })
			tc.prepare(t, e)
			e.srv.ResetRequests()
			res, err := e.r.Refresh(t.Context(), syncAdmin, lead)
			require.NoError(t, err)
			require.Equal(t, tc.wantPath, res.Report.Path)
			require.Equal(t, ids(e.storedOf(t, e.leads[lead].Phone)), ids(res.Calls))
			require.Len(t, res.Calls, 4)

			reqs := e.srv.Requests()
			own, byUpload := fakeOwnFetches(reqs), fakeByUpload(reqs)
			if tc.wantPath == "spec" {
				// Two chunks of the six months, the number's own; no catch-up.
				require.Len(t, own, 2)
				require.Empty(t, byUpload)
				require.Empty(t, e.queries(isCatchUp))
				return
			}
			// One catch-up read, from the sync's cursor less a minute to now;
			// then the number's own fetch, in the background.
			require.NoError(t, e.r.Drain(t.Context()))
			require.Len(t, byUpload, 1)
			require.Equal(t, syncNow.Add(-time.Minute), unix(byUpload[0], "synced_from"))
			require.Equal(t, syncNow.Add(15*time.Minute), unix(byUpload[0], "synced_to"))
			require.Len(t, fakeOwnFetches(e.srv.Requests()), 2)
		})
	}
}

// storedOf returns phone's stored calls.
func (e *catchUpEnv) storedOf(t *testing.T, phone string) []callhistory.Call {
	t.Helper()
	calls, err := e.store.Calls(t.Context(), phone, 0)
	require.NoError(t, err)
	return calls
}

// A later catch-up starts from the bound the last one left, not the sync's.
func TestCatchUpStartsFromTheLastCatchUp(t *testing.T) {
	t.Parallel()
	e := newCatchUpEnv(t, baseCalls(), func(c *callhistory.Config) { c.Strategy = "catch-up" })
	_, err := e.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	for i, at := range []time.Duration{10 * time.Minute, 20 * time.Minute, 30 * time.Minute} {
		e.clock.Set(syncNow.Add(at))
		res, err := e.r.Refresh(t.Context(), syncAdmin, "L-1")
		require.NoError(t, err)
		require.Equal(t, "catch-up", res.Report.Path, "refresh %d: 30 minutes after the sync, but 10 after the last catch-up", i)
		require.Equal(t, 1, res.Report.Requests)
	}
	reads := fakeByUpload(e.srv.Requests())[1:] // after the sync pass's
	require.Len(t, reads, 3)
	for i, at := range []time.Duration{0, 10 * time.Minute, 20 * time.Minute} {
		require.Equal(t, syncNow.Add(at-time.Minute), unix(reads[i], "synced_from"), "catch-up %d", i)
	}
	st, err := e.syncer.State(t.Context())
	require.NoError(t, err)
	require.Equal(t, syncNow, st.Cursor, "a catch-up leaves the sync's own cursor alone")
}

// The joining rule: a catch-up serves every refresh begun before it
// started, whatever their numbers; a refresh begun while one was under way
// waits for the next, which sees what was uploaded meanwhile.
func TestCatchUpServesEveryRefreshWaitingForIt(t *testing.T) {
	t.Parallel()
	e := newCatchUpEnv(t, baseCalls(), func(c *callhistory.Config) { c.Strategy = "catch-up" })
	_, err := e.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	e.srv.AddCalls(uploaded("late-0", 0, syncNow.Add(30*time.Second)))
	e.srv.ResetRequests()

	e.gate.entered = make(chan callyzer.HistoryQuery, 1)
	var once sync.Once
	e.gate.hold = func(q callyzer.HistoryQuery) bool {
		held := false
		if isCatchUp(q) {
			once.Do(func() { held = true }) // only the first catch-up
		}
		return held
	}

	type outcome struct {
		res *callhistory.Result
		err error
	}
	results := make([]outcome, 7)
	var wg sync.WaitGroup
	e.clock.Set(syncNow.Add(time.Minute))
	wg.Go(func() { results[0].res, results[0].err = e.r.Refresh(t.Context(), syncAdmin, "L-0") })
	<-e.gate.entered // the first catch-up is under way, held

	// Uploaded after the first catch-up began, before the others' refreshes.
	e.srv.AddCalls(uploaded("late-1", 1, syncNow.Add(90*time.Second)))
	e.clock.Set(syncNow.Add(2 * time.Minute))
	for i := 1; i < len(results); i++ {
		wg.Go(func() {
			results[i].res, results[i].err = e.r.Refresh(t.Context(), syncAdmin, "L-"+string(rune('0'+i%3)))
		})
	}
	require.Eventually(t, func() bool { return callhistory.CatchUpWaiters(e.syncer) == len(results) },
		10*time.Second, time.Millisecond, "every refresh waits for the running catch-up")
	close(e.gate.release)
	wg.Wait()

	for i, o := range results {
		require.NoError(t, o.err, "refresh %d", i)
		require.Equal(t, "catch-up", o.res.Report.Path, "refresh %d", i)
		require.Equal(t, 1, o.res.Report.Requests, "refresh %d", i)
		switch {
		case i%3 == 0:
			require.Contains(t, ids(o.res.Calls), "late-0", "refresh %d", i)
		case i%3 == 1:
			require.Contains(t, ids(o.res.Calls), "late-1", "refresh %d: uploaded before it began", i)
		}
	}
	// Two reads served seven refreshes: the second, begun after the others
	// had, from the first's bound less a minute.
	reads := fakeByUpload(e.srv.Requests())
	require.Len(t, reads, 2)
	require.Equal(t, syncNow.Add(-time.Minute), unix(reads[0], "synced_from"))
	require.Equal(t, syncNow.Add(time.Minute), unix(reads[0], "synced_to"))
	require.Equal(t, syncNow, unix(reads[1], "synced_from"))
	require.Equal(t, syncNow.Add(2*time.Minute), unix(reads[1], "synced_to"))
	// Each number served is mirrored once, in the background.
	require.NoError(t, e.r.Drain(t.Context()))
	mirrored := map[string]int{}
	for _, q := range e.queries(isOwnFetch) {
		require.Equal(t, pacing.Background, q.Priority)
		mirrored[q.ClientNumbers[0]]++
	}
	require.Equal(t, map[string]int{syncPhones[0]: 1, syncPhones[1]: 1, syncPhones[2]: 1}, mirrored)
}

// The adaptive strategy takes the spec's path for a lone refresh, joins a
// fetch of the same number under way, and sends a refresh of another number
// to a catch-up while the first is in flight.
func TestAdaptiveLoneRefreshTakesTheSpecPath(t *testing.T) {
	t.Parallel()
	e := newCatchUpEnv(t, baseCalls(), nil) // adaptive: the default with a Syncer
	_, err := e.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	e.clock.Set(syncNow.Add(time.Minute))
	e.srv.ResetRequests()

	// A lone refresh: exactly the requests of a Refresher without a Syncer.
	res, err := e.r.Refresh(t.Context(), syncAdmin, "L-0")
	require.NoError(t, err)
	require.Equal(t, "spec", res.Report.Path)
	lone := e.srv.Requests()
	plain := newCatchUpEnv(t, baseCalls(), func(c *callhistory.Config) { c.Syncer = nil })
	plain.clock.Set(syncNow.Add(time.Minute))
	res2, err := plain.r.Refresh(t.Context(), syncAdmin, "L-0")
	require.NoError(t, err)
	require.Equal(t, "spec", res2.Report.Path)
	require.Equal(t, bodies(plain.srv.Requests()), bodies(lone), "a lone refresh sends what the spec's path sends")
	require.Equal(t, ids(res2.Calls), ids(res.Calls))

	// Now hold the spec fetch of L-1's number.
	e.srv.ResetRequests()
	e.gate.entered = make(chan callyzer.HistoryQuery, 1)
	e.gate.hold = func(q callyzer.HistoryQuery) bool {
		return isOwnFetch(q) && q.ClientNumbers[0] == syncPhones[1] && q.Priority == pacing.Interactive
	}
	joined := make(chan struct{}, 2)
	callhistory.SetAfterJoin(e.r, func() { joined <- struct{}{} })
	var first, same *callhistory.Result
	var firstErr, sameErr error
	var wg sync.WaitGroup
	wg.Go(func() { first, firstErr = e.r.Refresh(t.Context(), syncAdmin, "L-1") })
	<-e.gate.entered
	<-joined
	wg.Go(func() { same, sameErr = e.r.Refresh(t.Context(), syncAdmin, "L-1") })
	<-joined
	// Another number while L-1's fetch is in flight: served by a catch-up,
	// begun once that fetch (which keeps the Callyzer slot) has ended.
	var other *callhistory.Result
	var otherErr error
	wg.Go(func() { other, otherErr = e.r.Refresh(t.Context(), syncAdmin, "L-2") })
	require.Eventually(t, func() bool { return callhistory.ActiveRefreshes(e.r) == 3 }, 10*time.Second, time.Millisecond)
	require.Empty(t, e.queries(isCatchUp), "no catch-up while the fetch holds the slot")
	close(e.gate.release)
	wg.Wait()
	require.NoError(t, otherErr)
	require.Equal(t, "catch-up", other.Report.Path)
	reqs := e.srv.Requests()
	require.Len(t, fakeByUpload(reqs), 1)
	for _, r := range fakeOwnFetches(reqs) {
		if strings.Contains(r.RawBody, syncPhones[1][3:]) {
			require.Less(t, r.N, fakeByUpload(reqs)[0].N, "the catch-up came after L-1's fetch")
		}
	}
	require.NoError(t, firstErr)
	require.NoError(t, sameErr)
	require.Equal(t, "spec", first.Report.Path)
	require.Equal(t, "spec", same.Report.Path, "a refresh of a number being fetched joins that fetch")
	require.True(t, same.Report.Shared)
	require.Equal(t, ids(first.Calls), ids(same.Calls))
	own := 0
	for _, r := range fakeOwnFetches(e.srv.Requests()) {
		if strings.Contains(r.RawBody, syncPhones[1][3:]) {
			own++
		}
	}
	require.Equal(t, 2, own, "one six-month fetch (two chunks) for both refreshes of L-1")
}

// bodies returns the request bodies, for comparing two runs.
func bodies(reqs []callyzertest.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.RawBody
	}
	return out
}

// A number a catch-up served gets its own six-month fetch in the
// background, once per MirrorEvery, at Background priority, and the store
// then drops what Callyzer no longer lists (a deletion has no upload time a
// catch-up could see).
func TestCatchUpMirrorsEachNumberOncePerPeriod(t *testing.T) {
	t.Parallel()
	calls := baseCalls()
	e := newCatchUpEnv(t, calls, func(c *callhistory.Config) { c.Strategy = "catch-up" })
	_, err := e.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	phone := syncPhones[0]
	require.Len(t, e.storedOf(t, phone), 4)
	e.srv.SetCalls(calls[3:]...) // base-000, of phone 0, deleted at Callyzer
	e.srv.ResetRequests()

	mirrorsOf := func() int {
		n := 0
		for _, q := range e.queries(isOwnFetch) {
			require.Equal(t, pacing.Background, q.Priority, "a mirror waits behind users' requests")
			n++
		}
		return n
	}
	refresh := func(at time.Duration) *callhistory.Result {
		t.Helper()
		e.clock.Set(syncNow.Add(at))
		res, err := e.r.Refresh(t.Context(), syncAdmin, "L-0")
		require.NoError(t, err)
		require.Equal(t, "catch-up", res.Report.Path)
		require.NoError(t, e.r.Drain(t.Context()))
		return res
	}

	res := refresh(time.Minute)
	require.Contains(t, ids(res.Calls), "base-000", "a catch-up cannot see the deletion")
	require.Equal(t, 1, mirrorsOf())
	require.Len(t, fakeOwnFetches(e.srv.Requests()), 2, "the mirror is the spec's six months: two chunks")
	require.NotContains(t, ids(e.storedOf(t, phone)), "base-000", "the mirror took it out")

	res = refresh(2 * time.Minute)
	require.NotContains(t, ids(res.Calls), "base-000")
	refresh(3 * time.Minute)
	require.Equal(t, 1, mirrorsOf(), "not again within MirrorEvery")

	// An hour after the first was queued, the next catch-up of the number
	// queues another (a sync pass keeps the store known complete).
	e.clock.Set(syncNow.Add(61 * time.Minute))
	_, err = e.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	refresh(62 * time.Minute)
	require.Equal(t, 2, mirrorsOf())
	require.Len(t, fakeOwnFetches(e.srv.Requests()), 4)
}

// Under the spec strategy, a refresh that could not be served before its
// deadline behind the fetches under way fails at once, without a request.
func TestRefreshThatCannotMeetItsDeadlineFailsFast(t *testing.T) {
	t.Parallel()
	const latency = 200 * time.Millisecond
	env := newSyncEnv(t, syncOptions{server: callyzertest.Options{Calls: baseCalls(), Latency: latency}})
	leads := syncLeads{}
	for i, p := range syncPhones {
		id := "L-" + string(rune('0'+i))
		leads[id] = callhistory.Lead{ID: id, Name: "Lead " + id, Phone: p}
	}
	gate := &gatedSource{CallSource: env.src, release: make(chan struct{}), entered: make(chan callyzer.HistoryQuery, 1)}
	r, err := callhistory.NewRefresher(callhistory.Config{Source: gate, Store: env.store, Leads: leads,
		Now: env.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(r.Wait)

	// A lone refresh (two requests of at least latency each) teaches the
	// Refresher how long one takes.
	_, err = r.Refresh(t.Context(), syncAdmin, "L-2")
	require.NoError(t, err)

	gate.hold = func(q callyzer.HistoryQuery) bool { return q.ClientNumbers[0] == syncPhones[0] }
	var wg sync.WaitGroup
	var heldErr error
	wg.Go(func() { _, heldErr = r.Refresh(t.Context(), syncAdmin, "L-0") })
	<-gate.entered
	env.srv.ResetRequests()

	// Behind one fetch under way, this one would need two refreshes' time,
	// at least 4×latency, with 3.5×latency left.
	ctx, cancel := context.WithTimeout(t.Context(), 7*latency/2)
	defer cancel()
	_, err = r.Refresh(ctx, syncAdmin, "L-1")
	require.ErrorIs(t, err, callhistory.ErrTimeout)
	require.NoError(t, ctx.Err(), "it failed before its deadline, not at it")
	require.Empty(t, env.srv.Requests(), "and sent nothing")

	// With time enough, the same refresh is admitted.
	res, err := r.Refresh(t.Context(), syncAdmin, "L-1")
	require.NoError(t, err)
	require.Len(t, res.Calls, 4)
	close(gate.release)
	wg.Wait()
	require.NoError(t, heldErr)
}
