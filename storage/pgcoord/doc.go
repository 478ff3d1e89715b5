// Package pgcoord coordinates replicas of a leadcalls host through
// PostgreSQL: a lock so that only one replica runs a sync pass at a time.
// (The Callyzer request budget that replicas share is
// callyzer/pacing/pgpacing's.)
//
// It takes a caller-owned *sql.DB and imports no driver; the host chooses
// one (the tests use github.com/jackc/pgx/v5/stdlib).
//
// # Usage
//
// The pass lock is a session-scoped advisory lock held on a dedicated
// connection for as long as the pass runs:
//
//	release, ok, err := pgcoord.TryLock(ctx, db, "leadcalls/sync")
//	if err != nil || !ok {
//		return err // ok == false: another replica runs this pass
//	}
//	defer release()
//
// If the process dies, PostgreSQL ends the session and drops the lock; no
// lease or election is involved. Lock is the waiting variant (it polls).
// Lock keys are a 64-bit hash of a fixed namespace and the name (LockKey);
// two names sharing a key only make their holders wait for each other.
//
// # Errors
//
// Lock returns ctx.Err() when its context ends first. A lock's release
// returns an error wrapping ErrLockLost when the session could not confirm
// it still held the lock (its connection broke during the pass, so another
// replica may have run a pass meanwhile); the lock is free after release
// either way.
package pgcoord
