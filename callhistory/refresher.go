package callhistory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/statusmap"
)

// Config configures a Refresher. Source, Store and Leads are required; every
// other field has the default its comment names.
type Config struct {
	Source CallSource // required: usually a *callyzer.Client
	Store  Store      // required
	Leads  Leads      // required

	// Authorizer decides who may view a lead. Default: RoleAuthorizer{}.
	Authorizer Authorizer
	// Mapper maps Callyzer calls to CRM statuses. Default: statusmap.Default().
	Mapper *statusmap.Mapper
	// RefreshTimeout bounds a whole refresh, all Callyzer pages and the
	// store write included. Default: 30s.
	RefreshTimeout time.Duration
	// HistoryMonths is the refreshed window: [now - HistoryMonths calendar
	// months, now]. Default: 6.
	HistoryMonths int
	// ListLimit caps the calls a Result carries. Default: 500.
	ListLimit int
	// DefaultRegion parses numbers written without a country code. Default: "PL".
	DefaultRegion string
	// RemoveAfter is how long after the first answer that lacked a call a
	// refresh that still lacks it deletes it for good (until then it is
	// only out of the list). Default: 10m.
	RemoveAfter time.Duration
	// Guard refuses an answer that would take many listed calls out at
	// once (ErrSuspiciousAnswer; nothing is written). Default, when nil:
	// more than half of the window's listed calls and at least 5;
	// &RemovalGuard{} turns it off.
	Guard *RemovalGuard

	// Syncer, when set, lets refreshes share its reads: a refresh can be
	// served by a catch-up, one account-wide read of what was uploaded
	// since the store was last known complete, which serves every refresh
	// waiting for it. It must read the same Store. Default: none.
	Syncer *Syncer
	// Strategy picks how a refresh reads Callyzer: "spec", its own
	// six-month fetch and replace (the spec's path); "catch-up", a
	// catch-up whenever one is correct; "adaptive", the spec's path for a
	// lone refresh and a catch-up when others are waiting or under way.
	// A catch-up is correct only when the Syncer's backfill has finished
	// and the store was known complete at most CatchUpWithin ago;
	// otherwise the refresh takes the spec's path. Default: "adaptive"
	// with a Syncer, "spec" without.
	Strategy string
	// CatchUpWithin bounds how long ago the store may have been last known
	// complete (by a sync pass or a catch-up) for a catch-up to serve.
	// Default: 15m.
	CatchUpWithin time.Duration
	// MirrorEvery: a number a catch-up served is fetched and replaced on
	// its own in the background (Background priority), so that calls
	// deleted or edited at Callyzer without a new upload reach the store;
	// at most once per MirrorEvery for a number. Mirrors run one at a
	// time, each in a lull: no refresh begun for RefreshTimeout and no sync
	// pass of the Syncer under way in this process (or after 10 minutes of
	// waiting for one). Default: 1h.
	MirrorEvery time.Duration

	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// Logger receives one line per refresh, phone numbers masked. Default:
	// slog.Default().
	Logger *slog.Logger
}

// Defaults of Config, as its comments name them.
const (
	defaultRefreshTimeout = 30 * time.Second
	defaultHistoryMonths  = 6
	defaultListLimit      = 500
	defaultRegion         = "PL"
	defaultCatchUpWithin  = 15 * time.Minute
	defaultMirrorEvery    = time.Hour
	// mirrorTimeout bounds one background mirror: it waits behind every
	// interactive request.
	mirrorTimeout = 10 * time.Minute
)

// Result is a lead's call history.
type Result struct {
	Lead         Lead
	Phone        string    // the lead's number, E.164
	Calls        []Call    // newest first, at most Config.ListLimit
	LastSyncedAt time.Time // zero when never synced
	Report       *Report   // what a refresh did; nil from History
	Summary      Summary   // Calls at a glance
}

