// Package replicatest holds no code, only tests: the proof that leadcalls
// runs safely on several replicas of a host CRM sharing one PostgreSQL.
//
// # Usage
//
// Nothing to import. Run the tests with a PostgreSQL DSN:
//
//	LEADCALLS_TEST_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' \
//		go test -race ./internal/replicatest/
//
// Each simulated replica is what a host process would build: its own
// *sql.DB, a callyzer.Client whose pacer is a pgpacing pacer on that
// *sql.DB (one pacer name for the Callyzer account), an sqlstore.Store that
// also keeps the sync state, and a callhistory.Syncer whose PassLock is
// pgcoord.PassLock on that *sql.DB.
// All replicas talk to one fake Callyzer (callyzertest) that enforces the
// pacing rule and records every request.
//
// # Errors
//
// The tests fail when two replicas run a pass at once (both RunOnce calls
// succeed in a round), when the fake sees two requests in flight, two
// request arrivals closer than the pacing interval (less a tolerance the
// test explains), or any answer but 200 (a 429 would mean the shared budget
// was broken), when a call is stored twice or missing, and when an
// interactive refresh on one replica, started while another replica's sync
// holds the Callyzer slot, lets a further sync request go first or waits
// longer than the rest of that slot plus an allowance for the handover, and
// when a sync request reaches Callyzer between two pages of a refresh (the
// refresh's pacer sequence must keep the slot between its pages across
// replicas), and when a refresh on one replica, begun before another
// replica's catch-up (callhistory.Config.Syncer) took the catch-up lock,
// sends a read of its own instead of waiting for that catch-up to commit
// past its start and reading the store.
//
// # Testing
//
// They skip without LEADCALLS_TEST_POSTGRES_DSN (and fail instead under
// LEADCALLS_REQUIRE_ALL=1). Each test has its own schema (internal/testdb)
// and a sync name of its own (advisory locks are database-wide), so they
// share the database with other packages' tests. They use real time: the
// two-replica test a 40 ms pacing interval and 15 ms of fake latency, the
// refresh-wait test a 100 ms interval (so that the handover of the slot,
// tens of milliseconds on a busy machine, stays small beside a slot). The
// refresh-pages test has the refresh's consumer decode each page for longer
// than the rest of the interval (200 ms interval, 100 ms answers, 110 ms
// decoding), so that without the sequence's reservation the sync, waiting
// for the next start, would go between the pages (it does, every other
// slot, with the reservation switched off), while a handover may stall for
// 90 ms before the 200 ms grace runs out. The sync pass a test stops has
// its request in flight cancelled: the fake records it unanswered, which
// the budget check allows for the last request only. The package takes
// about five seconds under -race.
package replicatest
