package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
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

// How peakHeap measures: the GC target during the run, and how often the
// heap is sampled.
const (
	heapGCPercent   = 10
	heapSampleEvery = 2 * time.Millisecond
)

func memory(ctx context.Context, e *env, rep *report, progress io.Writer) {
	fmt.Fprintf(progress, "loadtest: preparing %s calls for the memory backfill\n", count(e.cfg.MemoryCalls))
	ds := callyzertest.Generate(e.cfg.Seed+2, callyzertest.GenerateConfig{
		End: e.now, Employees: 100, Leads: 2000, Calls: e.cfg.MemoryCalls,
	})
	want := windowCalls(ds.Calls, e.now)
	// No pacing and no latency: part 4 measures the heap, not the time.
	srv := callyzertest.New(callyzertest.Options{Calls: ds.Calls, Employees: ds.Employees})
	defer srv.Close()
	ds = callyzertest.Dataset{} // only the fake's copy stays
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	counted := &compressTransport{base: tr, compress: 1}

	fmt.Fprintf(progress, "loadtest: memory backfill through the Syncer\n")
	var sink countingStore
	ours, err := peakHeap(func() error {
		client, err := callyzer.NewClient(srv.APIKey(), callyzer.WithBaseURL(srv.URL),
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
	pages := srv.RequestCount()
	if int(sink.calls.Load()) < want {
		rep.fail("4 memory: the Syncer wrote %d calls, the window holds %d", sink.calls.Load(), want)
	}

	fmt.Fprintf(progress, "loadtest: memory backfill with the naive pager\n")
	from, to := e.refreshWindow()
	naive, err := peakHeap(func() error {
		c := &naiveClient{hc: &http.Client{Transport: tr, Timeout: time.Minute}, baseURL: srv.URL, apiKey: srv.APIKey(), compress: 1,
			onPage: func([]byte) {}}
		_, err := naiveBackfill(ctx, c, from, to)
		return err
	})
	baseline := "naive pager, pages discarded: "
	naiveShare := "failed"
	if err != nil {
		baseline += "failed: " + err.Error()
	} else {
		naiveShare = fmt.Sprintf("%.2f×", naive/dataBytes)
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
		Floor:    fmt.Sprintf("data: %s of page JSON in %s pages; fail above %.1f× + %s", bytesize(dataBytes), count(pages), maxHeapShare, bytesize(heapAllow)),
	})
	rep.summarize(fmt.Sprintf("The Syncer's backfill of %s calls streams its pages: its peak heap grew by %.2f× the %s of page JSON it read (the naive pager that keeps nothing: %s).",
		count(e.cfg.MemoryCalls), share, bytesize(dataBytes), naiveShare))
	rep.note("part 4 measures the process's heap, the in-process fake's share included: it keeps a record of every request")
}

// peakHeap runs fn with the GC target lowered to heapGCPercent and returns the peak
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
	old := debug.SetGCPercent(heapGCPercent)
	defer debug.SetGCPercent(old)
	runtime.GC()
	base := inUse()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(heapSampleEvery)
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

// Update runs fn on a Tx that reads nothing stored and counts what is put.
func (s *countingStore) Update(_ context.Context, _ []string, fn func(callhistory.Tx) error) error {
	return fn(countingTx{s})
}

type countingTx struct{ s *countingStore }

func (countingTx) CallsInWindow(context.Context, string, callhistory.Window) ([]callhistory.Call, error) {
	return nil, nil
}

func (countingTx) CallsByID(context.Context, []string) ([]callhistory.Call, error) { return nil, nil }

func (countingTx) LastSynced(context.Context, []string) (map[string]time.Time, error) {
	return nil, nil
}

func (countingTx) Delete(context.Context, []int64) error { return nil }

func (t countingTx) Put(_ context.Context, calls []callhistory.Call) error {
	t.s.calls.Add(int64(len(calls)))
	return nil
}

func (countingTx) SetLastSynced(context.Context, map[string]time.Time) error { return nil }

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

// windowCalls is how many calls the Syncer's first pass at now must write:
// started in the six months before now, or uploaded in the last overlap.
func windowCalls(calls []callyzertest.Call, now time.Time) int {
	from, incr := now.AddDate(0, -months, 0).Unix(), now.Add(-syncOverlap).Unix()
	n := 0
	for _, c := range calls {
		started, synced := c.StartedAt.Unix(), c.SyncedAt.Unix()
		if (started >= from && started <= now.Unix()) || (synced >= incr && synced <= now.Unix()) {
			n++
		}
	}
	return n
}
