package callyzer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
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
		"reset":         httpmock.NewErrorResponder(fmt.Errorf("read tcp: connection reset (key %s)", canary)),
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
				callyzer.WithPacer(callyzer.NewPacer(0)),
				callyzer.WithInterval(0),
				callyzer.WithRetryDelays(0, 0),
				callyzer.WithMaxRetries(1),
				callyzer.WithAttemptTimeout(5*time.Millisecond),
				callyzer.WithMaxBodyBytes(4096),
				callyzer.WithMaxRetryAfter(0), // the 429 fails at once and holds nobody back
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
