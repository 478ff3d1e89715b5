package pgpacing

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing"
	"github.com/leadcalls/leadcalls/callyzer/pacing/internal/rule"
)

const (
	defaultInterval = 2 * time.Second
	defaultLease    = 2 * time.Minute
	defaultPoll     = 20 * time.Millisecond
	// maxSleep caps one wait between polls, so that an Interactive waiter
	// renews its row well within waiterLease.
	maxSleep = 250 * time.Millisecond
	// waiterLease is how long a waiting Interactive caller's row keeps
	// others back without being renewed: how long a crashed waiter can
	// hold Background work and later sequences up.
	waiterLease = 5 * time.Second
	// opTimeout bounds what a release, a Hold or an End does after the
	// caller's context may be gone.
	opTimeout = 5 * time.Second
)

// Config configures a pacer. Its zero values are the defaults; Name is
// required.
type Config struct {
	// Name identifies the shared budget: a label of the Callyzer account,
	// such as "callyzer/acme", never the API key (it is stored and
	// logged). Required.
	Name string
	// Interval is the least time between two request starts; every
	// replica should use the same. Default: 2s, Callyzer's limit.
	Interval time.Duration
	// Lease is how long a holder may keep the slot: after this, counted
	// from its start, the slot is free again even if the holder never
	// released it (it crashed, or its release could not reach the
	// database). Set it above the HTTP client's per-attempt timeout.
	// Default: 2 minutes.
	Lease time.Duration
	// PollInterval is how often a waiting caller asks the database for the
	// slot while it is held or kept for another, at most 250ms. While the
	// slot is free but its next start lies ahead, a waiter sleeps until
	// then (250ms at most at a time). Default: 20ms.
	PollInterval time.Duration
	// Logger receives what the pacer could not write: a release, a Hold or
	// an End. Default: no logging.
	Logger *slog.Logger
}

// pacer is the pacing.Pacer of New, shared by every process that uses the
// same PostgreSQL database and the same name. It holds no connection
// between calls.
type pacer struct {
	db       *sql.DB
	name     string
	interval time.Duration
	lease    time.Duration
	poll     time.Duration
	logger   *slog.Logger
	rowReady atomic.Bool

	// polled, when set by tests, runs after every poll that did not get
	// the slot.
	polled func(p pacing.Priority)
	// claimed, when set by tests, runs when Acquire got the slot, with the
	// database time of the claim and the time Acquire measured its round
	// trip against.
	claimed func(dbStart, granted time.Time)
}

var _ pacing.Pacer = (*pacer)(nil)

