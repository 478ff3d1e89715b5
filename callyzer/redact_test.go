package callyzer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
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

const canary = "CANARY-7f3a9c2e-d41d-4b8e-9e0c-canary-key"

// syncBuffer is a bytes.Buffer safe for the concurrent writes of slog.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// echoKey answers with the Authorization header (the key) inside the body
// and a header, the worst a server could do.
func echoKey(code int) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		auth := r.Header.Get("Authorization")
		resp := httpmock.NewStringResponse(code, fmt.Sprintf(`{"message":"token %s rejected for 48601234567"}`, auth))
		resp.Header.Set("Retry-After", "3600")
		return resp, nil
	}
}

func TestCanaryKeyNeverLeaks(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	jsonLogs := &syncBuffer{}
	jsonLogger := slog.New(slog.NewJSONHandler(jsonLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	faults := map[string]httpmock.Responder{
		"400":           echoKey(400),
		"400 exception": httpmock.NewStringResponder(400, "SQLSTATE[HY000] near '"+canary+"'"),
		"401":           echoKey(401),
		"403":           echoKey(403),
		"429":           echoKey(429),
		"500":           echoKey(500),
		"501":           echoKey(501),
		"reset":         httpmock.NewErrorResponder(fmt.Errorf("read tcp: connection reset (key %s) for 48601234567: %w", canary, connReset)),
		"hang":          hang,
		"cut body":      cutBody,
		"garbage":       httpmock.NewStringResponder(200, `{"result": [`+canary),
		"data envelope": httpmock.NewStringResponder(200, `{"data":[],"message":"`+canary+`"}`),
		"oversized":     httpmock.NewStringResponder(200, strings.Repeat(canary, 1000)),
		"incomplete":    httpmock.NewBytesResponder(200, page(5, "a")).Then(httpmock.NewBytesResponder(200, page(5))),
	}
	var errs []error
	for name, responder := range faults {
		for _, lg := range []*slog.Logger{logger, jsonLogger} {
			mt := httpmock.NewMockTransport()
			mt.RegisterNoResponder(responder)
			c, err := callyzer.NewClient(canary,
				callyzer.WithBaseURL(mockBase),
				callyzer.WithHTTPClient(&http.Client{Transport: mt}),
				callyzer.WithPacer(pacing.New(0)),
				callyzer.WithInterval(0),
				callyzer.WithRetryDelays(0, 0),
				callyzer.WithMaxRetries(1),
				callyzer.WithAttemptTimeout(5*time.Millisecond),
				callyzer.WithLimits(0, 4096, time.Nanosecond), // the 429 fails at once and holds nobody back
				callyzer.WithLogger(lg),
			)
			require.NoError(t, err)
			_, err = collect(t, c, historyQuery())
			require.Error(t, err, name)
			errs = append(errs, err)
			_, err = c.Employees(t.Context(), callyzer.EmployeesQuery{EmployeeNumbers: []string{"+48511222333"}})
			require.Error(t, err, name)
			errs = append(errs, err)

			for _, s := range []string{
				fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q %x", c, c, c, c, c, c),
				fmt.Sprintf("%v %+v %#v", *c, *c, *c), mustJSON(t, c),
			} {
				require.NotContains(t, s, canary)
			}
			lg.Debug("client", "client", c)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c, err := callyzer.NewClient(canary, callyzer.WithLogger(logger))
	require.NoError(t, err)
	_, err = c.HistoryPage(ctx, oneMonth(), 1)
	errs = append(errs, err)
	_, err = callyzer.NewClient(canary + " with a space")
	errs = append(errs, err)

	for _, err := range errs {
		for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err), mustJSON(t, err)} {
			require.NotContains(t, s, canary)
			require.NotContains(t, s, "48601234567", "numbers are masked in errors")
		}
		var e *callyzer.Error
		if errors.As(err, &e) {
			require.NotContains(t, fmt.Sprintf("%#v", *e), canary)
		}
		requireCleanChain(t, err)
	}
	for _, out := range []string{logs.String(), jsonLogs.String()} {
		require.NotEmpty(t, out)
		require.NotContains(t, out, canary)
		require.NotContains(t, out, "48601234567")
		require.NotContains(t, out, "511222333")
		require.Contains(t, out, "+48 601 *** 567", "numbers are logged masked")
		require.Contains(t, out, "REDACTED")
	}
	require.Contains(t, logs.String(), "endpoint=/call-log/history")
	require.Contains(t, logs.String(), "attempt=2")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// requireCleanChain walks err's whole chain, as errors.Is/As and error
// reporters do (Unwrap() error and Unwrap() []error, recursively), and
// checks that no link's text holds the canary key or a whole number.
func requireCleanChain(t *testing.T, err error) {
	t.Helper()
	var links int
	var walk func(err error, depth int)
	walk = func(err error, depth int) {
		if err == nil {
			return
		}
		links++
		for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err)} {
			require.NotContains(t, s, canary, "link %d (%T) at depth %d", links, err, depth)
			require.NotContains(t, s, "48601234567", "link %d (%T) at depth %d", links, err, depth)
			require.NotContains(t, s, "601234567", "link %d (%T) at depth %d", links, err, depth)
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e, depth+1)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		}
	}
	walk(err, 0)
	require.Positive(t, links)
}

// TestTransportErrorKeepsOnlySafeMatches: a transport failure's text is
// cleaned, the raw error (a *url.Error naming the request) is not in the
// chain, and errors.Is still finds the causes that carry no data.
func TestTransportErrorKeepsOnlySafeMatches(t *testing.T) {
	t.Parallel()
	raw := fmt.Errorf("read tcp: connection reset (key %s) for 48601234567: %w", canary, connReset)
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(httpmock.NewErrorResponder(raw))
	c, err := callyzer.NewClient(canary, append(quickOptions(),
		callyzer.WithBaseURL(mockBase), callyzer.WithHTTPClient(&http.Client{Transport: mt}), callyzer.WithMaxRetries(0))...)
	require.NoError(t, err)
	_, err = c.HistoryPage(t.Context(), oneMonth(), 1)
	require.ErrorIs(t, err, callyzer.ErrUpstream)
	require.ErrorIs(t, err, syscall.ECONNRESET, "errors.Is still sees the reset")
	require.NotErrorIs(t, err, raw)
	var ue *url.Error
	require.False(t, errors.As(err, &ue), "the *url.Error (it names the request) is not reachable")
	var oe *net.OpError
	require.False(t, errors.As(err, &oe))
	require.Contains(t, err.Error(), "[REDACTED]")
	require.Contains(t, err.Error(), "***567")
	requireCleanChain(t, err)

	// A timeout of the transport is still a net.Error that timed out.
	mt2 := httpmock.NewMockTransport()
	mt2.RegisterNoResponder(httpmock.NewErrorResponder(&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}))
	c2 := newClient(t, mockBase, callyzer.WithHTTPClient(&http.Client{Transport: mt2}), callyzer.WithMaxRetries(0))
	_, err = c2.HistoryPage(t.Context(), oneMonth(), 1)
	require.ErrorIs(t, err, callyzer.ErrTimeout)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout())
}
