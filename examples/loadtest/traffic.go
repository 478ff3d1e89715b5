package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
)

// Parts 1 and 2: how the SDK spends the request budget, and what a user
// waits, beside the two naive baselines on the same data, in the same run.

// side is one of the clients a scenario runs, in the table's column order.
type side int

const (
	sideOurs  side = iota // callyzer.Client + callhistory.Refresher / Syncer
	sideNaive             // naiveClient without a pacer
	sidePaced             // naiveClient with one shared pacing.New pacer
	nSides
)

var sides = [nSides]side{sideOurs, sideNaive, sidePaced}

// The SDK's defaults the harness measures against: the Refresher's
// RefreshTimeout and the Syncer's Overlap.
const (
	refreshTimeout = 30 * time.Second
	syncOverlap    = 2 * time.Hour
)

func (s side) String() string {
	return [nSides]string{"ours", "naive", "naive + pacer"}[s]
}

// deadline is the refresh deadline in harness time: the Refresher's
// default, compressed. The naive clients' refreshes get the same one.
func (c config) deadline() time.Duration { return c.scale(refreshTimeout) }

// refreshStat is one user's refresh.
type refreshStat struct {
	phone    string // the lead's number, E.164
	key      string // what the fake's records of its requests are keyed by (see outcome.count)
	took     time.Duration
	floor    time.Duration // the pages the lead needs × the interval
	err      error
	timedOut bool // err is the refresh deadline passing (or Callyzer not answering in time)
	during   bool // a backfill ran from its start to its end
}

// outcome is what one side did in one scenario.
type outcome struct {
	stats    []refreshStat
	tally    tally // every request the fake recorded
	wasted   tally // the requests of refreshes that then failed
	timedOut int   // refreshes that timed out
	failed   int   // refreshes (or the backfill) that failed otherwise
	firstErr error // the first of those failures
	passes   int   // "while a backfill runs": backfill passes started
}

func (o *outcome) record(s refreshStat) {
	o.stats = append(o.stats, s)
	switch {
	case s.err == nil:
	case s.timedOut:
		o.timedOut++
	default:
		o.fail(s.err)
	}
}

func (o *outcome) fail(err error) {
	o.failed++
	if o.firstErr == nil {
		o.firstErr = err
	}
}

func failedOutcome(err error) outcome {
	var o outcome
	o.fail(err)
	return o
}

// count tallies the fake's records. With keyOf, the requests whose key no
// successful refresh had are the wasted ones.
func (o *outcome) count(api *fakeAPI, keyOf func(callyzertest.Request) string) {
	served := map[string]bool{}
	for _, s := range o.stats {
		if s.err == nil {
			served[s.key] = true
		}
	}
	for _, r := range api.srv.Requests() {
		o.tally.add(r)
		if keyOf != nil && !served[keyOf(r)] {
			o.wasted.add(r)
		}
	}
}

// byNumber keys our requests by the one client number they ask for: the
// callers of one number share one fetch, so its requests are wasted when
// none of them got a result.
func byNumber(r callyzertest.Request) string {
	if ns, ok := r.Body["client_numbers"].([]any); ok && len(ns) == 1 {
		n, _ := ns[0].(string)
		return n
	}
	return ""
}

// byTag keys a naive request by the refresh that sent it.
func byTag(r callyzertest.Request) string { return r.Header.Get(tagHeader) }

// isTimeout tells a naive refresh that ran out of time from one that failed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
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

