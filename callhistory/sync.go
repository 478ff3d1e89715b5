package callhistory

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"time"
	"unicode/utf8"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/statusmap"
)

// SyncConfig configures a Syncer. Source and Store are required; every other
// field has the default its comment names.
type SyncConfig struct {
	Source CallSource // required: usually a *callyzer.Client
	Store  Store      // required: the same store the Refresher writes to

	// State keeps the sync state between passes. Default: Store, when it
	// implements SyncStateStore (memstore does); otherwise required.
	State SyncStateStore
	// Lock lets one pass of Name run at a time. Default: a lock of this
	// Syncer. Syncers sharing State and Name (replicas) share a lock, e.g.
	// storage/pgcoord.PassLock.
	Lock PassLock
	// Mapper maps Callyzer calls to CRM statuses. Default: statusmap.Default().
	Mapper *statusmap.Mapper
	// Name keys the state and the pass lock, so that one store can hold
	// several syncs (e.g. one per Callyzer account). Default: "default".
	Name string
	// Overlap is how late after its upload stamp a call may become
	// visible at Callyzer and still be read: each pass reads what was
	// uploaded since its cursor (less a minute, for whole seconds and
	// clock drift) and, once, the uploads stamped Overlap before that
	// window (see RunOnce). Default: 2h.
	Overlap time.Duration
	// BackfillMonths is how far back in call time a first run (or
	// Backfill) reads: [start - BackfillMonths calendar months, start].
	// Default: 6.
	BackfillMonths int
	// BatchSize caps the calls of one UpsertCalls; a page with more
	// is written in several batches. Default: 100, Callyzer's largest page,
	// i.e. one write per page.
	BatchSize int
	// DefaultRegion reads the client numbers Callyzer sends without a
	// country code; use the Refresher's Config.DefaultRegion. Default: "PL".
	DefaultRegion string
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// Logger receives one line per pass. Default: slog.Default().
	Logger *slog.Logger
	// Health, when set, runs at the end of every pass that succeeded,
	// with the sync's state and reread, which reads a call-time window
	// into the Store as the backfill does (its pages count in
	// SyncReport.Health): feedhealth.Monitor.Check. Its failure is logged
	// and does not fail the pass. Default: none.
	Health func(ctx context.Context, st SyncState, reread func(context.Context, Window) error) error
}

// Defaults of SyncConfig, as its comments name them.
const (
	defaultSyncName       = "default"
	defaultSyncOverlap    = 2 * time.Hour
	defaultBackfillMonths = 6
	defaultSyncBatchSize  = 100 // Callyzer's largest page
)

// finalSaveTimeout bounds the state save at the end of a pass, which runs
// even when the pass's context has ended.
const finalSaveTimeout = 10 * time.Second

// Syncer is the use case "periodic fetching of employees' call data": it
// pulls every employee's calls from Callyzer into the Store, incrementally
// by upload time, with a call-time backfill on first run. Safe for
// concurrent use; passes of one name never overlap (see SyncConfig.Lock).
type Syncer struct {
	cfg   SyncConfig
	catch catchUps // the catch-ups refreshes share (see Config.Syncer)
	busy  passes   // the passes this Syncer runs now; background mirrors wait for them
}

// NewSyncer checks cfg, fills in the defaults and returns a Syncer.
func NewSyncer(cfg SyncConfig) (*Syncer, error) {
	defaults := SyncConfig{Lock: &localPassLock{}, Name: defaultSyncName, Overlap: defaultSyncOverlap, BackfillMonths: defaultBackfillMonths, BatchSize: defaultSyncBatchSize}
	if err := prepare("SyncConfig", &cfg, defaults,
		required("Source", cfg.Source == nil), required("Store", cfg.Store == nil),
		notNegative("Overlap", cfg.Overlap), notNegative("BackfillMonths", cfg.BackfillMonths), notNegative("BatchSize", cfg.BatchSize),
	); err != nil {
		return nil, err
	}
	if cfg.State == nil {
		st, ok := cfg.Store.(SyncStateStore)
		if !ok {
			return nil, errors.New("callhistory: SyncConfig.State is required: the Store does not keep sync states")
		}
		cfg.State = st
	}
	return &Syncer{cfg: cfg}, nil
}

