package callyzer_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
)

func TestPacerOneInFlightAndInterval(t *testing.T) {
	t.Parallel()
	for _, hold := range []time.Duration{500 * time.Millisecond, 3 * time.Second} {
		synctest.Test(t, func(t *testing.T) {
			p := callyzer.NewPacer(2 * time.Second)
			var (
				mu              sync.Mutex
				inFlight, worst int
				starts          []time.Time
				wg              sync.WaitGroup
			)
			for i := range 6 {
				prio := callyzer.Priority(i % 2)
				wg.Go(func() {
					release, err := p.Acquire(t.Context(), prio)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					inFlight++
					worst = max(worst, inFlight)
					starts = append(starts, time.Now())
					mu.Unlock()
					time.Sleep(hold) // the request and reading its body
					mu.Lock()
					inFlight--
					mu.Unlock()
					release()
				})
			}
			wg.Wait()
			require.Equal(t, 1, worst, "one request in flight")
			require.Len(t, starts, 6)
			for i := 1; i < len(starts); i++ {
				gap := starts[i].Sub(starts[i-1])
				require.GreaterOrEqual(t, gap, max(2*time.Second, hold), "start %d", i)
			}
		})
	}
}

// queue starts a goroutine that acquires p with prio and sends its name on
// granted once it holds the slot; it releases when told on its own channel.
type queued struct {
	release chan struct{}
}

func enqueue(t *testing.T, p callyzer.Pacer, name string, prio callyzer.Priority, granted chan<- string) queued {
	q := queued{release: make(chan struct{})}
	go func() {
		rel, err := p.Acquire(t.Context(), prio)
		if err != nil {
			t.Error(err)
			return
		}
		granted <- name
		<-q.release
		rel()
	}()
	synctest.Wait() // it is now waiting (or holding), in this order
	return q
}

func TestPacerInteractiveFirstAtEverySlot(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := callyzer.NewPacer(2 * time.Second)
		granted := make(chan string, 10)
		holder := enqueue(t, p, "holder", callyzer.Background, granted)
		require.Equal(t, "holder", <-granted)
		b1 := enqueue(t, p, "b1", callyzer.Background, granted)
		b2 := enqueue(t, p, "b2", callyzer.Background, granted)
		i1 := enqueue(t, p, "i1", callyzer.Interactive, granted)

		close(holder.release)
		require.Equal(t, "i1", <-granted, "interactive goes before earlier background waiters")
		// A new interactive caller arrives while i1 holds the slot.
		i2 := enqueue(t, p, "i2", callyzer.Interactive, granted)
		close(i1.release)
		require.Equal(t, "i2", <-granted, "and again at the next slot")
		close(i2.release)
		require.Equal(t, "b1", <-granted, "background callers keep their order")
		close(b1.release)
		require.Equal(t, "b2", <-granted)
		close(b2.release)
		synctest.Wait()
		require.Empty(t, granted)
	})
}

func TestPacerCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := callyzer.NewPacer(2 * time.Second)
		granted := make(chan string, 10)
		holder := enqueue(t, p, "holder", callyzer.Interactive, granted)
		require.Equal(t, "holder", <-granted)

		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			rel, err := p.Acquire(ctx, callyzer.Interactive)
			if rel != nil {
				t.Error("a cancelled Acquire returned a release func")
			}
			errc <- err
		}()
		synctest.Wait()
		later := enqueue(t, p, "later", callyzer.Background, granted)
		cancel()
		require.ErrorIs(t, <-errc, context.Canceled)

		// The cancelled waiter released nothing: the holder still holds the slot.
		synctest.Wait()
		require.Empty(t, granted)
		time.Sleep(time.Minute)
		require.Empty(t, granted)

		close(holder.release)
		require.Equal(t, "later", <-granted, "the next waiter gets the slot once it is freed")
		close(later.release)

		// A deadline while waiting for the interval is the same.
		dctx, dcancel := context.WithTimeout(t.Context(), time.Second)
		defer dcancel()
		_, err := p.Acquire(dctx, callyzer.Background)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		// Nothing is left waiting: the next slot comes at the interval.
		start := time.Now()
		rel, err := p.Acquire(t.Context(), callyzer.Background)
		require.NoError(t, err)
		rel()
		rel() // a second call does nothing
		require.Less(t, time.Since(start), 2*time.Second)
	})
}