// results is what the summary is computed from.
type results struct {
	users                                    int
	oneMinimum, manyMinimum, backfillMinimum int
	one, many, same, backfill                [nSides]outcome
	alone, during                            [nSides]latency
}

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
	sumMin := func(ids []string) int {
		n := 0
		for _, id := range ids {
			n += e.leadMinimum(e.leads[id].Phone)
		}
		return n
	}
	var res results
	res.users = e.cfg.Users

	type refreshScenario struct {
		name       string
		ids        []string
		concurrent bool
		minimum    int  // requests the whole work needs
		shared     bool // the callers share one fetch: the minimum is one sequence
		out        *[nSides]outcome
	}
	scenarios := []refreshScenario{
		{name: fmt.Sprintf("%s (lead with %d calls)", scOne, e.leadCallsInWindow(big.Phone)), ids: []string{big.ID}, minimum: sumMin([]string{big.ID}), out: &res.one},
		{name: fmt.Sprintf(scMany, e.cfg.Users, e.cfg.Users), ids: ids(e.cfg.Users), concurrent: true, minimum: sumMin(ids(e.cfg.Users)), out: &res.many},
		{name: fmt.Sprintf(scSame, e.cfg.Users), ids: same, concurrent: true, minimum: sumMin([]string{big.ID}), shared: true, out: &res.same},
	}
	res.oneMinimum, res.manyMinimum = scenarios[0].minimum, scenarios[1].minimum
	var concurrentRows []row
	for _, sc := range scenarios {
		fmt.Fprintf(progress, "loadtest: %s\n", sc.name)
		var outs [nSides]outcome
		var mins [nSides]int
		for _, sd := range sides {
			outs[sd] = e.refreshes(ctx, sd, sc.ids, sc.concurrent)
			mins[sd] = e.servedMinimum(outs[sd])
		}
		*sc.out = outs
		ours := outs[sideOurs]
		if ours.failed > 0 {
			rep.fail("%s: %d of our refreshes failed: %v", sc.name, ours.failed, ours.firstErr)
		}
		if useful := ours.tally.pages - ours.wasted.pages; useful < mins[sideOurs] {
			rep.fail("%s: our served refreshes read %d pages, fewer than their minimum %d: the harness's minimum is wrong", sc.name, useful, mins[sideOurs])
		}
		if sc.shared && ours.tally.pages > sc.minimum {
			rep.fail("%s: our refreshes read %d pages, more than one fetch sequence (%d): no sharing", sc.name, ours.tally.pages, sc.minimum)
		}
		requestRows(rep, sc.name, outs, mins, servedFloor(sc.minimum, len(sc.ids), sc.shared, mins), sc.concurrent)
		if sc.concurrent {
			var lat [nSides]latency
			for _, sd := range sides {
				lat[sd] = e.latencyOf(outs[sd], nil)
			}
			concurrentRows = append(concurrentRows, latencyRows(e.cfg, sc.name, lat)...)
		}
	}

	// The backfill: the Syncer's first pass against the naive pager.
	from, to := e.refreshWindow()
	times := callTimes(e.ds.Calls)
	backfillMin := min(minPages(times, chunksOldestFirst(from, to)), minPages(times, chunksNewestFirst(from, to)))
	res.backfillMinimum = backfillMin
	incrMin := e.incrementalMinimum()
	name := fmt.Sprintf(scBackfill, e.cfg.Employees, count(len(e.ds.Calls)))
	fmt.Fprintf(progress, "loadtest: %s\n", name)
	var mins [nSides]int
	for _, sd := range sides {
		var inserted int
		res.backfill[sd], inserted = e.backfill(ctx, sd)
		if res.backfill[sd].failed == 0 {
			mins[sd] = backfillMin
		}
		switch want := e.backfillCalls(); {
		case sd != sideOurs:
		case res.backfill[sd].failed > 0:
			rep.fail("%s: the Syncer failed: %v", name, res.backfill[sd].firstErr)
		case inserted != want:
			rep.fail("%s: the Syncer inserted %d calls, the window holds %d", name, inserted, want)
		}
	}
	requestRows(rep, name, res.backfill, mins,
		fmt.Sprintf("%s (2 chunks × ⌈calls ÷ %d⌉ pages); ours adds the pass's incremental read: %d", count(backfillMin), pageSize, incrMin), false)

	// Latency alone and during a backfill, one user after another.
	sample := ids(e.cfg.Samples)
	fmt.Fprintf(progress, "loadtest: latency alone\n")
	for _, sd := range sides {
		o := e.refreshes(ctx, sd, sample, false)
		if sd == sideOurs && o.failed > 0 {
			rep.fail("%s: %d of our refreshes failed: %v", scAlone, o.failed, o.firstErr)
		}
		res.alone[sd] = e.latencyOf(o, nil)
	}
	fmt.Fprintf(progress, "loadtest: latency during a backfill\n")
	during := func(s refreshStat) bool { return s.during }
	for _, sd := range sides {
		o := e.duringBackfill(ctx, sd, sample)
		switch {
		case sd == sideOurs && o.failed > 0:
			rep.fail("%s: %d of our refreshes or backfill passes failed: %v", scDuring, o.failed, o.firstErr)
		case o.failed > 0:
			rep.note("refresh while a backfill runs, %s: %d failures, the first: %v", sd, o.failed, o.firstErr)
		}
		res.during[sd] = e.latencyOf(o, during)
		if n := len(o.stats) - res.during[sd].n; n > 0 {
			rep.note("refresh while a backfill runs, %s: %d of %d refreshes left out of the row: no backfill ran throughout them (%d passes)", sd, n, len(o.stats), o.passes)
		}
	}
	rows := latencyRows(e.cfg, fmt.Sprintf(scAlone, e.cfg.Samples), res.alone)
	rows = append(rows, latencyRows(e.cfg, fmt.Sprintf(scDuring, e.cfg.Samples), res.during)...)
	for _, r := range append(rows, concurrentRows...) {
		rep.add(r)
	}
	for _, s := range res.summary(e.cfg) {
		rep.summarize(s)
	}
}