// Report says what one refresh did.
type Report struct {
	Requests  int // HTTP requests sent to Callyzer, retries included
	Fetched   int // calls of the lead received (after de-duplication)
	Inserted  int //
	Updated   int // restored calls included
	Deleted   int // calls the answer lacked, taken out of the list
	Unchanged int //
	Purged    int // missing calls a later answer confirmed gone, deleted for good
	// Foreign counts calls of other numbers in the answer, left out: the
	// account may ignore the client_numbers filter.
	Foreign int
	// DroppedRecordings counts recording URLs that were not https, not kept.
	DroppedRecordings int
	// Path says how the refresh read Callyzer: "spec", its own six-month
	// fetch and replace; "catch-up", a shared read of what was uploaded
	// since the store was last known complete (Config.Syncer). Requests
	// are then the catch-up's, shared with every refresh it served.
	Path     string
	Shared   bool          // this caller joined a fetch already under way
	Duration time.Duration // this caller's wait, from Refresh to its return
}

// Refresher is the use case "refresh a lead's call history". It is safe for
// concurrent use; concurrent refreshes of one number share one fetch.
type Refresher struct {
	cfg      Config
	flights  singleflight.Group
	inflight sync.WaitGroup // callers whose shared refresh has not finished, and the mirror runner
	mirrors  mirrorQueue

	mu      sync.Mutex
	active  gate            // refreshes past admission, not yet returned
	began   time.Time       // when the latest refresh began
	spec    map[string]bool // numbers whose spec-path fetch is under way
	onSpec  gate            // refreshes on the spec's path now: their fetches keep the slot
	service time.Duration   // a moving average of a lone spec-path refresh's duration; 0 until one is seen

	afterJoin func() // test hook: runs once a caller waits on a shared refresh
}

// The strategies (Config.Strategy) and the paths a refresh takes (Report.Path).
const (
	strategySpec     = "spec"
	strategyAdaptive = "adaptive"
	strategyCatchUp  = "catch-up"
)

// Wait blocks until every refresh started so far has finished, including
// those whose callers stopped waiting (their shared work runs on to its own
// deadline). A host calls it at shutdown, after its HTTP server has stopped
// taking requests; tests call it before checking for leaked goroutines.
func (r *Refresher) Wait() {
	r.mirrors.drop()
	r.inflight.Wait()
	if r.cfg.Syncer != nil {
		r.cfg.Syncer.catch.wg.Wait()
	}
}

// NewRefresher checks cfg, fills in the defaults and returns a Refresher.
func NewRefresher(cfg Config) (*Refresher, error) {
	defaults := Config{Authorizer: RoleAuthorizer{}, RefreshTimeout: defaultRefreshTimeout, HistoryMonths: defaultHistoryMonths, ListLimit: defaultListLimit,
		RemoveAfter: defaultRemoveAfter, Guard: &RemovalGuard{Share: 0.5, Min: 5}, Strategy: strategySpec,
		CatchUpWithin: defaultCatchUpWithin, MirrorEvery: defaultMirrorEvery}
	if cfg.Strategy == "" && cfg.Syncer != nil {
		cfg.Strategy = strategyAdaptive
	}
	if err := prepare("Config", &cfg, defaults,
		required("Source", cfg.Source == nil), required("Store", cfg.Store == nil), required("Leads", cfg.Leads == nil),
		notNegative("RefreshTimeout", cfg.RefreshTimeout), notNegative("HistoryMonths", cfg.HistoryMonths), notNegative("ListLimit", cfg.ListLimit),
		notNegative("RemoveAfter", cfg.RemoveAfter), notNegative("CatchUpWithin", cfg.CatchUpWithin),
		notNegative("MirrorEvery", cfg.MirrorEvery),
	); err != nil {
		return nil, err
	}
	switch cfg.Strategy {
	case strategySpec, strategyAdaptive, strategyCatchUp:
	default:
		return nil, fmt.Errorf("callhistory: Config.Strategy %q is none of spec, adaptive, catch-up", cfg.Strategy)
	}
	if cfg.Strategy != strategySpec && cfg.Syncer == nil {
		return nil, fmt.Errorf("callhistory: Config.Strategy %q needs a Config.Syncer", cfg.Strategy)
	}
	return &Refresher{cfg: cfg, spec: map[string]bool{}}, nil
}

