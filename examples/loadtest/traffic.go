package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

// Parts 1 and 2: how the SDK spends the request budget, and what a user
// waits, beside the naive client on the same data, in the same run.

// refreshStat is one user's refresh.
type refreshStat struct {
	took   time.Duration
	floor  time.Duration // the pages the lead needs × the interval
	err    error
	during bool // it ran while the backfill was still running
}

// outcome is what one side (ours or naive) did in one scenario.
type outcome struct {
	stats    []refreshStat
	tally    tally
	failed   int   // refreshes (or the backfill) that failed
	firstErr error //
}

func (o *outcome) record(s refreshStat) {
	o.stats = append(o.stats, s)
	if s.err != nil {
		o.failed++
		if o.firstErr == nil {
			o.firstErr = s.err
		}
	}
}

// scenario names, as the table shows them.
const (
	scOne      = "one refresh"
	scMany     = "%d users, %d different leads, at once"
	scSame     = "%d users, the same lead, at once"
	scBackfill = "6-month backfill, %d employees, %s calls"
	scAlone    = "refresh alone (%d leads, one after another)"
	scDuring   = "refresh while a backfill runs (%d leads)"
)

func traffic(ctx context.Context, e *env, rep *report, progress io.Writer) {
	byCalls := slices.Clone(e.ds.Leads)
	slices.SortStableFunc(byCalls, func(a, b callyzertest.Lead) int { return cmp.Compare(b.Calls, a.Calls) })
	big := byCalls[0]
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = e.ds.Leads[i].ID
		}
		return out
	}
	same := make([]string, e.cfg.Users)
	for i := range same {
		same[i] = big.ID
	}

	type refreshScenario struct {
		name       string
		ids        []string
		concurrent bool
		minimum    int  // requests the work needs
		shared     bool // the callers share one fetch: the minimum is one sequence
		latency    bool // show a latency row
	}
	sumMin := func(ids []string) int {
		n := 0
		for _, id := range ids {
			n += e.leadMinimum(e.leads[id].Phone)
		}
		return n
	}
	scenarios := []refreshScenario{
		{name: fmt.Sprintf("%s (lead with %d calls)", scOne, e.leadCallsInWindow(big.Phone)), ids: []string{big.ID}, minimum: sumMin([]string{big.ID})},
		{name: fmt.Sprintf(scMany, e.cfg.Users, e.cfg.Users), ids: ids(e.cfg.Users), concurrent: true, minimum: sumMin(ids(e.cfg.Users)), latency: true},
		{name: fmt.Sprintf(scSame, e.cfg.Users), ids: same, concurrent: true, minimum: sumMin([]string{big.ID}), shared: true, latency: true},
	}
	var latencyRows []row
	for _, sc := range scenarios {
		fmt.Fprintf(progress, "loadtest: %s\n", sc.name)
		ours := e.oursRefreshes(ctx, sc.ids, sc.concurrent)
		naive := e.naiveRefreshes(ctx, sc.ids, sc.concurrent)
		if ours.failed > 0 {
			rep.fail("%s: %d of our refreshes failed: %v", sc.name, ours.failed, ours.firstErr)
		}
		if ours.tally.pages < sc.minimum {
			rep.fail("%s: our refreshes read %d pages, fewer than the minimum %d: the harness's minimum is wrong", sc.name, ours.tally.pages, sc.minimum)
		}
		if sc.shared && ours.tally.pages > sc.minimum {
			rep.fail("%s: our refreshes read %d pages, more than one fetch sequence (%d): no sharing", sc.name, ours.tally.pages, sc.minimum)
		}
		requestRows(rep, sc.name, ours, naive, sc.minimum, minimumText(sc.minimum, len(sc.ids), sc.shared))
		if sc.latency {
			latencyRows = append(latencyRows, latencyRow(e.cfg, sc.name, ours, naive)...)
		}
	}

	// The backfill: the Syncer's first pass against the naive pager.
	from, to := e.refreshWindow()
	times := callTimes(e.ds.Calls)
	backfillMin := min(minPages(times, chunksOldestFirst(from, to)), minPages(times, chunksNewestFirst(from, to)))
	incrMin := e.incrementalMinimum()
	name := fmt.Sprintf(scBackfill, e.cfg.Employees, count(len(e.ds.Calls)))
	fmt.Fprintf(progress, "loadtest: %s\n", name)
	ours, inserted := e.oursBackfill(ctx)
	naive := e.naiveBackfill(ctx)
	if ours.failed > 0 {
		rep.fail("%s: the Syncer failed: %v", name, ours.firstErr)
	} else if want := e.backfillCalls(); inserted != want {
		rep.fail("%s: the Syncer inserted %d calls, the window holds %d", name, inserted, want)
	}
	requestRows(rep, name, ours, naive, backfillMin,
		fmt.Sprintf("%s (2 chunks × ⌈calls ÷ %d⌉ pages); ours adds the pass's incremental read: %d", count(backfillMin), pageSize, incrMin))

	// Latency alone and during a backfill, one user after another.
	sample := ids(e.cfg.Samples)
	fmt.Fprintf(progress, "loadtest: latency alone\n")
	alone := e.oursRefreshes(ctx, sample, false)
	naiveAlone := e.naiveRefreshes(ctx, sample, false)
	if alone.failed > 0 {
		rep.fail("%s: %d of our refreshes failed: %v", scAlone, alone.failed, alone.firstErr)
	}
	fmt.Fprintf(progress, "loadtest: latency during a backfill\n")
	during := e.oursDuringBackfill(ctx, sample)
	naiveDuring := e.naiveDuringBackfill(ctx, sample)
	if during.failed > 0 {
		rep.fail("%s: %d of our refreshes failed: %v", scDuring, during.failed, during.firstErr)
	}
	rows := latencyRow(e.cfg, fmt.Sprintf(scAlone, e.cfg.Samples), alone, naiveAlone)
	rows = append(rows, latencyRow(e.cfg, fmt.Sprintf(scDuring, e.cfg.Samples), during, naiveDuring)...)
	for _, o := range []struct {
		who string
		o   outcome
	}{{"ours", during}, {"naive", naiveDuring}} {
		n := 0
		for _, s := range o.o.stats {
			if s.during {
				n++
			}
		}
		if n < len(o.o.stats) {
			rep.note("refresh while a backfill runs: only %d of %s's %d refreshes ran while the backfill did (it ended first)", n, o.who, len(o.o.stats))
		}
	}
	for _, r := range append(rows, latencyRows...) {
		rep.add(r)
	}
}