// State returns the saved sync state, for a UI.
//
// A state saved as running while no pass holds the lock (the process died,
// or could not save the end of its pass) reads as interrupted: idle, with
// LastError saying so.
func (s *Syncer) State(ctx context.Context) (SyncState, error) {
	st, err := s.cfg.State.SyncState(ctx, s.cfg.Name)
	if err != nil {
		return SyncState{}, callerOrStore(ctx, "reading the sync state", err)
	}
	if st.Status != SyncRunning {
		return st, nil
	}
	release, held, err := s.cfg.Lock.TryLock(ctx, s.cfg.Name)
	if err != nil || !held {
		return st, nil // a pass runs, or nobody can tell
	}
	if err := release(); err != nil {
		s.cfg.Logger.WarnContext(ctx, "callhistory: releasing the sync pass lock failed",
			slog.String("sync", s.cfg.Name), slog.String("error", maskText(err.Error())))
	}
	st.LastError = "interrupted: the pass that started at " + st.RunningSince.UTC().Format(time.RFC3339) + " stopped without saving its end"
	st.Status, st.RunningSince = SyncIdle, time.Time{}
	return st, nil
}

// RunOnce runs one pass, for a host's own scheduler: under the pass lock
// (ErrPassInProgress, having done nothing, when another pass holds it) it
// upserts every call uploaded in [cursor - Overlap, now - Overlap] (once
// more: a call Callyzer made visible late) and then in [cursor - 1m, now],
// moving the cursor past each committed chunk of the latter, then goes on with a pending backfill
// from its saved cursor; a name's first pass starts a backfill of
// BackfillMonths. A pass never deletes and stops at the first failure,
// keeping what it committed; the report (non-nil once the lock was taken)
// counts what was done.
func (s *Syncer) RunOnce(ctx context.Context) (*SyncReport, error) {
	return s.pass(ctx, false)
}

// Backfill runs one pass like RunOnce that first starts a new backfill of
// BackfillMonths back from now, replacing any unfinished one. When the pass
// stops early, later passes (RunOnce, Run) resume the backfill.
func (s *Syncer) Backfill(ctx context.Context) (*SyncReport, error) {
	return s.pass(ctx, true)
}

// Run runs a pass at once and then one every interval (from the end of a
// pass to the start of the next), each wait jittered by ±10% so that
// replicas drift apart. A pass's failure is logged and recorded in the
// state; Run goes on. Run returns nil when ctx is done (the way to stop
// it), after the pass under way, if any, has stopped; it returns an error
// at once only when interval is not positive.
func (s *Syncer) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("callhistory: Syncer.Run: interval %v is not positive", interval)
	}
	for {
		if _, err := s.RunOnce(ctx); errors.Is(err, ErrPassInProgress) {
			s.cfg.Logger.DebugContext(ctx, "callhistory: sync pass skipped: another pass is running",
				slog.String("sync", s.cfg.Name))
		}
		if ctx.Err() != nil {
			return nil
		}
		t := time.NewTimer(jitter(interval))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// jitter returns d ± 10%, uniformly.
func jitter(d time.Duration) time.Duration {
	spread := d / 5
	if spread <= 0 {
		return d
	}
	return d - d/10 + rand.N(spread+1)
}

// run is one pass under way.
type run struct {
	s      *Syncer
	name   string
	state  SyncState
	report SyncReport
	now    time.Time // the pass's start, whole seconds: the last-sync date it writes
}

func (s *Syncer) pass(ctx context.Context, newBackfill bool) (*SyncReport, error) {
	release, acquired, err := s.cfg.Lock.TryLock(ctx, s.cfg.Name)
	if err != nil {
		return nil, callerOrStore(ctx, "taking the sync pass lock", err)
	}
	if !acquired {
		return nil, ErrPassInProgress
	}
	s.busy.begin()
	defer s.busy.end()
	defer func() {
		if err := release(); err != nil {
			s.cfg.Logger.WarnContext(ctx, "callhistory: releasing the sync pass lock failed",
				slog.String("sync", s.cfg.Name), slog.String("error", maskText(err.Error())))
		}
	}()

	start := s.cfg.Now()
	st, err := s.cfg.State.SyncState(ctx, s.cfg.Name)
	if err != nil {
		err = callerOrStore(ctx, "reading the sync state", err)
		s.logPass(ctx, nil, err)
		return nil, err
	}
	r := &run{s: s, name: s.cfg.Name, state: st, now: start.Truncate(time.Second).UTC()}
	r.report.StartedAt = start
	err = r.do(ctx, newBackfill)
	return r.finish(ctx, start, err)
}

// do runs the phases; a panic in them becomes an error wrapping ErrInternal.
func (r *run) do(ctx context.Context, newBackfill bool) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.s.cfg.Logger.ErrorContext(ctx, "callhistory: panic in sync pass",
				slog.String("sync", r.name), slog.String("panic", maskText(fmt.Sprint(p))))
			err = fmt.Errorf("%w: panic in the sync pass", ErrInternal)
		}
	}()
	st := &r.state
	if newBackfill || (st.Cursor.IsZero() && st.Backfill.To.IsZero()) {
		st.Backfill = BackfillProgress{
			From: r.now.AddDate(0, -r.s.cfg.BackfillMonths, 0),
			To:   r.now,
		}
		if st.Cursor.IsZero() {
			// Calls uploaded from now on are the incremental reads' job.
			st.Cursor = r.now
		}
	}
	st.Status = SyncRunning
	st.RunningSince = r.report.StartedAt
	if err := r.save(ctx); err != nil {
		return err
	}
	if err := r.incremental(ctx); err != nil {
		return err
	}
	if bf := st.Backfill; !bf.To.IsZero() && !bf.Done { // a backfill is pending
		if err := r.backfill(ctx); err != nil {
			return err
		}
	}
	if health := r.s.cfg.Health; health != nil {
		if err := health(ctx, r.state, r.reread); err != nil {
			r.s.cfg.Logger.WarnContext(ctx, "callhistory: the sync's health check failed",
				slog.String("sync", r.name), slog.String("error", maskText(err.Error())))
		}
	}
	return nil
}