// Refresh refreshes the call history of lead leadID for actor, following
// the spec's steps (permission, lead, phone, fetch, map, replace, result),
// and returns the stored list. A denial sends nothing and writes nothing;
// any failure leaves the store as it was. Concurrent refreshes of one
// number share one fetch and write, which carries on for the others when a
// caller's ctx ends (that caller gets ErrTimeout with ctx.Err() in the
// chain). Errors wrap one of the package's sentinels; Message turns any
// outcome into the user's message.
func (r *Refresher) Refresh(ctx context.Context, actor *Actor, leadID string) (*Result, error) {
	start := time.Now()
	lead, phone, err := r.admit(ctx, actor, leadID)
	if err != nil {
		r.logOutcome(ctx, "refresh", actor, leadID, phone, nil, err)
		return nil, err
	}
	if ctx.Err() != nil {
		err := callerGone(ctx)
		r.logOutcome(ctx, "refresh", actor, leadID, phone, nil, err)
		return nil, err
	}
	since := r.cfg.Now()
	path, err := r.enter(ctx, phone)
	defer r.leave()
	var out *refreshed
	shared, leader := false, false
	if err == nil && path == strategyCatchUp {
		out, err = r.viaCatchUp(ctx, phone, since)
		if errors.Is(err, errNotComplete) || errors.Is(err, errBacklog) {
			path, err = strategySpec, nil // the spec's path is always correct
			r.mu.Lock()
			r.onSpec.enter()
			r.mu.Unlock()
		}
		shared = true
	}
	if err == nil && path == strategySpec {
		out, shared, leader, err = r.viaSpec(ctx, phone, pacing.Interactive)
		r.specDone()
	}
	if err != nil {
		r.logOutcome(ctx, "refresh", actor, leadID, phone, nil, err)
		return nil, err
	}
	calls := out.calls
	if shared {
		// Each caller gets its own slice to change as it likes.
		calls = append([]Call(nil), calls...)
	}
	report := out.report // a copy per caller
	report.Shared = !leader
	report.Path = path
	report.Duration = time.Since(start)
	result := &Result{
		Lead:         lead,
		Phone:        phone,
		Calls:        calls,
		LastSyncedAt: out.lastSynced,
		Report:       &report,
		Summary:      r.summary(calls),
	}
	r.logOutcome(ctx, "refresh", actor, leadID, phone, &report, nil)
	return result, nil
}

// enter counts a refresh of phone as active and picks its path: the spec's
// path joins a fetch of phone under way, serves a lone refresh under the
// adaptive strategy, and every refresh under the spec strategy, where a
// refresh that could not be served before its deadline, behind the spec
// fetches under way, fails at once instead of spending the budget.
func (r *Refresher) enter(ctx context.Context, phone string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	others := r.active.n
	r.began = time.Now()
	r.active.enter()
	switch {
	case r.spec[phone]:
		r.onSpec.enter()
		return strategySpec, nil
	case r.cfg.Strategy == strategyCatchUp, r.cfg.Strategy == strategyAdaptive && others > 0:
		return strategyCatchUp, nil
	}
	if r.service > 0 && len(r.spec) > 0 {
		wait := time.Duration(len(r.spec)+1) * r.service
		deadline := r.cfg.RefreshTimeout
		if d, ok := ctx.Deadline(); ok && time.Until(d) < deadline {
			deadline = time.Until(d)
		}
		if wait > deadline {
			return "", fmt.Errorf("%w: %d refreshes ahead would not leave this one time before its deadline", ErrTimeout, len(r.spec))
		}
	}
	r.onSpec.enter()
	return strategySpec, nil
}

// specDone ends a refresh on the spec's path (onSpec.enter): catch-ups
// wait for the last to end (viaCatchUp).
func (r *Refresher) specDone() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onSpec.leave()
}

func (r *Refresher) leave() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active.leave()
}

// fetched ends the spec-path fetch of phone; the time a lone one took
// when it succeeded is the service time admission counts with.
func (r *Refresher) fetched(phone string, lone bool, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.spec, phone)
	if !lone {
		return
	}
	if r.service == 0 {
		r.service = took
	} else {
		r.service = (3*r.service + took) / 4
	}
}

