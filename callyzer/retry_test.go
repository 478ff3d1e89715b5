package callyzer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// oneMonth is a window of one chunk, so one page is one logical request.
func oneMonth() callyzer.HistoryQuery {
	q := historyQuery()
	q.CallFrom = windowTo.AddDate(0, -1, 0)
	return q
}

var connReset = &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}

// hang blocks until the request's context ends, like a server that never
// sends headers.
func hang(req *http.Request) (*http.Response, error) {
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// cutBody answers 200 with a body that breaks off mid-way.
func cutBody(req *http.Request) (*http.Response, error) {
	r := io.MultiReader(strings.NewReader(`{"message":"Success","total_records":1,"result":[{"id":"c-`), errReader{io.ErrUnexpectedEOF})
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(r), Request: req}, nil
}

// stallBody answers 200 and then stops sending until the request ends.
func stallBody(req *http.Request) (*http.Response, error) {
	r := io.MultiReader(strings.NewReader(`{"message":"Success","total_records":1,"result":[`), ctxReader{req})
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(r), Request: req}, nil
}

// cutStatus answers code (and the header, when given) with a body that
// breaks off mid-way, as when Content-Length promises more than arrives.
func cutStatus(code int, header ...string) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		h := http.Header{}
		if len(header) == 2 {
			h.Set(header[0], header[1])
		}
		r := io.MultiReader(strings.NewReader(`{"message":"Unauthent`), errReader{io.ErrUnexpectedEOF})
		return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(r), Request: req}, nil
	}
}

// bigCap is the body cap of the cases that use bigStatus.
const bigCap = 4096

// bigStatus answers code (and the header, when given) with a body over
// bigCap bytes.
func bigStatus(code int, header ...string) httpmock.Responder {
	return status(code, `{"message":"`+strings.Repeat("x", 2*bigCap)+`"}`, header...)
}

type ctxReader struct{ req *http.Request }

