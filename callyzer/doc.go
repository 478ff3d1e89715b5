// Package callyzer is the HTTP client of the Callyzer call-tracking API: the
// call history (/call-log/history) and the employee roster (/employee/get).
// It knows nothing of leads or storage.
//
// # Usage
//
//	c, err := callyzer.NewClient(apiKey) // options: WithBaseURL, WithLocation, ...
//	if err != nil { ... }
//	q := callyzer.HistoryQuery{
//		CallFrom:      time.Now().AddDate(0, -6, 0),
//		CallTo:        time.Now(),
//		ClientNumbers: []string{"+48601234567"},
//		Priority:      callyzer.Interactive,
//	}
//	var calls []callyzer.Call
//	for page, err := range c.HistoryPages(ctx, q) {
//		if err != nil { return err } // nothing fetched so far is complete
//		calls = append(calls, page.Calls...)
//	}
//	// de-duplicate calls by ID: a call may arrive on two pages.
//
// HistoryPages splits a window wider than the maximum (WithMaxWindow, 180
// days) into chunks with whole-second inclusive bounds that do not overlap,
// pages each chunk to its end, and checks that the rows add up to
// total_records. With both a call window and a synced window, the call
// window is chunked and the synced window goes whole with every request,
// so a synced window over the maximum is refused (ErrInvalidQuery) before
// anything is sent. Under API v2.2 (WithAPIVersion(V22)) each chunk is swept
// once per (call_method, call_mode) combination of WithCallVariants.
// HistoryPage fetches a single page; History yields calls one by one.
// Employees returns the roster.
//
// Numbers go out in Callyzer's "48-601234567" form and come back in E.164
// ("+48601234567"). call_date and call_time are read as a wall clock in the
// account's zone (WithLocation, default Europe/Warsaw; on a machine
// without a zone database, import time/tzdata in the main package). synced_at and modified_at are read the same way; a trailing
// zone abbreviation such as IST or CET is ignored (abbreviations are
// ambiguous), while "UTC"/"GMT" and numeric offsets are honoured.
//
// # Pacing
//
// Callyzer allows one request per two seconds per key and answers parallel
// requests with 429. Every request therefore takes a slot from a Pacer: one
// request in flight, starts at least WithInterval apart (default 2s), and at
// every free slot a waiting Interactive request goes before waiting
// Background ones. A request holds its slot until its body is read; retries
// wait outside it. The interval counts from the later of the grant and the
// moment the request was written to the connection (net/http/httptrace's
// WroteRequest), for a pacer that implements SentPacer, as LocalPacer does:
// a request that first dials (and negotiates TLS) goes out late, and the
// next one, on the open connection, must still arrive the interval after
// it. The gap stays the interval, not the interval plus the request's
// duration.
//
// Clients of the same key and host in one process share one LocalPacer by
// default, whatever their intervals; when these differ, the pacer keeps
// the largest (the key is kept only as a salted hash). WithPacer supplies
// another pacer, such as one coordinating several replicas. A 429's
// Retry-After holds back the next slot for every caller of a pacer that
// implements HoldPacer, as LocalPacer does.
//
// A user's refresh is several pages, and its next page is asked for only
// once the last one is decoded. So that the refresh waits for at most the
// one request already in flight, and not behind a background request at
// every page, the pages of one HistoryPages iteration (or one Employees
// call) form a Sequence of a pacer that implements SequencePacer, as
// LocalPacer does; the Client begins it before the first request and ends
// it when the iteration ends, however it ends. LocalPacer's rule:
//
//   - While an Interactive sequence is open and between its pages, for at
//     most a grace period of min(interval, 1s) after each release, the slot
//     is kept for it: no Background waiter, and no Interactive waiter of a
//     sequence begun later, gets it. An abandoned sequence thus holds the
//     others back by the grace at most.
//   - Interactive waiters are served in the order their sequences began,
//     then in the order their requests came; a plain Acquire counts as a
//     sequence begun when it is called. Of many refreshes at once, the first
//     finishes after its own pages instead of all finishing near the end.
//   - Background waiters are served first come, first served, whenever no
//     Interactive waiter or kept slot stands before them: they wait only
//     while interactive work is active.
//
// HoldPacer, SequencePacer and SentPacer are each optional: a pacer with
// Acquire alone is used request by request, with priorities only.
// storage/pgcoord's cross-replica pacer implements all three, with the same
// rules applied across every replica that shares its database.
//
// # Errors
//
// Every failure of a request is an *Error (StatusCode, Message, RetryAfter,
// Attempts, ...) whose kind is tested with errors.Is: ErrUnauthorized (401,
// 403), ErrRateLimited (429), ErrTimeout (also matches
// context.DeadlineExceeded), ErrMalformedResponse (a 200 that is not what
// the contract promises: a missing or null result, a data envelope, a row
// without id, a field of the wrong type; ErrResponseTooLarge for a 2xx body
// over WithMaxBodyBytes), ErrIncompleteResponse (rows that do not add up to
// total_records, the page cap), ErrUpstream (5xx, transport failures),
// ErrBadRequest (400). A non-2xx answer is classified by its status alone,
// even when its body is cut short or over the cap (a 401 with a broken body
// is still ErrUnauthorized, one request); what was read of the body only
// feeds Message. A cancelled context gives an *Error that matches
// context.Canceled and none of the kinds. A query refused before sending
// wraps ErrInvalidQuery.
//
// Retries (WithMaxRetries, exponential backoff from WithRetryDelays) cover
// transport failures, attempt timeouts, 5xx except 501, and 429 after its
// Retry-After (seconds or an HTTP date); a Retry-After over WithMaxRetryAfter
// or past the caller's deadline fails at once. A 400 whose body looks like a
// server-side exception (it mentions SQLSTATE, Exception, a stack trace,
// Traceback, ORA-, "fatal error", a deadlock) is retried once. 401 and 403
// are never retried, and nothing is retried once the context is done.
//
// The API key appears only in the Authorization header. It is held in a
// type that redacts itself in String, GoString, Format, LogValue and JSON;
// the Client prints and logs without it; error messages and log lines have
// it removed even when the server echoes it, and phone numbers in them are
// masked ("+48 601 *** 567"). This holds for every link of an error's
// chain: a transport or pacer error is replaced by a cleaned stand-in that
// keeps only what errors.Is needs (context.Canceled, DeadlineExceeded, the
// connection errnos, a net.Error timeout), so errors.As to *url.Error finds
// nothing. Debug log lines (WithLogger) carry the endpoint, page, attempt,
// status and duration of every request.
//
// # Testing
//
// Point the client at a fake (callyzer/callyzertest, or an httptest
// server) with WithBaseURL, or hand it a transport with WithHTTPClient
// (httpmock.NewMockTransport works; never the global httpmock.Activate).
// Use WithInterval(0) and WithRetryDelays(0, 0) so tests never wait, and
// WithPacer(NewPacer(0)) to keep parallel tests on one host apart. Inside a
// testing/synctest bubble, give the client a pacer made in the bubble and an
// in-memory transport: the process-wide pacer and real sockets do not belong
// to the bubble.
//
// This package's own tests decode the fixtures in testdata/ (the API
// document's example page, v2.2 rows, zone suffixes, malformed envelopes),
// drive every transport fault through httpmock, check pacing and the
// sequence rule (a refresh waits for at most the request in flight; ten
// refreshes finish in the order they began; an abandoned sequence holds
// nobody back past the grace; every iteration ends its sequence) in
// synctest bubbles without sleeping (the interval counts from the send when
// a request dials first), replay a canary key through every error path and
// every link of its error chain,
// and run the fuzz targets FuzzDecodeHistory and FuzzParseRetryAfter on
// their seed corpora (go test -fuzz=FuzzDecodeHistory to explore further).
// BenchmarkDecodeAndMapPage decodes a 100-row page and maps every status.
package callyzer