// New returns a pacing.Pacer on db shared by every process that uses the
// same database and cfg.Name (see the package documentation). It is safe
// for concurrent use. The tables must exist: see Migrate. New does no I/O.
func New(db *sql.DB, cfg Config) (pacing.Pacer, error) {
	if db == nil {
		return nil, errors.New("pgpacing: New: nil db")
	}
	if cfg.Name == "" {
		return nil, errors.New("pgpacing: New: empty Name")
	}
	if cfg.Interval < 0 || cfg.Lease < 0 {
		return nil, errors.New("pgpacing: New: Interval and Lease must be >= 0")
	}
	if cfg.PollInterval < 0 || cfg.PollInterval > maxSleep {
		return nil, fmt.Errorf("pgpacing: New: PollInterval must be >= 0 and <= %v", maxSleep)
	}
	p := &pacer{
		db:       db,
		name:     cfg.Name,
		interval: cmp.Or(cfg.Interval, defaultInterval),
		lease:    cmp.Or(cfg.Lease, defaultLease),
		poll:     cmp.Or(cfg.PollInterval, defaultPoll),
		logger:   cfg.Logger,
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// Begin opens a sequence of requests of priority prio. It does no I/O.
func (p *pacer) Begin(prio pacing.Priority) pacing.Sequence {
	return &sequence{p: p, prio: prio, key: rand.Text()}
}

// Hold keeps every caller, on every replica, back until until. It has no
// error to return: if it cannot reach the database, it logs (Config.Logger)
// and the pacing goes on as before.
func (p *pacer) Hold(until time.Time) {
	if !until.After(time.Now()) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	err := p.ensureRow(ctx)
	if err == nil {
		err = p.inTx(ctx, func(tx *sql.Tx) error {
			st, err := p.load(ctx, tx)
			if err != nil {
				return err
			}
			st.slot.Hold(st.dbTime(until))
			return p.store(ctx, tx, st)
		})
	}
	if err != nil {
		p.logger.Warn("pgpacing: pacer could not hold its callers back after a 429",
			"pacer", p.name, "until", until, "err", err)
	}
}

// sequence is pacer's pacing.Sequence. An open Interactive sequence waits,
// and keeps the slot between its requests, under one waiter row keyed by
// key and ranked by the database time its first request first asked.
type sequence struct {
	p    *pacer
	prio pacing.Priority
	key  string

	// mu orders a release's reservation before End's removal of it.
	mu    sync.Mutex
	ended bool
	begun time.Time // database time; zero until its first claim attempt
}

func (s *sequence) Acquire(ctx context.Context) (release func(sent time.Time), err error) {
	p := s.p
	if s.prio != pacing.Background && s.prio != pacing.Interactive {
		return nil, fmt.Errorf("pgpacing: pacer %q: unknown priority %d", p.name, s.prio)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := p.ensureRow(ctx); err != nil {
		return nil, p.wrap(ctx, "acquire", err)
	}
	c := &claim{holder: rand.Text(), interactive: s.prio == pacing.Interactive}
	c.waiter = c.holder
	key, begun, seq := s.open()
	if seq {
		c.waiter, c.begun = key, begun
	}
	for {
		out, err := p.attempt(ctx, c)
		if err != nil {
			// The claim may have committed although we saw an error.
			p.abandon(c, true)
			return nil, p.wrap(ctx, "acquire", err)
		}
		if seq {
			s.ranked(c.begun)
		}
		if out.start {
			if p.claimed != nil {
				p.claimed(out.dbStart, out.granted)
			}
			var keep *sequence
			if seq {
				keep = s
			}
			return p.releaseFunc(c, out.lag, keep), nil
		}
		if out.refused {
			p.abandon(c, false)
			return nil, &rule.HeldError{Until: time.Now().Add(out.heldFor)}
		}
		if p.polled != nil {
			p.polled(s.prio)
		}
		wait := p.poll
		if !out.busy && out.untilNext > wait {
			wait = min(out.untilNext, maxSleep)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			p.abandon(c, false)
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// End removes the sequence's waiter row, so that whoever it kept out may
// have the slot at once. If that fails the row lapses by itself within the
// grace.
func (s *sequence) End() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	if s.prio != pacing.Interactive || s.begun.IsZero() {
		return // it never had a row
	}
	p := s.p
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := p.deleteWaiter(ctx, p.db, s.key); err != nil {
		p.logger.Warn("pgpacing: pacer could not end a sequence; its reservation lapses by itself",
			"pacer", p.name, "err", err)
	}
}

// open reports the waiter key and rank s's next request waits under: its
// own while s is an open Interactive sequence; ok is false otherwise (the
// request is then a sequence of its own).
func (s *sequence) open() (key string, begun time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key, s.begun, s.prio == pacing.Interactive && !s.ended
}

// ranked records the rank the database gave s's first claim attempt.
func (s *sequence) ranked(begun time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.begun.IsZero() {
		s.begun = begun
	}
}

// claim is one Acquire's identity in the database.
type claim struct {
	holder      string           // the token it holds the slot under
	waiter      string           // its waiter row's key: holder, or its open sequence's key
	interactive bool             // its priority is Interactive
	begun       time.Time        // its rank among Interactive waiters; zero until the first attempt
	asked       sql.Null[uint64] // the slot's starts at its first attempt (rule.Slot.Aged)
}

func (c *claim) rule(deadline time.Time) rule.Claim {
	return rule.Claim{Interactive: c.interactive, Rank: rule.Rank{Began: c.begun, Key: c.waiter}, Deadline: deadline}
}

// attemptOutcome is what one claim attempt found.
type attemptOutcome struct {
	start     bool
	dbStart   time.Time     // the database time of a successful claim
	granted   time.Time     // when Acquire returns it, on this process's clock
	lag       time.Duration // from before the database read its clock to granted
	refused   bool          // a Hold outlasts the caller's deadline
	heldFor   time.Duration // then: until the Hold ends
	busy      bool          // another caller holds the slot
	untilNext time.Duration // until the next start is allowed; >= 0
}

// attempt is one claim attempt: in one transaction it locks the pacer's
// row, reads the live claims and the database clock, decides by package
// pacing's rules and writes back what the decision says.
func (p *pacer) attempt(ctx context.Context, c *claim) (attemptOutcome, error) {
	var out attemptOutcome
	var asked time.Time
	err := p.inTx(ctx, func(tx *sql.Tx) error {
		st, err := p.load(ctx, tx)
		if err != nil {
			return err
		}
		asked = st.asked
		if c.begun.IsZero() {
			c.begun = st.now // ranked by its first attempt
		}
		if !c.asked.Valid {
			c.asked = sql.Null[uint64]{V: st.slot.Starts, Valid: true}
		}
		if !c.interactive && st.slot.Aged(c.asked.V) {
			// Served as an Interactive claim begun now from here on: its
			// waiter row keeps later sequences behind it on every replica,
			// and the sequences already open finish first.
			c.interactive, c.begun = true, st.now
		}
		var deadline time.Time
		if d, ok := ctx.Deadline(); ok {
			deadline = st.dbTime(d)
		}
		d := rule.Decide(st.slot, c.rule(deadline), st.claims, st.now)
		out = attemptOutcome{
			busy:      st.slot.Busy,
			untilNext: max(0, st.slot.Next.Sub(st.now)),
			heldFor:   max(0, st.slot.Held.Sub(st.now)),
		}
		switch {
		case d.Start:
			out.start, out.dbStart = true, st.now
			st.slot.Start(st.now)
			st.holder, st.started, st.leaseUntil = c.holder, st.now, st.now.Add(p.lease)
			if err := p.store(ctx, tx, st); err != nil {
				return err
			}
			if c.interactive {
				return p.deleteWaiter(ctx, tx, c.waiter)
			}
		case d.Refused:
			out.refused = true
		case c.interactive:
			// Waits: its row keeps Background callers and later
			// sequences behind it, on every replica.
			return p.putWaiter(ctx, tx, c.waiter, st.now.Add(waiterLease), c.begun)
		}
		return nil
	})
	if out.start {
		// The slot was granted between asked and now, so a request sent
		// from now on may be up to lag later than the database's start:
		// release adds it, so that starts as callers see them are the
		// interval apart.
		out.granted = time.Now()
		out.lag = out.granted.Sub(asked)
	}
	return out, err
}

// releaseFunc returns the release of c's slot; s is the open Interactive
// sequence it belongs to, or nil.
func (p *pacer) releaseFunc(c *claim, lag time.Duration, s *sequence) func(time.Time) {
	var once sync.Once
	return func(sent time.Time) {
		once.Do(func() {
			if s != nil {
				// Held across the release, so that End's removal of the
				// reservation comes after it.
				s.mu.Lock()
				defer s.mu.Unlock()
				if s.ended {
					s = nil
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			defer cancel()
			seen := func(st *state) time.Time {
				// The grant as the caller saw it, or the send when later.
				return later(st.started.Add(lag), st.dbTime(sent))
			}
			if err := p.free(ctx, c.holder, seen, s); err != nil {
				p.logger.Warn("pgpacing: pacer release failed; the slot frees itself when its lease ends",
					"pacer", p.name, "lease", p.lease, "err", err)
			}
		})
	}
}

// free frees the slot if holder still holds it, releasing it at last(st)
// (see rule.Slot.Release). An open Interactive sequence s (nil: none) then
// keeps the slot for its grace.
func (p *pacer) free(ctx context.Context, holder string, last func(*state) time.Time, s *sequence) error {
	return p.inTx(ctx, func(tx *sql.Tx) error {
		st, err := p.load(ctx, tx)
		if err != nil || st.holder != holder {
			return err // its lease ran out: the slot is no longer holder's
		}
		st.slot.Release(last(st))
		st.holder, st.leaseUntil = "", time.Time{}
		if err := p.store(ctx, tx, st); err != nil {
			return err
		}
		if s == nil {
			return nil
		}
		r, ok := st.slot.Reservation(rule.Claim{Interactive: true, Rank: rule.Rank{Began: s.begun, Key: s.key}}, st.now)
		if !ok {
			return nil
		}
		return p.putWaiter(ctx, tx, s.key, r.Until, s.begun)
	})
}

// abandon cleans up after an Acquire that gives up: it removes an
// Interactive caller's waiter row and, when the last claim's outcome is
// unknown, frees the slot in case that claim took it (no request was
// sent, so the next start stays as the claim set it). Best effort: leases
// cover a failure.
func (p *pacer) abandon(c *claim, maybeClaimed bool) {
	if !c.interactive && !maybeClaimed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if c.interactive {
		if err := p.deleteWaiter(ctx, p.db, c.waiter); err != nil {
			p.logger.Warn("pgpacing: pacer could not remove a waiter row; it lapses by itself",
				"pacer", p.name, "err", err)
		}
	}
	if maybeClaimed {
		noSend := func(*state) time.Time { return time.Time{} }
		if err := p.free(ctx, c.holder, noSend, nil); err != nil {
			p.logger.Warn("pgpacing: pacer could not free an abandoned slot; it frees itself when its lease ends",
				"pacer", p.name, "lease", p.lease, "err", err)
		}
	}
}

func (p *pacer) wrap(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var state interface{ SQLState() string }
	if errors.As(err, &state) && state.SQLState() == "42P01" { // undefined_table
		return fmt.Errorf("pgpacing: pacer %q: %s: %w (run pgpacing.Migrate first)", p.name, op, err)
	}
	return fmt.Errorf("pgpacing: pacer %q: %s: %w", p.name, op, err)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
