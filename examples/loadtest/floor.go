package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadcalls/leadcalls/callhistory"
	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/callyzertest"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// Part 5 (issue 13): a sales floor on one Callyzer budget. N advisors each
// refresh a random lead about once a minute (Poisson arrivals), the
// periodic sync runs every five minutes, the phones upload calls all the
// while; once through the spec's path (every refresh its own six-month
// fetch) and once through the adaptive strategy (catch-ups shared by the
// refreshes waiting, background mirrors), on the same arrivals and uploads.
//
// Time: the SDK runs on a simulated clock (Config.Now, SyncConfig.Now)
// that moves -compress times faster than the wall clock, from the run's
// "now"; what it waits for on the wall clock (the pacing interval, page
// latency, the refresh deadline, the sync's interval) is divided by
// -compress. The times it compares (windows, cursors, the catch-up's
// overlap, CatchUpWithin, MirrorEvery, the sync's Overlap) keep their real
// values on the simulated clock, and the fake stamps uploads with it in
// whole seconds, as Callyzer does.
const (
	floorSyncEvery = 5 * time.Minute // the periodic sync's interval, real time
	floorUploads   = 750             // the account's uploads an hour, real time
	floorRecent    = 2 * time.Hour   // uploads before the run, at the same rate: what the sync's Overlap re-reads
	floorThink     = time.Minute     // each advisor refreshes about once a minute
	floorCalls     = 20              // calls per lead in six months
	floorBurst     = 50              // users refreshing different leads at once
	floorGoalP95   = 10 * time.Second
	floorDrain     = 5 * time.Minute // wall-clock bound on draining the mirrors after a run
)

// floorStrategies are the columns: ours (adaptive) and the spec's path.
var floorStrategies = []string{"adaptive", "spec"}

// simClock is the simulated clock: frozen at base until started, then
// moving compress times faster than the wall clock.
type simClock struct {
	mu       sync.Mutex
	base     time.Time
	wall     time.Time // when started; zero while frozen
	compress float64
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.wall.IsZero() {
		return c.base
	}
	return c.base.Add(time.Duration(float64(time.Since(c.wall)) * c.compress))
}

func (c *simClock) start() {
	c.mu.Lock()
	c.wall = time.Now()
	c.mu.Unlock()
}

// classKey marks a request's context with what it is for, so that
// classTransport can count the budget by use.
type classKey struct{}

// The uses of the budget.
const (
	useRefresh = "refreshes" // the spec's path, a user waiting
	useCatchUp = "catch-ups"
	useMirror  = "mirroring"
	useSync    = "sync"
)

var uses = []string{useRefresh, useCatchUp, useMirror, useSync}

// classSource marks each query's context with its use: a number's own
// fetch is a refresh (Interactive) or a mirror (Background), a read by
// upload time is a catch-up (Interactive) or the sync's (Background).
type classSource struct{ next callhistory.CallSource }

func (s classSource) HistoryPages(ctx context.Context, q callyzer.HistoryQuery) iter.Seq2[*callyzer.HistoryPage, error] {
	use := useSync
	switch own := len(q.ClientNumbers) > 0; {
	case own && q.Priority == pacing.Interactive:
		use = useRefresh
	case own:
		use = useMirror
	case q.Priority == pacing.Interactive:
		use = useCatchUp
	}
	return s.next.HistoryPages(context.WithValue(ctx, classKey{}, use), q)
}

// classTransport counts the HTTP requests by the use their context names.
type classTransport struct {
	next   http.RoundTripper
	mu     sync.Mutex
	counts map[string]int
}

func (t *classTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	use, _ := req.Context().Value(classKey{}).(string)
	t.mu.Lock()
	t.counts[use]++
	t.mu.Unlock()
	return t.next.RoundTrip(req)
}

func (t *classTransport) take() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.counts
	t.counts = map[string]int{}
	return out
}

// floorData is the account of part 5: leads of about floorCalls calls in
// six months, and the calls uploaded in the floorRecent before the run.
type floorData struct {
	now    time.Time // the simulated clock's start
	ds     callyzertest.Dataset
	leads  leadBook
	ids    []string // lead ids, in order
	recent []callyzertest.Call
}

