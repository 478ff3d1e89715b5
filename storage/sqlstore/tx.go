package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"
)

// Limits of the wait for a busy database at begin and for a named lock.
const (
	maxBusyWait     = 30 * time.Second
	cleanupTimeout  = 5 * time.Second
	defaultLockWait = 30 * time.Second
)

// txn is a write transaction on one dedicated connection. The store runs
// BEGIN itself (database/sql cannot ask SQLite for BEGIN IMMEDIATE), so the
// connection, not a *sql.Tx, carries the transaction.
type txn struct {
	conn *sql.Conn
	d    *dialect
}

func (t *txn) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.conn.ExecContext(ctx, t.d.rebind(q), args...)
}

func (t *txn) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.conn.QueryContext(ctx, t.d.rebind(q), args...)
}

// maxAttempts bounds how often a transaction the database aborted to break
// a deadlock is run again.
const maxAttempts = 5

// errCommitUnknown marks a connection lost at COMMIT: the database may or
// may not have committed, so the transaction is not run again.
var errCommitUnknown = errors.New("connection lost at COMMIT, the write may or may not have been committed")

// inTx runs fn in a write transaction that holds the locks of keys (phone
// numbers, or "schema" for Migrate), and commits when fn returns nil. On an
// error or a panic it rolls back; a panic is passed on after the rollback.
// A transaction the database rolled back to break a deadlock or a
// serialisation conflict runs again, up to maxAttempts times in all. One
// whose connection was lost before COMMIT (a pooled connection a server
// restart closed) runs once more, on a connection that answers a ping: no
// COMMIT was sent, so nothing of it was committed. fn must therefore start
// from scratch on every call.
func (s *Store) inTx(ctx context.Context, op string, keys []string, fn func(*txn) error) error {
	retriedLost := false // ran again after a lost connection
	for attempt := 1; ; {
		lost, err := s.inTxOnce(ctx, op, keys, retriedLost, fn)
		switch {
		case err == nil || ctx.Err() != nil:
			return err
		case lost && !retriedLost:
			retriedLost = true // once, and not one of the maxAttempts
		default:
			if _, retry := classify(err); !retry || attempt == maxAttempts {
				return err
			}
			attempt++
		}
	}
}