// reread reads the call-time window w and commits every page, counting
// in the report's Health phase: the repair of a month whose stored calls
// differ from Callyzer's totals.
func (r *run) reread(ctx context.Context, w Window) error {
	q := callyzer.HistoryQuery{CallFrom: w.From, CallTo: w.To, Priority: pacing.Background}
	return r.commitPages(ctx, q, &r.report.Health, nil, nil)
}

// commitPages commits every page of q, counting in counts. When set,
// chunkDone runs with a chunk's end once every page of it is committed,
// before the next chunk's first page is (not for the last chunk); after
// runs once each page is committed. A failure of the client is
// fetchError's (errors.Is still finds the client's kind).
func (r *run) commitPages(ctx context.Context, q callyzer.HistoryQuery, counts *SyncCounts,
	chunkDone func(chunkTo time.Time) error, after func(*callyzer.HistoryPage) error) error {
	var chunkTo time.Time // the chunk of the pages committed so far
	for page, err := range r.s.cfg.Source.HistoryPages(ctx, q) {
		if err != nil {
			counts.Requests += failedAttempts(err)
			return fetchError(err)
		}
		if page == nil {
			return fmt.Errorf("%w: the client yielded no page and no error", ErrUpstream)
		}
		counts.Requests += page.Attempts
		if chunkDone != nil && !chunkTo.IsZero() && !page.ChunkTo.Equal(chunkTo) {
			if err := chunkDone(chunkTo); err != nil {
				return err
			}
		}
		chunkTo = page.ChunkTo
		if err := r.commit(ctx, counts, page); err != nil {
			return err
		}
		if after != nil {
			if err := after(page); err != nil {
				return err
			}
		}
	}
	return nil
}

// incremental reads by upload time. First, once, the slice of uploads
// leaving the Overlap window since the last pass, [cursor - Overlap,
// now - Overlap] (less what the second read covers): an upload Callyzer
// made visible late is read there, Overlap after its stamp. Then what was
// uploaded since the cursor less a minute (catchUpOverlap, for whole
// seconds and clock drift), [cursor - 1m, now], moving the cursor past
// each committed chunk. Every upload is read twice, not once per pass of
// the Overlap window: 2 h of re-reading every 5 minutes was 24 readings,
// about 15 pages a pass at 750 uploads an hour. The slice comes first: a
// pass that fails keeps the cursor, and the next reads both again.
func (r *run) incremental(ctx context.Context) error {
	cursor, now := r.state.Cursor, r.now
	fresh := min(r.s.cfg.Overlap, catchUpOverlap)
	if late := r.s.cfg.Overlap; late > fresh {
		from, to := cursor.Add(-late), now.Add(-late)
		if limit := cursor.Add(-fresh).Add(-time.Second); to.After(limit) {
			to = limit // the second read covers the rest
		}
		if to.After(from) {
			if err := r.read(ctx, from, to, false); err != nil {
				return err
			}
		}
	}
	from := cursor.Add(-fresh)
	if from.After(now) {
		// The cursor is ahead of our clock: nothing can be new.
		return nil
	}
	return r.read(ctx, from, now, true)
}

