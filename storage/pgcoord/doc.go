// Package pgcoord coordinates replicas of a leadcalls host through
// PostgreSQL: a lock so that only one replica runs a sync pass at a time,
// and a callyzer.Pacer so that all replicas together stay within one
// Callyzer API key's request budget.
//
// It takes a caller-owned *sql.DB and imports no driver; the host chooses
// one (the tests use github.com/jackc/pgx/v5/stdlib). Everything here needs
// PostgreSQL: advisory locks, and the database clock (clock_timestamp()),
// which all timing decisions use, so replicas whose own clocks disagree
// still agree.
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
// The shared pacer keeps its state in two tables, created by Migrate
// (idempotent, safe to run from every replica at start):
//
//	if err := pgcoord.Migrate(ctx, db); err != nil { ... }
//	pacer, err := pgcoord.NewPacer(db, "callyzer/acme", callyzer.DefaultInterval)
//	client, err := callyzer.NewClient(apiKey, callyzer.WithPacer(pacer))
//
// Among all processes using the database and the same name, at most one
// request is in flight and request starts are at least the interval apart;
// at every free slot an Interactive caller goes before Background ones. Name
// the budget after the account: the name is stored in the database and
// may show in logs, so it must never be the API key.
//
// A waiting caller polls the database (every 20ms by default while the slot
// is held; sleeping until the next allowed start when it is free). A holder
// that crashes keeps the slot until its lease ends (WithLease, default 2
// minutes; keep it above the HTTP client's per-attempt timeout), and a
// crashed Interactive waiter holds Background callers back for at most 5s.
// Release spaces the next start from this one's start by the interval plus
// the round trip in which the slot was granted, so the starts a caller sees
// (not only the database's) are at least the interval apart.
//
// # Errors
//
// Acquire and Lock return ctx.Err() when their context ends first; a
// cancelled Acquire removes its waiter row. Database errors are wrapped
// with the operation and the name ("pgcoord: pacer %q: acquire: ..."); a
// missing table says to run Migrate. A lock's release returns an error
// wrapping ErrLockLost when the session could not confirm it still held the
// lock (its connection broke during the pass, so another replica may have
// run a pass meanwhile); the lock is free after release either way. A
// pacer's release returns nothing: if it cannot reach the database, the
// slot frees itself at the end of its lease (WithLogger reports it).
//
// # Testing
//
// The tests run against a live PostgreSQL given by
// LEADCALLS_TEST_POSTGRES_DSN (see internal/testenv; they skip without it,
// and fail instead under LEADCALLS_REQUIRE_ALL=1). Each test creates its
// own schema, opens one *sql.DB per simulated replica with that schema as
// search_path, names its locks and pacers after the schema, and drops the
// schema at the end, so it can share the database with other packages'
// tests. They use real time with intervals of 10-30ms; the package takes a
// few seconds under -race.
package pgcoord