func (e *env) newFloorData() *floorData {
	now := e.now
	n := e.cfg.FloorLeads
	ds := callyzertest.Generate(e.cfg.Seed+5, callyzertest.GenerateConfig{
		End: now.Add(-floorRecent), Span: 170 * 24 * time.Hour,
		Employees: max(5, n/10), Leads: n, Calls: n * floorCalls, IDPrefix: "f-",
	})
	d := &floorData{now: now, ds: ds, leads: leadBook{}}
	for _, l := range ds.Leads {
		d.leads[l.ID] = callhistory.Lead{ID: l.ID, Name: l.Name, Phone: l.Phone, AdvisorID: l.AdvisorCode}
		d.ids = append(d.ids, l.ID)
	}
	rng := rand.New(rand.NewPCG(uint64(e.cfg.Seed), 0x72656365))
	count := int(floorRecent.Hours() * floorUploads)
	for i := range count {
		synced := now.Add(-floorRecent + time.Duration(float64(floorRecent)*float64(i)/float64(count))).Truncate(time.Second)
		d.recent = append(d.recent, d.upload(rng, fmt.Sprintf("r-%05d", i), synced))
	}
	return d
}

// upload is a call uploaded at synced: with one of the leads seven times
// in ten, else with a number the CRM does not know; made up to half an
// hour before.
func (d *floorData) upload(rng *rand.Rand, id string, synced time.Time) callyzertest.Call {
	phone := fmt.Sprintf("+4879%07d", rng.IntN(10_000_000))
	if rng.IntN(10) < 7 {
		phone = d.ds.Leads[rng.IntN(len(d.ds.Leads))].Phone
	}
	c := callyzertest.NewCall(id, phone, synced.Add(-time.Duration(1+rng.IntN(30))*time.Minute))
	c.SetEmployee(d.ds.Employees[rng.IntN(len(d.ds.Employees))])
	c.Duration = rng.IntN(600)
	c.SyncedAt, c.ModifiedAt = synced, synced
	return c
}

// floorPlan is one load: when each refresh comes and of which lead, and
// when each call is uploaded, as offsets on the simulated clock. Both
// strategies run the same plan.
type floorPlan struct {
	advisors int
	span     time.Duration // simulated
	arrivals []arrival
	uploads  []time.Duration
	burst    bool // every arrival at once
}

type arrival struct {
	at   time.Duration
	lead int
}

func (e *env) floorPlan(d *floorData, advisors int) floorPlan {
	span := time.Duration(e.cfg.FloorMinutes * float64(time.Minute))
	rng := rand.New(rand.NewPCG(uint64(e.cfg.Seed), uint64(advisors)))
	p := floorPlan{advisors: advisors, span: span}
	for range advisors {
		for t := time.Duration(rng.ExpFloat64() * float64(floorThink)); t < span; t += time.Duration(rng.ExpFloat64() * float64(floorThink)) {
			p.arrivals = append(p.arrivals, arrival{at: t, lead: rng.IntN(len(d.ids))})
		}
	}
	slices.SortFunc(p.arrivals, func(a, b arrival) int { return int(a.at - b.at) })
	perUpload := time.Hour / floorUploads
	for t := time.Duration(rng.ExpFloat64() * float64(perUpload)); t < span; t += time.Duration(rng.ExpFloat64() * float64(perUpload)) {
		p.uploads = append(p.uploads, t)
	}
	return p
}

// burstPlan is floorBurst users refreshing floorBurst different leads at
// the run's first instant, with nothing else going on.
func (e *env) burstPlan(d *floorData) floorPlan {
	p := floorPlan{advisors: floorBurst, burst: true}
	for i := range min(floorBurst, len(d.ids)) {
		p.arrivals = append(p.arrivals, arrival{lead: i})
	}
	return p
}

// floorStat is one refresh of a floor run.
type floorStat struct {
	took     time.Duration // wall
	err      error
	timedOut bool
	path     string
	mismatch string // the oracle's finding; "" when the list was right
}

// floorResult is one strategy's run of a plan.
type floorResult struct {
	stats     []floorStat
	requests  map[string]int // by use, during the run
	drained   map[string]int // by use, while the mirrors drained after it
	passes    []time.Duration
	passFails int
	storeDiff []string // numbers whose store differs from Callyzer's after the drain
	err       error
}

