package callhistory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/leadcalls/leadcalls/callyzer"
	"github.com/leadcalls/leadcalls/callyzer/pacing"
)

// catchUpOverlap is how far before the bound the store was last known
// complete up to a catch-up reads again. Callyzer stamps synced_at in whole
// seconds of its own clock, and the bound is our clock at the start of the
// read that set it: a minute covers a call committed in the same second as
// that read and a clock that drifts from Callyzer's by less than a minute
// (NTP keeps both within milliseconds). The periodic pass re-reads its
// Overlap (2 h) and every number a catch-up serves is mirrored by its own
// six-month read, so a call a catch-up misses is still stored soon.
const catchUpOverlap = time.Minute

// Errors that send a refresh back to the spec's path: the store cannot be
// known complete by one catch-up.
var (
	errNotComplete = errors.New("callhistory: the sync's backfill has not finished")
	errBacklog     = errors.New("callhistory: the store was last known complete too long ago for one catch-up")
)

// catchUpRun is one catch-up: an account-wide read of what was uploaded
// since the store was last known complete, committed like a sync pass.
type catchUpRun struct {
	start    time.Time // when it began (the Syncer's clock): it serves refreshes begun before
	done     chan struct{}
	cursor   time.Time // once done without err: the store is complete up to here
	requests int
	err      error
}

// catchUps runs the catch-ups of a Syncer one at a time; each serves every
// refresh waiting for it, whatever their numbers.
type catchUps struct {
	mu      sync.Mutex
	running *catchUpRun
	last    *catchUpRun // the last that committed
	waiting int         // callers waiting for a catch-up (tests read it)
	wg      sync.WaitGroup
}

// catchUp returns a committed catch-up that began at or after since,
// running one when none is running or the running one began earlier;
// within is how long ago the store may have been last known complete for
// one read to be enough. It returns errNotComplete or errBacklog when a
// catch-up cannot serve, the catch-up's error when it failed, and the
// caller's when ctx ends first (the catch-up goes on, bounded by timeout).
func (s *Syncer) catchUp(ctx context.Context, since time.Time, timeout, within time.Duration) (*catchUpRun, error) {
	for {
		s.catch.mu.Lock()
		if last := s.catch.last; last != nil && !last.start.Before(since) {
			s.catch.mu.Unlock()
			return last, nil
		}
		run := s.catch.running
		if run == nil {
			run = &catchUpRun{start: s.cfg.Now(), done: make(chan struct{})}
			s.catch.running = run
			s.catch.wg.Add(1)
			go s.runCatchUp(run, timeout, within)
		}
		s.catch.waiting++
		s.catch.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-run.done:
		}
		s.catch.mu.Lock()
		s.catch.waiting--
		s.catch.mu.Unlock()
		select {
		case <-run.done:
		default:
			return nil, callerGone(ctx)
		}
		if run.err != nil {
			return nil, run.err
		}
		// A catch-up that began before since is done: the next one serves.
	}
}

// runCatchUp runs run on a context of its own and makes it the last that
// committed when it succeeds.
func (s *Syncer) runCatchUp(run *catchUpRun, timeout, within time.Duration) {
	defer s.catch.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	run.cursor, run.requests, run.err = s.catchUpOnce(ctx, run.start, within)
	s.catch.mu.Lock()
	s.catch.running = nil
	if run.err == nil {
		s.catch.last = run
	}
	s.catch.mu.Unlock()
	close(run.done)
}

// catchUpName names a sync's catch-up: its lock and its state.
func (s *Syncer) catchUpName() string { return s.cfg.Name + "/catch-up" }

// catchUpOnce makes the store complete up to start at least: under the
// catch-up lock, it reads by upload time from the bound the store was last
// known complete up to (the sync's cursor or the last catch-up's, less
// catchUpOverlap) to start, commits every page and saves start as the
// catch-up's cursor. When another replica holds the lock, it waits for
// that replica's cursor to reach start, or for the lock. A panic becomes
// ErrInternal.
func (s *Syncer) catchUpOnce(ctx context.Context, start time.Time, within time.Duration) (cursor time.Time, requests int, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logger.ErrorContext(ctx, "callhistory: panic in catch-up",
				slog.String("sync", s.cfg.Name), slog.String("panic", maskText(fmt.Sprint(p))))
			err = fmt.Errorf("%w: panic in the catch-up", ErrInternal)
		}
	}()
	name := s.catchUpName()
	start = start.Truncate(time.Second).UTC()
	for {
		release, held, err := s.cfg.Lock.TryLock(ctx, name)
		if err != nil {
			return time.Time{}, 0, callerOrStore(ctx, "taking the catch-up lock", err)
		}
		if held {
			defer func() { _ = release() }()
			break
		}
		// Another replica catches up: its cursor may serve.
		st, err := s.cfg.State.SyncState(ctx, name)
		if err != nil {
			return time.Time{}, 0, callerOrStore(ctx, "reading the catch-up state", err)
		}
		if !st.Cursor.Before(start) {
			return st.Cursor, 0, nil
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return time.Time{}, 0, callerGone(ctx)
		}
	}
	main, err := s.cfg.State.SyncState(ctx, s.cfg.Name)
	if err != nil {
		return time.Time{}, 0, callerOrStore(ctx, "reading the sync state", err)
	}
	catch, err := s.cfg.State.SyncState(ctx, name)
	if err != nil {
		return time.Time{}, 0, callerOrStore(ctx, "reading the catch-up state", err)
	}
	if main.Cursor.IsZero() || !main.Backfill.Done {
		return time.Time{}, 0, errNotComplete
	}
	if !catch.Cursor.Before(start) {
		return catch.Cursor, 0, nil // a replica caught up past start meanwhile
	}
	base := main.Cursor
	if catch.Cursor.After(base) {
		base = catch.Cursor
	}
	if start.Sub(base) > within {
		return time.Time{}, 0, errBacklog
	}
	r := &run{s: s, name: name, state: catch, now: start}
	q := callyzer.HistoryQuery{SyncedFrom: base.Add(-catchUpOverlap), SyncedTo: start, Priority: pacing.Interactive}
	counts := &r.report.Incremental
	if err := r.commitPages(ctx, q, counts, nil, nil); err != nil {
		return time.Time{}, counts.Requests, err
	}
	r.state.Cursor, r.state.LastSuccess, r.state.Status = start, start, SyncIdle
	if err := r.save(ctx); err != nil {
		return time.Time{}, counts.Requests, err
	}
	s.cfg.Logger.DebugContext(ctx, "callhistory: catch-up done", slog.String("sync", s.cfg.Name),
		slog.Int("requests", counts.Requests), slog.Int("seen", counts.Seen), slog.Int("inserted", counts.Inserted))
	return start, counts.Requests, nil
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// passes counts the passes of a Syncer under way in this process, so that
// background mirrors leave the Background share of the budget to them.
type passes struct {
	mu sync.Mutex
	g  gate
}

func (p *passes) begin() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.g.enter()
}

func (p *passes) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.g.leave()
}

// idle returns a channel closed when no pass is under way any more, or
// nil when none is.
func (p *passes) idle() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.g.idle()
}
