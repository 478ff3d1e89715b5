// Package pgpacing provides a pacing.Pacer shared through PostgreSQL by
// every replica of a host: among all of them, the rules of package pacing
// hold for one budget (one Callyzer API key).
//
// It takes a caller-owned *sql.DB and imports no driver; the host chooses
// one (the tests use github.com/jackc/pgx/v5/stdlib).
//
// # Usage
//
// The pacer keeps its state in two tables, created by Migrate (idempotent,
// safe to run from every replica at start):
//
//	if err := pgpacing.Migrate(ctx, db); err != nil { ... }
//	pacer, err := pgpacing.New(db, pgpacing.Config{Name: "callyzer/acme"})
//	client, err := callyzer.NewClient(apiKey, callyzer.WithPacer(pacer))
//
// Name the budget after the account: the name is stored in the database
// and may show in logs, so it must never be the API key. Config's other
// fields default to Callyzer's interval (2s), a 2-minute lease, a 20ms
// poll and no logging.
//
// Every decision is taken in one short transaction: it locks the pacer's
// row, reads the waiter rows and the database clock, applies the rules (in
// Go, the same code as pacing.New's) and writes back the outcome. So
// replicas whose clocks disagree still agree. A waiting Interactive request
// and an open Interactive sequence between two requests keep a row that
// others defer to. A waiting caller polls (Config.PollInterval) while the
// slot is held or kept for another, and sleeps until the next allowed
// start when it is free. A holder that crashes keeps the slot until its
// lease ends (Config.Lease); a crashed Interactive waiter holds others back
// for 5s at most. Release spaces the next start from this one by the
// interval plus the round trip in which the slot was granted, so the starts
// callers see, not only the database's, are the interval apart.
//
// # Errors
//
// Acquire returns ctx.Err() when its context ends first (removing its
// waiter row); when a Hold keeps the slot back past its context's
// deadline, it fails at once with package pacing's held error (its
// HeldUntil method says until when). Database errors are wrapped with the
// operation and the name ("pgpacing: pacer %q: acquire: ..."); a missing
// table says to run Migrate. Release, Hold and End return nothing: if they
// cannot reach the database, Config.Logger reports it, the slot frees
// itself at the end of its lease, a reservation at the end of its grace,
// and a hold is lost (the next request may get another 429).
package pgpacing
