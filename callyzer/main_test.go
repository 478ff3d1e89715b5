package callyzer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// This package's tests decode the fixtures in testdata/ (the API
// document's example page, v2.2 rows, zone suffixes, malformed envelopes),
// drive every transport fault through httpmock, check the Client's side of
// pacing (one slot per request, held until the body is read, released with
// the send time; a 429 holds the pacer; every iteration ends its sequence)
// in synctest bubbles without sleeping, replay a canary key through every
// error path and every link of its error chain, and run the fuzz targets
// FuzzDecodeHistory and FuzzParseRetryAfter on their seed corpora (go test
// -fuzz=FuzzDecodeHistory to explore further). BenchmarkDecodeAndMapPage
// decodes a 100-row page and maps every status. The pacing rules
// themselves are tested in callyzer/pacing.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testKey = "test-key-0123456789"

var warsaw = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic(err)
	}
	return loc
}()

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// quickOptions make a client that never waits: no pacing gap, no backoff,
// its own pacer, no log output.
func quickOptions() []callyzer.Option {
	return []callyzer.Option{
		callyzer.WithInterval(0),
		callyzer.WithRetryDelays(0, 0),
		callyzer.WithPacer(pacing.New(0)),
		callyzer.WithLogger(slog.New(slog.DiscardHandler)),
	}
}

func newClient(t testing.TB, base string, opts ...callyzer.Option) *callyzer.Client {
	t.Helper()
	all := append([]callyzer.Option{callyzer.WithBaseURL(base)}, quickOptions()...)
	c, err := callyzer.NewClient(testKey, append(all, opts...)...)
	require.NoError(t, err)
	return c
}

// sentRequest is what the test server saw of one request.
type sentRequest struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// decodeBody decodes the request body into a map, numbers kept exact.
func (r sentRequest) decodeBody(t testing.TB) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(r.Body))
	d.UseNumber()
	var m map[string]any
	require.NoError(t, d.Decode(&m))
	return m
}

// apiServer is an httptest server that records requests and answers with
// reply(n, req), n counting from 1.
type apiServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []sentRequest
}

func newAPIServer(t testing.TB, reply func(n int, r sentRequest, w http.ResponseWriter)) *apiServer {
	t.Helper()
	s := &apiServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sr := sentRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
		s.mu.Lock()
		s.reqs = append(s.reqs, sr)
		n := len(s.reqs)
		s.mu.Unlock()
		reply(n, sr, w)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) requests() []sentRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sentRequest(nil), s.reqs...)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serveFixtures answers request n with the n-th body (the last one repeats).
func serveFixtures(bodies ...[]byte) func(int, sentRequest, http.ResponseWriter) {
	return func(n int, _ sentRequest, w http.ResponseWriter) {
		writeJSON(w, http.StatusOK, bodies[min(n, len(bodies))-1])
	}
}

// mockClient returns a client whose transport is an httpmock MockTransport.
func mockClient(t testing.TB, opts ...callyzer.Option) (*callyzer.Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	all := append([]callyzer.Option{callyzer.WithHTTPClient(&http.Client{Transport: mt})}, opts...)
	return newClient(t, mockBase, all...), mt
}

const (
	mockBase    = "https://callyzer.test/api/v2.1"
	mockHistory = "POST " + mockBase + "/call-log/history"
)

// page builds a history answer with total and rows whose ids are given.
func page(total int, ids ...string) []byte {
	rows := make([]map[string]any, len(ids))
	for i, id := range ids {
		rows[i] = map[string]any{
			"id": id, "client_country_code": "48", "client_number": "601234567",
			"call_type": "Outgoing", "duration": 10, "call_date": "2026-11-20", "call_time": "10:00:00",
		}
	}
	b, err := json.Marshal(map[string]any{"message": "Success", "total_records": total, "result": rows})
	if err != nil {
		panic(err)
	}
	return b
}

// sixMonths is a call window used across tests.
var (
	windowFrom = time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	windowTo   = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC) // 184 days later
)

func historyQuery() callyzer.HistoryQuery {
	return callyzer.HistoryQuery{
		CallFrom: windowFrom, CallTo: windowTo,
		ClientNumbers: []string{"+48601234567"},
		Priority:      pacing.Interactive,
	}
}

// calls yields every call of q, page by page, as HistoryPages fetches
// them; on failure it yields one (Call{}, err) and stops.
func calls(ctx context.Context, c *callyzer.Client, q callyzer.HistoryQuery) iter.Seq2[callyzer.Call, error] {
	return func(yield func(callyzer.Call, error) bool) {
		for pg, err := range c.HistoryPages(ctx, q) {
			if err != nil {
				yield(callyzer.Call{}, err)
				return
			}
			for _, call := range pg.Calls {
				if !yield(call, nil) {
					return
				}
			}
		}
	}
}

// collect drains HistoryPages.
func collect(t testing.TB, c *callyzer.Client, q callyzer.HistoryQuery) ([]*callyzer.HistoryPage, error) {
	t.Helper()
	var pages []*callyzer.HistoryPage
	for pg, err := range c.HistoryPages(t.Context(), q) {
		if err != nil {
			require.Nil(t, pg, "an error comes with a nil page")
			return pages, err
		}
		require.NotNil(t, pg, "a nil error comes with a page")
		pages = append(pages, pg)
	}
	return pages, nil
}
