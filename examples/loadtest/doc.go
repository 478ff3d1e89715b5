// Command loadtest measures how well leadcalls spends Callyzer's request
// budget (one request per 2 s per API key), what a user waits for a
// refresh, what our own code costs per call, and how much memory a large
// backfill needs; every figure beside the floor or baseline it is compared
// against, measured in the same run (issue 7).
//
// # Usage
//
//	go run ./examples/loadtest                              # about a minute on 2 cores
//	go run ./examples/loadtest -markdown docs/performance.md  # also the Markdown table, with the machine
//	go run ./examples/loadtest -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// Everything runs in-process against the fake Callyzer
// (callyzer/callyzertest) on loopback. Callyzer's durations (the 2 s
// pacing interval, the 2.7 s page latency with ±20% jitter, Retry-After,
// the retry backoff) are divided by -compress (100: 2 s → 20 ms); the
// table converts latencies back to real seconds. Parts 1 and 2 store on
// SQLite (a file in a temporary directory), or on PostgreSQL with -db
// (tables with a unique prefix, dropped at the end); part 3 adds memstore
// and, with -db, PostgreSQL. The table goes to stdout; -v prints progress
// on stderr.
//
// The parts:
//
//  1. Requests sent ÷ the minimum the work needs (window chunks × pages,
//     from the seeded data), with 429s and retries from the fake's records,
//     for one refresh, N users on N leads at once, N users on one lead at
//     once, and the Syncer's 6-month backfill.
//  2. p50/p95/max of a refresh's wall time ÷ its floor (pages × interval):
//     alone, while a backfill runs, and in the two "at once" scenarios.
//     Parts 1 and 2 run the same scenarios with naiveRefresh, the
//     baseline written in naive.go: sequential pages, Retry-After slept,
//     no pacer, no priority, no sharing.
//  3. Time, allocations and bytes per call from decoded page to committed
//     row (callhistory.FromCallyzer + Store.ReplaceWindow) and calls/s, for
//     memstore, SQLite and PostgreSQL, beside a plain multi-row INSERT per
//     lead into an equivalent table (a Go map for memstore).
//  4. Peak heap of a 100,000-call backfill through the Syncer into a
//     counting store, ÷ the bytes of the pages' JSON, beside a naive pager
//     that discards its pages. Its pages come from callyzertest with no
//     pacing and no latency: the heap, not the time, is measured. The
//     figures are the process's heap, so they include the fake's record of
//     each request.
//
// # Errors
//
// The exit code is 0 when every scenario passed, 1 when one failed (any of
// our refreshes or the Syncer failing, requests below the computed minimum,
// a shared refresh fetching more than once, fewer calls stored than the
// window holds, the backfill's heap growing with its data) and 2 for bad
// flags. Failures are listed under the table and on stderr. The naive
// baseline's failures are figures, not failures.
//
// # Testing
//
// loadtest_test.go runs the whole harness on tiny sizes (a few seconds) and
// checks that the table has every row, that requests are never below the
// minimum, that ours never exceed the naive client's, that N users on one
// lead make one fetch sequence, and that the Markdown report has the same
// rows, the machine and the flags; plus unit tests of the minimum and the
// percentiles. goleak checks that no goroutine outlives a test.
package main