func TestPacerHold(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := callyzer.NewPacer(0)
		start := time.Now()
		p.Hold(start.Add(10 * time.Second))
		p.Hold(start.Add(time.Second)) // earlier: no change
		rel, err := p.Acquire(t.Context(), callyzer.Interactive)
		require.NoError(t, err)
		rel()
		require.Equal(t, 10*time.Second, time.Since(start))
	})
}

// fakeAPI is an in-memory Callyzer for synctest bubbles: it takes latency
// per request and records when each started and how many overlapped.
type fakeAPI struct {
	latency time.Duration
	reply   func(n int) (int, http.Header, string)

	mu              sync.Mutex
	starts          []time.Time
	inFlight, worst int
}

func (f *fakeAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.starts = append(f.starts, time.Now())
	n := len(f.starts)
	f.inFlight++
	f.worst = max(f.worst, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	select {
	case <-time.After(f.latency):
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	code, h, body := f.reply(n)
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

func TestClientPacing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		api := &fakeAPI{latency: 2700 * time.Millisecond, reply: func(n int) (int, http.Header, string) {
			if n == 2 {
				return 429, http.Header{"Retry-After": {"10"}}, "slow down"
			}
			return 200, nil, string(page(1, "c-1"))
		}}
		c, err := callyzer.NewClient(testKey,
			callyzer.WithBaseURL(mockBase),
			callyzer.WithHTTPClient(&http.Client{Transport: api}),
			callyzer.WithPacer(callyzer.NewPacer(2*time.Second)),
			callyzer.WithRetryDelays(0, 0),
		)
		require.NoError(t, err)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				_, err := c.HistoryPage(t.Context(), oneMonth(), 1)
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, api.worst, "one request in flight")
		require.Len(t, api.starts, 5, "four pages, one of them retried after a 429")
		for i := 1; i < len(api.starts); i++ {
			gap := api.starts[i].Sub(api.starts[i-1])
			require.GreaterOrEqual(t, gap, 2700*time.Millisecond, "a slot is held until the body is read")
			if i == 2 {
				require.GreaterOrEqual(t, gap, 10*time.Second, "the 429's Retry-After holds everyone back")
			}
		}
	})
}

// A 429 hold that outlasts the caller's deadline fails the caller at once
// with ErrRateLimited instead of letting it wait into a timeout; a caller
// whose deadline lies after the hold still waits and gets the slot.
func TestPacerHoldPastDeadlineFailsFast(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := callyzer.NewPacer(time.Second)
		start := time.Now()
		p.Hold(start.Add(30 * time.Second))

		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := p.Acquire(ctx, callyzer.Interactive)
		require.ErrorIs(t, err, callyzer.ErrRateLimited)
		require.Equal(t, start, time.Now(), "must fail without waiting")

		ctx2, cancel2 := context.WithTimeout(t.Context(), time.Minute)
		defer cancel2()
		release, err := p.Acquire(ctx2, callyzer.Interactive)
		require.NoError(t, err)
		release()
		require.Equal(t, 30*time.Second, time.Since(start))
	})
}

// dialingAPI is an in-memory Callyzer for synctest bubbles whose requests
// reach the server only after a connection delay (a dial and a TLS
// handshake, for the requests dial says need a new connection), as
// http.Transport reports through httptrace. It records when each request
// arrived.
type dialingAPI struct {
	dial    func(n int) time.Duration
	latency time.Duration

	mu       sync.Mutex
	n        int
	arrivals []time.Time
}

func (f *dialingAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	time.Sleep(f.dial(n))
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteRequest != nil {
		tr.WroteRequest(httptrace.WroteRequestInfo{})
	}
	f.mu.Lock()
	f.arrivals = append(f.arrivals, time.Now())
	f.mu.Unlock()
	time.Sleep(f.latency)
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(string(page(1, "c-1")))), Request: req}, nil
}

