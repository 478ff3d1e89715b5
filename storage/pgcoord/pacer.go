package pgcoord

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadcalls/leadcalls/callyzer"
)

// Defaults of the Pacer's options.
const (
	DefaultLease        = 2 * time.Minute
	DefaultPollInterval = 20 * time.Millisecond
)

const (
	// maxSleep caps one wait between polls, so that an Interactive waiter
	// renews its row well within waiterLease.
	maxSleep = 250 * time.Millisecond
	// waiterLease is how long a waiting Interactive caller's row keeps
	// others back without being renewed, i.e. how long a crashed
	// Interactive waiter can hold Background work and later Interactive
	// waiters up.
	waiterLease = 5 * time.Second
	// maxGrace caps how long a release keeps the slot for the next request
	// of its open Interactive sequence: decoding a page takes milliseconds.
	maxGrace = time.Second
)

// Pacer is a callyzer.Pacer shared by every process that uses the same
// PostgreSQL database and the same name: among all of them at most one
// request is in flight and request starts are at least the interval apart.
// It is a callyzer.SequencePacer, HoldPacer and SentPacer, with the rules
// of callyzer.LocalPacer applied across processes:
//
//   - Interactive waiters go before Background ones, and among themselves
//     in the order their sequences began (a plain Acquire is a sequence of
//     its own).
//   - Between two requests of an open Interactive sequence, the slot is kept
//     for it for a grace of min(interval, 1s) after each release: no
//     Background caller, and no Interactive caller of a sequence begun
//     later, gets it meanwhile, on any replica.
//   - Hold keeps every caller, on every replica, back until the given time.
//   - Sent counts the interval from when the request was written, when
//     that is later than the grant.
//
// The decisions are taken in the database, on its clock (clock_timestamp()),
// so replicas with skewed clocks agree.
//
// A Pacer is safe for concurrent use. It holds no connection between calls.
type Pacer struct {
	db       *sql.DB
	name     string
	interval time.Duration
	grace    time.Duration // min(interval, maxGrace)
	lease    time.Duration
	poll     time.Duration
	logger   *slog.Logger

	rowReady atomic.Bool
	// holding is this process's current holder of the slot (at most one:
	// the slot is exclusive across processes), for Sent.
	holding atomic.Pointer[holding]

	// polled, when set by tests, runs after every poll that did not get
	// the slot.
	polled func(p callyzer.Priority)
	// claimed, when set by tests, runs when Acquire got the slot, with the
	// database time of the claim and the time Acquire measured its round
	// trip against.
	claimed func(dbStart, granted time.Time)
}

var (
	_ callyzer.SequencePacer = (*Pacer)(nil)
	_ callyzer.HoldPacer     = (*Pacer)(nil)
	_ callyzer.SentPacer     = (*Pacer)(nil)
)

// holding is one granted slot of this process.
type holding struct {
	holder string
	sent   atomic.Pointer[time.Time] // set by Sent
}

// Option configures a Pacer. Options check their input; NewPacer returns the
// first option error.
type Option func(*Pacer) error

// WithLease sets how long a holder may keep the slot: after this, counted
// from its start, the slot is free again even if the holder never released
// it (it crashed, or its release could not reach the database). Set it
// above the HTTP client's per-attempt timeout. Default: DefaultLease.
func WithLease(d time.Duration) Option {
	return func(p *Pacer) error {
		if d <= 0 {
			return errors.New("pgcoord: WithLease: want > 0")
		}
		p.lease = d
		return nil
	}
}

// WithPollInterval sets how often a waiting caller asks the database for the
// slot while it is held. While the slot is free but its next start lies
// ahead, a waiter sleeps until then (at most 250ms at a time). Default:
// DefaultPollInterval.
func WithPollInterval(d time.Duration) Option {
	return func(p *Pacer) error {
		if d <= 0 || d > maxSleep {
			return fmt.Errorf("pgcoord: WithPollInterval: want > 0 and <= %v", maxSleep)
		}
		p.poll = d
		return nil
	}
}

// WithLogger sets where the Pacer reports a release that failed (the slot
// then frees itself when its lease runs out). Default: no logging.
func WithLogger(l *slog.Logger) Option {
	return func(p *Pacer) error {
		if l == nil {
			return errors.New("pgcoord: WithLogger: nil logger")
		}
		p.logger = l
		return nil
	}
}