// viaSpec is the spec's path: phone's own six-month fetch and replace,
// shared by the concurrent refreshes of phone. The shared work runs on a
// context detached from the first caller's, bounded by RefreshTimeout; a
// caller whose ctx ends stops waiting. A background mirror (prio
// Background) is a flight of its own, which no refresh joins: a refresh
// must not wait behind every interactive request.
func (r *Refresher) viaSpec(ctx context.Context, phone string, prio pacing.Priority) (out *refreshed, shared, leader bool, err error) {
	base := context.WithoutCancel(ctx)
	key, timeout := phone, r.cfg.RefreshTimeout
	if prio != pacing.Interactive {
		key, timeout = "mirror "+phone, mirrorTimeout
	}
	r.inflight.Add(1)
	ch := r.flights.DoChan(key, func() (_ any, err error) {
		leader = true
		if prio == pacing.Interactive {
			r.mu.Lock()
			lone := len(r.spec) == 0
			r.spec[phone] = true
			r.mu.Unlock()
			began := time.Now()
			defer func() { r.fetched(phone, lone && err == nil, time.Since(began)) }()
		}
		wctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		return r.refreshNumber(wctx, phone, prio)
	})
	if r.afterJoin != nil {
		r.afterJoin()
	}
	var res singleflight.Result
	select {
	case <-ctx.Done():
		// The shared refresh goes on for the others; count it as running
		// until its result arrives, for Wait.
		go func() {
			<-ch
			r.inflight.Done()
		}()
		return nil, false, false, callerGone(ctx)
	case res = <-ch:
		r.inflight.Done()
	}
	if res.Err != nil {
		return nil, false, false, res.Err
	}
	return res.Val.(*refreshed), res.Shared, leader, nil
}

// viaCatchUp serves a refresh begun at since from the store, once a
// catch-up that began after it has committed, and queues phone for a
// mirror of its own.
func (r *Refresher) viaCatchUp(ctx context.Context, phone string, since time.Time) (*refreshed, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.RefreshTimeout)
	defer cancel()
	// A spec-path fetch under way keeps the Callyzer slot until its last
	// page: a catch-up begun now would wait for it and serve only the
	// refreshes begun so far. Begun after it, one serves every refresh that
	// came meanwhile too.
	r.mu.Lock()
	specEnd := r.onSpec.idle()
	r.mu.Unlock()
	if !waitIdle(ctx, specEnd) {
		return nil, callerGone(ctx)
	}
	run, err := r.cfg.Syncer.catchUp(ctx, since, r.cfg.RefreshTimeout, r.cfg.CatchUpWithin)
	if err != nil {
		return nil, err
	}
	list, last, err := r.stored(ctx, phone, callerOrStore)
	if err != nil {
		return nil, err
	}
	if run.cursor.After(last) {
		last = run.cursor // the store holds every call of phone uploaded by then
	}
	r.mirrors.add(r, phone)
	return &refreshed{calls: list, lastSynced: last, report: Report{Requests: run.requests}}, nil
}

// mirrorQueue holds the numbers catch-ups served, to be fetched and
// replaced on their own in the background, one at a time, each at most
// once per MirrorEvery.
type mirrorQueue struct {
	mu      sync.Mutex
	last    map[string]time.Time // when each number was last queued
	pending []string
	runner  gate               // the runner, while it runs (0 or 1)
	stop    context.Context    // the runner's; drop cancels it
	cancel  context.CancelFunc // of stop
}

// add queues phone unless it was queued less than MirrorEvery ago, and
// starts the runner when none runs.
func (q *mirrorQueue) add(r *Refresher, phone string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := r.cfg.Now()
	if t, ok := q.last[phone]; ok && now.Sub(t) < r.cfg.MirrorEvery {
		return
	}
	if q.last == nil {
		q.last = map[string]time.Time{}
	}
	q.last[phone] = now
	q.pending = append(q.pending, phone)
	if q.runner.n == 0 {
		q.runner.enter()
		q.stop, q.cancel = context.WithCancel(context.Background())
		r.inflight.Add(1)
		go r.runMirrors()
	}
}

