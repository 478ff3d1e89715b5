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
	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

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
			callyzer.WithPacer(pacing.New(2*time.Second)),
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
			callyzer.WithPacer(pacing.New(interval)),
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

// sentRecorder is a pacer that records, for each request, when it was
// granted and the send time its release reported.
type sentRecorder struct {
	pacing.Pacer

	mu     sync.Mutex
	grants []time.Time
	sent   []time.Time
}

func (r *sentRecorder) Begin(prio pacing.Priority) pacing.Sequence {
	return &sentSequence{r: r, Sequence: r.Pacer.Begin(prio)}
}

type sentSequence struct {
	pacing.Sequence
	r *sentRecorder
}

func (s *sentSequence) Acquire(ctx context.Context) (func(time.Time), error) {
	rel, err := s.Sequence.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	s.r.mu.Lock()
	s.r.grants = append(s.r.grants, time.Now())
	s.r.mu.Unlock()
	return func(sent time.Time) {
		s.r.mu.Lock()
		s.r.sent = append(s.r.sent, sent)
		s.r.mu.Unlock()
		rel(sent)
	}, nil
}

// TestClientReportsSendsOverRealSockets: through net/http's transport, the
// Client reports every request's send, after its grant, when it releases
// the slot.
func TestClientReportsSendsOverRealSockets(t *testing.T) {
	t.Parallel()
	srv := newAPIServer(t, serveFixtures(page(1, "c-1")))
	rec := &sentRecorder{Pacer: pacing.New(0)}
	c := newClient(t, srv.URL, callyzer.WithPacer(rec))
	for range 3 {
		_, err := c.HistoryPage(t.Context(), oneMonth(), 1)
		require.NoError(t, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.sent, 3)
	for i, at := range rec.sent {
		require.False(t, at.IsZero(), "request %d: its send was reported", i+1)
		require.False(t, at.Before(rec.grants[i]), "request %d was sent after its grant", i+1)
	}
}
