package pgpacing_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/callyzer/pacing/pgpacing"
)

// TestHoldAcrossReplicas: a 429 seen on replica A holds replica B's callers
// back until its Retry-After, and a caller whose deadline comes sooner is
// told so at once.
func TestHoldAcrossReplicas(t *testing.T) {
	t.Parallel()
	const interval = 10 * time.Millisecond
	d := newTestDB(t)
	dbs := d.migrated(t, 2)
	a := newPacer(t, dbs[0], pgpacing.Config{Name: d.name, Interval: interval})
	b := newPacer(t, dbs[1], pgpacing.Config{Name: d.name, Interval: interval, PollInterval: 5 * time.Millisecond})
	var bTimes claimTimes
	pgpacing.SetClaimHook(b, bTimes.hook)

	release, err := single(t.Context(), a, pacing.Background)
	require.NoError(t, err)
	until := time.Now().Add(time.Second)
	a.Hold(until) // while holding the slot, as the client does on a 429
	a.Hold(time.Now().Add(10 * time.Millisecond))
	a.Hold(time.Now().Add(-time.Second)) // neither shortens the hold
	release(time.Time{})

	short, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	_, err = single(short, b, pacing.Interactive)
	held, ok := errors.AsType[heldError](err)
	require.True(t, ok, "%v", err)
	require.False(t, held.HeldUntil().Before(until), "HeldUntil %v is before the hold's end %v", held.HeldUntil(), until)
	require.NoError(t, short.Err(), "a held caller is told at once, not at its deadline")

	// A Client on replica B reports it as ErrRateLimited, sending nothing.
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("a held request was sent")
	}))
	defer srv.Close()
	client, err := callyzer.NewClient("k", callyzer.WithBaseURL(srv.URL), callyzer.WithPacer(b),
		callyzer.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	for _, err = range client.HistoryPages(short, callyzer.HistoryQuery{CallFrom: time.Now().Add(-time.Hour), CallTo: time.Now()}) {
		break
	}
	require.ErrorIs(t, err, callyzer.ErrRateLimited)
	require.NoError(t, short.Err(), "told at once, not at its deadline")

	for _, prio := range []pacing.Priority{pacing.Interactive, pacing.Background} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		release, err := single(ctx, b, prio)
		cancel()
		require.NoError(t, err)
		release(time.Time{})
		// The hold ends, in real time, no sooner than until: the database
		// added time.Until(until) to its clock after Hold computed it.
		_, granted := bTimes.last()
		require.False(t, granted.Before(until), "%v caller got the slot %v before the hold ended", prio, until.Sub(granted))
	}
}

func TestHoldLogsWhenTheDatabaseIsGone(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	db := d.replica(t)
	require.NoError(t, db.Close())
	var buf bytes.Buffer
	p := newPacer(t, db, pgpacing.Config{Name: d.name, Interval: time.Second, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	p.Hold(time.Now().Add(time.Second))
	require.Contains(t, buf.String(), "could not hold")
}

// TestSentAcrossReplicas: a request that went out late in its slot (it
// first dialled and negotiated TLS) pushes the next start, on another
// replica, to the interval after its send rather than after its grant.
func TestSentAcrossReplicas(t *testing.T) {
	t.Parallel()
	const (
		interval = 150 * time.Millisecond
		dial     = 100 * time.Millisecond
	)
	d := newTestDB(t)
	dbs := d.migrated(t, 2)
	a := newPacer(t, dbs[0], pgpacing.Config{Name: d.name, Interval: interval})
	b := newPacer(t, dbs[1], pgpacing.Config{Name: d.name, Interval: interval, PollInterval: 5 * time.Millisecond})
	var aTimes, bTimes claimTimes
	pgpacing.SetClaimHook(a, aTimes.hook)
	pgpacing.SetClaimHook(b, bTimes.hook)

	release, err := single(t.Context(), a, pacing.Background)
	require.NoError(t, err)
	time.Sleep(dial)
	sent := time.Now()
	release(sent)

	release, err = single(t.Context(), b, pacing.Background)
	require.NoError(t, err)
	release(time.Time{})
	_, aGranted := aTimes.last()
	_, bGranted := bTimes.last()
	// Real time throughout (see TestPacerAcrossReplicas): without the send
	// next start would be interval after the grant, dial too early.
	require.False(t, bGranted.Before(sent.Add(interval)),
		"the next request started %v after the send (interval %v)", bGranted.Sub(sent), interval)
	require.GreaterOrEqual(t, bGranted.Sub(aGranted), interval+dial)
}