// servedMinimum is the fewest requests of the refreshes o served: one
// fetch sequence per number with at least one successful refresh.
func (e *env) servedMinimum(o outcome) int {
	seen := map[string]bool{}
	n := 0
	for _, s := range o.stats {
		if s.err == nil && !seen[s.phone] {
			seen[s.phone] = true
			n += e.leadMinimum(s.phone)
		}
	}
	return n
}

// servedFloor is the floor column of a refresh scenario's request rows.
func servedFloor(minimum, users int, shared bool, served [nSides]int) string {
	var all string
	switch {
	case shared:
		all = fmt.Sprintf("%s: one fetch sequence for all %d", count(minimum), users)
	case users == 1:
		all = fmt.Sprintf("%s (2 chunks × ⌈calls ÷ %d⌉ pages)", count(minimum), pageSize)
	default:
		all = fmt.Sprintf("%s (Σ over the %d leads)", count(minimum), users)
	}
	if served == [nSides]int{minimum, minimum, minimum} {
		return all
	}
	return fmt.Sprintf("%s; for what each served: ours %s, naive %s, naive + pacer %s",
		all, count(served[sideOurs]), count(served[sideNaive]), count(served[sidePaced]))
}

// requestRows shows the requests each side sent ÷ the minimum of the work
// it got done, its 429s and retries and, for the concurrent scenarios, the
// requests it wasted on refreshes that failed.
func requestRows(rep *report, scenario string, o [nSides]outcome, minimum [nSides]int, floor string, wasted bool) {
	var sent, tooMany, waste [nSides]string
	for _, sd := range sides {
		r := o[sd].tally.requests
		if minimum[sd] == 0 {
			sent[sd] = fmt.Sprintf("%s (none served)", count(r))
		} else {
			sent[sd] = fmt.Sprintf("%s (%s)", count(r), ratio(float64(r), float64(minimum[sd])))
		}
		if sd != sideOurs && o[sd].failed > 0 && !wasted {
			sent[sd] += fmt.Sprintf("; %d failed: %v", o[sd].failed, o[sd].firstErr)
		}
		tooMany[sd] = fmt.Sprintf("%s / %s", count(o[sd].tally.tooMany), count(o[sd].tally.retries()))
		waste[sd] = fmt.Sprintf("%s / %s", count(o[sd].wasted.requests), count(o[sd].wasted.pages))
	}
	add := func(figure string, v [nSides]string, floor string) {
		rep.add(row{Part: "1 requests", Scenario: scenario, Figure: figure,
			Ours: v[sideOurs], Baseline: "naive: " + v[sideNaive], Paced: v[sidePaced], Floor: floor})
	}
	add("requests sent (÷ minimum of the work done)", sent, floor)
	add("429s / retries", tooMany, "0 / 0")
	if wasted {
		add("requests wasted on refreshes that failed: all / pages", waste, "0 / 0")
	}
}