func minimumText(minimum, users int, shared bool) string {
	switch {
	case shared:
		return fmt.Sprintf("%s: one fetch sequence for all %d", count(minimum), users)
	case users == 1:
		return fmt.Sprintf("%s (2 chunks × ⌈calls ÷ %d⌉ pages)", count(minimum), pageSize)
	}
	return fmt.Sprintf("%s (Σ over the %d leads)", count(minimum), users)
}

func requestRows(rep *report, scenario string, ours, naive outcome, minimum int, floor string) {
	naiveNote := ""
	if naive.failed > 0 {
		naiveNote = fmt.Sprintf("; %d failed: %v", naive.failed, naive.firstErr)
	}
	rep.add(row{
		Part: "1 requests", Scenario: scenario, Figure: "requests sent (÷ minimum)",
		Ours:     fmt.Sprintf("%s (%s)", count(ours.tally.requests), ratio(float64(ours.tally.requests), float64(minimum))),
		Baseline: fmt.Sprintf("naive: %s (%s)%s", count(naive.tally.requests), ratio(float64(naive.tally.requests), float64(minimum)), naiveNote),
		Floor:    floor,
	})
	rep.add(row{
		Part: "1 requests", Scenario: scenario, Figure: "429s / retries",
		Ours:     fmt.Sprintf("%s / %s", count(ours.tally.tooMany), count(ours.tally.retries())),
		Baseline: fmt.Sprintf("naive: %s / %s", count(naive.tally.tooMany), count(naive.tally.retries())),
		Floor:    "0 / 0",
	})
}