// read reads [from, to] by upload time and commits every page; with
// advance, it moves the cursor past each committed chunk, and to to at the
// end.
func (r *run) read(ctx context.Context, from, to time.Time, advance bool) error {
	q := callyzer.HistoryQuery{SyncedFrom: from, SyncedTo: to, Priority: pacing.Background}
	if !advance {
		return r.commitPages(ctx, q, &r.report.Incremental, nil, nil)
	}
	moveCursor := func(t time.Time) error { return r.advance(ctx, t) }
	if err := r.commitPages(ctx, q, &r.report.Incremental, moveCursor, nil); err != nil {
		return err
	}
	return r.advance(ctx, to)
}

// advance moves the cursor forward to t (never back) and saves the state.
func (r *run) advance(ctx context.Context, t time.Time) error {
	if !t.After(r.state.Cursor) {
		return nil
	}
	r.state.Cursor = t.UTC()
	return r.save(ctx)
}

// backfill reads the pending backfill by call time, newest chunk first,
// from its saved cursor, saving the cursor after every committed page.
func (r *run) backfill(ctx context.Context) error {
	bf := &r.state.Backfill
	q := callyzer.HistoryQuery{CallFrom: bf.From, CallTo: bf.To, NewestFirst: true, After: bf.Cursor,
		Priority: pacing.Background}
	err := r.commitPages(ctx, q, &r.report.Backfill, nil, func(page *callyzer.HistoryPage) error {
		bf.Cursor = page.Next
		return r.save(ctx)
	})
	if errors.Is(err, callyzer.ErrShifted) {
		// The chunk's pages shifted: the next pass reads it again from
		// its first page.
		bf.NextPage, bf.Seen, bf.Total = 1, 0, 0
	}
	if err != nil {
		return err
	}
	if !bf.Done {
		bf.Cursor = callyzer.Cursor{Done: true}
		return r.save(ctx)
	}
	return nil
}

// futureAllowance is how far past the pass's start a call may have
// started and still be stored: phones' clocks drift a little, not years.
const futureAllowance = time.Hour

// commit maps a page's calls and upserts them in batches of BatchSize.
// Calls without a client number, or with one that does not normalise,
// cannot be stored under any lead, and calls dated after the pass's start
// plus futureAllowance cannot have happened: they are skipped and counted
// (the latter two logged, masked).
func (r *run) commit(ctx context.Context, counts *SyncCounts, page *callyzer.HistoryPage) error {
	counts.Pages++
	counts.Seen += len(page.Calls)
	set := newCallSet(len(page.Calls))
	pm := pageMapper{mapper: r.s.cfg.Mapper, region: r.s.cfg.DefaultRegion}
	dropped, err := pm.add(&set, page, func(c callyzer.Call, _ string, err error) (bool, error) {
		skip := ""
		switch {
		case c.ClientNumber == "":
			counts.Skipped++
			return false, nil
		case err != nil:
			skip = "callhistory: sync skipped a call whose client number is not a valid phone number"
		case c.StartedAt.After(r.now.Add(futureAllowance)):
			skip = "callhistory: sync skipped a call dated in the future"
		default:
			return true, nil
		}
		counts.Skipped++
		r.s.cfg.Logger.WarnContext(ctx, skip, slog.String("sync", r.name), slog.String("call", capText(c.ID)),
			slog.String("number", maskPhone(c.ClientNumber)), slog.Time("started_at", c.StartedAt))
		return false, nil
	})
	counts.DroppedRecordings += dropped
	if err != nil {
		return err
	}
	for batch := range slicesChunk(set.calls, r.s.cfg.BatchSize) {
		wr, err := UpsertCalls(ctx, r.s.cfg.Store, batch, r.now)
		if err != nil {
			return callerOrStore(ctx, "upserting synced calls", err)
		}
		counts.Inserted += wr.Inserted
		counts.Updated += wr.Updated
		counts.Unchanged += wr.Unchanged
	}
	return nil
}