// latency is a latency row's figures for one side.
type latency struct {
	n, ok, timedOut, failed int
	passes                  int        // "while a backfill runs": backfill passes started
	ratio, real             [3]float64 // p50, p95, max over the successes: × floor, real seconds
	floor                   float64    // the median floor, real seconds
}

// latencyOf computes the figures over o's refreshes that only accepts (all
// when only is nil); percentiles are over the successful ones.
func (e *env) latencyOf(o outcome, only func(refreshStat) bool) latency {
	var l latency
	var rs, ts, fs []float64
	for _, s := range o.stats {
		if only != nil && !only(s) {
			continue
		}
		l.n++
		fs = append(fs, e.cfg.real(s.floor).Seconds())
		switch {
		case s.err == nil:
			l.ok++
			rs = append(rs, float64(s.took)/float64(s.floor))
			ts = append(ts, e.cfg.real(s.took).Seconds())
		case s.timedOut:
			l.timedOut++
		default:
			l.failed++
		}
	}
	for i, p := range []float64{50, 95, 100} {
		l.ratio[i], l.real[i] = percentile(rs, p), percentile(ts, p)
	}
	l.floor = percentile(fs, 50)
	l.passes = o.passes
	return l
}

// latencyRows shows, per side, how many refreshes succeeded, timed out or
// failed, and p50/p95/max of the successful ones as multiples of their
// floors and in the real time they stand for.
func latencyRows(cfg config, scenario string, l [nSides]latency) []row {
	var counts, ratios, reals [nSides]string
	for _, sd := range sides {
		counts[sd] = fmt.Sprintf("%d / %d / %d", l[sd].ok, l[sd].timedOut, l[sd].failed)
		if l[sd].ok == 0 {
			ratios[sd], reals[sd] = "none succeeded", "none succeeded"
			continue
		}
		v := l[sd].ratio
		ratios[sd] = fmt.Sprintf("%.2f× / %.2f× / %.2f×", v[0], v[1], v[2])
		v = l[sd].real
		reals[sd] = fmt.Sprintf("%.0f / %.0f / %.0f s", v[0], v[1], v[2])
	}
	mk := func(figure string, v [nSides]string, floor string) row {
		return row{Part: "2 latency", Scenario: scenario, Figure: figure,
			Ours: v[sideOurs], Baseline: "naive: " + v[sideNaive], Paced: v[sidePaced], Floor: floor}
	}
	floor := l[sideOurs].floor
	countsFloor := fmt.Sprintf("%d refreshes; deadline %s", l[sideOurs].n, secs(refreshTimeout))
	if l[sideOurs].passes > 0 {
		countsFloor += fmt.Sprintf("; backfill passes run: %s", joinSides(", ", func(sd side) string { return fmt.Sprintf("%s %d", sd, l[sd].passes) }))
	}
	return []row{
		mk("refreshes: succeeded / timed out / failed", counts, countsFloor),
		mk("p50 / p95 / max of the successes (× floor)", ratios,
			fmt.Sprintf("1× = pages × %s interval; median floor %.0f s real", secs(cfg.Interval), floor)),
		mk("p50 / p95 / max of the successes (real time)", reals, fmt.Sprintf("median floor %.0f s", floor)),
	}
}