func (r floorResult) count() (served, timedOut, failed int) {
	for _, s := range r.stats {
		switch {
		case s.err == nil:
			served++
		case s.timedOut:
			timedOut++
		default:
			failed++
		}
	}
	return
}

// latencies returns the served refreshes' times, in real seconds.
func (r floorResult) latencies(compress float64) []float64 {
	var xs []float64
	for _, s := range r.stats {
		if s.err == nil {
			xs = append(xs, s.took.Seconds()*compress)
		}
	}
	return xs
}

func (r floorResult) mismatches() []string {
	var out []string
	for _, s := range r.stats {
		if s.mismatch != "" {
			out = append(out, s.mismatch)
		}
	}
	return append(out, r.storeDiff...)
}

// truth is what the fake holds for each number and since when (wall
// clock, read after the upload was added): the oracle's ground truth.
type truth struct {
	mu sync.Mutex
	at map[string]map[string]time.Time // phone → call id → uploaded
}

func newTruth(calls []callyzertest.Call) *truth {
	t := &truth{at: map[string]map[string]time.Time{}}
	for _, c := range calls {
		t.add(c, time.Time{})
	}
	return t
}

func (t *truth) add(c callyzertest.Call, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.at[c.ClientE164()]
	if m == nil {
		m = map[string]time.Time{}
		t.at[c.ClientE164()] = m
	}
	m[c.ID] = at
}