func (c ctxReader) Read([]byte) (int, error) {
	<-c.req.Context().Done()
	return 0, c.req.Context().Err()
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func status(code int, body string, header ...string) httpmock.Responder {
	r := httpmock.NewStringResponder(code, body)
	if len(header) == 2 {
		r = r.HeaderSet(http.Header{header[0]: {header[1]}})
	}
	return r
}

func TestRetries(t *testing.T) {
	t.Parallel()
	ok := httpmock.NewBytesResponder(http.StatusOK, page(1, "c-1"))
	httpDate := func() string { return time.Now().Add(time.Hour).UTC().Format(http.TimeFormat) }
	tests := []struct {
		name      string
		responder httpmock.Responder
		opts      []callyzer.Option
		want      error // nil: the page arrives
		wantCalls int
		check     func(t *testing.T, e *callyzer.Error)
	}{
		{name: "connection reset then success", responder: httpmock.NewErrorResponder(connReset).Then(ok), wantCalls: 2},
		{name: "connection reset every time", responder: httpmock.NewErrorResponder(connReset), want: callyzer.ErrUpstream, wantCalls: 4},
		{name: "body cut short then success", responder: httpmock.Responder(cutBody).Then(ok), wantCalls: 2},
		{name: "hang then success", responder: httpmock.Responder(hang).Then(ok), wantCalls: 2,
			opts: []callyzer.Option{callyzer.WithAttemptTimeout(20 * time.Millisecond)}},
		{name: "hang every time", responder: hang, want: callyzer.ErrTimeout, wantCalls: 2,
			opts:  []callyzer.Option{callyzer.WithAttemptTimeout(10 * time.Millisecond), callyzer.WithMaxRetries(1)},
			check: func(t *testing.T, e *callyzer.Error) { require.ErrorIs(t, e, context.DeadlineExceeded) }},
		{name: "stall mid-body then success", responder: httpmock.Responder(stallBody).Then(ok), wantCalls: 2,
			opts: []callyzer.Option{callyzer.WithAttemptTimeout(20 * time.Millisecond)}},
		{name: "stall mid-body every time", responder: stallBody, want: callyzer.ErrTimeout, wantCalls: 3,
			opts: []callyzer.Option{callyzer.WithAttemptTimeout(10 * time.Millisecond), callyzer.WithMaxRetries(2)}},
		{name: "503 then success", responder: status(503, "busy").Then(status(500, "oops")).Then(ok), wantCalls: 3},
		{name: "500 every time", responder: status(500, `{"message":"Internal"}`), want: callyzer.ErrUpstream, wantCalls: 4,
			check: func(t *testing.T, e *callyzer.Error) {
				require.Equal(t, 500, e.StatusCode)
				require.Equal(t, "Internal", e.Message)
				require.Equal(t, 4, e.Attempts)
			}},
		{name: "500 without retries", responder: status(500, "x"), want: callyzer.ErrUpstream, wantCalls: 1,
			opts: []callyzer.Option{callyzer.WithMaxRetries(0)}},
		{name: "501 not retried", responder: status(501, "no"), want: callyzer.ErrUpstream, wantCalls: 1},
		{name: "404 not retried", responder: status(404, "no"), want: callyzer.ErrUpstream, wantCalls: 1},
		{name: "401 not retried", responder: status(401, `{"message":"Unauthenticated."}`), want: callyzer.ErrUnauthorized, wantCalls: 1},
		{name: "403 not retried", responder: status(403, `{"message":"Subscription expired"}`), want: callyzer.ErrUnauthorized, wantCalls: 1},
		{name: "400 not retried", responder: status(400, `{"message":"Date range must be within 180 days"}`), want: callyzer.ErrBadRequest, wantCalls: 1,
			check: func(t *testing.T, e *callyzer.Error) {
				require.Equal(t, "Date range must be within 180 days", e.Message)
			}},
		{name: "exception 400 retried once then success", responder: status(400, "SQLSTATE[40001]: Serialization failure").Then(ok), wantCalls: 2},
		{name: "exception 400 retried only once", responder: status(400, `{"message":"Illuminate\\Database\\QueryException"}`), want: callyzer.ErrBadRequest, wantCalls: 2},
		{name: "429 Retry-After seconds then success", responder: status(429, "slow down", "Retry-After", "0").Then(ok), wantCalls: 2},
		{name: "429 every time", responder: status(429, "slow down", "Retry-After", "0"), want: callyzer.ErrRateLimited, wantCalls: 4},
		{name: "429 Retry-After over the cap", responder: status(429, "", "Retry-After", "120"), want: callyzer.ErrRateLimited, wantCalls: 1,
			opts: []callyzer.Option{callyzer.WithLimits(0, 0, time.Minute)},
			check: func(t *testing.T, e *callyzer.Error) {
				require.Equal(t, 2*time.Minute, e.RetryAfter)
				require.Contains(t, e.Message, "cap")
			}},
		{name: "429 Retry-After HTTP date over the cap", responder: func(r *http.Request) (*http.Response, error) {
			return status(429, "", "Retry-After", httpDate())(r)
		}, want: callyzer.ErrRateLimited, wantCalls: 1,
			check: func(t *testing.T, e *callyzer.Error) { require.Greater(t, e.RetryAfter, 59*time.Minute) }},
		{name: "429 Retry-After HTTP date in the past then success", responder: status(429, "", "Retry-After", "Mon, 02 Jan 2006 15:04:05 GMT").Then(ok), wantCalls: 2},
		{name: "429 garbage Retry-After uses the backoff", responder: status(429, "", "Retry-After", "soon").Then(ok), wantCalls: 2},

		// A non-2xx answer is classified by its status even when its body
		// is cut short or over the cap; only a 2xx body must be whole.
		{name: "401 body cut short not retried", responder: cutStatus(401), want: callyzer.ErrUnauthorized, wantCalls: 1,
			check: statusKept(401, "Unauthent", "cut short")},
		{name: "403 body cut short not retried", responder: cutStatus(403), want: callyzer.ErrUnauthorized, wantCalls: 1,
			check: statusKept(403, "Unauthent", "cut short")},
		{name: "401 body over the cap not retried", responder: bigStatus(401), want: callyzer.ErrUnauthorized, wantCalls: 1,
			opts: []callyzer.Option{callyzer.WithLimits(0, bigCap, 0)}, check: statusKept(401, "xxxx", "over 4096 bytes")},
		{name: "403 body over the cap not retried", responder: bigStatus(403), want: callyzer.ErrUnauthorized, wantCalls: 1,
			opts: []callyzer.Option{callyzer.WithLimits(0, bigCap, 0)}, check: statusKept(403, "xxxx", "over 4096 bytes")},
		{name: "501 body cut short not retried", responder: cutStatus(501), want: callyzer.ErrUpstream, wantCalls: 1,
			check: statusKept(501, "Unauthent", "cut short")},
		{name: "501 body over the cap not retried", responder: bigStatus(501), want: callyzer.ErrUpstream, wantCalls: 1,
			opts: []callyzer.Option{callyzer.WithLimits(0, bigCap, 0)}, check: statusKept(501, "xxxx", "over 4096 bytes")},
		{name: "400 body cut short not retried", responder: cutStatus(400), want: callyzer.ErrBadRequest, wantCalls: 1,
			check: statusKept(400, "Unauthent", "cut short")},
		{name: "429 body cut short then success", responder: cutStatus(429, "Retry-After", "0").Then(ok), wantCalls: 2},
		{name: "429 body over the cap then success", responder: bigStatus(429, "Retry-After", "0").Then(ok), wantCalls: 2,
			opts: []callyzer.Option{callyzer.WithLimits(0, bigCap, 0)}},
		{name: "429 body cut short every time", responder: cutStatus(429, "Retry-After", "0"), want: callyzer.ErrRateLimited, wantCalls: 4,
			check: statusKept(429, "Unauthent", "cut short")},
		{name: "429 body over the cap every time", responder: bigStatus(429, "Retry-After", "0"), want: callyzer.ErrRateLimited, wantCalls: 4,
			opts: []callyzer.Option{callyzer.WithLimits(0, bigCap, 0)}, check: statusKept(429, "xxxx", "over 4096 bytes")},
		{name: "503 body cut short then success", responder: cutStatus(503).Then(ok), wantCalls: 2},
		{name: "200 body over the cap not retried", responder: bigStatus(200), want: callyzer.ErrMalformedResponse, wantCalls: 1,
			opts: []callyzer.Option{callyzer.WithLimits(0, bigCap, 0)}, check: func(t *testing.T, e *callyzer.Error) {
				require.Contains(t, e.Message, "body over the cap of 4096 bytes")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt := mockClient(t, tc.opts...)
			mt.RegisterResponder(http.MethodPost, mockBase+"/call-log/history", tc.responder)
			pg, err := c.HistoryPage(t.Context(), oneMonth(), 1)
			require.Equal(t, tc.wantCalls, mt.GetTotalCallCount())
			if tc.want == nil {
				require.NoError(t, err)
				require.Equal(t, tc.wantCalls, pg.Attempts, "Attempts counts every HTTP request of the page")
				require.Equal(t, "c-1", pg.Calls[0].ID)
				return
			}
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, pg)
			var e *callyzer.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.wantCalls, e.Attempts)
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

// statusKept checks that an error was classified by its status: the code
// is kept, it is no transport or size failure, and the message holds what
// was read of the body and a note of how it ended.
func statusKept(code int, excerpt, note string) func(t *testing.T, e *callyzer.Error) {
	return func(t *testing.T, e *callyzer.Error) {
		t.Helper()
		require.Equal(t, code, e.StatusCode)
		require.NotErrorIs(t, e, callyzer.ErrMalformedResponse)
		if code < 500 {
			require.NotErrorIs(t, e, callyzer.ErrUpstream)
		}
		require.Contains(t, e.Message, excerpt)
		require.Contains(t, e.Message, note)
		require.LessOrEqual(t, len(e.Message), 250, "the message stays short")
	}
}

func TestRetryAfterPastTheDeadlineFailsNow(t *testing.T) {
	t.Parallel()
	c, mt := mockClient(t)
	mt.RegisterResponder(http.MethodPost, mockBase+"/call-log/history", status(429, "", "Retry-After", "20"))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.HistoryPage(ctx, oneMonth(), 1)
	require.ErrorIs(t, err, callyzer.ErrRateLimited)
	require.Contains(t, err.Error(), "deadline")
	require.Less(t, time.Since(start), 2*time.Second, "it does not wait for a retry it cannot make")
	require.Equal(t, 1, mt.GetTotalCallCount())
}

func TestRetryAfterHoldsTheSharedPacer(t *testing.T) {
	t.Parallel()
	for name, responder := range map[string]httpmock.Responder{
		"whole body":        status(429, "", "Retry-After", "30"),
		"body cut short":    cutStatus(429, "Retry-After", "30"),
		"body over the cap": bigStatus(429, "Retry-After", "30"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := pacing.New(0)
			c, mt := mockClient(t, callyzer.WithPacer(p), callyzer.WithMaxRetries(0), callyzer.WithLimits(0, bigCap, 0))
			mt.RegisterResponder(http.MethodPost, mockBase+"/call-log/history", responder)
			_, err := c.HistoryPage(t.Context(), oneMonth(), 1)
			require.ErrorIs(t, err, callyzer.ErrRateLimited)
			var e *callyzer.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, 30*time.Second, e.RetryAfter)

			// Every caller of the pacer is now held back: one whose deadline
			// comes before the hold ends is told at once that the key is
			// rate limited.
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			defer cancel()
			seq := p.Begin(pacing.Interactive)
			defer seq.End()
			_, err = seq.Acquire(ctx)
			held, ok := errors.AsType[interface {
				error
				HeldUntil() time.Time
			}](err)
			require.True(t, ok, "a wait would have ended in DeadlineExceeded: %v", err)
			require.Greater(t, time.Until(held.HeldUntil()), 25*time.Second)

			// Through the client, it is ErrRateLimited, with the rest of the
			// hold as RetryAfter, and nothing is sent.
			_, err = c.HistoryPage(ctx, oneMonth(), 1)
			require.ErrorIs(t, err, callyzer.ErrRateLimited)
			require.ErrorAs(t, err, &e)
			require.Greater(t, e.RetryAfter, 25*time.Second)
			require.NoError(t, ctx.Err(), "told at once, not at the deadline")
			require.Equal(t, 1, mt.GetTotalCallCount())
		})
	}
}

// A caller that gives up returns at once, but its request keeps the slot
// until Callyzer answers it: the next request goes out only then.
func TestAbandonedRequestKeepsTheSlotUntilItsAnswer(t *testing.T) {
	t.Parallel()
	c, mt := mockClient(t, callyzer.WithAttemptTimeout(time.Minute))
	answer := make(chan struct{})
	var (
		mu       sync.Mutex
		calls    int
		answered bool // the first request's answer was sent
		order    []string
	)
	mt.RegisterResponder(http.MethodPost, mockBase+"/call-log/history", func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		calls++
		n := calls
		order = append(order, fmt.Sprintf("arrived %d (first answered: %v)", n, answered))
		mu.Unlock()
		if n == 1 {
			<-answer
			mu.Lock()
			answered = true
			mu.Unlock()
		}
		return httpmock.NewBytesResponse(200, page(1, fmt.Sprintf("c-%d", n))), nil
	})

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := c.HistoryPage(ctx, oneMonth(), 1)
	require.ErrorIs(t, err, callyzer.ErrTimeout)

	second := make(chan error, 1)
	go func() {
		_, err := c.HistoryPage(t.Context(), oneMonth(), 1)
		second <- err
	}()
	// A negative can only be watched for a while: 100 ms is ample for the
	// second request to go out were the slot free.
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, 1, mt.GetTotalCallCount(), "the second request waits for the first's answer")
	close(answer)
	require.NoError(t, <-second)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"arrived 1 (first answered: false)", "arrived 2 (first answered: true)"}, order)
}

