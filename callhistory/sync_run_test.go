package callhistory_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/storage/memstore"
)

// emptySource is a Callyzer without calls that records when each pass made
// its first (incremental) query. With block set, every query waits for its
// context to end.
type emptySource struct {
	block bool
	mu    sync.Mutex
	at    []time.Time
}

func (s *emptySource) HistoryPages(ctx context.Context, q callyzer.HistoryQuery) iter.Seq2[*callyzer.HistoryPage, error] {
	return func(yield func(*callyzer.HistoryPage, error) bool) {
		if !q.CallFrom.IsZero() { // the backfill: one empty page
			yield(&callyzer.HistoryPage{PageNo: 1, Attempts: 1, ChunkFrom: q.CallFrom, ChunkTo: q.CallTo,
				Next: callyzer.Cursor{Done: true}}, nil)
			return
		}
		if time.Since(q.SyncedTo) < time.Hour { // the pass's read of new uploads, not the late slice
			s.mu.Lock()
			s.at = append(s.at, time.Now())
			s.mu.Unlock()
		}
		if s.block {
			<-ctx.Done()
			yield(nil, ctx.Err())
			return
		}
		yield(&callyzer.HistoryPage{PageNo: 1, Attempts: 1, ChunkFrom: q.SyncedFrom, ChunkTo: q.SyncedTo}, nil)
	}
}

func (s *emptySource) passes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.at...)
}

func newRunSyncer(t *testing.T, src *emptySource) *callhistory.Syncer {
	t.Helper()
	return newRunSyncerLogging(t, src, slog.New(slog.DiscardHandler))
}

func newRunSyncerLogging(t *testing.T, src *emptySource, logger *slog.Logger) *callhistory.Syncer {
	t.Helper()
	s, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: src, Store: memstore.New(), Logger: logger})
	require.NoError(t, err)
	return s
}

func TestSyncRunPassesWithJitterAndStopsOnCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &emptySource{}
		s := newRunSyncer(t, src)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- s.Run(ctx, time.Minute) }()

		time.Sleep(20*time.Minute + time.Second)
		synctest.Wait()
		at := src.passes()
		require.True(t, at[0].Equal(start), "the first pass runs at once")
		require.GreaterOrEqual(t, len(at), 19)
		require.LessOrEqual(t, len(at), 23)
		gaps := map[time.Duration]bool{}
		for i := 1; i < len(at); i++ {
			gap := at[i].Sub(at[i-1])
			require.GreaterOrEqual(t, gap, 54*time.Second, "gap %d", i)
			require.LessOrEqual(t, gap, 66*time.Second, "gap %d", i)
			gaps[gap] = true
		}
		require.Greater(t, len(gaps), 1, "the waits are jittered")

		cancel()
		synctest.Wait() // Run has returned: nothing of it is left running
		require.NoError(t, <-done)
		st, err := s.State(t.Context())
		require.NoError(t, err)
		require.Equal(t, callhistory.SyncIdle, st.Status)
		require.Zero(t, st.ConsecutiveFailures)
	})
}

func TestSyncRunCancelledMidPass(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &emptySource{block: true}
		var logs syncBuffer
		s := newRunSyncerLogging(t, src, slog.New(slog.NewTextHandler(&logs, nil)))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx, time.Minute) }()
		synctest.Wait() // the first pass waits on Callyzer
		st, err := s.State(t.Context())
		require.NoError(t, err)
		require.Equal(t, callhistory.SyncRunning, st.Status, "the state shows the pass under way")
		require.False(t, st.RunningSince.IsZero())

		cancel()
		synctest.Wait()
		require.NoError(t, <-done)
		st, err = s.State(t.Context())
		require.NoError(t, err)
		require.Equal(t, callhistory.SyncIdle, st.Status, "a cancelled pass is not a failure")
		require.Zero(t, st.ConsecutiveFailures)
		require.Contains(t, st.LastError, "interrupted")
		require.True(t, st.RunningSince.IsZero())
		require.Len(t, src.passes(), 1)
		// A shutdown is logged as such, not as a failure to alert on.
		require.Contains(t, logs.String(), "level=INFO msg=\"callhistory: sync pass interrupted\"")
		require.NotContains(t, logs.String(), "level=WARN")
	})
}

func TestSyncRunRefusesABadInterval(t *testing.T) {
	t.Parallel()
	s := newRunSyncer(t, &emptySource{})
	require.Error(t, s.Run(t.Context(), 0))
	require.Error(t, s.Run(t.Context(), -time.Second))
}

// statelessStore is a Store that keeps no sync state.
type statelessStore struct{ callhistory.Store }

func TestNewSyncerChecksConfig(t *testing.T) {
	t.Parallel()
	src, store := &emptySource{}, memstore.New()
	for _, tc := range []struct {
		name string
		cfg  callhistory.SyncConfig
	}{
		{"NoSource", callhistory.SyncConfig{Store: store}},
		{"NoStore", callhistory.SyncConfig{Source: src}},
		{"NoStateStore", callhistory.SyncConfig{Source: src, Store: statelessStore{store}}},
		{"NegativeOverlap", callhistory.SyncConfig{Source: src, Store: store, Overlap: -time.Second}},
		{"NegativeBackfill", callhistory.SyncConfig{Source: src, Store: store, BackfillMonths: -1}},
		{"NegativeBatch", callhistory.SyncConfig{Source: src, Store: store, BatchSize: -1}},
		{"UnknownRegion", callhistory.SyncConfig{Source: src, Store: store, DefaultRegion: "XX"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := callhistory.NewSyncer(tc.cfg)
			require.Error(t, err)
			require.Nil(t, s)
		})
	}
	s, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: src, Store: statelessStore{store}, State: store})
	require.NoError(t, err)
	require.NotNil(t, s)
}

