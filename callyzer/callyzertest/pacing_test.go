package callyzertest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

func TestPacingBurst(t *testing.T) {
	t.Parallel()
	clk := newClock(now)
	srv := callyzertest.NewServer(t, callyzertest.Options{Now: clk.Now, Interval: callyzertest.DefaultInterval, Calls: seedCalls(1)})
	from := now.Add(-24 * time.Hour)

	steps := []struct {
		advance    time.Duration
		want       int
		retryAfter string
	}{
		{0, 200, ""},
		{time.Second, 429, "1"},
		{500 * time.Millisecond, 429, "1"}, // a refused request does not move the window
		{500 * time.Millisecond, 200, ""},  // exactly 2 s after the first start
		{0, 429, "2"},
		{1999 * time.Millisecond, 429, "1"},
		{time.Millisecond, 200, ""},
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		r := history(t.Context(), srv, from, now, nil)
		require.Equal(t, st.want, r.Status, "step %d: %s", i, r.Raw)
		require.Equal(t, st.retryAfter, r.Header.Get("Retry-After"), "step %d", i)
		if st.want == 429 {
			require.NotEmpty(t, r.JSON["message"])
		}
	}
	require.Equal(t, time.Duration(0), srv.MinGap())
	statuses := []int{}
	for _, r := range srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	require.Equal(t, []int{200, 429, 429, 200, 429, 429, 200}, statuses)
}

func TestPacingRetryAfterRoundsUp(t *testing.T) {
	t.Parallel()
	clk := newClock(now)
	srv := callyzertest.NewServer(t, callyzertest.Options{Now: clk.Now, Interval: 5 * time.Second})
	require.Equal(t, 200, history(t.Context(), srv, now.Add(-time.Hour), now, nil).Status)
	clk.Advance(1200 * time.Millisecond)
	r := history(t.Context(), srv, now.Add(-time.Hour), now, nil)
	require.Equal(t, 429, r.Status)
	require.Equal(t, "4", r.Header.Get("Retry-After"))
}

func TestPacingParallel(t *testing.T) {
	t.Parallel()
	clk := newClock(now)
	srv := callyzertest.NewServer(t, callyzertest.Options{Now: clk.Now, Interval: 50 * time.Millisecond, Calls: seedCalls(1)})
	srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultHang, Request: 1})
	from := now.Add(-24 * time.Hour)

	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan reply, 1)
	go func() { first <- history(ctx, srv, from, now, nil) }()
	require.Eventually(t, func() bool { return srv.RequestCount() == 1 }, 5*time.Second, time.Millisecond)

	clk.Advance(time.Minute) // far past the interval: only the request in flight refuses the next
	r := history(t.Context(), srv, from, now, nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status, "%s", r.Raw)
	require.Equal(t, "1", r.Header.Get("Retry-After"))
	require.Equal(t, 2, srv.MaxInFlight())

	cancel()
	require.Error(t, (<-first).Err)
	require.Eventually(t, func() bool { return srv.InFlight() == 0 }, 5*time.Second, time.Millisecond)

	clk.Advance(time.Minute)
	require.Equal(t, http.StatusOK, history(t.Context(), srv, from, now, nil).Status)
	reqs := srv.Requests()
	require.Equal(t, callyzertest.FaultHang, reqs[0].Fault)
	require.Equal(t, 0, reqs[0].Status, "nothing was sent")
}

func TestPacingOff(t *testing.T) {
	t.Parallel()
	srv := callyzertest.NewServer(t, callyzertest.Options{Calls: seedCalls(1)})
	srv.Inject(callyzertest.Fault{Kind: callyzertest.FaultHang, Request: 1})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		history(ctx, srv, now.Add(-time.Hour), now, nil)
	}()
	require.Eventually(t, func() bool { return srv.RequestCount() == 1 }, 5*time.Second, time.Millisecond)
	for range 3 {
		require.Equal(t, http.StatusOK, history(t.Context(), srv, now.Add(-time.Hour), now, nil).Status)
	}
	require.Equal(t, 2, srv.MaxInFlight())
	cancel()
	<-done
}
