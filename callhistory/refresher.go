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
	Shared            bool          // this caller joined a fetch already under way
	Duration          time.Duration // this caller's wait, from Refresh to its return
}

// Refresher is the use case "refresh a lead's call history". It is safe for
// concurrent use; concurrent refreshes of one number share one fetch.
type Refresher struct {
	cfg      Config
	flights  singleflight.Group
	inflight sync.WaitGroup // callers whose shared refresh has not finished

	afterJoin func() // test hook: runs once a caller waits on a shared refresh
}

// Wait blocks until every refresh started so far has finished, including
// those whose callers stopped waiting (their shared work runs on to its own
// deadline). A host calls it at shutdown, after its HTTP server has stopped
// taking requests; tests call it before checking for leaked goroutines.
func (r *Refresher) Wait() {
	r.inflight.Wait()
}

// NewRefresher checks cfg, fills in the defaults and returns a Refresher.
func NewRefresher(cfg Config) (*Refresher, error) {
	defaults := Config{Authorizer: RoleAuthorizer{}, RefreshTimeout: defaultRefreshTimeout, HistoryMonths: defaultHistoryMonths, ListLimit: defaultListLimit,
		RemoveAfter: defaultRemoveAfter, Guard: &RemovalGuard{Share: 0.5, Min: 5}}
	if err := prepare("Config", &cfg, defaults,
		required("Source", cfg.Source == nil), required("Store", cfg.Store == nil), required("Leads", cfg.Leads == nil),
		notNegative("RefreshTimeout", cfg.RefreshTimeout), notNegative("HistoryMonths", cfg.HistoryMonths), notNegative("ListLimit", cfg.ListLimit),
		notNegative("RemoveAfter", cfg.RemoveAfter),
	); err != nil {
		return nil, err
	}
	return &Refresher{cfg: cfg}, nil
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
	leader := false // set by the one caller whose fn runs
	base := context.WithoutCancel(ctx)
	r.inflight.Add(1)
	ch := r.flights.DoChan(phone, func() (any, error) {
		leader = true
		wctx, cancel := context.WithTimeout(base, r.cfg.RefreshTimeout)
		defer cancel()
		return r.refreshNumber(wctx, phone)
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
		err := callerGone(ctx)
		r.logOutcome(ctx, "refresh", actor, leadID, phone, nil, err)
		return nil, err
	case res = <-ch:
		r.inflight.Done()
	}
	if res.Err != nil {
		r.logOutcome(ctx, "refresh", actor, leadID, phone, nil, res.Err)
		return nil, res.Err
	}
	out := res.Val.(*refreshed)
	calls := out.calls
	if res.Shared {
		// Each caller gets its own slice to change as it likes.
		calls = append([]Call(nil), calls...)
	}
	report := out.report // a copy per caller
	report.Shared = !leader
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
func (r *Refresher) refreshNumber(ctx context.Context, phone string) (out *refreshed, err error) {
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
	got, err := r.fetch(ctx, phone, w)
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
	list, err := r.cfg.Store.Calls(ctx, phone, r.cfg.ListLimit)
	if err != nil {
		return nil, storeError(ctx, "reading the calls back", err)
	}
	last, err := r.cfg.Store.LastSynced(ctx, phone)
	if err != nil {
		return nil, storeError(ctx, "reading the last-sync date", err)
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
func (r *Refresher) fetch(ctx context.Context, phone string, w Window) (*fetched, error) {
	q := callyzer.HistoryQuery{
		CallFrom:      w.From,
		CallTo:        w.To,
		ClientNumbers: []string{phone},
		Priority:      pacing.Interactive,
	}
	out := &fetched{}
	pm := pageMapper{mapper: r.cfg.Mapper, region: r.cfg.DefaultRegion, known: phone}
	keep := func(c callyzer.Call, n string, err error) (bool, error) {
		switch {
		case err != nil || n != phone:
			out.foreign++
			return false, nil
		case !w.contains(c.StartedAt):
			return false, fmt.Errorf("%w: call %q at %s lies outside the window %s..%s",
				ErrUpstream, c.ID, c.StartedAt.UTC().Format(time.RFC3339), w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
		}
		return true, nil
	}
	var set callSet
	for page, err := range r.cfg.Source.HistoryPages(ctx, q) {
		if page != nil {
			out.requests += page.Attempts
		}
		if err != nil {
			return nil, fetchError(err)
		}
		if page == nil {
			return nil, fmt.Errorf("%w: the client yielded no page and no error", ErrUpstream)
		}
		if set.index == nil {
			// The first chunk's total is a fair first guess of the size.
			set = newCallSet(min(page.TotalRecords, maxPrealloc))
		}
		dropped, err := pm.add(&set, page, keep)
		out.dropped += dropped
		if err != nil {
			return nil, err
		}
	}
	out.calls = set.calls
	return out, nil
}

// maxPrealloc bounds what fetch allocates on the word of total_records.
const maxPrealloc = 10_000

// read is History's step after admit: the stored list and last-sync date.
func (r *Refresher) read(ctx context.Context, lead Lead, phone string) (*Result, error) {
	list, err := r.cfg.Store.Calls(ctx, phone, r.cfg.ListLimit)
	if err != nil {
		return nil, callerOrStore(ctx, "reading the calls", err)
	}
	last, err := r.cfg.Store.LastSynced(ctx, phone)
	if err != nil {
		return nil, callerOrStore(ctx, "reading the last-sync date", err)
	}
	return &Result{Lead: lead, Phone: phone, Calls: list, LastSyncedAt: last, Summary: r.summary(list)}, nil
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
		attrs = append(attrs, slog.Bool("shared", rep.Shared), slog.Duration("duration", rep.Duration))
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