// refreshes refreshes leads through side sd on a fresh fake: all at once
// when concurrent, else one after another.
func (e *env) refreshes(ctx context.Context, sd side, ids []string, concurrent bool) outcome {
	api := e.newFake(e.ds.Calls)
	defer api.close()
	var (
		do    func(i int, id string) refreshStat
		keyOf func(callyzertest.Request) string
	)
	if sd == sideOurs {
		r, st, err := e.refresher(ctx, api)
		if err != nil {
			return failedOutcome(err)
		}
		defer st.close()
		defer r.Wait()
		do = func(_ int, id string) refreshStat { return e.oursRefresh(ctx, r, id) }
		keyOf = byNumber
	} else {
		c := api.naiveClient(sd == sidePaced)
		do = func(i int, id string) refreshStat { return e.naiveRefresh(ctx, c, i, id) }
		keyOf = byTag
	}
	out := runUsers(ids, concurrent, do)
	out.count(api, keyOf)
	return out
}

// stat starts the refreshStat of lead id.
func (e *env) stat(id string) refreshStat {
	phone := e.leads[id].Phone
	return refreshStat{phone: phone, floor: time.Duration(e.leadMinimum(phone)) * e.cfg.interval()}
}

// oursRefresh is one user's refresh of lead id through our Refresher, whose
// own deadline (Config.RefreshTimeout) bounds it.
func (e *env) oursRefresh(ctx context.Context, r *callhistory.Refresher, id string) refreshStat {
	s := e.stat(id)
	s.key, _ = apiNumber(s.phone)
	start := time.Now()
	res, err := r.Refresh(ctx, admin, id)
	s.took = time.Since(start)
	switch want := e.leadCallsInWindow(s.phone); {
	case err != nil:
		s.err, s.timedOut = err, errors.Is(err, callhistory.ErrTimeout)
	case res.Report.Fetched != want:
		s.err = fmt.Errorf("lead %s: fetched %d calls, the window holds %d", id, res.Report.Fetched, want)
	}
	return s
}

// naiveRefresh is user i's refresh of lead id through the naive client c,
// under the same refresh deadline as ours.
func (e *env) naiveRefresh(ctx context.Context, c *naiveClient, i int, id string) refreshStat {
	s := e.stat(id)
	s.key = fmt.Sprintf("r%d", i)
	from, to := e.refreshWindow()
	rctx, cancel := context.WithTimeout(ctx, e.cfg.deadline())
	defer cancel()
	start := time.Now()
	res, err := naiveRefresh(rctx, c, s.key, s.phone, from, to)
	s.took = time.Since(start)
	switch want := e.leadCallsInWindow(s.phone); {
	case err != nil:
		s.err, s.timedOut = err, isTimeout(err)
	case res.rows != want:
		s.err = fmt.Errorf("naive: lead %s: read %d calls, the window holds %d", id, res.rows, want)
	}
	return s
}

// runUsers runs do for every id: together (released at one instant) or in
// turn.
func runUsers(ids []string, concurrent bool, do func(i int, id string) refreshStat) outcome {
	var out outcome
	if !concurrent {
		for i, id := range ids {
			out.record(do(i, id))
		}
		return out
	}
	stats := make([]refreshStat, len(ids))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			<-start
			stats[i] = do(i, id)
		})
	}
	close(start)
	wg.Wait()
	for _, s := range stats {
		out.record(s)
	}
	return out
}

// refresher is our Refresher on api and a fresh store of the run, its
// refresh deadline compressed.
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
		RefreshTimeout: e.cfg.deadline(),
		Now:            func() time.Time { return e.now }, Logger: quiet,
	})
	if err != nil {
		st.close()
		return nil, nil, err
	}
	return r, st, nil
}

// syncer is our Syncer on client and st.
func (e *env) syncer(client callhistory.CallSource, st callhistory.Store) (*callhistory.Syncer, error) {
	return callhistory.NewSyncer(callhistory.SyncConfig{
		Source: client, Store: st, State: syncState(st),
		Now: func() time.Time { return e.now }, Logger: quiet,
	})
}

