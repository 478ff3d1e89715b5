package callhistory

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/statusmap"
)

// SyncSource is what the periodic sync needs of Callyzer: every page of a
// query, and one page of a query, so that a backfill can resume at the page
// where it stopped. *callyzer.Client implements it.
type SyncSource interface {
	CallSource
	// HistoryPage fetches page pageNo (1-based) of q, whose window spans at
	// most the client's maximum window.
	HistoryPage(ctx context.Context, q callyzer.HistoryQuery, pageNo int) (*callyzer.HistoryPage, error)
}

var _ SyncSource = (*callyzer.Client)(nil)

// CallVariantSource is the optional interface of a SyncSource that reads
// Callyzer API v2.2, where one page of history belongs to one (call_method,
// call_mode) combination. When Source implements it, the backfill reads
// every chunk once per variant it returns, in order, saving the variant
// with the page. *callyzer.Client implements it. A SyncSource without it
// is paged with a zero HistoryQuery.Variant (right for v2.1, and for v2.2
// with one variant).
type CallVariantSource interface {
	// CallVariants returns the variants to sweep; none under v2.1.
	CallVariants() []callyzer.CallVariant
}

var _ CallVariantSource = (*callyzer.Client)(nil)

// SyncConfig configures a Syncer. Source and Store are required; every other
// field has the default its comment names.
type SyncConfig struct {
	Source SyncSource // required: usually a *callyzer.Client
	Store  Store      // required: the same store the Refresher writes to

	// State keeps the sync state between passes. Default: Store, when it
	// implements SyncStateStore (memstore does); otherwise required.
	State SyncStateStore
	// Lock lets one pass of Name run at a time. Default: a LocalPassLock
	// of this Syncer (one process). Replicas share a database lock.
	Lock PassLock
	// Mapper maps Callyzer calls to CRM statuses. Default: statusmap.Default().
	Mapper *statusmap.Mapper
	// Name keys the state and the pass lock, so that one store can hold
	// several syncs (e.g. one per Callyzer account). Default: "default".
	Name string
	// Overlap is how far before the cursor each pass re-reads, for clock
	// skew between Callyzer and us and uploads committed late within a
	// second. Default: 2h.
	Overlap time.Duration
	// BackfillMonths is how far back in call time a first run (or
	// Backfill) reads: [start - BackfillMonths calendar months, start].
	// Default: 6.
	BackfillMonths int
	// MaxWindow is the widest call-time chunk a backfill asks for; it must
	// not exceed the client's (callyzer.WithMaxWindow). Whole seconds.
	// Default: callyzer.DefaultMaxWindow (180 days).
	MaxWindow time.Duration
	// BatchSize caps the calls of one Store.UpsertCalls; a page with more
	// is written in several batches. Default: callyzer.MaxPageSize (100),
	// i.e. one write per page.
	BatchSize int
	// DefaultRegion reads the client numbers Callyzer sends without a
	// country code (NormalizePhone); use the Refresher's
	// Config.DefaultRegion. Default: "PL".
	DefaultRegion string
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// Logger receives one line per pass. Default: slog.Default().
	Logger *slog.Logger
}

// Defaults of SyncConfig.
const (
	DefaultSyncName       = "default"
	DefaultSyncOverlap    = 2 * time.Hour
	DefaultBackfillMonths = 6
	DefaultSyncBatchSize  = callyzer.MaxPageSize
)

// maxChunkPages stops a backfill chunk that never ends (a server whose
// total_records keeps growing): no real chunk of 180 days comes near it.
const maxChunkPages = 100_000

// finalSaveTimeout bounds the state save at the end of a pass, which runs
// even when the pass's context has ended.
const finalSaveTimeout = 10 * time.Second

// Syncer is the use case "periodic fetching of employees' call data": it
// pulls every employee's calls from Callyzer into the Store, incrementally
// by upload time, with a call-time backfill on first run. Safe for
// concurrent use; passes of one name never overlap (see SyncConfig.Lock).
type Syncer struct {
	cfg      SyncConfig
	variants []callyzer.CallVariant // the backfill's sweep per chunk; one zero variant under v2.1
}