// next takes the next number and the runner's context, or reports that
// none is left (and stops the runner).
func (q *mirrorQueue) next() (string, context.Context, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		q.cancel()
		q.runner.leave()
		return "", nil, false
	}
	if q.stop.Err() != nil {
		// Queued after a drop: a new run.
		q.stop, q.cancel = context.WithCancel(context.Background())
	}
	phone := q.pending[0]
	q.pending = q.pending[1:]
	return phone, q.stop, true
}

// Drain waits until every number queued for a background mirror (see
// Config.MirrorEvery) has been mirrored, or ctx ends. Wait, meant for
// shutdown, drops the numbers not mirrored yet instead.
func (r *Refresher) Drain(ctx context.Context) error {
	r.mirrors.mu.Lock()
	idle := r.mirrors.runner.idle()
	r.mirrors.mu.Unlock()
	if !waitIdle(ctx, idle) {
		return ctx.Err()
	}
	return nil
}

// drop forgets the numbers not mirrored yet (Wait does not wait for them).
func (q *mirrorQueue) drop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, p := range q.pending {
		delete(q.last, p)
	}
	q.pending = nil
	if q.runner.n > 0 {
		q.cancel() // a runner waiting for a quiet moment gives up
	}
}

// waitQuiet returns once no refresh of r has begun for RefreshTimeout, none
// is under way and no pass of its Syncer runs in this process, or ctx ends:
// on a busy floor mirrors wait for a lull (the store only misses, meanwhile,
// what Callyzer deleted or edited without a new upload).
func (r *Refresher) waitQuiet(ctx context.Context) {
	for ctx.Err() == nil {
		r.mu.Lock()
		quiet, began := r.active.idle(), r.began
		r.mu.Unlock()
		if quiet != nil {
			waitIdle(ctx, quiet)
			continue
		}
		if d := r.cfg.RefreshTimeout - time.Since(began); d > 0 {
			_ = sleepCtx(ctx, d)
			continue
		}
		if r.cfg.Syncer == nil {
			return
		}
		if idle := r.cfg.Syncer.busy.idle(); idle != nil {
			waitIdle(ctx, idle)
			continue
		}
		return
	}
}

// runMirrors mirrors the queued numbers one at a time, at Background
// priority, each in a lull (waitQuiet): users' refreshes go first, and the
// sync keeps the Background share of the budget (package pacing ages
// Background requests, so they get slots even while refreshes keep
// coming; a mirror would take that share from the sync). A number waits
// at most mirrorTimeout for a lull, then goes anyway.
func (r *Refresher) runMirrors() {
	defer r.inflight.Done()
	for {
		phone, stop, ok := r.mirrors.next()
		if !ok {
			return
		}
		wctx, cancel := context.WithTimeout(stop, mirrorTimeout)
		r.waitQuiet(wctx)
		cancel()
		if stop.Err() != nil {
			continue // dropped by Wait: next reports none left
		}
		ctx := context.Background()
		if _, _, _, err := r.viaSpec(ctx, phone, pacing.Background); err != nil {
			r.mirrors.mu.Lock()
			delete(r.mirrors.last, phone) // the next catch-up of phone queues it again
			r.mirrors.mu.Unlock()
			r.cfg.Logger.WarnContext(ctx, "callhistory: background mirror failed",
				slog.String("phone", maskPhone(phone)), slog.String("error", maskText(err.Error())))
		}
	}
}

// History returns the stored call history of lead leadID for actor, without
// calling Callyzer; the same permission and lead checks as Refresh apply.
func (r *Refresher) History(ctx context.Context, actor *Actor, leadID string) (*Result, error) {
	lead, phone, err := r.admit(ctx, actor, leadID)
	if err == nil {
		var res *Result
		res, err = r.read(ctx, lead, phone)
		if err == nil {
			return res, nil
		}
	}
	r.logOutcome(ctx, "history", actor, leadID, phone, nil, err)
	return nil, err
}

