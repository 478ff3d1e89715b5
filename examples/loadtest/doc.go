// Command loadtest measures how well leadcalls spends Callyzer's request
// budget (one request per 2 s per API key), what a user waits for a
// refresh, what our own code costs per call, and how much memory a large
// backfill needs; every figure beside the floor or baselines it is compared
// against, measured in the same run (issue 7).
//
// # Usage
//
//	go run ./examples/loadtest                              # about a minute on 2 cores
//	go run ./examples/loadtest -markdown docs/performance.md  # also the Markdown report, with the machine
//	go run ./examples/loadtest -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// Everything runs in-process against the fake Callyzer
// (callyzer/callyzertest) on loopback. Callyzer's durations (the 2 s
// pacing interval, the 2.7 s page latency with ±20% jitter) and the SDK's
// (retry backoff, per-attempt timeout, longest Retry-After accepted, and
// the refresh deadline the Refresher's default RefreshTimeout, 30 s) are divided by
// -compress (100: 2 s → 20 ms); the table converts latencies back to real
// seconds. Parts 1 and 2 store on SQLite (a file in a temporary
// directory), or on PostgreSQL with -db (tables with a unique prefix,
// dropped at the end); part 3 adds memstore and, with -db, PostgreSQL. The
// table goes to stdout, the Markdown report (a summary computed from the
// run, the table, notes and a legend) to -markdown; -v prints progress on
// stderr.
//
// Parts 1 and 2 run every scenario on three sides, each on a fresh fake:
// ours (callyzer.Client with callhistory.Refresher or Syncer), "naive"
// (naive.go: sequential pages, no pacer, no priority, no sharing, a 429
// slept out for max(Retry-After, interval) in real time, compressed), and
// "naive + pacer" (the same client behind one shared pacing.New pacer, each
// request a Background sequence of its own: no priority, no sequences, no
// shared fetches). Every refresh of every side runs under the compressed
// refresh deadline; backfills have none.
//
// The parts:
//
//  1. Requests sent ÷ the minimum of the work done (window chunks × pages,
//     from the seeded data, over the numbers a side served), with 429s and
//     retries from the fake's records, for one refresh, N users on N leads
//     at once, N users on one lead at once, and the Syncer's 6-month
//     backfill; for the two "at once" scenarios, the requests (and the
//     pages among them) of refreshes that then failed.
//  2. Refreshes succeeded / timed out / failed, and p50/p95/max of the
//     successful ones' wall time ÷ their floor (pages × interval) and in
//     real seconds: alone, while a backfill runs (the side's backfill
//     restarted as soon as it ends, at most maxBackfillPasses passes, and
//     only refreshes during which one ran counted), and in the two "at
//     once" scenarios.
//  3. Time, allocations and bytes per call from decoded page to committed
//     row (callhistory.FromCallyzer + callhistory.ReplaceWindow) and calls/s, for
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
// The exit code is 0 when every scenario passed, 1 when one failed and 2
// for bad flags. A scenario fails when one of our refreshes fails with
// anything but a timeout, or the Syncer fails; when our served refreshes
// read fewer pages than their minimum; when a shared refresh fetches more
// than once; when the Syncer stores fewer calls than the window holds; or
// when the backfill's heap grows with its data. A refresh that times out is
// a figure, not a failure, and so is every error of the baselines.
// Failures are listed under the table and on stderr.
package main