// NewSyncer checks cfg, fills in the defaults and returns a Syncer.
func NewSyncer(cfg SyncConfig) (*Syncer, error) {
	switch {
	case cfg.Source == nil:
		return nil, errors.New("callhistory: SyncConfig.Source is required")
	case cfg.Store == nil:
		return nil, errors.New("callhistory: SyncConfig.Store is required")
	case cfg.Overlap < 0:
		return nil, fmt.Errorf("callhistory: SyncConfig.Overlap %v is negative", cfg.Overlap)
	case cfg.BackfillMonths < 0:
		return nil, fmt.Errorf("callhistory: SyncConfig.BackfillMonths %d is negative", cfg.BackfillMonths)
	case cfg.MaxWindow < 0 || cfg.MaxWindow%time.Second != 0:
		return nil, fmt.Errorf("callhistory: SyncConfig.MaxWindow %v is not a positive number of whole seconds", cfg.MaxWindow)
	case cfg.BatchSize < 0:
		return nil, fmt.Errorf("callhistory: SyncConfig.BatchSize %d is negative", cfg.BatchSize)
	}
	if cfg.State == nil {
		st, ok := cfg.Store.(SyncStateStore)
		if !ok {
			return nil, errors.New("callhistory: SyncConfig.State is required: the Store does not keep sync states")
		}
		cfg.State = st
	}
	if cfg.Lock == nil {
		cfg.Lock = &LocalPassLock{}
	}
	if cfg.Mapper == nil {
		cfg.Mapper = statusmap.Default()
	}
	if cfg.Name == "" {
		cfg.Name = DefaultSyncName
	}
	if cfg.Overlap == 0 {
		cfg.Overlap = DefaultSyncOverlap
	}
	if cfg.BackfillMonths == 0 {
		cfg.BackfillMonths = DefaultBackfillMonths
	}
	if cfg.MaxWindow == 0 {
		cfg.MaxWindow = callyzer.DefaultMaxWindow
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultSyncBatchSize
	}
	region, err := regionOrDefault("SyncConfig", cfg.DefaultRegion)
	if err != nil {
		return nil, err
	}
	cfg.DefaultRegion = region
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Syncer{cfg: cfg}
	if vs, ok := cfg.Source.(CallVariantSource); ok {
		s.variants = vs.CallVariants()
	}
	if len(s.variants) == 0 {
		s.variants = []callyzer.CallVariant{{}}
	}
	return s, nil
}

// State returns the saved sync state, for a UI.
func (s *Syncer) State(ctx context.Context) (SyncState, error) {
	st, err := s.cfg.State.SyncState(ctx, s.cfg.Name)
	if err != nil {
		return SyncState{}, callerOrStore(ctx, "reading the sync state", err)
	}
	return st, nil
}

// RunOnce runs one pass, for a host's own scheduler. It first takes the
// pass lock: when another pass of the same name holds it, RunOnce returns
// (nil, ErrPassInProgress) having done nothing. Otherwise it reads, by
// upload time, the window [cursor - Overlap, now] (the client splits a
// window over its maximum), committing each page with Store.UpsertCalls and
// moving the cursor past each chunk once every page of it is committed.
// Then, when a backfill is pending, it goes on with it from the saved chunk
// and page. The first pass of a name starts a backfill of BackfillMonths
// and sets the cursor to the pass's start, so calls uploaded during or
// after the backfill are picked up by later passes.
//
// A pass never deletes a call and stops at the first failure, keeping what
// it committed. The error wraps one of ErrCallyzerAuth, ErrRateLimited,
// ErrUpstream, ErrTimeout, ErrStore or ErrInternal; the report (non-nil
// once the lock was taken) counts what was done up to then.
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
	defer func() {
		if err := release(); err != nil {
			s.cfg.Logger.WarnContext(ctx, "callhistory: releasing the sync pass lock failed",
				slog.String("sync", s.cfg.Name), slog.String("error", redactError(err.Error())))
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
				slog.String("sync", r.name), slog.String("panic", redactError(fmt.Sprint(p))))
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
	if st.Backfill.Pending() {
		return r.backfill(ctx)
	}
	return nil
}