// latencyRow shows p50/p95/max of the refreshes as multiples of their
// floors, and in the real time they stand for.
func latencyRow(cfg config, scenario string, ours, naive outcome) []row {
	type figs struct {
		ratio, real [3]float64
		over        int
		floor       float64
	}
	deadline := cfg.scale(callhistory.DefaultRefreshTimeout)
	calc := func(o outcome) figs {
		var rs, ts, fs []float64
		var f figs
		for _, s := range o.stats {
			if s.err != nil {
				continue
			}
			rs = append(rs, float64(s.took)/float64(s.floor))
			ts = append(ts, cfg.real(s.took).Seconds())
			fs = append(fs, cfg.real(s.floor).Seconds())
			if s.took > deadline {
				f.over++
			}
		}
		for i, p := range []float64{50, 95, 100} {
			f.ratio[i], f.real[i] = percentile(rs, p), percentile(ts, p)
		}
		f.floor = percentile(fs, 50)
		return f
	}
	o, n := calc(ours), calc(naive)
	x := func(v [3]float64) string { return fmt.Sprintf("%.2f× / %.2f× / %.2f×", v[0], v[1], v[2]) }
	s := func(v [3]float64, over, total int) string {
		return fmt.Sprintf("%.0f / %.0f / %.0f s; %d of %d over 30 s", v[0], v[1], v[2], over, total)
	}
	return []row{
		{Part: "2 latency", Scenario: scenario, Figure: "p50 / p95 / max (× floor)",
			Ours: x(o.ratio), Baseline: "naive: " + x(n.ratio),
			Floor: fmt.Sprintf("1× = pages × %s interval; median floor %.0f s real", cfg.Interval, o.floor)},
		{Part: "2 latency", Scenario: scenario, Figure: "p50 / p95 / max (real time)",
			Ours: s(o.real, o.over, len(ours.stats)), Baseline: "naive: " + s(n.real, n.over, len(naive.stats)),
			Floor: fmt.Sprintf("median floor %.0f s", o.floor)},
	}
}

// oursRefreshes refreshes leads through our SDK (callyzer.Client +
// callhistory.Refresher + the run's store) on a fresh fake: all at once
// when concurrent, else one after another.
func (e *env) oursRefreshes(ctx context.Context, ids []string, concurrent bool) outcome {
	api := e.newFake(e.ds.Calls)
	defer api.close()
	r, st, err := e.refresher(ctx, api)
	if err != nil {
		return outcome{failed: 1, firstErr: err}
	}
	defer st.close()
	defer r.Wait()
	do := func(id string) refreshStat {
		phone := e.leads[id].Phone
		s := refreshStat{floor: time.Duration(e.leadMinimum(phone)) * e.cfg.interval()}
		start := time.Now()
		res, err := r.Refresh(ctx, admin, id)
		s.took = time.Since(start)
		switch {
		case err != nil:
			s.err = err
		case res.Report.Fetched != e.leadCallsInWindow(phone):
			s.err = fmt.Errorf("lead %s: fetched %d calls, the window holds %d", id, res.Report.Fetched, e.leadCallsInWindow(phone))
		}
		return s
	}
	out := runUsers(ids, concurrent, do)
	out.tally = api.tally()
	return out
}