// incrementalMinimum is the fewest requests of the first pass's read by
// upload time, [now - overlap, now].
func (e *env) incrementalMinimum() int {
	from := e.now.Add(-syncOverlap)
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
	incr := e.now.Add(-syncOverlap).Unix()
	n := 0
	for _, c := range e.ds.Calls {
		s, u := c.StartedAt.Unix(), c.SyncedAt.Unix()
		if (s >= from.Unix() && s <= to.Unix()) || (u >= incr && u <= e.now.Unix()) {
			n++
		}
	}
	return n
}

// backfill runs a 6-month backfill through side sd on a fresh fake (ours:
// the Syncer's first pass into a fresh store), with no deadline, and
// returns the calls ours inserted.
func (e *env) backfill(ctx context.Context, sd side) (outcome, int) {
	api := e.newFake(e.ds.Calls)
	defer api.close()
	var out outcome
	inserted := 0
	if sd == sideOurs {
		client, err := api.client()
		if err != nil {
			return failedOutcome(err), 0
		}
		st, err := e.newStore(ctx)
		if err != nil {
			return failedOutcome(err), 0
		}
		defer st.close()
		s, err := e.syncer(client, st)
		if err != nil {
			return failedOutcome(err), 0
		}
		rp, err := s.RunOnce(ctx)
		if err != nil {
			out.fail(err)
		} else {
			inserted = rp.Inserted
		}
	} else {
		from, to := e.refreshWindow()
		if _, err := naiveBackfill(ctx, api.naiveClient(sd == sidePaced), from, to); err != nil {
			out.fail(err)
		}
	}
	out.count(api, nil)
	return out, inserted
}

// maxBackfillPasses bounds the backfills run back to back while a
// "refresh while a backfill runs" scenario samples.
const maxBackfillPasses = 20

// backfills runs backfill passes back to back until stopped, so that one
// runs throughout the sampling however fast a pass is.
type backfills struct {
	running atomic.Bool // a pass runs or the next is about to start
	cancel  context.CancelFunc
	done    chan struct{}
	passes  int   // passes started; read after done
	err     error // the pass that failed; read after done
}

// startBackfills starts running pass back to back and waits until the fake
// has served the first pass's first requests.
func (e *env) startBackfills(ctx context.Context, api *fakeAPI, pass func(context.Context) error) *backfills {
	bctx, cancel := context.WithCancel(ctx)
	b := &backfills{cancel: cancel, done: make(chan struct{})}
	b.running.Store(true)
	go func() {
		defer close(b.done)
		defer b.running.Store(false)
		for range maxBackfillPasses {
			b.passes++
			err := pass(bctx)
			if bctx.Err() != nil {
				return // stopped: the pass's error is the cancellation
			}
			if err != nil {
				b.err = err
				return
			}
		}
	}()
	for api.srv.RequestCount() < 3 {
		select {
		case <-b.done:
		case <-ctx.Done():
		case <-time.After(e.cfg.interval()):
			continue
		}
		break
	}
	return b
}

// stop cancels the pass under way and returns the passes started and the
// error of a pass that failed.
func (b *backfills) stop() (int, error) {
	b.cancel()
	<-b.done
	return b.passes, b.err
}