// TestClientPacingCountsFromTheSend: a request that must open a connection
// first reaches the server late; the next one, on the open connection,
// must still arrive at least the interval after it (the server counts
// from arrivals), and no later than that: the gap is the interval, not the
// interval plus the request's duration.
func TestClientPacingCountsFromTheSend(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const interval, connect = 2 * time.Second, 600 * time.Millisecond
		api := &dialingAPI{latency: 300 * time.Millisecond, dial: func(n int) time.Duration {
			if n%2 == 1 { // requests 1, 3, 5: a new connection
				return connect
			}
			return 0
		}}
		c, err := callyzer.NewClient(testKey,
			callyzer.WithBaseURL(mockBase),
			callyzer.WithHTTPClient(&http.Client{Transport: api}),
			callyzer.WithPacer(callyzer.NewPacer(interval)),
			callyzer.WithRetryDelays(0, 0),
		)
		require.NoError(t, err)
		for range 6 {
			_, err := c.HistoryPage(t.Context(), oneMonth(), 1)
			require.NoError(t, err)
		}
		require.Len(t, api.arrivals, 6)
		for i := 1; i < len(api.arrivals); i++ {
			gap := api.arrivals[i].Sub(api.arrivals[i-1])
			if i%2 == 1 { // request i+1 reuses the connection: it goes out the interval after the send
				require.Equal(t, interval, gap, "arrival %d", i+1)
			} else { // request i+1 dials after its grant (the interval after the send)
				require.Equal(t, interval+connect, gap, "arrival %d", i+1)
			}
		}
	})
}

// TestLocalPacerSent: the next start is at least the interval after the
// later of the grant and the reported send.
func TestLocalPacerSent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := callyzer.NewPacer(time.Second)
		start := time.Now()
		rel, err := p.Acquire(t.Context(), callyzer.Background)
		require.NoError(t, err)
		time.Sleep(300 * time.Millisecond)
		p.Sent(time.Now())
		rel()
		rel, err = p.Acquire(t.Context(), callyzer.Background)
		require.NoError(t, err)
		require.Equal(t, 1300*time.Millisecond, time.Since(start), "the interval after the send")

		p.Sent(time.Now().Add(-time.Hour)) // an earlier send changes nothing
		rel()
		rel, err = p.Acquire(t.Context(), callyzer.Background)
		require.NoError(t, err)
		rel()
		require.Equal(t, 2300*time.Millisecond, time.Since(start), "the interval after the grant")
	})
}

// sentRecorder is a SentPacer that records, for each request, whether
// Sent came while it held the slot and when.
type sentRecorder struct {
	*callyzer.LocalPacer

	mu      sync.Mutex
	holding bool
	grants  []time.Time
	sent    []time.Time
	early   int // Sent calls while no slot was held
}

func (r *sentRecorder) Acquire(ctx context.Context, prio callyzer.Priority) (func(), error) {
	rel, err := r.LocalPacer.Acquire(ctx, prio)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.holding = true
	r.grants = append(r.grants, time.Now())
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.holding = false
		r.mu.Unlock()
		rel()
	}, nil
}

func (r *sentRecorder) Sent(at time.Time) {
	r.mu.Lock()
	if !r.holding {
		r.early++
	}
	r.sent = append(r.sent, at)
	r.mu.Unlock()
	r.LocalPacer.Sent(at)
}

// TestClientReportsSendsOverRealSockets: through net/http's transport, the
// Client reports every request's send once, after its grant and while it
// still holds the slot.
func TestClientReportsSendsOverRealSockets(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(page(1, "c-1")))
	rec := &sentRecorder{LocalPacer: callyzer.NewPacer(0)}
	c := newClient(t, srv.URL, callyzer.WithPacer(rec))
	for range 3 {
		_, err := c.HistoryPage(t.Context(), oneMonth(), 1)
		require.NoError(t, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.sent, 3)
	require.Zero(t, rec.early, "Sent comes while the slot is held")
	for i, at := range rec.sent {
		require.False(t, at.Before(rec.grants[i]), "request %d was sent after its grant", i+1)
	}
}