// admit runs the spec's steps 1 and 2: load the lead, authorise the actor,
// check the lead exists and has a valid number (returned in E.164).
func (r *Refresher) admit(ctx context.Context, actor *Actor, leadID string) (Lead, string, error) {
	if !validLeadID(leadID) {
		// No lead has such an id: refused before any lookup or log.
		return Lead{}, "", fmt.Errorf("%w: the id is over %d bytes or holds control characters", ErrLeadNotFound, maxLeadIDLen)
	}
	var found *Lead
	lead, err := r.cfg.Leads.Lead(ctx, leadID)
	switch {
	case err == nil:
		found = &lead
	case errors.Is(err, ErrLeadNotFound):
		// found stays nil: the Authorizer decides whether the actor may
		// learn that the lead does not exist.
	case ctx.Err() != nil:
		return Lead{}, "", callerGone(ctx)
	default:
		// Without the lead there is no assignment to check: deny.
		return Lead{}, "", fmt.Errorf("%w: loading the lead: %w", ErrForbidden, err)
	}
	if err := r.cfg.Authorizer.Authorize(ctx, actor, found); err != nil {
		if !errors.Is(err, ErrForbidden) {
			err = fmt.Errorf("%w: %w", ErrForbidden, err)
		}
		return Lead{}, "", err
	}
	if found == nil {
		return Lead{}, "", ErrLeadNotFound
	}
	phone, err := normalizePhone(lead.Phone, r.cfg.DefaultRegion)
	if err != nil {
		return Lead{}, "", err
	}
	return lead, phone, nil
}

// refreshed is the outcome of one shared refresh, handed to every caller
// that joined it. Callers copy what they return.
type refreshed struct {
	calls      []Call
	lastSynced time.Time
	report     Report
}

// refreshNumber is the shared part of a refresh: fetch every page, map,
// replace the window, read the result back. A panic in it becomes an error
// wrapping ErrInternal (singleflight's DoChan would otherwise crash the
// process); it cannot leave a half-written window, because the only write is
// the store's atomic ReplaceWindow.
func (r *Refresher) refreshNumber(ctx context.Context, phone string, prio pacing.Priority) (out *refreshed, err error) {
	defer func() {
		if p := recover(); p != nil {
			// The panic value may describe data; it goes to the log at
			// error level, numbers masked, not into the error text a user
			// may see.
			r.cfg.Logger.ErrorContext(ctx, "callhistory: panic in refresh",
				slog.String("phone", maskPhone(phone)), slog.String("panic", maskText(fmt.Sprint(p))))
			out, err = nil, fmt.Errorf("%w: panic while refreshing", ErrInternal)
		}
	}()

	now := r.cfg.Now()
	w := r.window(now)
	got, err := r.fetch(ctx, phone, w, prio)
	if err != nil {
		return nil, err
	}
	if got.foreign > 0 {
		r.cfg.Logger.WarnContext(ctx, "callhistory: refresh left out calls of other numbers; the account may ignore the client_numbers filter, or match another number form",
			slog.String("phone", maskPhone(phone)), slog.Int("foreign", got.foreign))
	}
	wr, err := replaceWindow(ctx, r.cfg.Store, phone, w, got.calls, now, removal{after: r.cfg.RemoveAfter, guard: *r.cfg.Guard})
	if errors.Is(err, ErrSuspiciousAnswer) {
		r.cfg.Logger.WarnContext(ctx, "callhistory: refresh refused a suspicious answer and wrote nothing; check the client_numbers form the account matches (an empty answer for a lead with calls usually means another form)",
			slog.String("phone", maskPhone(phone)), slog.Int("fetched", len(got.calls)), slog.String("error", maskText(err.Error())))
		return nil, err
	}
	if err != nil {
		return nil, storeError(ctx, "replacing the window", err)
	}
	list, last, err := r.stored(ctx, phone, storeError)
	if err != nil {
		return nil, err
	}
	return &refreshed{
		calls:      list,
		lastSynced: last,
		report: Report{
			Requests:          got.requests,
			Fetched:           len(got.calls),
			Inserted:          wr.Inserted,
			Updated:           wr.Updated,
			Deleted:           wr.Deleted,
			Unchanged:         wr.Unchanged,
			Purged:            wr.Purged,
			Foreign:           got.foreign,
			DroppedRecordings: got.dropped,
		},
	}, nil
}