// duringBackfill refreshes leads one after another (one interval of
// thinking time between them) through side sd while backfills of the same
// side run back to back on the same fake (ours: the Syncer on the same
// store, its client sharing the Refresher's pacer; naive + pacer: the same
// pacer).
func (e *env) duringBackfill(ctx context.Context, sd side, ids []string) outcome {
	api := e.newFake(e.ds.Calls)
	defer api.close()
	var (
		pass    func(context.Context) error
		refresh func(i int, id string) refreshStat
	)
	if sd == sideOurs {
		r, st, err := e.refresher(ctx, api)
		if err != nil {
			return failedOutcome(err)
		}
		defer st.close()
		defer r.Wait()
		client, err := api.client()
		if err != nil {
			return failedOutcome(err)
		}
		s, err := e.syncer(client, st)
		if err != nil {
			return failedOutcome(err)
		}
		pass = func(ctx context.Context) error {
			_, err := s.Backfill(ctx)
			return err
		}
		refresh = func(_ int, id string) refreshStat { return e.oursRefresh(ctx, r, id) }
	} else {
		c := api.naiveClient(sd == sidePaced)
		from, to := e.refreshWindow()
		pass = func(ctx context.Context) error {
			_, err := naiveBackfill(ctx, c, from, to)
			return err
		}
		refresh = func(i int, id string) refreshStat { return e.naiveRefresh(ctx, c, i, id) }
	}
	b := e.startBackfills(ctx, api, pass)
	var out outcome
	for i, id := range ids {
		before := b.running.Load()
		s := refresh(i, id)
		s.during = before && b.running.Load()
		out.record(s)
		select {
		case <-ctx.Done():
		case <-time.After(e.cfg.interval()):
			continue
		}
		break
	}
	passes, err := b.stop()
	out.passes = passes
	if err != nil {
		out.fail(fmt.Errorf("backfill pass %d: %w", passes, err))
	}
	out.count(api, nil)
	return out
}

// summary is the sentences the report opens with, computed from the run.
func (r results) summary(cfg config) []string {
	served := func(o outcome) int { return len(o.stats) - o.timedOut - o.failed }
	each := func(f func(sd side) string) string { return joinSides(", ", f) }
	lat := func(l [nSides]latency) string {
		return each(func(sd side) string {
			if l[sd].ok == 0 {
				return fmt.Sprintf("%s %d of %d", sd, l[sd].ok, l[sd].n)
			}
			return fmt.Sprintf("%s %d of %d (p95 %.0f s)", sd, l[sd].ok, l[sd].n, l[sd].real[1])
		})
	}
	sent := func(o [nSides]outcome) string {
		return fmt.Sprintf("%s (429s: %s)",
			each(func(sd side) string { return fmt.Sprintf("%s %s", sd, count(o[sd].tally.requests)) }),
			joinSides(", ", func(sd side) string { return count(o[sd].tally.tooMany) }))
	}
	return []string{
		fmt.Sprintf("One refresh on its own needs %s requests; sent: %s.", count(r.oneMinimum), sent(r.one)),
		fmt.Sprintf("Refreshes one after another, served within the %s deadline: alone, %s; while a backfill runs, %s.",
			secs(refreshTimeout), lat(r.alone), lat(r.during)),
		fmt.Sprintf("%d users refreshing %d different leads at once need %s requests, %s of request budget, against a %s deadline: %s.",
			r.users, r.users, count(r.manyMinimum), secs(time.Duration(r.manyMinimum)*cfg.Interval), secs(refreshTimeout),
			joinSides("; ", func(sd side) string {
				o := r.many[sd]
				return fmt.Sprintf("%s served %d of %d with %s requests (%s 429s), %s of them (%s) spent on refreshes that then failed",
					sd, served(o), len(o.stats), count(o.tally.requests), count(o.tally.tooMany), count(o.wasted.requests), plural(o.wasted.pages, "page"))
			})),
		fmt.Sprintf("%d users refreshing the same lead at once: %s.", r.users,
			joinSides("; ", func(sd side) string {
				o := r.same[sd]
				return fmt.Sprintf("%s served %d of %d with %s requests (%s 429s)", sd, served(o), len(o.stats), count(o.tally.requests), count(o.tally.tooMany))
			})),
		fmt.Sprintf("A 6-month backfill needs %s requests; sent: %s; ours adds its incremental read.", count(r.backfillMinimum), sent(r.backfill)),
	}
}

// plural is "n word" or "n words".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return count(n) + " " + word + "s"
}

// joinSides joins f of every side with sep.
func joinSides(sep string, f func(sd side) string) string {
	var parts []string
	for _, sd := range sides {
		parts = append(parts, f(sd))
	}
	return strings.Join(parts, sep)
}
