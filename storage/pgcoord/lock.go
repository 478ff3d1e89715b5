package pgcoord

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// ErrLockLost is wrapped by a lock's release function when the session that
// took the lock could not confirm it still held it: the connection broke or
// was terminated during the pass, so another process may have taken the lock
// in the meantime. The lock is free once release returns either way.
var ErrLockLost = errors.New("pgcoord: advisory lock lost before release")

// lockNamespace keeps our keys apart from other users of advisory locks.
const lockNamespace = "leadcalls/pgcoord/lock:"

// lockPollInterval is how often Lock retries while another session holds
// the lock.
const lockPollInterval = 50 * time.Millisecond

// releaseTimeout bounds the statements a release runs after the caller's
// context may be gone.
const releaseTimeout = 5 * time.Second

// LockKey returns the 64-bit advisory-lock key of name: FNV-1a of a fixed
// namespace followed by name. It never changes between versions, so
// replicas running different versions of this package agree on it.
//
// Two different names may, with probability about 2^-64 per pair, share a
// key; they then exclude each other (one pass waits for an unrelated one),
// which costs time but never lets two holders of one name run at once.
func LockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(lockNamespace))
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// TryLock tries once to take the session-scoped PostgreSQL advisory lock of
// name (pg_try_advisory_lock(LockKey(name))) on a connection it takes from db
// and keeps for as long as the lock is held.
//
// When the lock is taken, acquired is true and release must be called once
// the work is done: it unlocks and hands the connection back (or discards it,
// which ends the session). Calling release again returns the first result.
// If the process dies, PostgreSQL ends the session and drops the lock.
//
// When another session holds the lock, acquired is false, release is nil and
// err is nil. On error, release is nil and acquired is false.
func TryLock(ctx context.Context, db *sql.DB, name string) (release func() error, acquired bool, err error) {
	if db == nil {
		return nil, false, errors.New("pgcoord: TryLock: nil db")
	}
	if name == "" {
		return nil, false, errors.New("pgcoord: TryLock: empty name")
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("pgcoord: lock %q: %w", name, err)
	}
	key := LockKey(name)
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		// We cannot tell whether the lock was taken: end the session.
		discard(conn)
		return nil, false, fmt.Errorf("pgcoord: lock %q: %w", name, err)
	}
	if !ok {
		if err := conn.Close(); err != nil {
			return nil, false, fmt.Errorf("pgcoord: lock %q: %w", name, err)
		}
		return nil, false, nil
	}
	var (
		once   sync.Once
		relErr error
	)
	return func() error {
		once.Do(func() { relErr = unlock(conn, key, name) })
		return relErr
	}, true, nil
}

// Lock waits until it holds the advisory lock of name, polling with
// TryLock, or until ctx is done, in which case it returns ctx.Err(). Release
// as for TryLock.
func Lock(ctx context.Context, db *sql.DB, name string) (release func() error, err error) {
	for {
		release, ok, err := TryLock(ctx, db, name)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			return nil, err
		}
		if ok {
			return release, nil
		}
		t := time.NewTimer(lockPollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func unlock(conn *sql.Conn, key int64, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	var ok bool
	err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", key).Scan(&ok)
	if err == nil && ok {
		if err := conn.Close(); err != nil {
			return fmt.Errorf("pgcoord: unlock %q: %w", name, err)
		}
		return nil
	}
	// Ending the session drops whatever it still holds.
	discard(conn)
	if err != nil {
		return fmt.Errorf("pgcoord: unlock %q: %w: %w", name, ErrLockLost, err)
	}
	return fmt.Errorf("pgcoord: unlock %q: %w", name, ErrLockLost)
}

// discard closes conn's underlying connection instead of returning it to
// the pool, so that its session, and every lock it holds, ends.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close() // ErrConnDone after Raw closed it
}

// PassLock is a callhistory.PassLock shared by every replica using DB: its
// TryLock is this package's TryLock on DB.
type PassLock struct {
	DB *sql.DB
}

// TryLock implements callhistory.PassLock.
func (l PassLock) TryLock(ctx context.Context, name string) (release func() error, acquired bool, err error) {
	return TryLock(ctx, l.DB, name)
}