// window is the refreshed interval [now - HistoryMonths months, now], in
// whole seconds (Callyzer's resolution, so the bounds we delete by are the
// bounds we asked for) and in UTC.
//
// Months are calendar months of now's location, with time.AddDate's
// normalisation: from 31 August, six months back is "31 February", which
// becomes 3 March (2 March in a leap year); the window is then a few days
// shorter than six months, never longer.
func (r *Refresher) window(now time.Time) Window {
	to := now.Truncate(time.Second)
	from := to.AddDate(0, -r.cfg.HistoryMonths, 0)
	return Window{From: from.UTC(), To: to.UTC()}
}

// fetched is what a refresh read of the lead's window.
type fetched struct {
	calls    []Call
	requests int // HTTP requests, retries included
	foreign  int // calls of other numbers (or of no valid number), left out
	dropped  int // recording URLs that were not https
}

// fetch reads every page of the window for phone and maps its calls: every
// call must have an id and lie in w; a call of another number once its
// client number is normalised (Callyzer sends bare national digits for a
// number it has no country code for) is left out and counted; a call
// repeated across pages is kept once.
//
// A chunk whose total_records changes between its pages (a call came while
// they were read: an advisor on the phone with the lead right now) is read
// again from its first page, up to maxShiftRereads times, keeping what the
// chunks before it gave; the calls of the interrupted reading stay too (a
// call it listed that Callyzer dropped meanwhile is at worst removed by the
// next refresh). On failure fetch still returns what it counted, for the
// requests spent.
func (r *Refresher) fetch(ctx context.Context, phone string, w Window, prio pacing.Priority) (*fetched, error) {
	q := callyzer.HistoryQuery{
		CallFrom:      w.From,
		CallTo:        w.To,
		ClientNumbers: []string{phone},
		Priority:      prio,
	}
	out := &fetched{}
	pm := pageMapper{mapper: r.cfg.Mapper, region: r.cfg.DefaultRegion, known: phone}
	keep := func(c callyzer.Call, n string, err error) (bool, error) {
		switch {
		case err != nil || n != phone:
			out.foreign++
			return false, nil
		case !w.contains(c.StartedAt):
			return false, fmt.Errorf("%w: call %q at %s lies outside the window %s..%s (is the account's time zone the client's? callyzer.WithLocation; Calibrate tells)",
				ErrUpstream, c.ID, c.StartedAt.UTC().Format(time.RFC3339), w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
		}
		return true, nil
	}
	var set callSet
	var at callyzer.Cursor // the chunk of the last page read
	for rereads := 0; ; rereads++ {
		var sourceErr error // the client's, kept apart from ours to be classified
		err := func() error {
			for page, err := range r.cfg.Source.HistoryPages(ctx, q) {
				if page != nil {
					out.requests += page.Attempts
				}
				if err != nil {
					out.requests += failedAttempts(err)
					sourceErr = err
					return nil
				}
				if page == nil {
					return fmt.Errorf("%w: the client yielded no page and no error", ErrUpstream)
				}
				if set.index == nil {
					// The first chunk's total is a fair first guess of the size.
					set = newCallSet(min(page.TotalRecords, maxPrealloc))
				}
				at = callyzer.Cursor{ChunkFrom: page.Next.ChunkFrom, ChunkTo: page.Next.ChunkTo, Variant: page.Next.Variant, NextPage: 1}
				dropped, err := pm.add(&set, page, keep)
				out.dropped += dropped
				if err != nil {
					return err
				}
			}
			return nil
		}()
		switch {
		case err != nil:
			return out, err
		case errors.Is(sourceErr, callyzer.ErrShifted) && rereads < maxShiftRereads && !at.ChunkTo.IsZero():
			r.cfg.Logger.InfoContext(ctx, "callhistory: the lead's calls changed while a chunk's pages were read; reading the chunk again",
				slog.String("phone", maskPhone(phone)), slog.Time("chunk_from", at.ChunkFrom), slog.Time("chunk_to", at.ChunkTo))
			q.After = at
		case sourceErr != nil:
			return out, fetchError(sourceErr)
		default:
			out.calls = set.calls
			return out, nil
		}
	}
}

// maxShiftRereads bounds how many times fetch reads a shifted chunk again.
const maxShiftRereads = 2

// maxPrealloc bounds what fetch allocates on the word of total_records.
const maxPrealloc = 10_000

// read is History's step after admit: the stored list and last-sync date.
func (r *Refresher) read(ctx context.Context, lead Lead, phone string) (*Result, error) {
	list, last, err := r.stored(ctx, phone, callerOrStore)
	if err != nil {
		return nil, err
	}
	return &Result{Lead: lead, Phone: phone, Calls: list, LastSyncedAt: last, Summary: r.summary(list)}, nil
}

// stored reads phone's listed calls and last-sync date; storeErr maps a
// store failure (storeError inside a shared refresh, callerOrStore on the
// caller's own context).
func (r *Refresher) stored(ctx context.Context, phone string, storeErr func(context.Context, string, error) error) ([]Call, time.Time, error) {
	list, err := r.cfg.Store.Calls(ctx, phone, r.cfg.ListLimit)
	if err != nil {
		return nil, time.Time{}, storeErr(ctx, "reading the calls", err)
	}
	last, err := r.cfg.Store.LastSynced(ctx, phone)
	if err != nil {
		return nil, time.Time{}, storeErr(ctx, "reading the last-sync date", err)
	}
	return list, last, nil
}

// fetchError maps an error of the Callyzer client to our outcome, keeping it
// in the chain.
func fetchError(err error) error {
	switch {
	case errors.Is(err, callyzer.ErrUnauthorized):
		return fmt.Errorf("%w: %w", ErrCallyzerAuth, err)
	case errors.Is(err, callyzer.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	case errors.Is(err, callyzer.ErrRateLimited):
		return fmt.Errorf("%w: %w", ErrRateLimited, err)
	default:
		return fmt.Errorf("%w: %w", ErrUpstream, err)
	}
}

// storeError maps a store failure inside the shared refresh: ErrTimeout when
// the refresh deadline has passed, ErrStore otherwise.
func storeError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %s: %w", ErrTimeout, what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrStore, what, err)
}

// callerOrStore maps a store failure on the caller's own context.
func callerOrStore(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return callerGone(ctx)
	}
	return fmt.Errorf("%w: %s: %w", ErrStore, what, err)
}