// incremental reads [cursor - Overlap, now] by upload time.
func (r *run) incremental(ctx context.Context) error {
	from := r.state.Cursor.Add(-r.s.cfg.Overlap)
	to := r.now
	if from.After(to) {
		// The cursor is ahead of our clock: nothing can be new.
		return nil
	}
	q := callyzer.HistoryQuery{SyncedFrom: from, SyncedTo: to, Priority: pacing.Background}
	counts := &r.report.Incremental
	var chunkTo time.Time // the chunk whose pages are being committed
	for page, err := range r.s.cfg.Source.HistoryPages(ctx, q) {
		if err != nil {
			counts.Requests += failedAttempts(err)
			return fetchError(err)
		}
		if page == nil {
			return fmt.Errorf("%w: the client yielded no page and no error", ErrUpstream)
		}
		counts.Requests += page.Attempts
		if !chunkTo.IsZero() && !page.ChunkTo.Equal(chunkTo) {
			// Every page of the previous chunk is committed.
			if err := r.advance(ctx, chunkTo); err != nil {
				return err
			}
		}
		chunkTo = page.ChunkTo
		if err := r.commit(ctx, counts, page); err != nil {
			return err
		}
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

// backfill reads the pending backfill from its saved chunk, variant and
// page, saving the progress after every committed page.
func (r *run) backfill(ctx context.Context) error {
	bf := &r.state.Backfill
	counts := &r.report.Backfill
	variants := r.s.variants
	for !bf.Done {
		if bf.ChunkTo.IsZero() {
			r.startChunk(bf.To)
		}
		if bf.Variant < 0 || bf.Variant >= len(variants) {
			// The source's variants changed since the progress was
			// saved: read the chunk again from its first variant.
			r.startChunk(bf.ChunkTo)
		}
		if bf.NextPage > maxChunkPages {
			return fmt.Errorf("%w: backfill chunk %s..%s has more than %d pages", ErrUpstream,
				bf.ChunkFrom.Format(time.RFC3339), bf.ChunkTo.Format(time.RFC3339), maxChunkPages)
		}
		q := callyzer.HistoryQuery{CallFrom: bf.ChunkFrom, CallTo: bf.ChunkTo, Priority: pacing.Background,
			Variant: variants[bf.Variant]}
		page, err := r.s.cfg.Source.HistoryPage(ctx, q, bf.NextPage)
		if err != nil {
			counts.Requests += failedAttempts(err)
			return fetchError(err)
		}
		if page == nil {
			return fmt.Errorf("%w: the client returned no page and no error", ErrUpstream)
		}
		counts.Requests += page.Attempts
		if err := r.checkChunkPage(page); err != nil {
			return err
		}
		if err := r.commit(ctx, counts, page); err != nil {
			return err
		}
		bf.Seen += len(page.Calls)
		bf.Total = page.TotalRecords
		switch {
		case bf.Seen < bf.Total:
			bf.NextPage++
		case bf.Variant+1 < len(variants):
			bf.Variant, bf.NextPage, bf.Seen, bf.Total = bf.Variant+1, 1, 0, 0
		case bf.ChunkFrom.After(bf.From):
			r.startChunk(bf.ChunkFrom.Add(-time.Second))
		default:
			bf.Done = true
		}
		if err := r.save(ctx); err != nil {
			return err
		}
	}
	return nil
}

// checkChunkPage applies to a backfill page, before anything of it is
// committed, the checks callyzer's HistoryPages applies across the pages of
// a chunk: its total_records must be the chunk's (BackfillProgress.Total,
// from its first page), it may not be empty before the total is reached, nor
// bring more rows than remain. Any of these means rows were added or removed
// while paging, and one may have slipped between two pages: the pass fails
// (ErrUpstream, callyzer.ErrIncompleteResponse) without committing the page.
// After an empty page or too many rows the next pass asks for the same page
// again; after a changed total it reads the chunk (and variant) again from
// page 1, since the pages already read may have shifted.
func (r *run) checkChunkPage(page *callyzer.HistoryPage) error {
	bf := &r.state.Backfill
	n, total := len(page.Calls), page.TotalRecords
	if bf.NextPage > 1 && bf.Total == 0 {
		// Progress saved before totals were kept (Total is set whenever
		// NextPage > 1 now): this page's total is the best there is.
		bf.Total = total
	}
	var problem string
	restart := false
	switch {
	case bf.NextPage > 1 && total != bf.Total:
		problem = fmt.Sprintf("total_records changed from %d to %d", bf.Total, total)
		restart = true
	case n == 0 && bf.Seen < total:
		problem = fmt.Sprintf("empty page after %d of %d rows", bf.Seen, total)
	case bf.Seen+n > total:
		problem = fmt.Sprintf("%d rows after %d seen, more than total_records %d", n, bf.Seen, total)
	default:
		return nil
	}
	variant := ""
	if v := r.s.variants[bf.Variant]; v != (callyzer.CallVariant{}) {
		variant = fmt.Sprintf(" (%s/%s)", v.Method, v.Mode)
	}
	err := fmt.Errorf("%w: %w: backfill chunk %s..%s%s, page %d: %s", ErrUpstream, callyzer.ErrIncompleteResponse,
		bf.ChunkFrom.Format(time.RFC3339), bf.ChunkTo.Format(time.RFC3339), variant, bf.NextPage, problem)
	if restart {
		bf.NextPage, bf.Seen, bf.Total = 1, 0, 0
	}
	return err
}

// startChunk makes the chunk ending at to (inclusive, at most MaxWindow
// long, not before the backfill's From) the one to read, from its first
// variant and page 1.
func (r *run) startChunk(to time.Time) {
	bf := &r.state.Backfill
	from := to.Add(-r.s.cfg.MaxWindow)
	if from.Before(bf.From) {
		from = bf.From
	}
	bf.ChunkFrom, bf.ChunkTo = from, to
	bf.Variant, bf.NextPage, bf.Seen, bf.Total = 0, 1, 0, 0
}

// commit maps a page's calls and upserts them in batches of BatchSize.
// Calls repeated on the page are written once (the last copy wins). The
// client number is normalised to E.164 (NormalizePhone, DefaultRegion for a
// number without a country code), the key a lead's history is read by;
// calls without a client number, or with one that does not normalise,
// cannot be stored under any lead and are skipped (the latter logged,
// masked).
func (r *run) commit(ctx context.Context, counts *SyncCounts, page *callyzer.HistoryPage) error {
	counts.Pages++
	counts.Seen += len(page.Calls)
	calls := make([]Call, 0, len(page.Calls))
	index := make(map[string]int, len(page.Calls))
	for _, c := range page.Calls {
		if c.ID == "" {
			return fmt.Errorf("%w: a call without an id", ErrUpstream)
		}
		if c.ClientNumber == "" {
			counts.Skipped++
			continue
		}
		phone, err := NormalizePhone(c.ClientNumber, r.s.cfg.DefaultRegion)
		if err != nil {
			counts.Skipped++
			r.s.cfg.Logger.WarnContext(ctx, "callhistory: sync skipped a call whose client number is not a valid phone number",
				slog.String("sync", r.name), slog.String("call", c.ID), slog.String("number", maskNumber(c.ClientNumber)))
			continue
		}
		c.ClientNumber = phone
		call := FromCallyzer(r.s.cfg.Mapper, c)
		if i, ok := index[c.ID]; ok {
			calls[i] = call
			continue
		}
		index[c.ID] = len(calls)
		calls = append(calls, call)
	}
	for batch := range slicesChunk(calls, r.s.cfg.BatchSize) {
		wr, err := r.s.cfg.Store.UpsertCalls(ctx, batch, r.now)
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
		st.LastError = truncateError("interrupted: " + redactError(err.Error()))
	default:
		st.Status = failureStatus(err)
		st.LastError = truncateError(redactError(err.Error()))
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
				slog.String("sync", r.name), slog.String("error", redactError(serr.Error())))
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

// digitRun is a run of digits long enough to be a phone number: seven or
// more, optionally after a "+", with single spaces between. Hyphens do not
// join runs, so dates ("2026-05-25") stay readable.
var digitRun = regexp.MustCompile(`\+?\d(?: ?\d){6,}`)

// redactError masks every phone-number-like run of digits in an error
// text: the Callyzer client already masks what it reports, but a store's
// or a plug-in's error may quote a number.
func redactError(s string) string {
	return digitRun.ReplaceAllStringFunc(s, func(m string) string {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, m)
		if masked := MaskPhone("+" + digits); masked != "***" && strings.HasPrefix(m, "+") {
			return masked
		}
		return "***" + digits[len(digits)-3:]
	})
}

// maskNumber masks a client number as Callyzer sent it, for a log line:
// like MaskPhone when it is a number in E.164 form, else only its last
// three digits.
func maskNumber(raw string) string {
	if m := MaskPhone(raw); m != "***" {
		return m
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, raw)
	if len(digits) <= 3 {
		return "***"
	}
	return "***" + digits[len(digits)-3:]
}

// truncateError cuts s to MaxSyncErrorLen bytes on a rune boundary.
func truncateError(s string) string {
	if len(s) <= MaxSyncErrorLen {
		return s
	}
	cut := MaxSyncErrorLen - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// logPass writes the one line of a pass.
func (s *Syncer) logPass(ctx context.Context, rep *SyncReport, err error) {
	attrs := []slog.Attr{slog.String("sync", s.cfg.Name)}
	if rep != nil {
		attrs = append(attrs,
			slog.String("status", string(rep.Status)),
			slog.Int("pages", rep.Pages),
			slog.Int("requests", rep.Requests),
			slog.Int("seen", rep.Seen),
			slog.Int("skipped", rep.Skipped),
			slog.Int("inserted", rep.Inserted),
			slog.Int("updated", rep.Updated),
			slog.Int("unchanged", rep.Unchanged),
			slog.Int("backfill_pages", rep.Backfill.Pages),
			slog.Duration("duration", rep.Duration),
		)
	}
	level, msg := slog.LevelInfo, "callhistory: sync pass done"
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		// The host stopped the pass (shutdown): not a failure, and the
		// state says so (idle, "interrupted").
		msg = "callhistory: sync pass interrupted"
		attrs = append(attrs, slog.String("error", redactError(err.Error())))
	case err != nil:
		level, msg = slog.LevelWarn, "callhistory: sync pass failed"
		attrs = append(attrs, slog.String("error", redactError(err.Error())))
	}
	s.cfg.Logger.LogAttrs(ctx, level, msg, attrs...)
}
