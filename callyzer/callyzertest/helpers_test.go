package callyzertest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// reply is one answer of the fake, read with plain net/http.
type reply struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any // nil when the body is not a JSON object
	Err    error          // a transport error, when no complete answer came
}

// rows returns the "result" rows of r.
func (r reply) rows(t *testing.T) []map[string]any {
	t.Helper()
	list, ok := r.JSON["result"].([]any)
	require.True(t, ok, "result is not a list: %s", r.Raw)
	out := make([]map[string]any, len(list))
	for i, v := range list {
		out[i] = v.(map[string]any)
	}
	return out
}

func (r reply) ids(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, row := range r.rows(t) {
		ids = append(ids, row["id"].(string))
	}
	return ids
}

func (r reply) total(t *testing.T) int {
	t.Helper()
	v, ok := r.JSON["total_records"].(float64)
	require.True(t, ok, "total_records missing: %s", r.Raw)
	return int(v)
}

// send makes one request with the server's key; body is marshalled to
// JSON unless it is nil or a string.
func send(ctx context.Context, srv *callyzertest.Server, method, path string, body any) reply {
	return sendKey(ctx, srv, srv.APIKey(), method, path, body)
}

func sendKey(ctx context.Context, srv *callyzertest.Server, key, method, path string, body any) reply {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, rd)
	if err != nil {
		panic(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		return reply{Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	r := reply{Status: resp.StatusCode, Header: resp.Header, Raw: raw, Err: err}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		r.JSON = m
	}
	return r
}

// history posts a history request for the window [from, to] plus extra fields.
func history(ctx context.Context, srv *callyzertest.Server, from, to time.Time, extra map[string]any) reply {
	body := map[string]any{"call_from": from.Unix(), "call_to": to.Unix()}
	for k, v := range extra {
		body[k] = v
	}
	return send(ctx, srv, http.MethodPost, callyzertest.PathHistory, body)
}

var (
	warsaw, _ = time.LoadLocation("Europe/Warsaw")
	// now is the tests' fixed present.
	now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
)

// seedCalls returns n calls with client +48601234567, one hour apart going
// back from now, ids c-001.. (c-001 the newest).
func seedCalls(n int) []callyzertest.Call {
	calls := make([]callyzertest.Call, n)
	for i := range calls {
		calls[i] = callyzertest.NewCall(idOf(i+1), "+48601234567", now.Add(-time.Duration(i+1)*time.Hour))
	}
	return calls
}

func idOf(i int) string {
	b := []byte("c-000")
	for k := 4; k >= 2 && i > 0; k-- {
		b[k] = byte('0' + i%10)
		i /= 10
	}
	return string(b)
}

// historyCalls yields every call of q, page by page, as HistoryPages
// fetches them; on failure it yields one (Call{}, err) and stops.
func historyCalls(ctx context.Context, c *callyzer.Client, q callyzer.HistoryQuery) iter.Seq2[callyzer.Call, error] {
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

// firstPage returns the first page of q, or the error that came before it:
// exactly one request when q's window is one chunk.
func firstPage(ctx context.Context, c *callyzer.Client, q callyzer.HistoryQuery, _ int) (*callyzer.HistoryPage, error) {
	for pg, err := range c.HistoryPages(ctx, q) {
		return pg, err
	}
	return nil, errors.New("no page")
}