// callerGone is the outcome for a caller whose own context ended: ErrTimeout
// (the work did not finish in the time the caller gave it), with ctx's cause
// in the chain so a handler can tell a client that went away
// (context.Canceled) from a deadline.
func callerGone(ctx context.Context) error {
	cause := context.Cause(ctx)
	if err := ctx.Err(); err != nil && !errors.Is(cause, err) {
		return fmt.Errorf("%w: %w (%w)", ErrTimeout, err, cause)
	}
	return fmt.Errorf("%w: %w", ErrTimeout, cause)
}

// logOutcome writes the one line of a refresh or history request.
func (r *Refresher) logOutcome(ctx context.Context, op string, actor *Actor, leadID, phone string, rep *Report, err error) {
	attrs := []slog.Attr{
		slog.String("op", op),
		slog.String("lead", capText(leadID)),
	}
	if actor != nil {
		attrs = append(attrs, slog.String("actor", actor.ID))
	}
	if phone != "" {
		attrs = append(attrs, slog.String("phone", maskPhone(phone)))
	}
	if rep != nil {
		attrs = append(attrs, counts("requests", rep.Requests, "fetched", rep.Fetched, "inserted", rep.Inserted,
			"updated", rep.Updated, "deleted", rep.Deleted, "unchanged", rep.Unchanged)...)
		attrs = append(attrs, slog.Bool("shared", rep.Shared), slog.String("path", rep.Path), slog.Duration("duration", rep.Duration))
	}
	level := slog.LevelInfo
	msg := "callhistory: " + op + " done"
	if err != nil {
		// A store's or a host's error may quote a number.
		attrs = append(attrs, slog.String("error", maskText(err.Error())))
		msg = "callhistory: " + op + " failed"
		switch {
		case errors.Is(err, ErrForbidden), errors.Is(err, ErrLeadNotFound), errors.Is(err, ErrInvalidPhone):
			// The user's request, not the system, is at fault.
		default:
			level = slog.LevelWarn
		}
	}
	r.cfg.Logger.LogAttrs(ctx, level, msg, attrs...)
}