// check compares a list returned for phone, by a refresh begun at start
// and returned at end, with the truth: every call uploaded before start
// must be there, and nothing Callyzer did not hold by end.
func (t *truth) check(phone string, ids []string, start, end time.Time) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	got := map[string]bool{}
	for _, id := range ids {
		got[id] = true
	}
	var missing, extra []string
	for id, at := range t.at[phone] {
		if at.Before(start) && !got[id] {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if at, ok := t.at[phone][id]; !ok || at.After(end) {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(extra) == 0 {
		return ""
	}
	slices.Sort(missing)
	slices.Sort(extra)
	return fmt.Sprintf("%s: missing %v, not at Callyzer %v", maskPhone(phone), missing, extra)
}

// all returns every call id of phone.
func (t *truth) all(phone string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for id := range t.at[phone] {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func maskPhone(p string) string {
	if len(p) < 5 {
		return p
	}
	return p[:len(p)-4] + "****"
}

// floorRun runs plan through strategy on a fresh fake and store: the
// sync's backfill first (not measured), then the plan on the simulated
// clock, then the mirrors drained and a last sync pass, and the store
// compared with Callyzer for every number refreshed.
func (e *env) floorRun(ctx context.Context, d *floorData, plan floorPlan, strategy string) (res floorResult) {
	calls := append(slices.Clone(d.ds.Calls), d.recent...)
	api := e.newFake(calls)
	defer api.close()
	counter := &classTransport{next: api.ours.Transport, counts: map[string]int{}}
	client, err := api.client(callyzer.WithHTTPClient(&http.Client{Transport: counter, Timeout: time.Minute}))
	if err != nil {
		return floorResult{err: err}
	}
	src := classSource{next: client}
	st, err := e.newStore(ctx)
	if err != nil {
		return floorResult{err: err}
	}
	defer st.close()
	clock := &simClock{base: d.now, compress: e.cfg.Compress}
	syncer, err := callhistory.NewSyncer(callhistory.SyncConfig{
		Source: src, Store: st, State: syncState(st), Now: clock.Now, Logger: quiet,
	})
	if err != nil {
		return floorResult{err: err}
	}
	if _, err := syncer.RunOnce(ctx); err != nil {
		return floorResult{err: fmt.Errorf("the sync's first pass: %w", err)}
	}
	if state, err := syncer.State(ctx); err != nil || !state.Backfill.Done {
		return floorResult{err: fmt.Errorf("the sync's first pass left the backfill unfinished (%v)", err)}
	}
	cfg := callhistory.Config{
		Source: src, Store: st, Leads: d.leads, Strategy: strategy,
		RefreshTimeout: e.cfg.deadline(), Now: clock.Now, Logger: quiet,
	}
	if strategy != "spec" {
		cfg.Syncer = syncer
	}
	refresher, err := callhistory.NewRefresher(cfg)
	if err != nil {
		return floorResult{err: err}
	}
	counter.take()

	truth := newTruth(calls)
	wall := func(sim time.Duration) time.Duration { return e.cfg.scale(sim) }
	clock.start()
	began := time.Now()
	sleepUntil := func(ctx context.Context, at time.Duration) bool {
		t := time.NewTimer(time.Until(began.Add(wall(at))))
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	stop := make(chan struct{})
	stopped, stopCancel := context.WithCancel(ctx)
	go func() { <-stop; stopCancel() }()
	var bg sync.WaitGroup
	var passMu sync.Mutex
	if !plan.burst {
		bg.Go(func() { // the periodic sync
			for k := 1; sleepUntil(stopped, time.Duration(k)*floorSyncEvery); k++ {
				t0 := time.Now()
				_, err := syncer.RunOnce(ctx)
				passMu.Lock()
				res.passes = append(res.passes, time.Since(t0))
				if err != nil {
					res.passFails++
				}
				passMu.Unlock()
			}
		})
		bg.Go(func() { // the phones' uploads
			rng := rand.New(rand.NewPCG(uint64(e.cfg.Seed), uint64(plan.advisors)+0x75706c))
			for i, at := range plan.uploads {
				if !sleepUntil(stopped, at) {
					return
				}
				c := d.upload(rng, fmt.Sprintf("u-%05d", i), clock.Now().Truncate(time.Second))
				api.srv.AddCalls(c)
				truth.add(c, time.Now())
			}
		})
	}
	res.stats = make([]floorStat, len(plan.arrivals))
	var users sync.WaitGroup
	for i, a := range plan.arrivals {
		if !sleepUntil(ctx, a.at) {
			break
		}
		users.Go(func() {
			lead := d.leads[d.ids[a.lead]]
			start := time.Now()
			out, err := refresher.Refresh(ctx, admin, lead.ID)
			end := time.Now()
			s := floorStat{took: end.Sub(start), err: err, timedOut: errors.Is(err, callhistory.ErrTimeout)}
			if err == nil {
				s.path = out.Report.Path
				ids := make([]string, len(out.Calls))
				for j, c := range out.Calls {
					ids[j] = c.CallyzerID
				}
				s.mismatch = truth.check(lead.Phone, ids, start, end)
			}
			res.stats[i] = s
		})
	}
	users.Wait()
	if !plan.burst {
		sleepUntil(ctx, plan.span)
	}
	close(stop)
	bg.Wait()
	res.requests = counter.take()

	// Drain the mirrors, then one more pass: the store must then hold what
	// Callyzer holds for every number refreshed.
	dctx, cancel := context.WithTimeout(ctx, floorDrain)
	err = refresher.Drain(dctx)
	cancel()
	refresher.Wait()
	if err != nil {
		return floorResult{err: fmt.Errorf("draining the mirrors: %w", err)}
	}
	res.drained = counter.take()
	if _, err := syncer.RunOnce(ctx); err != nil {
		return floorResult{err: fmt.Errorf("the last sync pass: %w", err)}
	}
	seen := map[string]bool{}
	for _, a := range plan.arrivals {
		phone := d.leads[d.ids[a.lead]].Phone
		if seen[phone] {
			continue
		}
		seen[phone] = true
		stored, err := st.Calls(ctx, phone, 0)
		if err != nil {
			return floorResult{err: err}
		}
		var ids []string
		for _, c := range stored {
			ids = append(ids, c.CallyzerID)
		}
		slices.Sort(ids)
		if want := truth.all(phone); !slices.Equal(ids, want) {
			res.storeDiff = append(res.storeDiff, fmt.Sprintf("store of %s after the drain: %d calls, Callyzer holds %d", maskPhone(phone), len(ids), len(want)))
		}
	}
	return res
}

// floor is part 5: for each load of -advisors, and for the burst, both
// strategies on the same plan.
func floor(ctx context.Context, e *env, rep *report, progress io.Writer) {
	d := e.newFloorData()
	goals := map[string]bool{}
	var sentences []string
	scenario := func(n int) string {
		return fmt.Sprintf("sales floor: %d advisors, a refresh a minute each, %d leads, %g min", n, len(d.ids), e.cfg.FloorMinutes)
	}
	for _, n := range e.cfg.Advisors {
		plan := e.floorPlan(d, n)
		var results [2]floorResult
		for i, s := range floorStrategies {
			fmt.Fprintf(progress, "loadtest: sales floor, %d advisors, %s: %d refreshes\n", n, s, len(plan.arrivals))
			results[i] = e.floorRun(ctx, d, plan, s)
		}
		if !e.floorRows(rep, scenario(n), plan, results) {
			continue
		}
		ours, spec := results[0], results[1]
		served, timedOut, _ := ours.count()
		sserved, stimedOut, _ := spec.count()
		p95, sp95 := percentile(ours.latencies(e.cfg.Compress), 95), percentile(spec.latencies(e.cfg.Compress), 95)
		sentences = append(sentences, fmt.Sprintf("%d advisors (%d refreshes in %g min): adaptive served %d (%d timed out), p95 %s; the spec's path served %d (%d timed out), p95 %s.",
			n, len(plan.arrivals), e.cfg.FloorMinutes, served, timedOut, seconds(p95), sserved, stimedOut, seconds(sp95)))
		if n == 30 || n == 60 {
			longest := slices.Max(append(ours.passes, 0))
			goals[fmt.Sprintf("%d advisors: 0 timeouts", n)] = timedOut == 0
			goals[fmt.Sprintf("%d advisors: p95 under %s", n, seconds(floorGoalP95.Seconds()))] = p95 < floorGoalP95.Seconds()
			goals[fmt.Sprintf("%d advisors: every sync pass within its %s", n, floorSyncEvery)] = e.cfg.real(longest) <= floorSyncEvery && ours.passFails == 0
		}
	}
	plan := e.burstPlan(d)
	var results [2]floorResult
	for i, s := range floorStrategies {
		fmt.Fprintf(progress, "loadtest: sales floor burst, %s\n", s)
		results[i] = e.floorRun(ctx, d, plan, s)
	}
	name := fmt.Sprintf("%d users refreshing %d different leads at once (after the backfill)", len(plan.arrivals), len(plan.arrivals))
	if e.floorRows(rep, name, plan, results) {
		served, _, _ := results[0].count()
		sserved, _, _ := results[1].count()
		sentences = append(sentences, fmt.Sprintf("%d users refreshing different leads at once: adaptive served %d, the spec's path %d.", len(plan.arrivals), served, sserved))
		if len(plan.arrivals) == floorBurst {
			goals[fmt.Sprintf("burst: at least 48 of %d served", floorBurst)] = served >= 48
		}
	}
	var met, missed []string
	for g, ok := range goals {
		if ok {
			met = append(met, g)
		} else {
			missed = append(missed, g)
		}
	}
	slices.Sort(met)
	slices.Sort(missed)
	text := "Sales floor (one Callyzer budget, the periodic sync every 5 min): " + strings.Join(sentences, " ")
	if len(goals) > 0 {
		text += fmt.Sprintf(" Goals of issue 13 met: %d of %d", len(met), len(goals))
		if len(missed) > 0 {
			text += " (missed: " + strings.Join(missed, "; ") + ")"
		}
		text += "."
	}
	rep.summarize(text)
	for _, g := range missed {
		rep.note("sales floor goal missed: %s", g)
	}
}

// floorRows adds a scenario's rows; false when a run failed (recorded).
func (e *env) floorRows(rep *report, scenario string, plan floorPlan, results [2]floorResult) bool {
	for i, r := range results {
		if r.err != nil {
			rep.fail("%s, %s: %v", scenario, floorStrategies[i], r.err)
			return false
		}
		if mm := r.mismatches(); len(mm) > 0 {
			rep.fail("%s, %s: %d lists or stores differ from Callyzer's, e.g. %s", scenario, floorStrategies[i], len(mm), mm[0])
		}
		if _, _, failed := r.count(); failed > 0 {
			for _, s := range r.stats {
				if s.err != nil && !s.timedOut {
					rep.fail("%s, %s: a refresh failed: %v", scenario, floorStrategies[i], s.err)
					break
				}
			}
		}
	}
	const part = "5 sales floor"
	cell := func(f func(floorResult) string) (string, string) {
		return f(results[0]), "spec's path: " + f(results[1])
	}
	add := func(figure, floor string, f func(floorResult) string) {
		ours, base := cell(f)
		rep.add(row{Part: part, Scenario: scenario, Figure: figure, Ours: ours, Baseline: base, Floor: floor})
	}
	minutes := plan.span.Minutes()
	countsGoal, p95Goal := "", ""
	switch {
	case plan.burst && len(plan.arrivals) == floorBurst:
		countsGoal = "; goal: at least 48 served"
	case plan.advisors == 30 || plan.advisors == 60:
		countsGoal, p95Goal = "; goal: 0 timed out", "goal: p95 under "+seconds(floorGoalP95.Seconds())
	}
	add("refreshes: served / timed out / failed", fmt.Sprintf("%d refreshes; deadline %s%s", len(plan.arrivals), seconds(refreshTimeout.Seconds()), countsGoal),
		func(r floorResult) string {
			s, t, f := r.count()
			return fmt.Sprintf("%d / %d / %d", s, t, f)
		})
	add("p50 / p95 / max of the served (real time)", p95Goal,
		func(r floorResult) string {
			xs := r.latencies(e.cfg.Compress)
			if len(xs) == 0 {
				return "none served"
			}
			return fmt.Sprintf("%s / %s / %s", num(percentile(xs, 50)), num(percentile(xs, 95)), seconds(slices.Max(xs)))
		})
	if !plan.burst {
		add("served per minute", fmt.Sprintf("%.1f refreshes asked per minute", float64(len(plan.arrivals))/minutes),
			func(r floorResult) string {
				s, _, _ := r.count()
				return fmt.Sprintf("%.1f", float64(s)/minutes)
			})
	}
	add("requests: refreshes / catch-ups / mirroring / sync", budgetFloor(plan, e.cfg),
		func(r floorResult) string {
			parts := make([]string, len(uses))
			for i, u := range uses {
				parts[i] = strconv.Itoa(r.requests[u])
			}
			s := strings.Join(parts, " / ")
			if n := r.drained[useMirror]; n > 0 {
				s += fmt.Sprintf("; then %d mirroring after the run", n)
			}
			return s
		})
	paths := func(r floorResult) string {
		n := map[string]int{}
		for _, s := range r.stats {
			if s.err == nil {
				n[s.path]++
			}
		}
		return fmt.Sprintf("%d / %d", n["spec"], n["catch-up"])
	}
	add("served by the spec's path / by a catch-up", "", paths)
	if !plan.burst {
		add("sync passes: longest (real time) / over their interval / failed", "each within "+floorSyncEvery.String(),
			func(r floorResult) string {
				if len(r.passes) == 0 {
					return "none ran"
				}
				longest := e.cfg.real(slices.Max(r.passes))
				over := 0
				for _, p := range r.passes {
					if e.cfg.real(p) > floorSyncEvery {
						over++
					}
				}
				return fmt.Sprintf("%s / %d of %d / %d", seconds(longest.Seconds()), over, len(r.passes), r.passFails)
			})
	}
	add("oracle: lists unlike Callyzer's at their start / stores unlike it after the drain", "0 / 0",
		func(r floorResult) string {
			lists := 0
			for _, s := range r.stats {
				if s.mismatch != "" {
					lists++
				}
			}
			return fmt.Sprintf("%d / %d", lists, len(r.storeDiff))
		})
	return true
}

// budgetFloor says what the budget allows in the run.
func budgetFloor(plan floorPlan, cfg config) string {
	if plan.burst {
		return "a refresh alone: 2 requests (two window chunks)"
	}
	slot := max(cfg.Interval, cfg.Latency)
	return fmt.Sprintf("budget: about %d requests in %g min (one per %s)", int(plan.span/slot), plan.span.Minutes(), slot)
}

func seconds(s float64) string { return num(s) + " s" }

func num(s float64) string {
	if s < 10 {
		return strconv.FormatFloat(s, 'f', 1, 64)
	}
	return strconv.FormatFloat(s, 'f', 0, 64)
}
