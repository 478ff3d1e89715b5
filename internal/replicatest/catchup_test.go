package replicatest

import (
	"context"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/storage/pgcoord"
)

// heldCatchUps holds the catch-up reads of its source (by upload time only,
// Interactive) until release is closed, telling entered when one arrives.
type heldCatchUps struct {
	callhistory.CallSource
	entered chan struct{}
	release chan struct{}
}

func (s heldCatchUps) HistoryPages(ctx context.Context, q callyzer.HistoryQuery) iter.Seq2[*callyzer.HistoryPage, error] {
	if !q.CallFrom.IsZero() || q.SyncedFrom.IsZero() || q.Priority != pacing.Interactive {
		return s.CallSource.HistoryPages(ctx, q)
	}
	return func(yield func(*callyzer.HistoryPage, error) bool) {
		s.entered <- struct{}{}
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

// TestCatchUpOnOneReplicaServesRefreshesOnAnother: replica A's catch-up
// holds the catch-up lock; a refresh on replica B, begun before A's
// catch-up did, cannot take the lock, waits for A's catch-up to commit
// past its start and reads the store: one read at Callyzer for both
// replicas' refreshes, and B's lead's new call in B's answer.
func TestCatchUpOnOneReplicaServesRefreshesOnAnother(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 2, 300, 100, interval, latency)
	a, b := c.replicas[0], c.replicas[1]
	_, err := a.syncer.RunOnce(t.Context())
	require.NoError(t, err)
	st, err := a.syncer.State(t.Context())
	require.NoError(t, err)
	require.True(t, st.Backfill.Done)

	leadA, leadB := c.ds.Leads[0], c.ds.Leads[1]
	late := callyzertest.NewCall("late-b", leadB.Phone, time.Now().Add(-48*time.Hour))
	late.SetEmployee(c.ds.Employees[0])
	late.SyncedAt = time.Now().Add(-3 * time.Second).Truncate(time.Second)
	c.srv.AddCalls(late)
	c.srv.ResetRequests()

	// B's clock runs two seconds behind A's: its refresh began before A's
	// catch-up, which therefore serves it.
	behind := func() time.Time { return time.Now().Add(-2 * time.Second) }
	hold := heldCatchUps{CallSource: a.client, entered: make(chan struct{}, 1), release: make(chan struct{})}
	refresherOn := func(r *replica, source callhistory.CallSource, now func() time.Time) *callhistory.Refresher {
		syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{Source: source, Store: r.store, State: r.store,
			Lock: pgcoord.PassLock{DB: r.db}, Name: c.syncName, Now: now, Logger: discard})
		require.NoError(t, err)
		leads := leadBook{}
		for _, l := range c.ds.Leads {
			leads[l.ID] = callhistory.Lead{ID: l.ID, Name: l.Name, Phone: l.Phone}
		}
		ref, err := callhistory.NewRefresher(callhistory.Config{Source: source, Store: r.store, Leads: leads,
			Syncer: syncer, Strategy: "catch-up", MirrorEvery: 24 * time.Hour, Now: now, Logger: discard,
			RefreshTimeout: time.Second}) // a short lull before the mirrors the test drains
		require.NoError(t, err)
		t.Cleanup(ref.Wait)
		return ref
	}
	onA := refresherOn(a, hold, time.Now)
	onB := refresherOn(b, b.client, behind)

	var wg sync.WaitGroup
	var resA *callhistory.Result
	var errA error
	wg.Go(func() { resA, errA = onA.Refresh(t.Context(), admin(), leadA.ID) })
	<-hold.entered // A holds the catch-up lock, its read held
	var resB *callhistory.Result
	var errB error
	wg.Go(func() { resB, errB = onB.Refresh(t.Context(), admin(), leadB.ID) })
	// B finds the lock taken and waits: nothing of B's reaches Callyzer.
	time.Sleep(200 * time.Millisecond) // a negative is watched for a while: 5 of B's polls
	require.Empty(t, c.srv.Requests(), "B sends no read of its own while A's catch-up runs")
	close(hold.release)
	wg.Wait()
	require.NoError(t, errA)
	require.NoError(t, errB)
	require.Equal(t, "catch-up", resA.Report.Path)
	require.Equal(t, "catch-up", resB.Report.Path)
	require.Equal(t, 0, resB.Report.Requests, "B spent nothing: A's read served it")
	var ids []string
	for _, call := range resB.Calls {
		ids = append(ids, call.CallyzerID)
	}
	require.Contains(t, ids, "late-b", "uploaded before B's refresh began")

	// Each replica mirrors its number in the background: let them finish.
	require.NoError(t, onA.Drain(t.Context()))
	require.NoError(t, onB.Drain(t.Context()))
	var reads int
	for _, r := range c.srv.Requests() {
		if !isRefresh(r) && !strings.Contains(r.RawBody, "call_from") {
			reads++
		}
	}
	require.Equal(t, 1, reads, "one catch-up read at Callyzer for both replicas")
	c.requireFairBudget(t)
}