// naiveRefreshes is oursRefreshes with naiveRefresh.
func (e *env) naiveRefreshes(ctx context.Context, ids []string, concurrent bool) outcome {
	api := e.newFake(e.ds.Calls)
	defer api.close()
	c := api.naiveClient()
	from, to := e.refreshWindow()
	out := runUsers(ids, concurrent, func(id string) refreshStat {
		phone := e.leads[id].Phone
		s := refreshStat{floor: time.Duration(e.leadMinimum(phone)) * e.cfg.interval()}
		start := time.Now()
		res, err := naiveRefresh(ctx, c, phone, from, to)
		s.took = time.Since(start)
		switch {
		case err != nil:
			s.err = err
		case res.rows != e.leadCallsInWindow(phone):
			s.err = fmt.Errorf("naive: lead %s: read %d calls, the window holds %d", id, res.rows, e.leadCallsInWindow(phone))
		}
		return s
	})
	out.tally = api.tally()
	return out
}

// runUsers runs do for every id: together (released at one instant) or in
// turn.
func runUsers(ids []string, concurrent bool, do func(id string) refreshStat) outcome {
	var out outcome
	if !concurrent {
		for _, id := range ids {
			out.record(do(id))
		}
		return out
	}
	stats := make([]refreshStat, len(ids))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			<-start
			stats[i] = do(id)
		})
	}
	close(start)
	wg.Wait()
	for _, s := range stats {
		out.record(s)
	}
	return out
}

func (f *fakeAPI) naiveClient() *naiveClient {
	return &naiveClient{hc: f.naive, baseURL: f.srv.URL, apiKey: f.srv.APIKey(), compress: f.cfg.Compress}
}

// refresher is our Refresher on api and a fresh store of the run.
func (e *env) refresher(ctx context.Context, api *fakeAPI) (*callhistory.Refresher, *store, error) {
	client, err := api.client()
	if err != nil {
		return nil, nil, err
	}
	st, err := e.newStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, err := callhistory.NewRefresher(callhistory.Config{
		Source: client, Store: st, Leads: e.leads,
		Now: func() time.Time { return e.now }, Logger: quiet,
	})
	if err != nil {
		st.close()
		return nil, nil, err
	}
	return r, st, nil
}

// syncer is our Syncer on client and st.
func (e *env) syncer(client *callyzer.Client, st callhistory.Store) (*callhistory.Syncer, error) {
	return callhistory.NewSyncer(callhistory.SyncConfig{
		Source: client, Store: st, State: syncState(st),
		Now: func() time.Time { return e.now }, Logger: quiet,
	})
}

// incrementalMinimum is the fewest requests of the first pass's read by
// upload time, [now - overlap, now].
func (e *env) incrementalMinimum() int {
	from := e.now.Add(-callhistory.DefaultSyncOverlap)
	var times []int64
	for _, c := range e.ds.Calls {
		times = append(times, c.SyncedAt.Unix())
	}
	return minPages(times, []span{{from.Unix(), e.now.Unix()}})
}

// backfillCalls is how many distinct calls the Syncer's first pass must
// store: those started in the backfill window or uploaded in the
// incremental one.
func (e *env) backfillCalls() int {
	from, to := e.refreshWindow()
	incr := e.now.Add(-callhistory.DefaultSyncOverlap).Unix()
	n := 0
	for _, c := range e.ds.Calls {
		s, u := c.StartedAt.Unix(), c.SyncedAt.Unix()
		if (s >= from.Unix() && s <= to.Unix()) || (u >= incr && u <= e.now.Unix()) {
			n++
		}
	}
	return n
}

// oursBackfill runs the Syncer's first pass on a fresh fake and store, and
// returns the calls it inserted.
func (e *env) oursBackfill(ctx context.Context) (outcome, int) {
	api := e.newFake(e.ds.Calls)
	defer api.close()
	var out outcome
	client, err := api.client()
	if err != nil {
		out.record(refreshStat{err: err})
		return out, 0
	}
	st, err := e.newStore(ctx)
	if err != nil {
		out.record(refreshStat{err: err})
		return out, 0
	}
	defer st.close()
	s, err := e.syncer(client, st)
	if err != nil {
		out.record(refreshStat{err: err})
		return out, 0
	}
	rp, err := s.RunOnce(ctx)
	out.tally = api.tally()
	if err != nil {
		out.failed, out.firstErr = 1, err
		return out, 0
	}
	return out, rp.Inserted
}

