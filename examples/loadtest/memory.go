package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

// Part 4: the heap a 100,000-call backfill needs. The SDK must stream pages:
// its peak heap must not grow with the backfill.

// The most the backfill may add to the heap before the run counts as
// failed: half the data set's size (its pages' JSON) plus a fixed allowance
// for buffers and the GC's headroom. A client that held every page would
// add well over 1× the data.
const (
	maxHeapShare = 0.5
	heapAllow    = 8 << 20
)

func memory(ctx context.Context, e *env, rep *report, progress io.Writer) {
	fmt.Fprintf(progress, "loadtest: preparing %s calls for the memory backfill\n", count(e.cfg.MemoryCalls))
	ds := callyzertest.Generate(e.cfg.Seed+2, callyzertest.GenerateConfig{
		End: e.now, Employees: 100, Leads: 2000, Calls: e.cfg.MemoryCalls,
	})
	rs, err := newReplay(ds.Calls)
	if err != nil {
		rep.fail("4 memory: %v", err)
		return
	}
	ds = callyzertest.Dataset{} // only the replay's rendered rows stay
	srv := httptest.NewServer(rs)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	counted := &compressTransport{base: tr, compress: 1}

	fmt.Fprintf(progress, "loadtest: memory backfill through the Syncer\n")
	var sink countingStore
	ours, err := peakHeap(func() error {
		client, err := callyzer.NewClient(replayKey, callyzer.WithBaseURL(srv.URL),
			callyzer.WithHTTPClient(&http.Client{Transport: counted, Timeout: time.Minute}),
			callyzer.WithInterval(0), callyzer.WithRetryDelays(0, 0), callyzer.WithLogger(quiet))
		if err != nil {
			return err
		}
		s, err := callhistory.NewSyncer(callhistory.SyncConfig{
			Source: client, Store: &sink, Now: func() time.Time { return e.now }, Logger: quiet,
		})
		if err != nil {
			return err
		}
		_, err = s.RunOnce(ctx)
		return err
	})
	if err != nil {
		rep.fail("4 memory: the Syncer's backfill: %v", err)
		return
	}
	dataBytes := float64(counted.read.Load())
	pages := rs.pages.Load()
	if want := rs.distinct(e.now); int(sink.calls.Load()) < want {
		rep.fail("4 memory: the Syncer wrote %d calls, the window holds %d", sink.calls.Load(), want)
	}

	fmt.Fprintf(progress, "loadtest: memory backfill with the naive pager\n")
	from, to := e.refreshWindow()
	naive, err := peakHeap(func() error {
		c := &naiveClient{hc: &http.Client{Transport: tr, Timeout: time.Minute}, baseURL: srv.URL, apiKey: replayKey, compress: 1,
			onPage: func([]byte) {}}
		_, err := naiveBackfill(ctx, c, from, to)
		return err
	})
	baseline := "naive pager, pages discarded: "
	if err != nil {
		baseline += "failed: " + err.Error()
	} else {
		baseline += fmt.Sprintf("%s (%.3f× data)", bytesize(naive), naive/dataBytes)
	}
	share := ours / dataBytes
	if limit := maxHeapShare*dataBytes + heapAllow; ours > limit {
		rep.fail("4 memory: the backfill's peak heap grew by %s, %.2f× its data: it holds pages instead of streaming them", bytesize(ours), share)
	}
	rep.add(row{Part: "4 memory", Scenario: fmt.Sprintf("6-month backfill of %s calls (Syncer → counting store)", count(e.cfg.MemoryCalls)),
		Figure:   "peak heap in use above the start",
		Ours:     fmt.Sprintf("%s (%.3f× data)", bytesize(ours), share),
		Baseline: baseline,
		Floor:    fmt.Sprintf("data: %s of page JSON in %s pages; fail above %.1f× + %s", bytesize(dataBytes), count(int(pages)), maxHeapShare, bytesize(heapAllow)),
	})
	rep.note("part 4 serves its pages from the harness's replay server, not callyzertest: the fake re-sorts its whole data set on every request (≈0.2 s a page at 100,000 calls)")
}

// peakHeap runs fn with the GC target lowered to 10% and returns the peak
// of the heap in use above the heap in use when it started.
func peakHeap(fn func() error) (float64, error) {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
	}
	inUse := func() float64 {
		metrics.Read(samples)
		return float64(samples[0].Value.Uint64() + samples[1].Value.Uint64())
	}
	old := debug.SetGCPercent(10)
	defer debug.SetGCPercent(old)
	runtime.GC()
	base := inUse()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if v := uint64(inUse()); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	err := fn()
	close(stop)
	wg.Wait()
	return max(float64(peak.Load())-base, 0), err
}

// countingStore is a callhistory.Store that keeps nothing but counts, so
// that the backfill's own memory is what part 4 measures. It keeps the
// sync state, which the Syncer needs.
type countingStore struct {
	calls atomic.Int64
	mu    sync.Mutex
	state map[string]callhistory.SyncState
}

var (
	_ callhistory.Store          = (*countingStore)(nil)
	_ callhistory.SyncStateStore = (*countingStore)(nil)
)

func (s *countingStore) ReplaceWindow(_ context.Context, _ string, _ callhistory.Window, calls []callhistory.Call, _ time.Time) (callhistory.WriteResult, error) {
	s.calls.Add(int64(len(calls)))
	return callhistory.WriteResult{Inserted: len(calls)}, nil
}

func (s *countingStore) UpsertCalls(_ context.Context, calls []callhistory.Call, _ time.Time) (callhistory.WriteResult, error) {
	s.calls.Add(int64(len(calls)))
	return callhistory.WriteResult{Inserted: len(calls)}, nil
}

