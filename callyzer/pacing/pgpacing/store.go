package pgpacing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/leadcalls/leadcalls/callyzer/pacing/internal/rule"
)

// The statements only load and store the pacer's state; package pacing's
// rules decide, in Go, on the database time they read.
const (
	lockSQL = `SELECT next_start_at, started_at, holder, lease_until, held_until, starts
	FROM leadcalls_pacer WHERE name = $1 FOR UPDATE`
	// Read after lockSQL, in the same transaction: under READ COMMITTED
	// the rows and the clock are those after the lock was granted.
	claimsSQL = `SELECT c.now, w.waiter, w.lease_until, w.begun_at
	FROM (SELECT clock_timestamp() AS now) c
	LEFT JOIN leadcalls_pacer_waiters w ON w.name = $1`
	storeSQL = `UPDATE leadcalls_pacer
	SET next_start_at = $2, started_at = $3, holder = $4, lease_until = $5, held_until = $6, starts = $7
	WHERE name = $1`
	putWaiterSQL = `INSERT INTO leadcalls_pacer_waiters (name, waiter, lease_until, begun_at)
	VALUES ($1, $2, $3, $4)
	ON CONFLICT (name, waiter) DO UPDATE SET lease_until = excluded.lease_until`
	deleteWaiterSQL = `DELETE FROM leadcalls_pacer_waiters WHERE name = $1 AND waiter = $2`
)

// state is the pacer's row and its waiter rows, as one transaction read
// them under the row's lock.
type state struct {
	now   time.Time // the database clock, read after the lock
	asked time.Time // this process's clock just before the database read it
	slot  rule.Slot
	// The holder of the slot ("": none), its start and its lease. A
	// holder whose lease has ended does not hold the slot (slot.Busy).
	holder     string
	started    time.Time
	leaseUntil time.Time
	// claims are the waiter rows: waiting Interactive callers and the
	// reservations of open Interactive sequences, until their leases.
	claims []rule.Claim
}

// dbTime converts t, on this process's clock, to the database's. It errs
// late by the time the database took to read its clock, the safe side for
// a send, a hold's end or a deadline. Zero stays zero.
func (st *state) dbTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return st.now.Add(t.Sub(st.asked))
}

// load locks the pacer's row and reads the state.
func (p *pacer) load(ctx context.Context, tx *sql.Tx) (*state, error) {
	st := &state{slot: rule.Slot{Interval: p.interval}}
	var (
		holder                       sql.NullString
		started, leaseUntil, heldTil sql.NullTime
	)
	var starts int64
	err := tx.QueryRowContext(ctx, lockSQL, p.name).Scan(&st.slot.Next, &started, &holder, &leaseUntil, &heldTil, &starts)
	if errors.Is(err, sql.ErrNoRows) {
		p.rowReady.Store(false) // someone deleted it; recreate on the next Acquire
		return nil, fmt.Errorf("no row for pacer %q", p.name)
	}
	if err != nil {
		return nil, err
	}
	st.holder, st.started, st.leaseUntil, st.slot.Held = holder.String, started.Time, leaseUntil.Time, heldTil.Time
	st.slot.Starts = uint64(starts)

	st.asked = time.Now()
	rows, err := tx.QueryContext(ctx, claimsSQL, p.name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			key          sql.NullString
			until, begun sql.NullTime
		)
		if err := rows.Scan(&st.now, &key, &until, &begun); err != nil {
			return nil, err
		}
		if key.Valid {
			st.claims = append(st.claims, rule.Claim{
				Interactive: true,
				Rank:        rule.Rank{Began: begun.Time, Key: key.String},
				Until:       until.Time,
			})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	st.slot.Busy = st.holder != "" && st.leaseUntil.After(st.now)
	return st, nil
}

// store writes the pacer's row back from st.
func (p *pacer) store(ctx context.Context, tx *sql.Tx, st *state) error {
	_, err := tx.ExecContext(ctx, storeSQL, p.name, up(st.slot.Next), nullTime(st.started),
		sql.NullString{String: st.holder, Valid: st.holder != ""}, nullTime(up(st.leaseUntil)), nullTime(up(st.slot.Held)), int64(st.slot.Starts))
	return err
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// putWaiter writes the row of waiter key, live until until; a row that
// exists keeps its rank.
func (p *pacer) putWaiter(ctx context.Context, tx *sql.Tx, key string, until, begun time.Time) error {
	_, err := tx.ExecContext(ctx, putWaiterSQL, p.name, key, up(until), begun)
	return err
}

func (p *pacer) deleteWaiter(ctx context.Context, db execer, key string) error {
	_, err := db.ExecContext(ctx, deleteWaiterSQL, p.name, key)
	return err
}

// ensureRow creates the pacer's row on first use, and clears rows of
// waiters that crashed long ago (housekeeping: a lapsed row counts for
// nothing).
func (p *pacer) ensureRow(ctx context.Context) error {
	if p.rowReady.Load() {
		return nil
	}
	if _, err := p.db.ExecContext(ctx, `INSERT INTO leadcalls_pacer (name, next_start_at)
		VALUES ($1, clock_timestamp()) ON CONFLICT (name) DO NOTHING`, p.name); err != nil {
		return err
	}
	if _, err := p.db.ExecContext(ctx, `DELETE FROM leadcalls_pacer_waiters
		WHERE name = $1 AND lease_until < clock_timestamp() - interval '1 minute'`, p.name); err != nil {
		return err
	}
	p.rowReady.Store(true)
	return nil
}

// inTx runs f in a transaction and commits it.
func (p *pacer) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// up rounds t up to the microsecond, timestamptz's resolution, so that a
// stored start or hold is never earlier than decided.
func up(t time.Time) time.Time {
	if r := t.Truncate(time.Microsecond); r.Before(t) {
		return r.Add(time.Microsecond)
	}
	return t
}

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: !t.IsZero()} }
