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
	// Background callers back without being renewed, i.e. how long a
	// crashed Interactive waiter can hold Background work up.
	waiterLease = 5 * time.Second
)

// Pacer is a callyzer.Pacer shared by every process that uses the same
// PostgreSQL database and the same name: among all of them at most one
// request is in flight, request starts are at least the interval apart, and
// at every free slot a waiting Interactive caller goes before waiting
// Background ones. The decisions are taken in the database, on its clock
// (clock_timestamp()), so replicas with skewed clocks agree.
//
// A Pacer is safe for concurrent use. It holds no connection between calls.
type Pacer struct {
	db       *sql.DB
	name     string
	interval time.Duration
	lease    time.Duration
	poll     time.Duration
	logger   *slog.Logger

	rowReady atomic.Bool

	// polled, when set by tests, runs after every poll that did not get
	// the slot.
	polled func(p callyzer.Priority)
}

var _ callyzer.Pacer = (*Pacer)(nil)

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
func (p *Pacer) Acquire(ctx context.Context, prio callyzer.Priority) (release func(), err error) {
	if prio != callyzer.Background && prio != callyzer.Interactive {
		return nil, fmt.Errorf("pgcoord: pacer %q: unknown priority %d", p.name, prio)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := p.ensureRow(ctx); err != nil {
		return nil, p.wrap(ctx, "acquire", err)
	}
	token := rand.Text()
	interactive := prio == callyzer.Interactive
	for {
		sent := time.Now()
		st, err := p.tryClaim(ctx, token, interactive)
		if err != nil {
			// The claim may have committed although we saw an error.
			p.abandon(token, interactive, true)
			return nil, p.wrap(ctx, "acquire", err)
		}
		if st.claimed {
			// The slot was granted somewhere inside this statement's round
			// trip, so a request sent from now on may be up to lag later
			// than the database's start time. Release adds lag to the next
			// start, so that starts seen by the caller are interval apart.
			lag := time.Since(sent)
			return p.releaseFunc(token, lag), nil
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
			p.abandon(token, interactive, false)
			return nil, ctx.Err()
		case <-t.C:
		}
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

type claimState struct {
	claimed   bool
	held      bool          // another caller holds an unexpired slot
	untilNext time.Duration // until the next start is allowed; >= 0
}

// claimSQL takes the slot when it is free, its next start has come, and
// (for a Background caller) no Interactive caller is waiting. An
// Interactive caller that does not get the slot registers or renews its
// waiter row; one that gets it removes the row. The row lock of the UPDATE
// serialises concurrent claims: a claim that waited re-checks the
// conditions on the row as the winner left it.
//
// $1 name, $2 token, $3 interval µs, $4 lease µs, $5 interactive, $6 waiter lease µs.
const claimSQL = `WITH claimed AS (
	UPDATE leadcalls_pacer
	SET holder = $2,
	    started_at = clock_timestamp(),
	    next_start_at = clock_timestamp() + $3::bigint * interval '1 microsecond',
	    lease_until = clock_timestamp() + $4::bigint * interval '1 microsecond'
	WHERE name = $1
	  AND (holder IS NULL OR lease_until <= clock_timestamp())
	  AND next_start_at <= clock_timestamp()
	  AND ($5::boolean OR NOT EXISTS (
		SELECT 1 FROM leadcalls_pacer_waiters w
		WHERE w.name = $1 AND w.lease_until > clock_timestamp()))
	RETURNING 1
), waiting AS (
	INSERT INTO leadcalls_pacer_waiters (name, waiter, lease_until)
	SELECT $1, $2, clock_timestamp() + $6::bigint * interval '1 microsecond'
	WHERE $5::boolean AND NOT EXISTS (SELECT 1 FROM claimed)
	ON CONFLICT (name, waiter) DO UPDATE SET lease_until = excluded.lease_until
), served AS (
	DELETE FROM leadcalls_pacer_waiters
	WHERE name = $1 AND waiter = $2 AND EXISTS (SELECT 1 FROM claimed)
)
SELECT EXISTS (SELECT 1 FROM claimed),
	coalesce(p.holder IS NOT NULL AND p.lease_until > clock_timestamp(), false),
	greatest(0, floor(extract(epoch FROM p.next_start_at - clock_timestamp()) * 1000000))::bigint
FROM leadcalls_pacer p
WHERE p.name = $1`

func (p *Pacer) tryClaim(ctx context.Context, token string, interactive bool) (claimState, error) {
	var (
		st        claimState
		untilNext int64
	)
	err := p.db.QueryRowContext(ctx, claimSQL, p.name, token, micros(p.interval), micros(p.lease),
		interactive, micros(waiterLease)).Scan(&st.claimed, &st.held, &untilNext)
	if errors.Is(err, sql.ErrNoRows) {
		p.rowReady.Store(false) // someone deleted it; recreate on the next Acquire
		return st, fmt.Errorf("no row for pacer %q", p.name)
	}
	st.untilNext = time.Duration(untilNext) * time.Microsecond
	return st, err
}

// releaseSQL frees the slot if this token still holds it, and moves the next
// start to at least started_at + interval + lag.
//
// $1 name, $2 token, $3 interval µs + lag µs.
const releaseSQL = `UPDATE leadcalls_pacer
SET holder = NULL, lease_until = NULL,
    next_start_at = greatest(next_start_at, started_at + $3::bigint * interval '1 microsecond')
WHERE name = $1 AND holder = $2`

func (p *Pacer) releaseFunc(token string, lag time.Duration) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
			defer cancel()
			if _, err := p.db.ExecContext(ctx, releaseSQL, p.name, token, micros(p.interval)+micros(lag)); err != nil {
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
func (p *Pacer) abandon(token string, interactive, maybeClaimed bool) {
	if !interactive && !maybeClaimed {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	if interactive {
		if _, err := p.db.ExecContext(ctx, `DELETE FROM leadcalls_pacer_waiters
			WHERE name = $1 AND waiter = $2`, p.name, token); err != nil {
			p.logger.Warn("pgcoord: pacer could not remove a waiter row; it expires by itself",
				"pacer", p.name, "err", err)
		}
	}
	if maybeClaimed {
		if _, err := p.db.ExecContext(ctx, `UPDATE leadcalls_pacer SET holder = NULL, lease_until = NULL
			WHERE name = $1 AND holder = $2`, p.name, token); err != nil {
			p.logger.Warn("pgcoord: pacer could not free an abandoned slot; it frees itself when its lease ends",
				"pacer", p.name, "lease", p.lease, "err", err)
		}
	}
}