func (s *countingStore) Calls(context.Context, string, int) ([]callhistory.Call, error) {
	return []callhistory.Call{}, nil
}

func (s *countingStore) LastSynced(context.Context, string) (time.Time, error) {
	return time.Time{}, nil
}

func (s *countingStore) SyncState(_ context.Context, name string) (callhistory.SyncState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state[name], nil
}

func (s *countingStore) SaveSyncState(_ context.Context, name string, st callhistory.SyncState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == nil {
		s.state = map[string]callhistory.SyncState{}
	}
	s.state[name] = st
	return nil
}

// replayKey is the replay server's API key.
const replayKey = "loadtest-replay-key"

// replay is a minimal Callyzer /call-log/history for part 4: the calls,
// newest first, rendered once as JSON rows (the way callyzertest writes
// them), served page by page for a call-time or upload-time window. It has
// no pacing, latency or faults, and allocates little per request, so that
// the heap part 4 measures is the client's.
type replay struct {
	started []int64 // UNIX seconds, descending
	synced  []int64
	rows    []byte  // every row's JSON, back to back
	offs    []int32 // rows[offs[i]:offs[i+1]] is row i
	pages   atomic.Int64
}

func newReplay(calls []callyzertest.Call) (*replay, error) {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		return nil, err
	}
	sorted := slices.Clone(calls)
	slices.SortStableFunc(sorted, func(a, b callyzertest.Call) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	r := &replay{offs: []int32{0}}
	var buf bytes.Buffer
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.DateTime)
	}
	for _, c := range sorted {
		tags := c.EmpTags
		if tags == nil {
			tags = []string{}
		}
		start := c.StartedAt.In(loc)
		row, err := json.Marshal(map[string]any{
			"id": c.ID, "client_name": c.ClientName, "client_country_code": c.ClientCountryCode,
			"client_number": c.ClientNumber, "emp_name": c.EmpName, "emp_code": c.EmpCode,
			"emp_country_code": c.EmpCountryCode, "emp_number": c.EmpNumber, "emp_tags": tags,
			"call_type": c.CallType, "duration": c.Duration,
			"call_date": start.Format(time.DateOnly), "call_time": start.Format(time.TimeOnly),
			"note": c.Note, "call_recording_url": c.RecordingURL, "crm_status": c.CRMStatus,
			"reminder_date": c.ReminderDate, "reminder_time": c.ReminderTime,
			"synced_at": stamp(c.SyncedAt), "modified_at": stamp(c.ModifiedAt), "lead_id": c.LeadID,
		})
		if err != nil {
			return nil, err
		}
		buf.Write(row)
		r.offs = append(r.offs, int32(buf.Len()))
		r.started = append(r.started, c.StartedAt.Unix())
		r.synced = append(r.synced, c.SyncedAt.Unix())
	}
	r.rows = buf.Bytes()
	return r, nil
}

// distinct is how many calls the Syncer's first pass at now must write:
// started in the six months before now, or uploaded in the last overlap.
func (r *replay) distinct(now time.Time) int {
	from, incr := now.AddDate(0, -months, 0).Unix(), now.Add(-callhistory.DefaultSyncOverlap).Unix()
	n := 0
	for i := range r.started {
		if (r.started[i] >= from && r.started[i] <= now.Unix()) || (r.synced[i] >= incr && r.synced[i] <= now.Unix()) {
			n++
		}
	}
	return n
}

func (r *replay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != callyzertest.PathHistory || req.Header.Get("Authorization") != "Bearer "+replayKey {
		http.Error(w, `{"message":"not found"}`, http.StatusNotFound)
		return
	}
	var q struct {
		CallFrom   *int64   `json:"call_from"`
		CallTo     *int64   `json:"call_to"`
		SyncedFrom *int64   `json:"synced_from"`
		SyncedTo   *int64   `json:"synced_to"`
		PageNo     int      `json:"page_no"`
		PageSize   int      `json:"page_size"`
		Clients    []string `json:"client_numbers"`
		Employees  []string `json:"emp_numbers"`
	}
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<20)).Decode(&q); err != nil || q.PageNo < 1 || q.PageSize < 1 || q.PageSize > 100 ||
		len(q.Clients) > 0 || len(q.Employees) > 0 || (q.CallFrom == nil) != (q.CallTo == nil) || (q.SyncedFrom == nil) != (q.SyncedTo == nil) ||
		(q.CallFrom == nil && q.SyncedFrom == nil) {
		http.Error(w, `{"message":"the replay server serves account-wide windows only"}`, http.StatusBadRequest)
		return
	}
	r.pages.Add(1)

	// The rows are newest first: a call window is one run of them.
	lo, hi := 0, len(r.started)
	if q.CallFrom != nil {
		lo = sort.Search(len(r.started), func(i int) bool { return r.started[i] <= *q.CallTo })
		hi = sort.Search(len(r.started), func(i int) bool { return r.started[i] < *q.CallFrom })
	}
	match := func(i int) bool {
		return q.SyncedFrom == nil || (r.synced[i] >= *q.SyncedFrom && r.synced[i] <= *q.SyncedTo)
	}
	total := 0
	for i := lo; i < hi; i++ {
		if match(i) {
			total++
		}
	}
	skip := (q.PageNo - 1) * q.PageSize
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"message":"Success","total_records":`+strconv.Itoa(total)+`,"result":[`)
	written := 0
	for i := lo; i < hi && written < q.PageSize; i++ {
		if !match(i) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if written > 0 {
			io.WriteString(w, ",")
		}
		w.Write(r.rows[r.offs[i]:r.offs[i+1]])
		written++
	}
	io.WriteString(w, "]}")
}
