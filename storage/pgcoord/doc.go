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
// request is in flight and request starts are at least the interval apart.
// The Pacer is a callyzer.SequencePacer, callyzer.HoldPacer and
// callyzer.SentPacer, so the Client applies callyzer.LocalPacer's rules
// across replicas:
//
//   - Interactive callers go before Background ones: a waiting Interactive
//     caller keeps a waiter row, and no Background caller on any replica
//     takes the slot while a live row exists. Interactive callers go in the
//     order their sequences began (the database time of the sequence's
//     first request's first claim; a plain Acquire is a sequence of its
//     own), ties broken by a random key.
//   - An open Interactive sequence (the pages of one refresh) keeps the slot
//     between its requests: its release puts its waiter row back, live for
//     a grace of min(interval, 1s). Until its next request claims the slot,
//     the sequence ends (End deletes the row) or the grace passes, no
//     Background caller and no Interactive caller of a sequence begun later
//     gets the slot, on any replica. So a refresh that arrives during a
//     sync pass on another replica waits for at most the request already in
//     flight, and then has its pages to itself; an abandoned sequence holds
//     the others back by the grace at most (the next page must reach the
//     database within the grace to keep the slot: milliseconds of decoding
//     against 1s at Callyzer's interval). Background sequences, and
//     requests after End, are served like plain Acquires.
//   - Hold(until), which the Client calls after a 429 with the time its
//     Retry-After names, moves the next start of every replica to until
//     (never earlier than it was); an Acquire whose context's deadline
//     comes before the hold ends returns a *callyzer.HeldError at once.
//   - Sent(at), which the Client calls with the time the request was
//     written, makes the next start at least the interval after at as well
//     as after the grant (a request that first dialled counts from its
//     send); release carries it, so it costs no round trip.
//
// Name the budget after the account: the name is stored in the database
// and may show in logs, so it must never be the API key.
//
// A waiting caller polls the database (every 20ms by default while the slot
// is held or kept for another; sleeping until the next allowed start when
// it is free). A holder that crashes keeps the slot until its lease ends
// (WithLease, default 2 minutes; keep it above the HTTP client's
// per-attempt timeout), and a crashed Interactive waiter holds Background
// callers and later Interactive ones back for at most 5s. Release spaces
// the next start from this one's start by the interval plus the round trip
// in which the slot was granted, so the starts a caller sees (not only the
// database's) are at least the interval apart.
//
// # Errors
//
// Acquire and Lock return ctx.Err() when their context ends first; a
// cancelled Acquire removes its waiter row. Acquire returns a
// *callyzer.HeldError (errors.Is callyzer.ErrRateLimited) when a Hold keeps
// the slot back past its context's deadline. Database errors are wrapped
// with the operation and the name ("pgcoord: pacer %q: acquire: ..."); a
// missing table says to run Migrate. A lock's release returns an error
// wrapping ErrLockLost when the session could not confirm it still held the
// lock (its connection broke during the pass, so another replica may have
// run a pass meanwhile); the lock is free after release either way. A
// pacer's release, Hold and a Sequence's End return nothing: if they cannot
// reach the database, WithLogger reports it, the slot frees itself at the
// end of its lease, a sequence's reservation at the end of its grace, and a
// hold is lost (the next request may get another 429).
//
// # Testing
//
// The tests run against a live PostgreSQL given by
// LEADCALLS_TEST_POSTGRES_DSN (see internal/testenv; they skip without it,
// and fail instead under LEADCALLS_REQUIRE_ALL=1). Each test creates its
// own schema, opens one *sql.DB per simulated replica with that schema as
// search_path, names its locks and pacers after the schema, and drops the
// schema at the end, so it can share the database with other packages'
// tests. They use real time with intervals of 10-150ms, and check the
// pacing where the pacer decides it (the database's claim times, and the
// moment Acquire measured its round trip against, through a test hook)
// rather than by clock readings a descheduled goroutine could shift. The
// sequence tests run one replica's background requests without pause
// against another's 5-page interactive sequences and check the order of
// grants: no background request between two pages of a sequence, a later
// sequence after the open one, and an abandoned sequence holding a
// background caller back for the grace (80ms there) and no longer. The
// package takes about six seconds under -race.
package pgcoord