// slicesChunk is slices.Chunk, which panics on n < 1; n is checked by
// NewSyncer.
func slicesChunk(s []Call, n int) iter.Seq[[]Call] {
	return func(yield func([]Call) bool) {
		for i := 0; i < len(s); i += n {
			if !yield(s[i:min(i+n, len(s))]) {
				return
			}
		}
	}
}

func (r *run) save(ctx context.Context) error {
	if err := r.s.cfg.State.SaveSyncState(ctx, r.name, r.state); err != nil {
		return callerOrStore(ctx, "saving the sync state", err)
	}
	return nil
}

// finish records how the pass ended, saves the state (even when ctx has
// ended), logs the pass and returns its report.
func (r *run) finish(ctx context.Context, start time.Time, err error) (*SyncReport, error) {
	if err != nil && ctx.Err() != nil {
		// Whatever failed, it failed because the caller's context ended.
		err = callerGone(ctx)
	}
	rep := &r.report
	rep.SyncCounts = SyncCounts{}
	rep.SyncCounts.add(rep.Incremental)
	rep.SyncCounts.add(rep.Backfill)
	rep.SyncCounts.add(rep.Health)
	rep.Duration = r.s.cfg.Now().Sub(start)

	st := &r.state
	st.RunningSince = time.Time{}
	switch {
	case err == nil:
		st.Status = SyncIdle
		st.LastSuccess = start
		st.LastError = ""
		st.ConsecutiveFailures = 0
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// Stopped by its caller (shutdown): not a failure of the sync.
		st.Status = SyncIdle
		st.LastError = truncateError("interrupted: " + maskText(err.Error()))
	default:
		st.Status = failureStatus(err)
		st.LastError = truncateError(maskText(err.Error()))
		st.ConsecutiveFailures++
	}
	rep.Status = st.Status
	st.LastReport = *rep

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalSaveTimeout)
	defer cancel()
	if serr := r.s.cfg.State.SaveSyncState(sctx, r.name, *st); serr != nil {
		serr = fmt.Errorf("%w: saving the sync state: %w", ErrStore, serr)
		if err == nil {
			err = serr
		} else {
			r.s.cfg.Logger.WarnContext(ctx, "callhistory: saving the sync state failed",
				slog.String("sync", r.name), slog.String("error", maskText(serr.Error())))
		}
	}
	out := *rep
	r.s.logPass(ctx, &out, err)
	return &out, err
}

// failureStatus classifies a failed pass.
func failureStatus(err error) SyncStatus {
	switch {
	case errors.Is(err, ErrCallyzerAuth):
		return SyncFailedUnauthorized
	case errors.Is(err, ErrRateLimited):
		return SyncFailedRateLimited
	default:
		return SyncFailedOther
	}
}

// failedAttempts returns the HTTP requests a failed Callyzer call made.
func failedAttempts(err error) int {
	var cerr *callyzer.Error
	if errors.As(err, &cerr) {
		return cerr.Attempts
	}
	return 0
}

// truncateError cuts s to maxSyncErrorLen bytes on a rune boundary.
func truncateError(s string) string {
	if len(s) <= maxSyncErrorLen {
		return s
	}
	cut := maxSyncErrorLen - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// logPass writes the one line of a pass.
func (s *Syncer) logPass(ctx context.Context, rep *SyncReport, err error) {
	attrs := []slog.Attr{slog.String("sync", s.cfg.Name)}
	if rep != nil {
		attrs = append(attrs, slog.String("status", string(rep.Status)))
		attrs = append(attrs, counts("pages", rep.Pages, "requests", rep.Requests, "seen", rep.Seen, "skipped", rep.Skipped,
			"inserted", rep.Inserted, "updated", rep.Updated, "unchanged", rep.Unchanged, "backfill_pages", rep.Backfill.Pages)...)
		attrs = append(attrs, slog.Duration("duration", rep.Duration))
	}
	level, msg := slog.LevelInfo, "callhistory: sync pass done"
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		// The host stopped the pass (shutdown): not a failure, and the
		// state says so (idle, "interrupted").
		msg = "callhistory: sync pass interrupted"
		attrs = append(attrs, slog.String("error", maskText(err.Error())))
	case err != nil:
		level, msg = slog.LevelWarn, "callhistory: sync pass failed"
		attrs = append(attrs, slog.String("error", maskText(err.Error())))
	}
	s.cfg.Logger.LogAttrs(ctx, level, msg, attrs...)
}
