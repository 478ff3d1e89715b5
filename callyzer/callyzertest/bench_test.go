package callyzertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// benchNow is the benchmarks' fixed present.
var benchNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var (
	benchMu   sync.Mutex
	benchSets = map[int]Dataset{}
)

// benchDataset returns the generated data set of n calls, built once per
// size for every benchmark of the binary.
func benchDataset(n int) Dataset {
	benchMu.Lock()
	defer benchMu.Unlock()
	ds, ok := benchSets[n]
	if !ok {
		ds = Generate(1, GenerateConfig{End: benchNow, Employees: 100, Leads: 2000, Calls: n})
		benchSets[n] = ds
	}
	return ds
}

// BenchmarkHistoryPage measures the server's side of one history page of
// 100 rows for a six-month call window (the handler called directly, from
// the request's arrival to the written JSON), over the whole account and
// for one client number (the most-called lead's).
func BenchmarkHistoryPage(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		ds := benchDataset(n)
		lead := ds.Leads[0]
		for _, l := range ds.Leads {
			if l.Calls > lead.Calls {
				lead = l
			}
		}
		from, to := benchNow.AddDate(0, -6, 0), benchNow
		srv := NewServer(b, Options{
			Calls:     ds.Calls,
			Employees: ds.Employees,
			MaxWindow: to.Sub(from), // six months, not the contract's 180 days
		})
		for _, bc := range []struct {
			name  string
			extra map[string]any
			rows  int
		}{
			{"all", nil, 100},
			{"client", map[string]any{"client_numbers": []string{"48-" + lead.Phone[3:]}}, min(lead.Calls, 100)},
		} {
			body := map[string]any{"call_from": from.Unix(), "call_to": to.Unix(), "page_no": 1, "page_size": 100}
			for k, v := range bc.extra {
				body[k] = v
			}
			raw, err := json.Marshal(body)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("calls=%d/%s", n, bc.name), func(b *testing.B) {
				page := func(w http.ResponseWriter) {
					req := httptest.NewRequest(http.MethodPost, PathHistory, bytes.NewReader(raw))
					req.Header.Set("Authorization", "Bearer "+srv.APIKey())
					req.Header.Set("Content-Type", "application/json")
					srv.serve(w, req)
				}
				rec := httptest.NewRecorder()
				page(rec)
				var got struct {
					Total  int               `json:"total_records"`
					Result []json.RawMessage `json:"result"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != http.StatusOK || err != nil {
					b.Fatalf("status %d, %v: %.200s", rec.Code, err, rec.Body.Bytes())
				}
				if len(got.Result) != bc.rows || got.Total < len(got.Result) {
					b.Fatalf("%d rows of %d, want %d", len(got.Result), got.Total, bc.rows)
				}
				w := &discardWriter{header: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.header)
					page(w)
					if srv.RequestCount()%1000 == 0 {
						srv.ResetRequests() // keep the record of requests from growing without end
					}
				}
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
				b.ReportMetric(float64(got.Total), "matching")
			})
		}
	}
}

// discardWriter is a ResponseWriter that keeps the status and drops the
// body, as a connection's buffered writer would send it on: the benchmark
// measures the fake, not a recorder's growing buffer.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) { w.status = code }

func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