func (e *env) naiveBackfill(ctx context.Context) outcome {
	api := e.newFake(e.ds.Calls)
	defer api.close()
	var out outcome
	from, to := e.refreshWindow()
	if _, err := naiveBackfill(ctx, api.naiveClient(), from, to); err != nil {
		out.failed, out.firstErr = 1, err
	}
	out.tally = api.tally()
	return out
}

// backfillRunning starts a backfill with start and waits until the fake
// has served its first requests. The returned stop cancels it and waits.
func (e *env) backfillRunning(ctx context.Context, api *fakeAPI, start func(context.Context) error) (done <-chan struct{}, stop func() error) {
	bctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	var berr error
	go func() {
		defer close(finished)
		berr = start(bctx)
	}()
	for api.srv.RequestCount() < 3 {
		select {
		case <-finished:
		case <-ctx.Done():
		case <-time.After(e.cfg.interval()):
			continue
		}
		break
	}
	return finished, func() error {
		cancel()
		<-finished
		if errors.Is(berr, context.Canceled) {
			return nil
		}
		return berr
	}
}

// oursDuringBackfill refreshes leads one after another (one interval of
// thinking time between them) while the Syncer's first pass runs on the
// same client and store.
func (e *env) oursDuringBackfill(ctx context.Context, ids []string) outcome {
	api := e.newFake(e.ds.Calls)
	defer api.close()
	r, st, err := e.refresher(ctx, api)
	if err != nil {
		return outcome{failed: 1, firstErr: err}
	}
	defer st.close()
	defer r.Wait()
	client, err := api.client()
	if err != nil {
		return outcome{failed: 1, firstErr: err}
	}
	s, err := e.syncer(client, st)
	if err != nil {
		return outcome{failed: 1, firstErr: err}
	}
	done, stop := e.backfillRunning(ctx, api, func(ctx context.Context) error {
		_, err := s.RunOnce(ctx)
		return err
	})
	out := e.duringLoop(ctx, ids, done, func(id string) error {
		phone := e.leads[id].Phone
		res, err := r.Refresh(ctx, admin, id)
		if err == nil && res.Report.Fetched != e.leadCallsInWindow(phone) {
			err = fmt.Errorf("lead %s: fetched %d calls, the window holds %d", id, res.Report.Fetched, e.leadCallsInWindow(phone))
		}
		return err
	})
	if err := stop(); err != nil {
		out.record(refreshStat{err: fmt.Errorf("the backfill: %w", err)})
	}
	out.tally = api.tally()
	return out
}

func (e *env) naiveDuringBackfill(ctx context.Context, ids []string) outcome {
	api := e.newFake(e.ds.Calls)
	defer api.close()
	c := api.naiveClient()
	from, to := e.refreshWindow()
	done, stop := e.backfillRunning(ctx, api, func(ctx context.Context) error {
		_, err := naiveBackfill(ctx, c, from, to)
		return err
	})
	out := e.duringLoop(ctx, ids, done, func(id string) error {
		_, err := naiveRefresh(ctx, c, e.leads[id].Phone, from, to)
		return err
	})
	if err := stop(); err != nil {
		out.record(refreshStat{err: fmt.Errorf("the naive backfill: %w", err)})
	}
	out.tally = api.tally()
	return out
}

func (e *env) duringLoop(ctx context.Context, ids []string, done <-chan struct{}, refresh func(id string) error) outcome {
	var out outcome
	for _, id := range ids {
		s := refreshStat{floor: time.Duration(e.leadMinimum(e.leads[id].Phone)) * e.cfg.interval()}
		start := time.Now()
		s.err = refresh(id)
		s.took = time.Since(start)
		select {
		case <-done:
		default:
			s.during = true
		}
		out.record(s)
		select {
		case <-ctx.Done():
			return out
		case <-time.After(e.cfg.interval()):
		}
	}
	return out
}