// countingStore records how many calls each write puts.
type countingStore struct {
	*memstore.Store
	mu    sync.Mutex
	sizes []int
}

func (s *countingStore) Update(ctx context.Context, phones []string, fn func(callhistory.Tx) error) error {
	return s.Store.Update(ctx, phones, func(tx callhistory.Tx) error { return fn(countingTx{tx, s}) })
}

type countingTx struct {
	callhistory.Tx
	s *countingStore
}

func (t countingTx) Put(ctx context.Context, calls []callhistory.Call) error {
	t.s.mu.Lock()
	t.s.sizes = append(t.s.sizes, len(calls))
	t.s.mu.Unlock()
	return t.Tx.Put(ctx, calls)
}

func TestSyncBatchSizeBoundsEachWrite(t *testing.T) {
	t.Parallel()
	var store *countingStore
	env := newSyncEnv(t, syncOptions{
		server: callyzertest.Options{Calls: spreadCalls("bs-", 12, syncNow.Add(-3*time.Hour), time.Hour)},
		config: func(c *callhistory.SyncConfig) {
			c.BatchSize = 2
			store = &countingStore{Store: c.State.(*memstore.Store)}
			c.Store = store
		},
	})
	rep, err := env.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, 12, rep.Inserted)
	store.mu.Lock()
	defer store.mu.Unlock()
	// Pages of 5, 5 and 2 rows, written 2 at a time; the incremental read
	// found nothing and wrote nothing.
	require.Equal(t, []int{2, 2, 1, 2, 2, 1, 2}, store.sizes)
}

func TestSyncStateJSONRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 14, 0, 0, 123456789, time.UTC)
	counts := callhistory.SyncCounts{Pages: 1, Requests: 2, Seen: 3, Skipped: 4, DroppedRecordings: 8, Inserted: 5, Updated: 6, Unchanged: 7}
	full := callhistory.SyncState{
		Status: callhistory.SyncFailedOther, RunningSince: at, LastSuccess: at.Add(-time.Hour),
		LastError: "błąd 🚀", ConsecutiveFailures: 2, Cursor: at.Add(-2 * time.Hour),
		Backfill: callhistory.BackfillProgress{From: at.AddDate(0, -6, 0), To: at, Cursor: callyzer.Cursor{ChunkFrom: at.AddDate(0, -1, 0), ChunkTo: at.Add(-time.Second), NextPage: 3, Seen: 200, Done: true}},
		LastReport: callhistory.SyncReport{SyncCounts: counts, Incremental: counts, Backfill: counts,
			StartedAt: at, Duration: 1500 * time.Millisecond, Status: callhistory.SyncIdle},
	}
	for _, st := range []callhistory.SyncState{full, {}} {
		raw, err := json.Marshal(st)
		require.NoError(t, err)
		var back callhistory.SyncState
		require.NoError(t, json.Unmarshal(raw, &back))
		require.Empty(t, cmp.Diff(st, back), "%s", raw)
	}
	raw, err := json.Marshal(callhistory.SyncState{})
	require.NoError(t, err)
	require.JSONEq(t, `{}`, string(raw), "the zero state is an empty document")
}

// failingStore fails every write with a long error.
type failingStore struct{ *memstore.Store }

func (failingStore) Update(context.Context, []string, func(callhistory.Tx) error) error {
	return errors.New(strings.Repeat("żółw ", 1000))
}

func TestSyncLastErrorIsBounded(t *testing.T) {
	t.Parallel()
	env := newSyncEnv(t, syncOptions{
		server: callyzertest.Options{Calls: spreadCalls("le-", 2, syncNow.Add(-3*time.Hour), time.Hour)},
		config: func(c *callhistory.SyncConfig) { c.Store = failingStore{c.State.(*memstore.Store)} },
	})
	_, err := env.syncer.RunOnce(t.Context())
	require.ErrorIs(t, err, callhistory.ErrStore)
	st := env.state(t)
	require.LessOrEqual(t, len(st.LastError), 1024)
	require.Greater(t, len(st.LastError), 1024-8)
	require.True(t, utf8.ValidString(st.LastError))
}

// TestSyncStaleRunningReadsAsInterrupted: a state saved as running while no
// pass holds the lock (the process died mid-pass, or could not save its
// end) reads as interrupted; while a pass holds the lock it reads as
// running.
func TestSyncStaleRunningReadsAsInterrupted(t *testing.T) {
	t.Parallel()
	store := memstore.New()
	lock := callhistory.NewLocalPassLock()
	s, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: &emptySource{}, Store: store, Lock: lock,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	started := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	require.NoError(t, store.SaveSyncState(t.Context(), "default",
		callhistory.SyncState{Status: callhistory.SyncRunning, RunningSince: started}))

	release, ok, err := lock.TryLock(t.Context(), "default")
	require.NoError(t, err)
	require.True(t, ok)
	st, err := s.State(t.Context())
	require.NoError(t, err)
	require.Equal(t, callhistory.SyncRunning, st.Status, "a pass holds the lock")
	require.NoError(t, release())

	st, err = s.State(t.Context())
	require.NoError(t, err)
	require.Equal(t, callhistory.SyncIdle, st.Status)
	require.True(t, st.RunningSince.IsZero())
	require.Contains(t, st.LastError, "interrupted")
	require.Contains(t, st.LastError, "2026-11-25T14:00:00Z")
	_, ok, err = lock.TryLock(t.Context(), "default")
	require.NoError(t, err)
	require.True(t, ok, "State released the lock it took")
}