// inTxOnce runs fn in one transaction; lost reports that its connection
// was lost before COMMIT. With ping, the connection is pinged first (see
// liveConn).
func (s *Store) inTxOnce(ctx context.Context, op string, keys []string, ping bool, fn func(*txn) error) (lost bool, err error) {
	var conn *sql.Conn
	if ping {
		conn, err = s.liveConn(ctx)
	} else {
		conn, err = s.db.Conn(ctx)
	}
	if err != nil {
		return false, translate(ctx, op, err)
	}
	// broken is set when the connection's state is unknown (a failed
	// rollback or unlock): it is then discarded instead of pooled, as is a
	// lost one.
	broken := false
	defer func() {
		if broken || lost {
			discard(conn)
			return
		}
		_ = conn.Close()
	}()
	// failed returns an error that ended the transaction before COMMIT.
	failed := func(err error) (bool, error) {
		return connLost(ctx, conn, err), translate(ctx, op, err)
	}

	t := &txn{conn: conn, d: s.d}
	locks := s.lockKeys(keys)

	if s.d.lockMode == lockAroundTx && !s.disableLockForTest {
		taken, err := t.takeSessionLocks(ctx, locks)
		defer func() {
			if !t.releaseSessionLocks(ctx, taken) {
				broken = true
			}
		}()
		if err != nil {
			return failed(err)
		}
	}

	if err := t.begin(ctx, s.beginStatements()); err != nil {
		return failed(err)
	}
	done := false
	defer func() {
		if done {
			return
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if _, rerr := t.exec(rctx, "ROLLBACK"); rerr != nil {
			broken = true
		}
	}()

	if s.d.lockMode == lockInTx && !s.disableLockForTest {
		for _, k := range locks {
			if _, err := t.exec(ctx, s.d.lock, k.id); err != nil {
				return failed(err)
			}
		}
	}

	if err := fn(t); err != nil {
		return failed(err)
	}
	if _, err := t.exec(ctx, "COMMIT"); err != nil {
		if connLost(ctx, conn, err) {
			broken = true
			err = fmt.Errorf("%w: %w", errCommitUnknown, err)
		}
		return false, translate(ctx, op, err)
	}
	done = true
	return false, nil
}

// connLost reports whether err ended conn's session before COMMIT:
// driver.ErrBadConn, or a connection that no longer answers a ping. The
// drivers answer at once, and with driver.ErrBadConn, for a connection
// they have closed (pgx after a FATAL error such as 57P01 from a
// terminated backend, go-sql-driver/mysql after "invalid connection" from
// a killed one); database/sql then discards it.
func connLost(ctx context.Context, conn *sql.Conn, err error) bool {
	if errors.Is(err, driver.ErrBadConn) {
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	return conn.PingContext(ctx) != nil
}

// liveConn returns a pooled connection that answers a ping. After a lost
// connection the pool's others are likely lost too (a restarted server),
// and a driver may notice only at their next statement; each that fails
// the ping is discarded. No more than the pool's open connections can be
// lost, so that many tries and one more reach a new connection unless the
// server is still down.
func (s *Store) liveConn(ctx context.Context) (*sql.Conn, error) {
	var err error
	for range s.db.Stats().OpenConnections + 1 {
		var conn *sql.Conn
		if conn, err = s.db.Conn(ctx); err != nil {
			return nil, err
		}
		if err = conn.PingContext(ctx); err == nil {
			return conn, nil
		}
		discard(conn)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

// discard closes conn and keeps its driver connection out of the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

func (s *Store) beginStatements() []string {
	if s.disableLockForTest {
		return s.d.beginUnlocked
	}
	return s.d.begin
}

// begin runs the begin statement, retrying while the database reports busy
// (a DSN without a busy timeout, or a timeout shorter than the other
// writer's transaction), so that no busy error surfaces at begin.
func (t *txn) begin(ctx context.Context, stmts []string) error {
	deadline := time.Now().Add(maxBusyWait)
	wait := time.Millisecond
	for {
		var err error
		for _, stmt := range stmts {
			if _, err = t.exec(ctx, stmt); err != nil {
				break
			}
		}
		if busy, _ := classify(err); err == nil || !errors.Is(busy, ErrBusy) || time.Now().After(deadline) {
			return err
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// lockKey is the lock of one key: an int64 for PostgreSQL advisory locks
// and a short name for GET_LOCK, both from one 64-bit hash of the table
// prefix and the key.
type lockKey struct {
	hash uint64
	id   any
}

// lockKeys returns the distinct locks of keys in hash order, the one order
// every writer takes them in, so that writers never deadlock.
func (s *Store) lockKeys(keys []string) []lockKey {
	out := make([]lockKey, 0, len(keys))
	for _, k := range keys {
		h := fnv.New64a()
		h.Write([]byte("leadcalls\x00" + s.prefix + "\x00" + k))
		sum := h.Sum64()
		var id any = int64(sum)
		if s.d.lockMode == lockAroundTx {
			id = fmt.Sprintf("leadcalls_%016x", sum)
		}
		out = append(out, lockKey{hash: sum, id: id})
	}
	slices.SortFunc(out, func(a, b lockKey) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return 0
	})
	return slices.CompactFunc(out, func(a, b lockKey) bool { return a.hash == b.hash })
}

// takeSessionLocks takes the named locks in order and returns those taken.
// GET_LOCK waits at most until ctx's deadline (or defaultLockWait).
func (t *txn) takeSessionLocks(ctx context.Context, locks []lockKey) ([]lockKey, error) {
	wait := defaultLockWait
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	seconds := max(int64((wait+time.Second-1)/time.Second), 1)
	for i, k := range locks {
		var got sql.NullInt64
		if err := t.conn.QueryRowContext(ctx, t.d.rebind(t.d.lock), k.id, seconds).Scan(&got); err != nil {
			return locks[:i], err
		}
		if !got.Valid || got.Int64 != 1 {
			return locks[:i], fmt.Errorf("%w: lock wait timed out", ErrBusy)
		}
	}
	return locks, nil
}

// releaseSessionLocks releases the named locks, reporting false when it
// could not (the connection must then be discarded, which frees them).
func (t *txn) releaseSessionLocks(ctx context.Context, locks []lockKey) bool {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	ok := true
	for i := len(locks) - 1; i >= 0; i-- {
		var released sql.NullInt64
		if err := t.conn.QueryRowContext(rctx, t.d.rebind(t.d.unlock), locks[i].id).Scan(&released); err != nil {
			ok = false
		}
	}
	return ok
}