// NewPacer returns a Pacer for name on db. name identifies the shared budget
// (use a label of the Callyzer account, never the API key itself); interval
// is the least time between two request starts (0 keeps one request in
// flight without a gap). Every replica should use the same interval. The
// tables must exist: see Migrate. NewPacer does no I/O.
func NewPacer(db *sql.DB, name string, interval time.Duration, opts ...Option) (*Pacer, error) {
	if db == nil {
		return nil, errors.New("pgcoord: NewPacer: nil db")
	}
	if name == "" {
		return nil, errors.New("pgcoord: NewPacer: empty name")
	}
	if interval < 0 {
		return nil, errors.New("pgcoord: NewPacer: interval must be >= 0")
	}
	p := &Pacer{
		db:       db,
		name:     name,
		interval: interval,
		grace:    min(interval, maxGrace),
		lease:    DefaultLease,
		poll:     DefaultPollInterval,
		logger:   slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		if err := opt(p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Acquire blocks until the caller holds the slot, or ctx is done (then it
// returns ctx.Err()). release must be called once the response has been
// read; further calls do nothing. Release frees the slot for the next
// caller but does not let the next request start sooner than the interval
// after this one's start.
//
// When a Hold keeps the slot back past ctx's deadline, Acquire returns a
// *callyzer.HeldError (it matches callyzer.ErrRateLimited) at once instead
// of waiting for a start it cannot make.
func (p *Pacer) Acquire(ctx context.Context, prio callyzer.Priority) (release func(), err error) {
	return p.acquire(ctx, prio, nil)
}

// Begin opens a sequence of requests of priority prio (see Pacer for what
// an Interactive one keeps). It does no I/O; End it once it sends no more
// requests.
func (p *Pacer) Begin(prio callyzer.Priority) callyzer.Sequence {
	return &sequence{p: p, prio: prio, key: rand.Text()}
}

// sequence is Pacer's callyzer.Sequence. An open Interactive sequence
// waits, and keeps the slot between its requests, under one waiter row
// keyed by key and ranked by the database time its first request first
// asked for the slot.
type sequence struct {
	p    *Pacer
	prio callyzer.Priority
	key  string

	// mu orders a release's reservation before End's removal of it.
	mu    sync.Mutex
	ended bool
	begun time.Time // database time; zero until its first claim attempt
}

func (s *sequence) Acquire(ctx context.Context) (release func(), err error) {
	return s.p.acquire(ctx, s.prio, s)
}

// End removes the sequence's waiter row, so that whoever it kept out may
// have the slot at once. If that fails the row expires by itself within the
// grace.
func (s *sequence) End() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	if s.prio != callyzer.Interactive || s.begun.IsZero() {
		return // it never had a row
	}
	p := s.p
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if _, err := p.db.ExecContext(ctx, `DELETE FROM leadcalls_pacer_waiters
		WHERE name = $1 AND waiter = $2`, p.name, s.key); err != nil {
		p.logger.Warn("pgcoord: pacer could not end a sequence; its reservation expires by itself",
			"pacer", p.name, "grace", p.grace, "err", err)
	}
}

// open reports the waiter key and rank s's next request waits under: its
// own while s is an open Interactive sequence; ok is false otherwise (the
// request is then served like a plain Acquire).
func (s *sequence) open() (key string, begun time.Time, ok bool) {
	if s == nil || s.prio != callyzer.Interactive {
		return "", time.Time{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key, s.begun, !s.ended
}

// ranked records the rank the database gave s's first claim attempt.
func (s *sequence) ranked(begun time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.begun.IsZero() {
		s.begun = begun
	}
}

func (p *Pacer) acquire(ctx context.Context, prio callyzer.Priority, s *sequence) (release func(), err error) {
	if prio != callyzer.Background && prio != callyzer.Interactive {
		return nil, fmt.Errorf("pgcoord: pacer %q: unknown priority %d", p.name, prio)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := p.ensureRow(ctx); err != nil {
		return nil, p.wrap(ctx, "acquire", err)
	}
	c := claim{holder: rand.Text(), interactive: prio == callyzer.Interactive}
	c.waiter = c.holder
	seqKey, begun, inSeq := s.open()
	if inSeq {
		c.waiter, c.begun = seqKey, begun
	} else {
		s = nil // no reservation on release
	}
	for {
		sent := time.Now()
		st, err := p.tryClaim(ctx, &c)
		if err != nil {
			// The claim may have committed although we saw an error.
			p.abandon(&c, true)
			return nil, p.wrap(ctx, "acquire", err)
		}
		if s != nil {
			s.ranked(c.begun)
		}
		if st.claimed {
			// The slot was granted somewhere inside this statement's round
			// trip, so a request sent from now on may be up to lag later
			// than the database's start time. Release adds lag to the next
			// start, so that starts seen by the caller are interval apart.
			now := time.Now()
			lag := now.Sub(sent)
			if p.claimed != nil {
				p.claimed(st.startedAt, now)
			}
			h := &holding{holder: c.holder}
			p.holding.Store(h)
			return p.releaseFunc(h, lag, s), nil
		}
		if d, ok := ctx.Deadline(); ok && st.heldFor > 0 && st.heldFor > time.Until(d) {
			// Waiting out a 429's hold would only end in a timeout.
			p.abandon(&c, false)
			return nil, &callyzer.HeldError{Until: time.Now().Add(st.heldFor)}
		}
		if p.polled != nil {
			p.polled(prio)
		}
		wait := p.poll
		if !st.held && st.untilNext > wait {
			wait = min(st.untilNext, maxSleep)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			p.abandon(&c, false)
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// Sent reports that the request holding the slot was written at at (the
// client calls it before release): the next start, on any replica, is then
// at least the interval after at, as well as after the grant, so that a
// request that first had to dial and negotiate TLS does not come closer
// than the interval to the next one. It does no I/O of its own: release
// carries it. A call from a process that holds no slot does nothing.
func (p *Pacer) Sent(at time.Time) {
	if h := p.holding.Load(); h != nil {
		h.sent.Store(&at)
	}
}

// Hold makes no request, on any replica, start before until (after a 429,
// the client passes the time its Retry-After names). It never shortens an
// earlier hold. Hold has no error to return: if it cannot reach the
// database, it logs (WithLogger) and the pacing goes on as before.
func (p *Pacer) Hold(until time.Time) {
	d := time.Until(until)
	if d <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	err := p.ensureRow(ctx)
	if err == nil {
		// greatest ignores NULL, so a first hold sets held_until.
		_, err = p.db.ExecContext(ctx, `UPDATE leadcalls_pacer
			SET next_start_at = greatest(next_start_at, clock_timestamp() + $2::bigint * interval '1 microsecond'),
			    held_until = greatest(held_until, clock_timestamp() + $2::bigint * interval '1 microsecond')
			WHERE name = $1`, p.name, micros(d))
	}
	if err != nil {
		p.logger.Warn("pgcoord: pacer could not hold its callers back after a 429",
			"pacer", p.name, "for", d, "err", err)
	}
}

func (p *Pacer) wrap(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var state interface{ SQLState() string }
	if errors.As(err, &state) && state.SQLState() == "42P01" { // undefined_table
		return fmt.Errorf("pgcoord: pacer %q: %s: %w (run pgcoord.Migrate first)", p.name, op, err)
	}
	return fmt.Errorf("pgcoord: pacer %q: %s: %w", p.name, op, err)
}

// micros rounds d up to whole microseconds, the resolution of timestamptz.
func micros(d time.Duration) int64 {
	return int64((d + time.Microsecond - 1) / time.Microsecond)
}

func (p *Pacer) ensureRow(ctx context.Context) error {
	if p.rowReady.Load() {
		return nil
	}
	if _, err := p.db.ExecContext(ctx, `INSERT INTO leadcalls_pacer (name, next_start_at)
		VALUES ($1, clock_timestamp()) ON CONFLICT (name) DO NOTHING`, p.name); err != nil {
		return err
	}
	// Rows of waiters that crashed long ago.
	if _, err := p.db.ExecContext(ctx, `DELETE FROM leadcalls_pacer_waiters
		WHERE name = $1 AND lease_until < clock_timestamp() - interval '1 minute'`, p.name); err != nil {
		return err
	}
	p.rowReady.Store(true)
	return nil
}

// claim is one Acquire's identity in the database.
type claim struct {
	holder      string    // the token it holds the slot under
	waiter      string    // its waiter row's key: holder, or its open sequence's key
	interactive bool      // its priority is Interactive
	begun       time.Time // its rank among Interactive waiters; zero until the first attempt
}

type claimState struct {
	claimed   bool
	startedAt time.Time     // the database time of a successful claim
	held      bool          // another caller holds an unexpired slot
	untilNext time.Duration // until the next start is allowed; >= 0
	heldFor   time.Duration // until a Hold ends; >= 0
}

// claimSQL takes the slot when it is free, its next start has come, and no
// live waiter row stands before the caller: for a Background caller, any
// row; for an Interactive one, a row of a sequence begun earlier (ties by
// key). Rows are those of waiting Interactive callers and of open
// Interactive sequences between two requests. An Interactive caller that
// does not get the slot registers or renews its row (keeping the rank it
// has); one that gets it removes the row (its release may put it back as a
// reservation). The row lock of the UPDATE serialises concurrent claims: a
// claim that waited re-checks the conditions on the row as the winner left
// it.
//
// $1 name, $2 holder token, $3 interval µs, $4 lease µs, $5 interactive,
// $6 waiter lease µs, $7 waiter key, $8 rank (NULL: now).
const claimSQL = `WITH me AS MATERIALIZED (
	SELECT coalesce($8::timestamptz, clock_timestamp()) AS begun_at
), claimed AS (
	UPDATE leadcalls_pacer
	SET holder = $2,
	    started_at = clock_timestamp(),
	    next_start_at = clock_timestamp() + $3::bigint * interval '1 microsecond',
	    lease_until = clock_timestamp() + $4::bigint * interval '1 microsecond'
	WHERE name = $1
	  AND (holder IS NULL OR lease_until <= clock_timestamp())
	  AND next_start_at <= clock_timestamp()
	  AND NOT EXISTS (
		SELECT 1 FROM leadcalls_pacer_waiters w, me
		WHERE w.name = $1 AND w.waiter <> $7::text AND w.lease_until > clock_timestamp()
		  AND (NOT $5::boolean OR (w.begun_at, w.waiter) < (me.begun_at, $7::text)))
	RETURNING started_at
), waiting AS (
	INSERT INTO leadcalls_pacer_waiters (name, waiter, lease_until, begun_at)
	SELECT $1, $7::text, clock_timestamp() + $6::bigint * interval '1 microsecond', me.begun_at FROM me
	WHERE $5::boolean AND NOT EXISTS (SELECT 1 FROM claimed)
	ON CONFLICT (name, waiter) DO UPDATE SET lease_until = excluded.lease_until
), served AS (
	DELETE FROM leadcalls_pacer_waiters
	WHERE name = $1 AND waiter = $7::text AND EXISTS (SELECT 1 FROM claimed)
)
SELECT (SELECT started_at FROM claimed),
	coalesce(p.holder IS NOT NULL AND p.lease_until > clock_timestamp(), false),
	greatest(0, floor(extract(epoch FROM p.next_start_at - clock_timestamp()) * 1000000))::bigint,
	coalesce(greatest(0, floor(extract(epoch FROM p.held_until - clock_timestamp()) * 1000000)), 0)::bigint,
	me.begun_at
FROM leadcalls_pacer p, me
WHERE p.name = $1`

// tryClaim runs claimSQL for c and records c's rank.
func (p *Pacer) tryClaim(ctx context.Context, c *claim) (claimState, error) {
	var (
		st                 claimState
		started            sql.NullTime
		untilNext, heldFor int64
		begun              any // NULL until the first attempt has ranked c
	)
	if !c.begun.IsZero() {
		begun = c.begun
	}
	err := p.db.QueryRowContext(ctx, claimSQL, p.name, c.holder, micros(p.interval), micros(p.lease),
		c.interactive, micros(waiterLease), c.waiter, begun).Scan(&started, &st.held, &untilNext, &heldFor, &c.begun)
	if errors.Is(err, sql.ErrNoRows) {
		p.rowReady.Store(false) // someone deleted it; recreate on the next Acquire
		return st, fmt.Errorf("no row for pacer %q", p.name)
	}
	st.claimed, st.startedAt = started.Valid, started.Time
	st.untilNext = time.Duration(untilNext) * time.Microsecond
	st.heldFor = time.Duration(heldFor) * time.Microsecond
	return st, err
}

// releaseSQL frees the slot if this token still holds it, and moves the next
// start to at least started_at + interval + lag and, when Sent reported the
// send time, to at least the interval after it: the database time of the
// send is taken as now less the time since it, measured before the
// statement left, so it errs late by the statement's transit, the safe side.
// For an open Interactive sequence it also reserves the slot for the
// sequence's next request: its waiter row comes back, live for the grace.
//
// $1 name, $2 holder token, $3 interval µs + lag µs, $4 sequence key (NULL:
// no reservation), $5 grace µs, $6 the sequence's rank, $7 interval µs less
// the µs since the send (NULL: not reported; greatest ignores it).
const releaseSQL = `WITH freed AS (
	UPDATE leadcalls_pacer
	SET holder = NULL, lease_until = NULL,
	    next_start_at = greatest(next_start_at,
	        started_at + $3::bigint * interval '1 microsecond',
	        clock_timestamp() + $7::bigint * interval '1 microsecond')
	WHERE name = $1 AND holder = $2
	RETURNING 1
)
INSERT INTO leadcalls_pacer_waiters (name, waiter, lease_until, begun_at)
SELECT $1, $4::text, clock_timestamp() + $5::bigint * interval '1 microsecond', $6::timestamptz
WHERE $4::text IS NOT NULL AND EXISTS (SELECT 1 FROM freed)
ON CONFLICT (name, waiter) DO UPDATE SET lease_until = excluded.lease_until`

// releaseFunc returns the release of h's slot; s is the open Interactive
// sequence the request belongs to, or nil.
func (p *Pacer) releaseFunc(h *holding, lag time.Duration, s *sequence) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			p.holding.CompareAndSwap(h, nil)
			var afterSent any // NULL: no send time reported
			if at := h.sent.Load(); at != nil {
				afterSent = micros(p.interval) - int64(time.Since(*at)/time.Microsecond)
			}
			var key, begun any // NULL: no reservation
			if s != nil {
				// Held across the statement, so that End's removal of the
				// reservation comes after it.
				s.mu.Lock()
				defer s.mu.Unlock()
				if !s.ended && p.grace > 0 {
					key, begun = s.key, s.begun
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
			defer cancel()
			if _, err := p.db.ExecContext(ctx, releaseSQL, p.name, h.holder, micros(p.interval)+micros(lag),
				key, micros(p.grace), begun, afterSent); err != nil {
				p.logger.Warn("pgcoord: pacer release failed; the slot frees itself when its lease ends",
					"pacer", p.name, "lease", p.lease, "err", err)
			}
		})
	}
}

// abandon cleans up after an Acquire that gives up: it removes an
// Interactive caller's waiter row and, when the last claim's outcome is
// unknown, frees the slot in case that claim took it (no request was sent,
// so the next start stays as the claim set it). Best effort: leases cover
// a failure.
func (p *Pacer) abandon(c *claim, maybeClaimed bool) {
	if !c.interactive && !maybeClaimed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if c.interactive {
		if _, err := p.db.ExecContext(ctx, `DELETE FROM leadcalls_pacer_waiters
			WHERE name = $1 AND waiter = $2`, p.name, c.waiter); err != nil {
			p.logger.Warn("pgcoord: pacer could not remove a waiter row; it expires by itself",
				"pacer", p.name, "err", err)
		}
	}
	if maybeClaimed {
		if _, err := p.db.ExecContext(ctx, `UPDATE leadcalls_pacer SET holder = NULL, lease_until = NULL
			WHERE name = $1 AND holder = $2`, p.name, c.holder); err != nil {
			p.logger.Warn("pgcoord: pacer could not free an abandoned slot; it frees itself when its lease ends",
				"pacer", p.name, "lease", p.lease, "err", err)
		}
	}
}