func TestCallerDeadlineAndCancel(t *testing.T) {
	t.Parallel()
	t.Run("deadline while the server hangs", func(t *testing.T) {
		t.Parallel()
		// The abandoned request runs on to the attempt timeout.
		c, mt := mockClient(t, callyzer.WithAttemptTimeout(100*time.Millisecond))
		mt.RegisterResponder(http.MethodPost, mockBase+"/call-log/history", hang)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		_, err := c.HistoryPage(ctx, oneMonth(), 1)
		require.ErrorIs(t, err, callyzer.ErrTimeout)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, 1, mt.GetTotalCallCount(), "nothing is retried after the context is done")
	})
	t.Run("cancelled before sending", func(t *testing.T) {
		t.Parallel()
		c, mt := mockClient(t)
		mt.RegisterResponder(http.MethodPost, mockBase+"/call-log/history", httpmock.NewBytesResponder(200, page(0)))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.HistoryPage(ctx, oneMonth(), 1)
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, errors.Is(err, callyzer.ErrTimeout))
		require.Equal(t, 0, mt.GetTotalCallCount())
	})
	t.Run("cancelled during a 5xx backoff", func(t *testing.T) {
		t.Parallel()
		c, mt := mockClient(t, callyzer.WithRetryDelays(time.Hour, time.Hour))
		ctx, cancel := context.WithCancel(t.Context())
		mt.RegisterResponder(http.MethodPost, mockBase+"/call-log/history", func(r *http.Request) (*http.Response, error) {
			time.AfterFunc(10*time.Millisecond, cancel)
			return httpmock.NewStringResponse(503, ""), nil
		})
		_, err := c.HistoryPage(ctx, oneMonth(), 1)
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, 1, mt.GetTotalCallCount())
	})
}
